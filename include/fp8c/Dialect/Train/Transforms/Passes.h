//===- Passes.h - passes over the train dialect -----------------*- C++ -*-===//

#ifndef FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_H
#define FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_H

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace fp8c::train {

#define GEN_PASS_DECL
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"

} // namespace fp8c::train

#endif // FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_H
