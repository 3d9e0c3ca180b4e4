//===- KernelOpsArith.cpp - Scalar arith ops inside kernels ---------------===//
//
// The `arith` ops a kernel may contain (docs/program-format.md), elementwise
// on tensors of one shape, with MLIR's semantics. The program format has no
// i1: an i1 value is an i8 tensor holding 0 or 1, and arith treats every i8
// as i1 (one bit: true is -1 when read as signed, as MLIR's extsi / sitofp
// do). i32 and i64 wrap around in two's complement.
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include <cmath>
#include <limits>

namespace fp8rt::kernelops {
namespace {

using std::vector;

int bitWidth(DType t) { return t == DType::I8 ? 1 : t == DType::I32 ? 32 : 64; }

/// A two's complement result of type t from its low bits (i1: 0 or 1).
int64_t wrapTo(uint64_t bits, DType t) {
  switch (t) {
  case DType::I8:
    return int64_t(bits & 1u);
  case DType::I32:
    return int64_t(int32_t(uint32_t(bits)));
  default:
    return int64_t(bits);
  }
}

int64_t asSigned(int64_t v, DType t) { return t == DType::I8 ? -(v & 1) : v; }
uint64_t asUnsigned(int64_t v, DType t) {
  switch (t) {
  case DType::I8:
    return uint64_t(v & 1);
  case DType::I32:
    return uint64_t(uint32_t(v));
  default:
    return uint64_t(v);
  }
}

/// Operands 0 .. arity-1 share one type of `cls`; the result has it too
/// (or, for cmpi, `resultDType` with that shape).
Status sameTypeOperands(const OpContext &ctx, size_t arity, TypeClass cls) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(arity));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", cls));
  for (size_t i = 1; i < arity; ++i)
    if (ctx.type(i) != ctx.type(0))
      return ctx.error("operands must have one type, got " + typeString(ctx.type(0)) +
                       " and " + typeString(ctx.type(i)));
  return Status::success();
}

size_t count(const OpContext &ctx) { return size_t(elementCount(ctx.type(0))); }

//===----------------------------------------------------------------------===//
// Integer arithmetic
//===----------------------------------------------------------------------===//

enum class IntOp { Add, Sub, Mul, DivS, RemS };

template <IntOp kOp> Status intBinaryOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypeOperands(ctx, 2, TypeClass::Int));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  const DType t = ctx.type(0).dtype;
  const int64_t minValue = t == DType::I8    ? -1
                           : t == DType::I32 ? int64_t(std::numeric_limits<int32_t>::min())
                                             : std::numeric_limits<int64_t>::min();
  for (size_t k = 0; k < count(ctx); ++k) {
    const int64_t a = asSigned(ctx.inI(0)[k], t), b = asSigned(ctx.inI(1)[k], t);
    const uint64_t ua = uint64_t(a), ub = uint64_t(b);
    uint64_t r = 0;
    switch (kOp) {
    case IntOp::Add:
      r = ua + ub;
      break;
    case IntOp::Sub:
      r = ua - ub;
      break;
    case IntOp::Mul:
      r = ua * ub;
      break;
    case IntOp::DivS:
    case IntOp::RemS:
      if (b == 0)
        return ctx.error("division by zero at element " + std::to_string(k));
      // The one overflowing quotient, MIN / -1, wraps to MIN (remainder 0).
      if (a == minValue && b == -1)
        r = kOp == IntOp::DivS ? uint64_t(a) : 0;
      else
        r = uint64_t(kOp == IntOp::DivS ? a / b : a % b);
      break;
    }
    ctx.outI(0)[k] = wrapTo(r, t);
  }
  return Status::success();
}

Status cmpiOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypeOperands(ctx, 2, TypeClass::Int));
  int predicate = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr(
      "predicate", {"eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"},
      predicate));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::I8, ctx.shape(0)}}));
  if (!ctx.running())
    return Status::success();
  const DType t = ctx.type(0).dtype;
  for (size_t k = 0; k < count(ctx); ++k) {
    const int64_t a = asSigned(ctx.inI(0)[k], t), b = asSigned(ctx.inI(1)[k], t);
    const uint64_t ua = asUnsigned(ctx.inI(0)[k], t), ub = asUnsigned(ctx.inI(1)[k], t);
    bool r = false;
    switch (predicate) {
    case 0:
      r = a == b;
      break;
    case 1:
      r = a != b;
      break;
    case 2:
      r = a < b;
      break;
    case 3:
      r = a <= b;
      break;
    case 4:
      r = a > b;
      break;
    case 5:
      r = a >= b;
      break;
    case 6:
      r = ua < ub;
      break;
    case 7:
      r = ua <= ub;
      break;
    case 8:
      r = ua > ub;
      break;
    default:
      r = ua >= ub;
      break;
    }
    ctx.outI(0)[k] = r ? 1 : 0;
  }
  return Status::success();
}

