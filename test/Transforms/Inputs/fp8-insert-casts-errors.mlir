// Errors of fp8-insert-casts (driven by test/Transforms/fp8-insert-casts.mlir):
// a malformed `fp8.gemm` contract, and a delayed-scaling interval without a step.

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' must be a dictionary}}
    %y = train.linear %x, %w {fp8.gemm = "fp8"} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' needs a non-empty string 'decision'}}
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' decision must be "fp8" or "bf16", got "fp16"}}
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp16"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' needs a non-empty string 'name'}}
    %y = train.linear %x, %w {fp8.gemm = {name = "", kind = "forward", decision = "fp8"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' kind must be "forward", "dgrad" or "wgrad", got "backward"}}
    %y = train.matmul %x, %w {fp8.gemm = {name = "fc", kind = "backward", decision = "fp8"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    // expected-error @+1 {{'fp8.gemm' of a train.linear must have kind "forward"}}
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

module attributes {train.config = {fp8 = {enabled = true, recipe = "delayed", interval = 4}}} {
  // expected-error @+1 {{delayed scaling with interval 4 needs the 'step' argument (tensor<i64>) of @train_step}}
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}

// -----

// A bad `train.config.fp8` is reported by the settings reader, with its key.
// expected-error @+1 {{train.config.fp8.recipe: expected one of tensorwise, delayed, rowwise, blockwise, got 'perchannel'}}
module attributes {train.config = {fp8 = {enabled = true, recipe = "perchannel"}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}
