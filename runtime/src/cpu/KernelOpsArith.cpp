//===- KernelOpsArith.cpp - Scalar arith ops inside kernels on the CPU ----===//
//
// MLIR's semantics, elementwise on tensors of one shape. The program format
// has no i1: an i1 value is an i8 tensor holding 0 or 1, and arith treats
// every i8 as i1 (one bit: true is -1 when read as signed, as MLIR's extsi /
// sitofp do). i32 and i64 wrap around in two's complement. The checks these
// implementations rely on are ops/CheckArith.cpp.
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include <cmath>
#include <limits>

namespace fp8rt::cpu {
namespace {

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

size_t count(const OpRun &ctx) { return ctx.count(0); }

//===----------------------------------------------------------------------===//
// Integer arithmetic
//===----------------------------------------------------------------------===//

enum class IntOp { Add, Sub, Mul, DivS, RemS };

template <IntOp kOp> Status intBinaryOp(const OpRun &ctx) {
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

/// extsi and trunci: the value sign-extended or cut to the result's width.
Status intCastOp(const OpRun &ctx) {
  const DType from = ctx.type(0).dtype, to = ctx.op.results[0].dtype;
  for (size_t k = 0; k < count(ctx); ++k)
    ctx.outI(0)[k] = wrapTo(uint64_t(asSigned(ctx.inI(0)[k], from)), to);
  return Status::success();
}

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

//===----------------------------------------------------------------------===//
// Float arithmetic
//===----------------------------------------------------------------------===//

enum class FloatOp { Add, Sub, Mul, Div };

/// One f32 operation per element; a bf16 / f16 result is then rounded to its
/// type by runKernelOp, as the CUDA code computes them.
template <FloatOp kOp> Status floatBinaryOp(const OpRun &ctx) {
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

} // namespace

Status runArithAddi(const OpRun &ctx) { return intBinaryOp<IntOp::Add>(ctx); }
Status runArithSubi(const OpRun &ctx) { return intBinaryOp<IntOp::Sub>(ctx); }
Status runArithMuli(const OpRun &ctx) { return intBinaryOp<IntOp::Mul>(ctx); }
Status runArithDivsi(const OpRun &ctx) { return intBinaryOp<IntOp::DivS>(ctx); }
Status runArithRemsi(const OpRun &ctx) { return intBinaryOp<IntOp::RemS>(ctx); }

Status runArithCmpi(const OpRun &ctx) {
  int predicate = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr(
      "predicate", {"eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"},
      predicate));
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

Status runArithSelect(const OpRun &ctx) {
  // A scalar condition selects whole tensors, as MLIR's select with an i1.
  const bool scalarCondition = ctx.shape(0).empty();
  const bool isInt = isInteger(ctx.type(1).dtype);
  const size_t n = ctx.count(1);
  for (size_t k = 0; k < n; ++k) {
    const bool c = (ctx.inI(0)[scalarCondition ? 0 : k] & 1) != 0;
    if (isInt)
      ctx.outI(0)[k] = ctx.inI(c ? 1 : 2)[k];
    else
      ctx.outF(0)[k] = ctx.inF(c ? 1 : 2)[k];
  }
  return Status::success();
}

Status runArithExtsi(const OpRun &ctx) { return intCastOp(ctx); }
Status runArithTrunci(const OpRun &ctx) { return intCastOp(ctx); }

Status runArithSitofp(const OpRun &ctx) {
  const DType from = ctx.type(0).dtype, to = ctx.op.results[0].dtype;
  for (size_t k = 0; k < count(ctx); ++k) {
    const int64_t v = asSigned(ctx.inI(0)[k], from);
    // f32: one nearest-even rounding; narrower: round to odd, and runKernelOp
    // rounds to the result's dtype.
    ctx.outF(0)[k] = to == DType::F32 ? float(v) : int64ToFloatRoundToOdd(v);
  }
  return Status::success();
}

Status runArithAddf(const OpRun &ctx) { return floatBinaryOp<FloatOp::Add>(ctx); }
Status runArithSubf(const OpRun &ctx) { return floatBinaryOp<FloatOp::Sub>(ctx); }
Status runArithMulf(const OpRun &ctx) { return floatBinaryOp<FloatOp::Mul>(ctx); }
Status runArithDivf(const OpRun &ctx) { return floatBinaryOp<FloatOp::Div>(ctx); }

Status runArithConstant(const OpRun &ctx) {
  const TensorType &type = ctx.op.results[0];
  const Attr *value = ctx.attr("value");
  const bool isInt = isInteger(type.dtype);
  const size_t n = size_t(elementCount(type));
  int64_t splatInt = 0;
  FP8RT_RETURN_IF_ERROR(intConstantSplat(ctx, splatInt));
  for (size_t k = 0; k < n; ++k) {
    if (isInt) {
      int64_t v = splatInt;
      if (value->kind == Attr::Kind::Array)
        intElement(value->array[k], type.dtype, v); // checked
      ctx.outI(0)[k] = v;
    } else {
      const double d = value->kind == Attr::Kind::Array ? value->array[k] : value->f;
      ctx.outF(0)[k] = float(d); // rounded on to bf16 / f16 / FP8 by runKernelOp
    }
  }
  return Status::success();
}

} // namespace fp8rt::cpu
