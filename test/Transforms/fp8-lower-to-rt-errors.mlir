// RUN: fp8-opt %s -split-input-file --fp8-lower-to-rt -verify-diagnostics

func.func @train_step(%x: tensor<4xf32> {train.name = "x"}) -> (tensor<4xf32> {train.name = "y"}) {
  // expected-error @+1 {{'memref.alloc' op cannot be lowered to rt: only train, fp8 and arith ops on ranked tensors, and rt.fusion, become kernels or GEMMs}}
  %m = memref.alloc() : memref<4xf32>
  return %x : tensor<4xf32>
}

// -----

// expected-error @+1 {{argument #0 of @train_step has no train.name: every buffer is named after it}}
func.func @train_step(%x: tensor<4xf32>) -> (tensor<4xf32> {train.name = "y"}) {
  return %x : tensor<4xf32>
}

// -----

func.func @train_step(%w: tensor<4xf32> {train.init = #train<init zeros>, train.name = "w"}) -> (tensor<8xf32> {train.name = "w"}) {
  %c = arith.constant dense<1.0> : tensor<8xf32>
  %y = train.add %c, %c : tensor<8xf32>
  // expected-error @+1 {{'func.return' op result 'w' has type 'tensor<8xf32>' but the argument of that name 'tensor<4xf32>'}}
  return %y : tensor<8xf32>
}

// -----

func.func @train_step(%w: tensor<4xf32> {train.init = #train<init zeros>, train.name = "w"}) -> (tensor<4xf32> {train.name = "y"}) {
  return %w : tensor<4xf32>
}
// expected-error @+1 {{'w' is 'memref<8xf32>' (param) here but 'memref<4xf32>' (param) in an earlier function}}
func.func @eval_step(%w: tensor<8xf32> {train.init = #train<init zeros>, train.name = "w"}) -> (tensor<8xf32> {train.name = "y"}) {
  return %w : tensor<8xf32>
}
