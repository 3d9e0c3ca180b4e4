// --emit=input prints the verified input untouched; --emit=forward removes dead
// and duplicate ops; the default, the last stage (fp8), builds the step
// functions from @forward and decides every GEMM's precision.
// RUN: fp8c %s --emit=input | FileCheck %s --check-prefix=INPUT
// RUN: fp8c %s --emit=forward | FileCheck %s --check-prefix=FORWARD
// RUN: fp8c %examples/mlp.mlir | FileCheck %s --check-prefix=DEFAULT

// DEFAULT-NOT: func.func @forward
// DEFAULT-LABEL: func.func @train_step(
// DEFAULT-LABEL: func.func @eval_step(

// INPUT-LABEL: func.func @cleanup
// INPUT: train.param "unused.weight"
// INPUT-COUNT-2: train.gelu
// FORWARD-LABEL: func.func @cleanup(
// FORWARD-SAME: %[[X:.*]]: tensor<32x32xbf16>
// FORWARD-NOT: unused.weight
// FORWARD: %[[G:.*]] = train.gelu %[[X]] : tensor<32x32xbf16>
// FORWARD-NEXT: %[[S:.*]] = train.add %[[G]], %[[G]] : tensor<32x32xbf16>
// FORWARD-NEXT: return %[[S]]
func.func @cleanup(%x: tensor<32x32xbf16>) -> tensor<32x32xbf16> {
  %unused = train.param "unused.weight" init zeros : tensor<32x32xf32>
  %a = train.gelu %x : tensor<32x32xbf16>
  %b = train.gelu %x : tensor<32x32xbf16>
  %s = train.add %a, %b : tensor<32x32xbf16>
  return %s : tensor<32x32xbf16>
}
