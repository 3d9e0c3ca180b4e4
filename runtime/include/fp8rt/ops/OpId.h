//===- OpId.h - The id of a kernel op ---------------------------*- C++ -*-===//
//
// A kernel op's row in the kernel-op table (KernelOps.def). The loader
// resolves every op's name to its id once (KernelOp::id); backends index
// their column with it.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_OPS_OPID_H
#define FP8RT_OPS_OPID_H

#include <cstddef>
#include <cstdint>

namespace fp8rt::ops {

enum class OpId : uint16_t {
#define KERNEL_OP(Id, Name) Id,
#include "fp8rt/ops/KernelOps.def"
};

/// The number of rows of the table.
inline constexpr size_t kNumOps = 0
#define KERNEL_OP(Id, Name) +1
#include "fp8rt/ops/KernelOps.def"
    ;

/// A KernelOp whose name has not been looked up (one built by hand), or an
/// op this runtime does not know.
inline constexpr OpId kUnresolvedOp = OpId(UINT16_MAX);

inline constexpr size_t index(OpId id) { return size_t(id); }

} // namespace fp8rt::ops

#endif // FP8RT_OPS_OPID_H
