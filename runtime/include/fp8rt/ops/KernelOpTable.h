//===- KernelOpTable.h - One table of kernel ops, every backend -*- C++ -*-===//
//
// The backend-neutral table of the ops inside a `kernel` instruction
// (docs/program-format.md, "kernel"; the rows are KernelOps.def). Each row
// has the op's name and its check; every backend builds its own column from
// the same list (cpu/KernelOps.h: the CPU implementation, cuda/KernelCodegen.h:
// the CUDA emitter), so a row without a column fails to link.
//
// The check is what makes a backend safe on a hostile program: once an op has
// passed it, every index an implementation derives from the types is in
// bounds. Data-dependent errors (a token id >= vocab_size) are found by the
// implementation and reported as Status.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_OPS_KERNELOPTABLE_H
#define FP8RT_OPS_KERNELOPTABLE_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/ops/OpId.h"

#include <string_view>
#include <vector>

namespace fp8rt::ops {

/// "train.layer_norm", ...
const char *opName(OpId id);

/// The id of the op called `name`, or kUnresolvedOp. The loader calls it once
/// per op; backends use KernelOp::id.
OpId findOp(std::string_view name);

/// `op.id` when the loader resolved it, otherwise the id of `op.op` (an op
/// built by hand).
inline OpId idOf(const KernelOp &op) { return op.id != kUnresolvedOp ? op.id : findOp(op.op); }

/// Checks a kernel op given its operands' types: that the op is supported
/// (kUnimplemented otherwise), the rank and size of every operand and
/// result, the operand count, every attribute it needs (present, of the right
/// kind, in range), and that `op.results` are exactly the types the op
/// produces. Messages name what is wrong ("train.layer_norm: weight has shape
/// [64], expected [128]"); the loader prefixes the JSON path.
Status checkKernelOp(const KernelOp &op, const std::vector<TensorType> &operandTypes);

/// Whether row `id` has a check (KernelOpTableTest).
bool hasCheck(OpId id);

} // namespace fp8rt::ops

#endif // FP8RT_OPS_KERNELOPTABLE_H
