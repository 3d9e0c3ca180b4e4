// --emit=input prints the verified input untouched; --emit=forward removes dead
// and duplicate ops; --emit=rt runs every pass: the step functions built from
// @forward, every GEMM's precision decided, kernels fused, the arena planned.
// The default writes that as a program file (docs/program-format.md): beside
// the input without -o (yaml-input.test), to stdout with -o - or --emit=program.
// RUN: fp8c %s --emit=input | FileCheck %s --check-prefix=INPUT
// RUN: fp8c %s --emit=forward | FileCheck %s --check-prefix=FORWARD
// RUN: fp8c %examples/mlp.mlir --emit=rt | FileCheck %s --check-prefix=RT
// RUN: fp8c %examples/mlp.mlir -o - | FileCheck %s --check-prefix=PROGRAM
// RUN: fp8c %examples/mlp.mlir --emit=program | FileCheck %s --check-prefix=PROGRAM

// RT-NOT: func.func @forward
// RT-LABEL: func.func @train_step()
// RT: rt.arena size [[SIZE:[0-9]+]]
// RT: rt.gemm
// RT-LABEL: func.func @eval_step()
// RT: rt.arena size [[SIZE]]

// JSON objects are written with their keys sorted.
// PROGRAM: "format": "fp8c-program",
// PROGRAM: "name": "train_step",
// PROGRAM: "name": "eval_step",
// PROGRAM: "version": 6

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
