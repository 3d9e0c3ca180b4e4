// RUN: fp8-opt %s -split-input-file --fp8-lower-to-rt | FileCheck %s

// train.matmul with acc becomes an rt.gemm with accumulate (D = op(A)·op(B) + D),
// written where acc is when acc dies at the GEMM, else over a copy of acc made
// right before it (docs/memory-plan.md, "Accumulating GEMMs").

// A chain (fp8-chunk-loss's lm_head wgrad): each acc dies at the next GEMM, so
// all three sums share one buffer and there is no copy.
// CHECK-LABEL: func.func @eval_step()
// CHECK-DAG:     %[[DY:.*]] = rt.buffer %{{.*}} {name = "dy", role = #rt<role input>} : memref<16x32xbf16>
// CHECK-DAG:     %[[X:.*]] = rt.buffer %{{.*}} {name = "x", role = #rt<role input>} : memref<16x8xbf16>
// CHECK-DAG:     %[[DW:.*]] = rt.buffer %{{.*}} : memref<32x8xf32>
// CHECK-NOT:     rt.copy
// CHECK:         rt.gemm %[[DY]], %[[X]] -> %[[DW]] {name = "head", transpose_a} : memref<16x32xbf16>, memref<16x8xbf16>, memref<32x8xf32>
// CHECK-NEXT:    rt.gemm %[[DY]], %[[X]] -> %[[DW]] {accumulate, name = "head", transpose_a} : memref<16x32xbf16>, memref<16x8xbf16>, memref<32x8xf32>
// CHECK-NEXT:    rt.gemm %[[DY]], %[[X]] -> %[[DW]] {accumulate, name = "head", transpose_a} : memref<16x32xbf16>, memref<16x8xbf16>, memref<32x8xf32>
// CHECK-NEXT:    rt.kernel "k3_global_norm" ins(%[[DW]] : memref<32x8xf32>)
module {
  func.func @eval_step(%dy: tensor<16x32xbf16> {train.name = "dy"}, %x: tensor<16x8xbf16> {train.name = "x"})
      -> (tensor<f32> {train.name = "loss"}) {
    %dw0 = train.matmul %dy, %x {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>) -> tensor<32x8xf32>
    %dw1 = train.matmul %dy, %x acc(%dw0) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %dw2 = train.matmul %dy, %x acc(%dw1) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %loss = train.global_norm %dw2 : (tensor<32x8xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// acc is read after the GEMM: the sum gets bytes of its own, filled with a copy
// of acc first. So does an acc that is an input (never overwritten).
// CHECK-LABEL: func.func @eval_step()
// CHECK:         %[[DW0:.*]] = rt.buffer %{{.*}}[[[O0:[0-9]+]]] : memref<32x8xf32>
// CHECK:         %[[DW1:.*]] = rt.buffer %{{.*}}[[[O1:[0-9]+]]] : memref<32x8xf32>
// CHECK:         %[[C:.*]] = rt.buffer %{{.*}} {name = "c", role = #rt<role input>} : memref<32x8xf32>
// CHECK:         %[[DW2:.*]] = rt.buffer %{{.*}}[[[O2:[0-9]+]]] : memref<32x8xf32>
// CHECK:         rt.gemm %{{.*}}, %{{.*}} -> %[[DW0]] {name = "head", transpose_a}
// CHECK-NEXT:    rt.copy %[[DW0]], %[[DW1]] : memref<32x8xf32>, memref<32x8xf32>
// CHECK-NEXT:    rt.gemm %{{.*}}, %{{.*}} -> %[[DW1]] {accumulate, name = "head", transpose_a}
// CHECK-NEXT:    rt.copy %[[C]], %[[DW2]] : memref<32x8xf32>, memref<32x8xf32>
// CHECK-NEXT:    rt.gemm %{{.*}}, %{{.*}} -> %[[DW2]] {accumulate, name = "head", transpose_a}
// CHECK:         rt.kernel "{{.*}}_add" ins(%[[DW1]], %[[DW0]] : memref<32x8xf32>, memref<32x8xf32>)
module {
  func.func @eval_step(%dy: tensor<16x32xbf16> {train.name = "dy"}, %x: tensor<16x8xbf16> {train.name = "x"},
                       %c: tensor<32x8xf32> {train.name = "c"})
      -> (tensor<f32> {train.name = "loss"}, tensor<f32> {train.name = "other"}) {
    %dw0 = train.matmul %dy, %x {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>) -> tensor<32x8xf32>
    %dw1 = train.matmul %dy, %x acc(%dw0) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %dw2 = train.matmul %dy, %x acc(%c) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %both = train.add %dw1, %dw0 : tensor<32x8xf32>
    %loss = train.global_norm %both : (tensor<32x8xf32>) -> tensor<f32>
    %other = train.global_norm %dw2 : (tensor<32x8xf32>) -> tensor<f32>
    return %loss, %other : tensor<f32>, tensor<f32>
  }
}

// -----

// A chain that starts from a gradient accumulator (fp8-chunk-loss under a memory
// budget): accumulate_step returns the chain's end as the new grad_accum.w, so every
// GEMM of the chain writes over the accumulator's bytes, with no copy and no buffer
// of its own. train_step reads its accumulator and does not return it (spent: the
// trainer zeroes it before the next step), so its chain is written there too. An
// accumulator returned unchanged keeps its old value: a chain from it gets bytes of
// its own, filled with a copy.
// CHECK-LABEL: func.func @accumulate_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}} {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<32x8xf32>
// CHECK-NOT:     rt.copy
// CHECK:         rt.gemm %{{.*}}, %{{.*}} -> %[[ACC]] {accumulate, name = "head", transpose_a}
// CHECK-NEXT:    rt.gemm %{{.*}}, %{{.*}} -> %[[ACC]] {accumulate, name = "head", transpose_a}
// CHECK-NOT:     rt.copy
// CHECK-LABEL: func.func @train_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}} {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<32x8xf32>
// CHECK:         rt.gemm %{{.*}}, %{{.*}} -> %[[ACC]] {accumulate, name = "head", transpose_a}
// CHECK-NEXT:    rt.gemm %{{.*}}, %{{.*}} -> %[[ACC]] {accumulate, name = "head", transpose_a}
// CHECK-LABEL: func.func @logits_step()
// CHECK:         %[[ACC:.*]] = rt.buffer %{{.*}} {init = #rt<init zeros>, name = "grad_accum.w", role = #rt<role grad_accum>} : memref<32x8xf32>
// CHECK:         %[[S:.*]] = rt.buffer %{{.*}} : memref<32x8xf32>
// CHECK:         rt.copy %[[ACC]], %[[S]]
// CHECK-NEXT:    rt.gemm %{{.*}}, %{{.*}} -> %[[S]] {accumulate, name = "head", transpose_a}
module {
  func.func @accumulate_step(%dy: tensor<16x32xbf16> {train.name = "dy"}, %x: tensor<16x8xbf16> {train.name = "x"},
                             %acc: tensor<32x8xf32> {train.name = "grad_accum.w"})
      -> (tensor<32x8xf32> {train.name = "grad_accum.w"}) {
    %dw0 = train.matmul %dy, %x acc(%acc) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %dw1 = train.matmul %dy, %x acc(%dw0) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    return %dw1 : tensor<32x8xf32>
  }
  func.func @train_step(%dy: tensor<16x32xbf16> {train.name = "dy"}, %x: tensor<16x8xbf16> {train.name = "x"},
                        %acc: tensor<32x8xf32> {train.name = "grad_accum.w"})
      -> (tensor<f32> {train.name = "loss"}) {
    %dw0 = train.matmul %dy, %x acc(%acc) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %dw1 = train.matmul %dy, %x acc(%dw0) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %loss = train.global_norm %dw1 : (tensor<32x8xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
  func.func @logits_step(%dy: tensor<16x32xbf16> {train.name = "dy"}, %x: tensor<16x8xbf16> {train.name = "x"},
                         %acc: tensor<32x8xf32> {train.name = "grad_accum.w"})
      -> (tensor<f32> {train.name = "loss"}, tensor<32x8xf32> {train.name = "grad_accum.w"}) {
    %dw0 = train.matmul %dy, %x acc(%acc) {transpose_lhs, name = "head"} : (tensor<16x32xbf16>, tensor<16x8xbf16>, tensor<32x8xf32>) -> tensor<32x8xf32>
    %loss = train.global_norm %dw0 : (tensor<32x8xf32>) -> tensor<f32>
    return %loss, %acc : tensor<f32>, tensor<32x8xf32>
  }
}
