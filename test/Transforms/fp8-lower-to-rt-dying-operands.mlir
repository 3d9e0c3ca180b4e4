// RUN: fp8-opt %s -split-input-file --fp8-lower-to-rt | FileCheck %s

// A kernel whose result has the size of an operand that dies in it, and reads
// that operand element by element, writes the result over the operand's bytes
// (docs/memory-plan.md, "Writing over dying operands").

// Scratch: %a dies in the gelu, %b in the fusion (mul_scalar then add, both
// element by element): all three share one offset. %x is an input, never
// overwritten.
// CHECK-LABEL: func.func @eval_step()
// CHECK:         %[[X:.*]] = rt.buffer %{{.*}}[{{[0-9]+}}] {name = "x", role = #rt<role input>} : memref<64xf32>
// CHECK:         %[[AV:.*]] = rt.buffer %{{.*}}[[[OFF:[0-9]+]]] : memref<64xf32>
// CHECK:         rt.kernel "k0_mul" ins(%[[X]] : memref<64xf32>) outs(%[[AV]] : memref<64xf32>)
// CHECK:         rt.kernel "k1_gelu" ins(%[[AV]] : memref<64xf32>) outs(%[[AV]] : memref<64xf32>)
// CHECK:         rt.kernel "scale_add" ins(%[[AV]], %[[X]] : memref<64xf32>, memref<64xf32>) outs(%[[AV]] : memref<64xf32>)
// CHECK:         rt.kernel "k3_global_norm" ins(%[[AV]] : memref<64xf32>)
module {
  func.func @eval_step(%x: tensor<64xf32> {train.name = "x"}) -> (tensor<f32> {train.name = "loss"}) {
    %half = arith.constant dense<5.000000e-01> : tensor<f32>
    %a = train.mul %x, %x : tensor<64xf32>
    %b = train.gelu %a approximate none : tensor<64xf32>
    %c = rt.fusion "scale_add" (%b, %half, %x) : (tensor<64xf32>, tensor<f32>, tensor<64xf32>) -> tensor<64xf32> {
    ^bb0(%p: tensor<64xf32>, %h: tensor<f32>, %q: tensor<64xf32>):
      %s = train.mul_scalar %p, %h : tensor<64xf32>, tensor<f32>
      %t = train.add %s, %q : tensor<64xf32>
      rt.yield %t : tensor<64xf32>
    }
    %loss = train.global_norm %c : (tensor<64xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Not reused: %a is read again after the gelu; %b (bf16) is smaller than the
// f32 convert of it; the transpose has the operand's size and shape but reads
// other indices; the fusion reads its dying operand through a reduction. Each
// result gets bytes of its own, at an offset apart from its operand's.
// CHECK-LABEL: func.func @eval_step()
// CHECK:         %[[A:.*]] = rt.buffer %{{.*}}[1024] : memref<16x16xf32>
// CHECK:         %[[B:.*]] = rt.buffer %{{.*}}[2048] : memref<16x16xf32>
// CHECK:         %[[BH:.*]] = rt.buffer %{{.*}}[1024] : memref<16x16xbf16>
// CHECK:         %[[C:.*]] = rt.buffer %{{.*}}[1536] : memref<16x16xf32>
// CHECK:         %[[T:.*]] = rt.buffer %{{.*}}[2560] : memref<16x16xf32>
// CHECK:         %[[R:.*]] = rt.buffer %{{.*}}[1024] : memref<16x16xf32>
// CHECK:         rt.kernel "k1_gelu" ins(%[[A]] : memref<16x16xf32>) outs(%[[B]] : memref<16x16xf32>)
// Both operands die in the add: the result takes the first one's bytes.
// CHECK:         rt.kernel "k2_add" ins(%[[B]], %[[A]] : {{.*}}) outs(%[[B]] : memref<16x16xf32>)
// CHECK:         rt.kernel "k3_convert" ins(%[[B]] : memref<16x16xf32>) outs(%[[BH]] : memref<16x16xbf16>)
// CHECK:         rt.kernel "k4_convert" ins(%[[BH]] : memref<16x16xbf16>) outs(%[[C]] : memref<16x16xf32>)
// CHECK:         rt.kernel "k5_transpose" ins(%[[C]] : memref<16x16xf32>) outs(%[[T]] : memref<16x16xf32>)
// CHECK:         rt.kernel "center" ins(%[[T]] : memref<16x16xf32>) outs(%[[R]] : memref<16x16xf32>)
module {
  func.func @eval_step(%x: tensor<16x16xf32> {train.name = "x"}) -> (tensor<f32> {train.name = "loss"}) {
    %a = train.mul %x, %x : tensor<16x16xf32>
    %b = train.gelu %a approximate none : tensor<16x16xf32>
    %b2 = train.add %b, %a : tensor<16x16xf32>
    %bh = train.convert %b2 : tensor<16x16xf32> -> tensor<16x16xbf16>
    %c = train.convert %bh : tensor<16x16xbf16> -> tensor<16x16xf32>
    %t = train.transpose %c [1, 0] : tensor<16x16xf32> -> tensor<16x16xf32>
    %r = rt.fusion "center" (%t) : (tensor<16x16xf32>) -> tensor<16x16xf32> {
    ^bb0(%p: tensor<16x16xf32>):
      %n = train.global_norm %p : (tensor<16x16xf32>) -> tensor<f32>
      %s = train.mul_scalar %p, %n : tensor<16x16xf32>, tensor<f32>
      rt.yield %s : tensor<16x16xf32>
    }
    %loss = train.global_norm %r : (tensor<16x16xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A gradient accumulator that train_step reads and does not write back: the
// trainer zeroes it before accumulate_step reads it again, so the averaged
// gradient is written over it (and the clipped one, grad.w, then over that:
// fp8-lower-to-rt-grad-in-accumulator.mlir). accumulate_step returns it: there
// the accumulator is new state, written in place by the add, and the gelu before it may not take it;
// nor may the gelu of grad_accum.v, which accumulate_step reads and does not
// return (the next micro-batch reads it unchanged): only train_step's are spent.
// CHECK-LABEL: func.func @train_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}}[[[OACC:[0-9]+]]] {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<16xf32>
// CHECK:         rt.kernel "average" ins(%[[ACC]], %{{.*}} : memref<16xf32>, memref<16xf32>) outs(%[[ACC]] : memref<16xf32>)
// CHECK:         rt.kernel "k1_global_norm" ins(%[[ACC]] : memref<16xf32>)
// CHECK:         rt.kernel "update" ins(%[[ACC]], {{.*}}) outs(%[[GRAD:.*]], %{{.*}} : memref<16xf32>, memref<16xf32>)
// CHECK-LABEL: func.func @accumulate_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}}[[[OACC]]] {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<16xf32>
// CHECK:         %[[G:.*]] = rt.buffer %{{.*}}[[[OG:[0-9]+]]] : memref<16xf32>
// CHECK:         %[[V:.*]] = rt.buffer %{{.*}} {init = #rt<init zeros>, name = "grad_accum.v", role = #rt<role grad_accum>} : memref<16xf32>
// CHECK:         %[[U:.*]] = rt.buffer %{{.*}} : memref<16xf32>
// CHECK:         rt.kernel "k0_gelu" ins(%[[ACC]] : memref<16xf32>) outs(%[[G]] : memref<16xf32>)
// CHECK:         rt.kernel "k1_gelu" ins(%[[V]] : memref<16xf32>) outs(%[[U]] : memref<16xf32>)
// CHECK:         rt.kernel "k2_add" ins(%[[G]], %[[U]] : memref<16xf32>, memref<16xf32>) outs(%[[ACC]] : memref<16xf32>)
module {
  func.func @train_step(%w: tensor<16xf32> {train.init = #train<init zeros>, train.name = "w"},
                        %acc: tensor<16xf32> {train.name = "grad_accum.w"},
                        %g: tensor<16xf32> {train.name = "g"},
                        %lr: tensor<f32> {train.name = "lr"})
      -> (tensor<f32> {train.name = "grad_norm"}, tensor<16xf32> {train.name = "w"}) {
    %half = arith.constant dense<5.000000e-01> : tensor<f32>
    %avg = rt.fusion "average" (%acc, %g, %half) : (tensor<16xf32>, tensor<16xf32>, tensor<f32>) -> tensor<16xf32> {
    ^bb0(%a: tensor<16xf32>, %b: tensor<16xf32>, %h: tensor<f32>):
      %s = train.add %a, %b : tensor<16xf32>
      %m = train.mul_scalar %s, %h : tensor<16xf32>, tensor<f32>
      rt.yield %m : tensor<16xf32>
    }
    %norm = train.global_norm %avg : (tensor<16xf32>) -> tensor<f32>
    %r:2 = rt.fusion "update"(%avg, %norm, %w, %lr) : (tensor<16xf32>, tensor<f32>, tensor<16xf32>, tensor<f32>) -> (tensor<16xf32>, tensor<16xf32>) {
    ^bb0(%a: tensor<16xf32>, %c: tensor<f32>, %p: tensor<16xf32>, %l: tensor<f32>):
      %clipped = train.mul_scalar %a, %c : tensor<16xf32>, tensor<f32>
      %new = train.sgd_update %p, %clipped, %l {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<16xf32>, tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
      rt.yield %clipped, %new : tensor<16xf32>, tensor<16xf32>
    }
    return %norm, %r#1 : tensor<f32>, tensor<16xf32>
  }
  func.func @accumulate_step(%acc: tensor<16xf32> {train.name = "grad_accum.w"},
                             %v: tensor<16xf32> {train.name = "grad_accum.v"})
      -> (tensor<16xf32> {train.name = "grad_accum.w"}) {
    %t = train.gelu %acc approximate none : tensor<16xf32>
    %u = train.gelu %v approximate none : tensor<16xf32>
    %new = train.add %t, %u : tensor<16xf32>
    return %new : tensor<16xf32>
  }
}

// -----

// Host-visible names of different functions share bytes unless one function
// has both: logits_step's "logits" lands on train_step's "lr" input (the host
// writes inputs before each call and reads outputs right after it), never on
// "x", which both functions have, nor on its own function's buffers.
// CHECK-LABEL: func.func @train_step()
// CHECK-DAG:     rt.buffer %{{.*}}[[[OX:[0-9]+]]] {name = "x", role = #rt<role input>}
// CHECK-DAG:     rt.buffer %{{.*}}[[[OL:[0-9]+]]] {name = "lr", role = #rt<role input>} : memref<f32>
// CHECK-DAG:     rt.buffer %{{.*}}[[[OG:[0-9]+]]] {name = "grad.w", role = #rt<role grad>} : memref<16xf32>
// CHECK-LABEL: func.func @logits_step()
// CHECK-DAG:     rt.buffer %{{.*}}[[[OX]]] {name = "x", role = #rt<role input>}
// CHECK-DAG:     rt.buffer %{{.*}}[[[OL]]] {name = "logits", role = #rt<role output>} : memref<16xf32>
module {
  func.func @train_step(%w: tensor<16xf32> {train.init = #train<init zeros>, train.name = "w"},
                        %x: tensor<16xf32> {train.name = "x"},
                        %lr: tensor<f32> {train.name = "lr"})
      -> (tensor<16xf32> {train.name = "w"}) {
    %g = train.mul %x, %w : tensor<16xf32>
    %r:2 = rt.fusion "f0_mul_scalar_sgd_update"(%g, %lr, %w) : (tensor<16xf32>, tensor<f32>, tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
    ^bb0(%a: tensor<16xf32>, %l: tensor<f32>, %p: tensor<16xf32>):
      %clipped = train.mul_scalar %a, %l : tensor<16xf32>, tensor<f32>
      %new = train.sgd_update %p, %clipped, %l {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<16xf32>, tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
      rt.yield %clipped, %new : tensor<16xf32>, tensor<16xf32>
    }
    return %r#1 : tensor<16xf32>
  }
  func.func @logits_step(%w: tensor<16xf32> {train.init = #train<init zeros>, train.name = "w"},
                         %x: tensor<16xf32> {train.name = "x"})
      -> (tensor<16xf32> {train.name = "logits"}) {
    %l = train.mul %x, %w : tensor<16xf32>
    return %l : tensor<16xf32>
  }
}
