// RUN: fp8-opt %s -split-input-file --fp8-lower-to-rt | FileCheck %s

// train_step's clipped gradient grad.X takes the bytes of its spent accumulator
// grad_accum.X when nothing stored there is read after the instruction that
// writes grad.X, and that instruction reads them element by element
// (docs/memory-plan.md, "Gradients in the accumulators' bytes").

// The averaged gradient is written over grad_accum.w ("average"), the norm reads
// it, and "update" reads it element by element and writes the clipped gradient
// over it: grad.w is at grad_accum.w's offset. accumulate_step is unchanged.
// CHECK-LABEL: func.func @train_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}}[[[OACC:[0-9]+]]] {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<16xf32>
// CHECK:         %[[GRAD:.*]] = rt.buffer %{{.*}}[[[OACC]]] {name = "grad.w", role = #rt<role grad>} : memref<16xf32>
// CHECK:         rt.kernel "average" ins(%[[ACC]], %{{.*}} : memref<16xf32>, memref<16xf32>) outs(%[[ACC]] : memref<16xf32>)
// CHECK:         rt.kernel "k1_global_norm" ins(%[[ACC]] : memref<16xf32>)
// CHECK:         rt.kernel "update" ins(%[[ACC]], {{.*}}) outs(%[[GRAD]], %{{.*}} : memref<16xf32>, memref<16xf32>)
// CHECK-LABEL: func.func @accumulate_step()
// CHECK:         rt.buffer %{{.*}}[[[OACC]]] {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<16xf32>
// CHECK-NOT:     grad.w
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
                             %g: tensor<16xf32> {train.name = "g"})
      -> (tensor<16xf32> {train.name = "grad_accum.w"}) {
    %new = train.add %acc, %g : tensor<16xf32>
    return %new : tensor<16xf32>
  }
}

// -----

// Kept apart: grad.a's accumulator holds the sum (written over it by the add)
// that a norm reads again after the clipping that writes grad.a; grad.b's update
// reads its sum through a transpose (other indices); grad.c's accumulator has
// the gradient's bytes but not its type; grad.d's accumulator is returned (new
// state). Each grad has bytes of its own, above the persistent state (8 buffers
// of 256 bytes); grad.a's sum is in grad_accum.a's bytes.
// CHECK-LABEL: func.func @train_step()
// CHECK-DAG:     rt.buffer %{{.*}}[1024] {init = #rt<init zeros>, name = "grad_accum.a", role = #rt<role grad_accum>}
// CHECK-DAG:     rt.buffer %{{.*}}[1280] {init = #rt<init zeros>, name = "grad_accum.b", role = #rt<role grad_accum>}
// CHECK-DAG:     rt.buffer %{{.*}}[1536] {init = #rt<init zeros>, name = "grad_accum.c", role = #rt<role grad_accum>}
// CHECK-DAG:     rt.buffer %{{.*}}[1792] {init = #rt<init zeros>, name = "grad_accum.d", role = #rt<role grad_accum>}
// CHECK-DAG:     rt.buffer %{{.*}}[2560] {name = "grad.a", role = #rt<role grad>}
// CHECK-DAG:     rt.buffer %{{.*}}[3072] {name = "grad.b", role = #rt<role grad>}
// CHECK-DAG:     rt.buffer %{{.*}}[3584] {name = "grad.c", role = #rt<role grad>}
// CHECK-DAG:     rt.buffer %{{.*}}[3328] {name = "grad.d", role = #rt<role grad>}
// CHECK-DAG:     rt.kernel "k0_add" ins(%[[ACCA:[0-9]+]], %{{.*}} : {{.*}}) outs(%[[ACCA]] : memref<4x4xf32>)
// CHECK:         return
module {
  func.func @train_step(%a: tensor<4x4xf32> {train.init = #train<init zeros>, train.name = "a"},
                        %b: tensor<4x4xf32> {train.init = #train<init zeros>, train.name = "b"},
                        %c: tensor<4x4xf32> {train.init = #train<init zeros>, train.name = "c"},
                        %d: tensor<4x4xf32> {train.init = #train<init zeros>, train.name = "d"},
                        %acc_a: tensor<4x4xf32> {train.name = "grad_accum.a"},
                        %acc_b: tensor<4x4xf32> {train.name = "grad_accum.b"},
                        %acc_c: tensor<16xf32> {train.name = "grad_accum.c"},
                        %acc_d: tensor<4x4xf32> {train.name = "grad_accum.d"},
                        %g: tensor<4x4xf32> {train.name = "g"},
                        %lr: tensor<f32> {train.name = "lr"})
      -> (tensor<f32> {train.name = "late"}, tensor<4x4xf32> {train.name = "a"},
          tensor<4x4xf32> {train.name = "b"}, tensor<4x4xf32> {train.name = "c"},
          tensor<4x4xf32> {train.name = "d"}, tensor<4x4xf32> {train.name = "grad_accum.d"}) {
    %sum_a = train.add %acc_a, %g : tensor<4x4xf32>
    %grad_a = train.mul_scalar %sum_a, %lr : tensor<4x4xf32>, tensor<f32>
    %new_a = train.sgd_update %a, %grad_a, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %late = train.global_norm %sum_a : (tensor<4x4xf32>) -> tensor<f32>
    %avg_b = train.add %acc_b, %g : tensor<4x4xf32>
    %r:2 = rt.fusion "update_b"(%avg_b, %b, %lr) : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
    ^bb0(%x: tensor<4x4xf32>, %p: tensor<4x4xf32>, %l: tensor<f32>):
      %t = train.transpose %x [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
      %new = train.sgd_update %p, %t, %l {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
      rt.yield %t, %new : tensor<4x4xf32>, tensor<4x4xf32>
    }
    %norm_c = train.global_norm %acc_c : (tensor<16xf32>) -> tensor<f32>
    %grad_c = train.mul_scalar %g, %norm_c : tensor<4x4xf32>, tensor<f32>
    %new_c = train.sgd_update %c, %grad_c, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %grad_d = train.add %acc_d, %g : tensor<4x4xf32>
    %new_d = train.sgd_update %d, %grad_d, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    return %late, %new_a, %r#1, %new_c, %new_d, %grad_d : tensor<f32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
  }
}
