//===- TrainOps.h - operations of the train dialect -------------*- C++ -*-===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAINOPS_H
#define FP8C_DIALECT_TRAIN_IR_TRAINOPS_H

#include "fp8c/Dialect/Train/IR/TrainDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "fp8c/Dialect/Train/IR/TrainEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/Train/IR/TrainAttrs.h.inc"

#include "fp8c/Dialect/Train/IR/TrainInterfaces.h.inc"

#define GET_OP_CLASSES
#include "fp8c/Dialect/Train/IR/TrainOps.h.inc"

namespace fp8c::train {

/// True for dot-separated names whose segments are identifiers or layer numbers,
/// e.g. `transformer.h.3.mlp.c_fc.weight` (the names PyTorch gives parameters).
bool isValidQualifiedName(llvm::StringRef name);

/// The value behind any chain of `train.reshape`s in front of `value`: a
/// row-major reshape is a view of the same elements.
mlir::Value stripReshapes(mlir::Value value);

} // namespace fp8c::train

#endif // FP8C_DIALECT_TRAIN_IR_TRAINOPS_H
