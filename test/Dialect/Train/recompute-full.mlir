// fp8-recompute, mode full: per block (the layer index in the op's name location), every
// saved value but the block's input is recomputed, the block's forward (GEMMs included)
// cloned once right before the block's first backward op. blk.0's output %r0 is blk.1's
// input: it stays saved, and blk.1's clone starts from it.
// RUN: fp8-opt --fp8-recompute=mode=full %S/Inputs/recompute-blocks.mlir | FileCheck %s

// CHECK: module attributes {fp8c.recompute = {train_step = {blocks = 2 : i64, {{.*}}mode = "full"{{.*}}values = 4 : i64}}}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[X:[^:]*]]: tensor<128x128xbf16>, %[[W0:[^:]*]]: tensor<128x128xbf16>, %[[V0:[^:]*]]: tensor<128x128xbf16>, %[[W1:[^:]*]]: tensor<128x128xbf16>, %[[V1:[^:]*]]: tensor<128x128xbf16>, %[[DY:[^:]*]]: tensor<128x128xbf16>)
// CHECK: %[[R0:.*]] = train.add %[[X]]
// CHECK: %[[A1:.*]] = train.linear %[[R0]], %[[W1]]
// CHECK: train.add %[[R0]]
// blk.1 recomputed from its input %r0, before its first backward op:
// CHECK-NEXT: %[[A1R:.*]] = train.linear %[[R0]], %[[W1]]
// CHECK-NEXT: %[[G1R:.*]] = train.gelu %[[A1R]]
// CHECK-NEXT: train.matmul %[[DY]], %[[G1R]] {fp8.gemm = {kind = "wgrad"}, transpose_lhs}
// CHECK: train.gelu_grad %{{.*}}, %[[A1R]]
// CHECK: train.matmul %{{.*}}, %[[R0]] {transpose_lhs}
// CHECK: %[[DR0:.*]] = train.add %[[DY]]
// blk.0 recomputed from its input (the argument %x):
// CHECK-NEXT: %[[A0R:.*]] = train.linear %[[X]], %[[W0]]
// CHECK-NEXT: %[[G0R:.*]] = train.gelu %[[A0R]]
// CHECK-NEXT: train.matmul %[[DR0]], %[[G0R]] {transpose_lhs}
// CHECK: train.gelu_grad %{{.*}}, %[[A0R]]
// The forward's own %a1 is read by forward only now:
// CHECK-NOT: %[[A1]]
// CHECK: return
