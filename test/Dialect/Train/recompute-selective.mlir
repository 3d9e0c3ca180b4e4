// fp8-recompute, mode selective: a saved value whose producer chain is cheap (here a
// gelu of a value backward keeps anyway) is cloned right before its first backward use,
// and backward reads the clone; the forward value dies in forward. GEMM outputs (%a0,
// %a1) and blk.0's output (%r0) stay saved: their producers are not cheap.
// RUN: fp8-opt --fp8-recompute=mode=selective %S/Inputs/recompute-blocks.mlir | FileCheck %s
// mode none, and auto without a budget, change nothing:
// RUN: fp8-opt --fp8-recompute=mode=none %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=NONE
// RUN: fp8-opt --fp8-recompute %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=NONE

// CHECK: module attributes {fp8c.recompute = {train_step = {blocks = 0 : i64, {{.*}}mode = "selective"{{.*}}values = 2 : i64}}}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[X:[^:]*]]: tensor<128x128xbf16>, %[[W0:[^:]*]]: tensor<128x128xbf16>, %[[V0:[^:]*]]: tensor<128x128xbf16>, %[[W1:[^:]*]]: tensor<128x128xbf16>, %[[V1:[^:]*]]: tensor<128x128xbf16>, %[[DY:[^:]*]]: tensor<128x128xbf16>)
// CHECK: %[[A0:.*]] = train.linear %[[X]], %[[W0]]
// CHECK: %[[G0:.*]] = train.gelu %[[A0]]
// CHECK: train.linear %[[G0]], %[[V0]]
// CHECK: %[[A1:.*]] = train.linear %{{.*}}, %[[W1]]
// CHECK: %[[G1:.*]] = train.gelu %[[A1]]
// CHECK: train.linear %[[G1]], %[[V1]]
// The clone of %g1, right before the wgrad of blk.1.proj (the first backward op):
// CHECK: %[[G1R:.*]] = train.gelu %[[A1]] approximate none
// CHECK-NEXT: train.matmul %[[DY]], %[[G1R]] {fp8.gemm = {kind = "wgrad"}, transpose_lhs}
// CHECK: train.gelu_grad %{{.*}}, %[[A1]]
// CHECK: %[[DR0:.*]] = train.add %[[DY]]
// The clone of %g0, right before the wgrad of blk.0.proj:
// CHECK-NEXT: %[[G0R:.*]] = train.gelu %[[A0]] approximate none
// CHECK-NEXT: train.matmul %[[DR0]], %[[G0R]] {transpose_lhs}
// CHECK: train.gelu_grad %{{.*}}, %[[A0]]

// NONE-NOT: fp8c.recompute
// NONE-COUNT-2: train.gelu %
// NONE-NOT: train.gelu %
