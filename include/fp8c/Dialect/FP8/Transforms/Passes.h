//===- Passes.h - FP8 passes over the training step -------------*- C++ -*-===//

#ifndef FP8C_DIALECT_FP8_TRANSFORMS_PASSES_H
#define FP8C_DIALECT_FP8_TRANSFORMS_PASSES_H

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace fp8c::fp8 {

#define GEN_PASS_DECL
#include "fp8c/Dialect/FP8/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fp8c/Dialect/FP8/Transforms/Passes.h.inc"

} // namespace fp8c::fp8

#endif // FP8C_DIALECT_FP8_TRANSFORMS_PASSES_H
