//===- KernelOps.h - Semantics of the ops inside a kernel -------*- C++ -*-===//
//
// Each kernel op of a program (docs/program-format.md, "kernel") has a check,
// run by the loader on its operand types, and a CPU implementation. The check
// is what makes the implementation safe on a hostile program: once an op has
// passed it, every index the implementation derives from the types is in
// bounds. Data-dependent errors (a token id >= vocab_size) are found by the
// implementation and reported as Status.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_KERNELOPS_H
#define FP8RT_CPU_KERNELOPS_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstdint>
#include <vector>

namespace fp8rt {

/// Checks a kernel op given its operands' types: that the op is supported,
/// the operand count, every attribute it needs (present, of the right kind, in
/// range), and that `op.results` are exactly the types the op produces.
/// Messages name what is wrong ("train.layer_norm: weight has shape [64],
/// expected [128]"); the loader prefixes the JSON path.
Status checkKernelOp(const KernelOp &op, const std::vector<TensorType> &operandTypes);

namespace cpu {

/// A value inside a kernel on the CPU backend. Float dtypes keep their
/// elements as f32 holding exactly the dtype's numbers (bf16-rounded for
/// bf16, a decoded code for FP8); integer dtypes use `i`.
struct Value {
  TensorType type;
  std::vector<float> f;
  std::vector<int64_t> i;
};

/// Runs a checked op. `results` is resized to op.results.size(), each result
/// typed and rounded to its dtype.
Status runKernelOp(const KernelOp &op, const std::vector<const Value *> &operands,
                   std::vector<Value> &results);

/// Loads a buffer's bytes into a Value / stores a Value as bytes of its dtype.
Value loadValue(const TensorType &type, const uint8_t *bytes);
void storeValue(const Value &value, uint8_t *bytes);

/// A `constant` buffer's `data` as bytes of its dtype (`constant.bytes()` of
/// them): floats rounded to nearest even (FP8 saturating), integers exact (the
/// loader checked their range). Every backend writes its constants this way.
void storeConstant(const Buffer &constant, uint8_t *bytes);

} // namespace cpu
} // namespace fp8rt

#endif // FP8RT_CPU_KERNELOPS_H
