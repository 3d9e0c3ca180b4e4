//===- KernelOps.h - The kernel ops on the CPU ------------------*- C++ -*-===//
//
// The CPU backend's column of the kernel-op table (fp8rt/ops/KernelOpTable.h):
// every kernel op of a program (docs/program-format.md, "kernel") computed in
// f32 on the host, after its check. Data-dependent errors (a token id >=
// vocab_size) are found here and reported as Status.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_KERNELOPS_H
#define FP8RT_CPU_KERNELOPS_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/ops/OpId.h"

#include <cstdint>
#include <vector>

namespace fp8rt::cpu {

/// A value inside a kernel on the CPU backend. Float dtypes keep their
/// elements as f32 holding exactly the dtype's numbers (bf16-rounded for
/// bf16, a decoded code for FP8); integer dtypes use `i`.
struct Value {
  TensorType type;
  std::vector<float> f;
  std::vector<int64_t> i;
};

/// Runs an op: its check (ops::checkKernelOp, again, so that a caller that
/// skipped it still cannot index out of bounds), then its CPU implementation.
/// `results` is resized to op.results.size(), each result typed and rounded
/// to its dtype.
Status runKernelOp(const KernelOp &op, const std::vector<const Value *> &operands,
                   std::vector<Value> &results);

/// Whether row `id` of the kernel-op table has a CPU implementation
/// (KernelOpTableTest).
bool hasImplementation(ops::OpId id);

/// Loads a buffer's bytes into a Value / stores a Value as bytes of its dtype.
Value loadValue(const TensorType &type, const uint8_t *bytes);
void storeValue(const Value &value, uint8_t *bytes);

/// A `constant` buffer's `data` as bytes of its dtype (`constant.bytes()` of
/// them): floats rounded to nearest even (FP8 saturating), integers exact (the
/// loader checked their range). Every backend writes its constants this way.
void storeConstant(const Buffer &constant, uint8_t *bytes);

} // namespace fp8rt::cpu

#endif // FP8RT_CPU_KERNELOPS_H
