// Every pass of the pipeline prints its IR, in pipeline order, and the final
// module still goes to the output.
// RUN: fp8c %examples/mlp.mlir --mlir-print-ir-after-all -o %t.mlir 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=OUT < %t.mlir

// CHECK: IR Dump After Canonicalizer (canonicalize)
// CHECK-LABEL: func.func @forward
// CHECK: train.softmax_cross_entropy
// CHECK: IR Dump After CSE (cse)
// CHECK-LABEL: func.func @forward
// CHECK: train.softmax_cross_entropy
// CHECK: IR Dump After Autodiff (fp8-autodiff)
// CHECK: func.func @train_step
// CHECK: train.softmax_cross_entropy_grad
// CHECK: IR Dump After Canonicalizer (canonicalize)
// CHECK: func.func @train_step
// CHECK: IR Dump After CSE (cse)
// CHECK: func.func @train_step

// OUT-LABEL: func.func @train_step
// OUT-LABEL: func.func @eval_step
// OUT: %[[LOSS:.*]] = train.softmax_cross_entropy
// OUT: return %[[LOSS]] : tensor<f32>
