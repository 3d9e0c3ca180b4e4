// Every pass of the pipeline prints its IR, in pipeline order, and the final
// module still goes to the output.
// RUN: fp8c %examples/mlp.mlir --emit=fp8 --mlir-print-ir-after-all -o %t.mlir 2>&1 | FileCheck %s
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

// Through the last stages; the output is then the program file.
// RUN: fp8c %examples/mlp.mlir --mlir-print-ir-after-all -o %t.fp8prog 2>&1 | FileCheck %s --check-prefix=LATE
// RUN: FileCheck %s --check-prefix=FILE < %t.fp8prog
// LATE: IR Dump After FuseKernels (fp8-fuse-kernels)
// LATE: rt.fusion
// LATE: IR Dump After LowerToRT (fp8-lower-to-rt)
// LATE: rt.arena size
// LATE: rt.kernel
// FILE: "format": "fp8c-program"