Status selectOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  if (ctx.type(0).dtype != DType::I8)
    return ctx.error("condition must be i1 (an i8 tensor), got " + typeString(ctx.type(0)));
  if (ctx.type(1) != ctx.type(2))
    return ctx.error("true and false values must have one type, got " +
                     typeString(ctx.type(1)) + " and " + typeString(ctx.type(2)));
  // A scalar condition selects whole tensors, as MLIR's select with an i1.
  const bool scalarCondition = ctx.shape(0).empty();
  if (!scalarCondition && ctx.shape(0) != ctx.shape(1))
    return ctx.error("condition has shape " + shapeString(ctx.shape(0)) +
                     ", expected [] or the values' shape " + shapeString(ctx.shape(1)));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(1)}));
  if (!ctx.running())
    return Status::success();
  const bool isInt = isIntDType(ctx.type(1).dtype);
  const size_t n = size_t(elementCount(ctx.type(1)));
  for (size_t k = 0; k < n; ++k) {
    const bool c = (ctx.inI(0)[scalarCondition ? 0 : k] & 1) != 0;
    if (isInt)
      ctx.outI(0)[k] = ctx.inI(c ? 1 : 2)[k];
    else
      ctx.outF(0)[k] = ctx.inF(c ? 1 : 2)[k];
  }
  return Status::success();
}

/// extsi (widening) and trunci (narrowing) between integer types.
Status intCastOp(OpContext &ctx, bool extend) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Int));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Int));
  const DType from = ctx.type(0).dtype, to = ctx.op.results[0].dtype;
  if (extend ? bitWidth(to) <= bitWidth(from) : bitWidth(to) >= bitWidth(from))
    return ctx.error(std::string("result type ") + dtypeString(to) + " must be " +
                     (extend ? "wider" : "narrower") + " than the input type " +
                     dtypeString(from) + " (i8 stands for i1)");
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{to, ctx.shape(0)}}));
  if (!ctx.running())
    return Status::success();
  for (size_t k = 0; k < count(ctx); ++k)
    ctx.outI(0)[k] = wrapTo(uint64_t(asSigned(ctx.inI(0)[k], from)), to);
  return Status::success();
}

Status extsiOp(OpContext &ctx) { return intCastOp(ctx, true); }
Status trunciOp(OpContext &ctx) { return intCastOp(ctx, false); }

/// v as an f32 rounded to odd (the last significand bit set when inexact):
/// rounding that once more to bf16 or f16 gives the correctly rounded
/// result, which int -> f32 -> bf16 with two nearest-even roundings does not.
float int64ToFloatRoundToOdd(int64_t v) {
  const bool negative = v < 0;
  uint64_t magnitude = negative ? 0 - uint64_t(v) : uint64_t(v);
  int shift = 0;
  while ((magnitude >> shift) >= (uint64_t(1) << 24))
    ++shift;
  uint64_t significand = magnitude >> shift;
  if (shift > 0 && (magnitude & ((uint64_t(1) << shift) - 1)) != 0)
    significand |= 1u;
  const float f = std::ldexp(float(significand), shift); // exact
  return negative ? -f : f;
}

