//===- FP8Ops.h - operations of the fp8 dialect -----------------*- C++ -*-===//

#ifndef FP8C_DIALECT_FP8_IR_FP8OPS_H
#define FP8C_DIALECT_FP8_IR_FP8OPS_H

#include "fp8c/Dialect/FP8/IR/FP8Dialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>
#include <string>

#include "fp8c/Dialect/FP8/IR/FP8Enums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/FP8/IR/FP8Attrs.h.inc"

#define GET_OP_CLASSES
#include "fp8c/Dialect/FP8/IR/FP8Ops.h.inc"

namespace fp8c::fp8 {

/// Largest finite value of an FP8 type: 448 for f8E4M3FN, 57344 for f8E5M2;
/// nullopt for any other type.
std::optional<double> getFP8Max(mlir::Type type);

/// The shape of the amax and scale tensors of an operand of shape `shape` under
/// `recipe` (see the dialect description). `block` is the blockwise block shape,
/// required for blockwise and refused otherwise. On failure, `error` says why
/// (the text a verifier emits).
mlir::LogicalResult getScaleShape(Recipe recipe, std::optional<llvm::ArrayRef<int64_t>> block,
                                  llvm::ArrayRef<int64_t> shape,
                                  llvm::SmallVectorImpl<int64_t> &scaleShape, std::string &error);

/// A copy of `op` (operands, attributes, `fp8.gemm` record) with or without the
/// optional `amax` result (the GEMM epilogue's amax), built at the builder's
/// insertion point. The caller replaces and erases `op`.
ScaledMatmulOp cloneScaledMatmul(mlir::OpBuilder &builder, ScaledMatmulOp op, bool withAmax);

} // namespace fp8c::fp8

#endif // FP8C_DIALECT_FP8_IR_FP8OPS_H
