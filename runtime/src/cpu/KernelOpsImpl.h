//===- KernelOpsImpl.h - The CPU column of the kernel-op table --*- C++ -*-===//
//
// Private to runtime/src/cpu/KernelOps*.cpp. Each kernel op has one CPU
// implementation, cpu::run<Id> for its row of fp8rt/ops/KernelOps.def, over
// an OpRun: the checked op (ops::OpContext: types and attribute helpers) and
// the values it computes with. runKernelOp runs the op's check first, so an
// implementation reads what the check established (OpParams.h) and computes.
//
// Results are pre-sized from `op.results` before an op runs, and every float
// result is rounded to its dtype after it ran (runKernelOp), so an op writes
// f32 numbers and never rounds to bf16 / f16 itself. FP8 results are written
// by the op already converted (saturating RNE), since their conversion
// depends on a scale.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CPU_KERNELOPSIMPL_H
#define FP8RT_SRC_CPU_KERNELOPSIMPL_H

#include "fp8rt/Numerics.h"
#include "fp8rt/cpu/KernelOps.h"

#include "ops/OpParams.h"

#include <cstdint>
#include <vector>

namespace fp8rt::cpu {

using namespace fp8rt::ops; // OpContext, TypeClass, elementCount, ...

inline Fp8Format fp8Format(DType t) {
  return t == DType::F8E5M2 ? Fp8Format::E5M2 : Fp8Format::E4M3FN;
}

/// The f32 number `x` rounds to in dtype `t` (a float dtype; FP8 saturating).
float roundToDType(float x, DType t);
/// An FP8 code for a value that is exactly representable in the format (the
/// contents of an FP8 cpu::Value): unlike floatToFp8, E5M2 infinities keep
/// their code and a NaN its sign (and E5M2 NaNs their payload, which
/// decodeFp8Exact puts in f32 mantissa bits 21-22), so that loading and
/// storing any byte gives it back.
uint8_t encodeFp8Exact(float x, Fp8Format f);
float decodeFp8Exact(uint8_t code, Fp8Format f);

/// A checked op and its values.
class OpRun : public OpContext {
public:
  OpRun(const KernelOp &op, const std::vector<TensorType> &operandTypes,
        const std::vector<const Value *> &operands, std::vector<Value> &results)
      : OpContext(op, operandTypes), operands_(operands), results_(results) {}

  const Value &in(size_t i) const { return *operands_[i]; }
  Value &out(size_t i) const { return results_[i]; }
  const float *inF(size_t i) const { return in(i).f.data(); }
  const int64_t *inI(size_t i) const { return in(i).i.data(); }
  float *outF(size_t i) const { return out(i).f.data(); }
  int64_t *outI(size_t i) const { return out(i).i.data(); }
  float scalarF(size_t i) const { return in(i).f[0]; }
  int64_t scalarI(size_t i) const { return in(i).i[0]; }
  /// The element count of operand `i`.
  size_t count(size_t i) const { return size_t(elementCount(type(i))); }

private:
  const std::vector<const Value *> &operands_;
  std::vector<Value> &results_;
};

/// The CPU column: one implementation per row of KernelOps.def
/// (KernelOpsTrain.cpp, KernelOpsFP8.cpp, KernelOpsArith.cpp).
#define KERNEL_OP(Id, Name) Status run##Id(const OpRun &ctx);
#include "fp8rt/ops/KernelOps.def"

} // namespace fp8rt::cpu

#endif // FP8RT_SRC_CPU_KERNELOPSIMPL_H
