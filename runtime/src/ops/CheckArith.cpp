//===- CheckArith.cpp - Checks of the scalar arith ops inside kernels -----===//
//
// The `arith` ops a kernel may contain (docs/program-format.md), elementwise
// on tensors of one shape, with MLIR's semantics. The program format has no
// i1: an i1 value is an i8 tensor holding 0 or 1. The CPU implementations
// are cpu/KernelOpsArith.cpp.
//
//===----------------------------------------------------------------------===//

#include "OpParams.h"

#include <cmath>

namespace fp8rt::ops {
namespace {

/// Operands 0 .. arity-1 share one type of `cls`.
Status sameTypeOperands(const OpContext &ctx, size_t arity, TypeClass cls) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(arity));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", cls));
  for (size_t i = 1; i < arity; ++i)
    if (ctx.type(i) != ctx.type(0))
      return ctx.error("operands must have one type, got " + typeString(ctx.type(0)) + " and " +
                       typeString(ctx.type(i)));
  return Status::success();
}

/// Two operands and a result of one type of `cls`.
Status binaryOp(const OpContext &ctx, TypeClass cls) {
  FP8RT_RETURN_IF_ERROR(sameTypeOperands(ctx, 2, cls));
  return ctx.expectResults({ctx.type(0)});
}

/// extsi (widening) and trunci (narrowing) between integer types.
Status intCastOp(const OpContext &ctx, bool extend) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Int));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Int));
  const DType from = ctx.type(0).dtype, to = ctx.op.results[0].dtype;
  if (extend ? bitWidth(to) <= bitWidth(from) : bitWidth(to) >= bitWidth(from))
    return ctx.error(std::string("result type ") + dtypeName(to) + " must be " +
                     (extend ? "wider" : "narrower") + " than the input type " + dtypeName(from) +
                     " (i8 stands for i1)");
  return ctx.expectResults({{to, ctx.shape(0)}});
}

Status intConstant(const OpContext &ctx, double value, DType t, int64_t &out) {
  if (!intElement(value, t, out))
    return ctx.error("constant " + std::to_string(value) + " is not a value of " +
                     (t == DType::I8 ? std::string("i1") : dtypeName(t)));
  return Status::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Integer arithmetic
//===----------------------------------------------------------------------===//

Status checkArithAddi(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Int); }
Status checkArithSubi(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Int); }
Status checkArithMuli(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Int); }
Status checkArithDivsi(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Int); }
Status checkArithRemsi(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Int); }

Status checkArithCmpi(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypeOperands(ctx, 2, TypeClass::Int));
  int predicate = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr(
      "predicate", {"eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"},
      predicate));
  return ctx.expectResults({{DType::I8, ctx.shape(0)}});
}

Status checkArithSelect(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  if (ctx.type(0).dtype != DType::I8)
    return ctx.error("condition must be i1 (an i8 tensor), got " + typeString(ctx.type(0)));
  if (ctx.type(1) != ctx.type(2))
    return ctx.error("true and false values must have one type, got " + typeString(ctx.type(1)) +
                     " and " + typeString(ctx.type(2)));
  // A scalar condition selects whole tensors, as MLIR's select with an i1.
  const bool scalarCondition = ctx.shape(0).empty();
  if (!scalarCondition && ctx.shape(0) != ctx.shape(1))
    return ctx.error("condition has shape " + shapeString(ctx.shape(0)) +
                     ", expected [] or the values' shape " + shapeString(ctx.shape(1)));
  return ctx.expectResults({ctx.type(1)});
}

Status checkArithExtsi(const OpContext &ctx) { return intCastOp(ctx, true); }
Status checkArithTrunci(const OpContext &ctx) { return intCastOp(ctx, false); }

Status checkArithSitofp(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Int));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Float));
  const DType to = ctx.op.results[0].dtype;
  return ctx.expectResults({{to, ctx.shape(0)}});
}

//===----------------------------------------------------------------------===//
// Float arithmetic
//===----------------------------------------------------------------------===//

Status checkArithAddf(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Float); }
Status checkArithSubf(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Float); }
Status checkArithMulf(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Float); }
Status checkArithDivf(const OpContext &ctx) { return binaryOp(ctx, TypeClass::Float); }

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

bool intElement(double value, DType t, int64_t &out) {
  const int width = bitWidth(t);
  const double lo = width == 64 ? -0x1p63 : -std::ldexp(1.0, width - 1);
  const double hi = width == 64 ? 0x1p64 : std::ldexp(1.0, width);
  if (!(value >= lo && value < hi) || value != std::floor(value))
    return false;
  out = wrapTo(value >= 0x1p63 ? uint64_t(value) : uint64_t(int64_t(value)), t);
  return true;
}

Status intConstantSplat(const OpContext &ctx, int64_t &splatInt) {
  const TensorType &type = ctx.op.results[0];
  const Attr *value = ctx.attr("value");
  const bool isInt = isInteger(type.dtype);
  splatInt = 0;
  if (isInt && value->kind == Attr::Kind::Int) {
    // The exact integer, not its double.
    if (type.dtype == DType::I64)
      splatInt = value->i;
    else
      FP8RT_RETURN_IF_ERROR(intConstant(ctx, double(value->i), type.dtype, splatInt));
  } else if (isInt && value->kind == Attr::Kind::Float) {
    FP8RT_RETURN_IF_ERROR(intConstant(ctx, value->f, type.dtype, splatInt));
  } else if (value->kind == Attr::Kind::Bool) {
    splatInt = value->b ? 1 : 0;
  } else if (isInt) {
    for (double d : value->array)
      FP8RT_RETURN_IF_ERROR(intConstant(ctx, d, type.dtype, splatInt));
  }
  return Status::success();
}

Status checkArithConstant(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(0));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const TensorType &type = ctx.op.results[0];
  if (!isInteger(type.dtype) && !isFloatDType(type.dtype) && !isFp8(type.dtype))
    return ctx.error("unsupported constant type " + typeString(type));
  const Attr *value = ctx.attr("value");
  if (!value)
    return ctx.error("attribute 'value' is missing");
  const size_t n = size_t(elementCount(type));
  switch (value->kind) {
  case Attr::Kind::Int:
  case Attr::Kind::Float:
  case Attr::Kind::Bool:
    break;
  case Attr::Kind::Array:
    if (value->array.size() != n)
      return ctx.error("attribute 'value' has " + std::to_string(value->array.size()) +
                       " elements, the result " + typeString(type) + " has " + std::to_string(n));
    break;
  default:
    return ctx.error("attribute 'value' must be a number or an array of numbers");
  }
  if (value->kind == Attr::Kind::Bool && type.dtype != DType::I8)
    return ctx.error("a boolean constant needs an i1 (i8) result, got " + typeString(type));
  // Every element is checked here, so that running cannot fail.
  int64_t splatInt = 0;
  return intConstantSplat(ctx, splatInt);
}

} // namespace fp8rt::ops