Status sitofpOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Int));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Float));
  const DType to = ctx.op.results[0].dtype;
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{to, ctx.shape(0)}}));
  if (!ctx.running())
    return Status::success();
  const DType from = ctx.type(0).dtype;
  for (size_t k = 0; k < count(ctx); ++k) {
    const int64_t v = asSigned(ctx.inI(0)[k], from);
    // f32: one nearest-even rounding; narrower: round to odd, and runKernelOp
    // rounds to the result's dtype.
    ctx.outF(0)[k] = to == DType::F32 ? float(v) : int64ToFloatRoundToOdd(v);
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Float arithmetic
//===----------------------------------------------------------------------===//

enum class FloatOp { Add, Sub, Mul, Div };

/// One f32 operation per element; a bf16 / f16 result is then rounded to its
/// type by runKernelOp, as the CUDA code computes them.
template <FloatOp kOp> Status floatBinaryOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypeOperands(ctx, 2, TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  for (size_t k = 0; k < count(ctx); ++k) {
    const float a = ctx.inF(0)[k], b = ctx.inF(1)[k];
    float r = 0.0f;
    switch (kOp) {
    case FloatOp::Add:
      r = a + b;
      break;
    case FloatOp::Sub:
      r = a - b;
      break;
    case FloatOp::Mul:
      r = a * b;
      break;
    case FloatOp::Div:
      r = a / b;
      break;
    }
    ctx.outF(0)[k] = r;
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// An integer constant element of type t: integral, and within the signed or
/// unsigned range of its width (MLIR prints i1 true as 1, other values
/// signed). False when it is not a value of t.
bool intElement(double value, DType t, int64_t &out) {
  const int width = bitWidth(t);
  const double lo = width == 64 ? -0x1p63 : -std::ldexp(1.0, width - 1);
  const double hi = width == 64 ? 0x1p64 : std::ldexp(1.0, width);
  if (!(value >= lo && value < hi) || value != std::floor(value))
    return false;
  out = wrapTo(value >= 0x1p63 ? uint64_t(value) : uint64_t(int64_t(value)), t);
  return true;
}

Status intConstant(const OpContext &ctx, double value, DType t, int64_t &out) {
  if (!intElement(value, t, out))
    return ctx.error("constant " + std::to_string(value) + " is not a value of " +
                     (t == DType::I8 ? std::string("i1") : dtypeString(t)));
  return Status::success();
}

Status constantOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(0));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const TensorType &type = ctx.op.results[0];
  if (!isIntDType(type.dtype) && !isFloatDType(type.dtype) && !isFp8DType(type.dtype))
    return ctx.error("unsupported constant type " + typeString(type));
  const Attr *value = ctx.attr("value");
  if (!value)
    return ctx.error("attribute 'value' is missing");
  const bool isInt = isIntDType(type.dtype);
  const size_t n = size_t(elementCount(type));
  switch (value->kind) {
  case Attr::Kind::Int:
  case Attr::Kind::Float:
  case Attr::Kind::Bool:
    break;
  case Attr::Kind::Array:
    if (value->array.size() != n)
      return ctx.error("attribute 'value' has " + std::to_string(value->array.size()) +
                       " elements, the result " + typeString(type) + " has " +
                       std::to_string(n));
    break;
  default:
    return ctx.error("attribute 'value' must be a number or an array of numbers");
  }
  if (value->kind == Attr::Kind::Bool && type.dtype != DType::I8)
    return ctx.error("a boolean constant needs an i1 (i8) result, got " + typeString(type));
  // Every element is checked here, so that running cannot fail.
  int64_t splatInt = 0;
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
  if (!ctx.running())
    return Status::success();
  for (size_t k = 0; k < n; ++k) {
    if (isInt) {
      int64_t v = splatInt;
      if (value->kind == Attr::Kind::Array)
        intElement(value->array[k], type.dtype, v); // checked above
      ctx.outI(0)[k] = v;
    } else {
      const double d = value->kind == Attr::Kind::Array ? value->array[k] : value->f;
      ctx.outF(0)[k] = float(d); // rounded on to bf16 / f16 / FP8 by runKernelOp
    }
  }
  return Status::success();
}

const OpEntry kArithOps[] = {
    {"arith.constant", constantOp},
    {"arith.addi", intBinaryOp<IntOp::Add>},
    {"arith.subi", intBinaryOp<IntOp::Sub>},
    {"arith.muli", intBinaryOp<IntOp::Mul>},
    {"arith.divsi", intBinaryOp<IntOp::DivS>},
    {"arith.remsi", intBinaryOp<IntOp::RemS>},
    {"arith.cmpi", cmpiOp},
    {"arith.select", selectOp},
    {"arith.extsi", extsiOp},
    {"arith.trunci", trunciOp},
    {"arith.sitofp", sitofpOp},
    {"arith.addf", floatBinaryOp<FloatOp::Add>},
    {"arith.subf", floatBinaryOp<FloatOp::Sub>},
    {"arith.mulf", floatBinaryOp<FloatOp::Mul>},
    {"arith.divf", floatBinaryOp<FloatOp::Div>},
};

} // namespace

const OpEntry *arithOps(size_t &count) {
  count = sizeof(kArithOps) / sizeof(kArithOps[0]);
  return kArithOps;
}

} // namespace fp8rt::kernelops
