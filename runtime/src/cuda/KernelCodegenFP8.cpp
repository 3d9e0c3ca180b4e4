//===- KernelCodegenFP8.cpp - CUDA for kernel ops of their own phase ----===//
//
// The CUDA column of the kernel-op table for amax, cast-transpose, amax history:
// each op one or more launches calling the prelude's templates
// (KernelCodegenImpl.h, docs/cuda-backend.md).
//
//===----------------------------------------------------------------------===//

#include "KernelCodegenImpl.h"

#include <cinttypes>

namespace fp8rt::cuda::detail {
namespace {

using ops::OpId;

/// fp8.amax: per-block maxima and their maximum, or one block per scale group.
Status amax(const KernelEmit &e) {
  const bool transposed = attrB(e.op, "transposed");
  vector<int64_t> shape = e.types[e.op.operands[0]].shape;
  if (transposed)
    shape = {shape[1], shape[0]};
  const Grid g = scaleGrid(e.op, shape);
  const int64_t n = e.elems(e.op.operands[0]);
  if (g.single) {
    const uint32_t parts = gridFor(uint64_t(n), uint64_t(kBlock) * 8);
    const uint64_t partial = e.allocScratch(uint64_t(parts) * 4);
    e.addEntry(e.what + ", phase 1: per-block maxima",
               fmt("  amaxPartial<%s>(%s, %s, reinterpret_cast<u32 *>(scratch + %s));\n", e.inDt(0),
                   e.in(0).c_str(), num(n).c_str(), num(int64_t(partial)).c_str()),
               parts, kBlock);
    e.addEntry(e.what + ", phase 2: the maximum",
               fmt("  amaxFinal(reinterpret_cast<const u32 *>(scratch + %s), %u, %s);\n",
                   num(int64_t(partial)).c_str(), parts, e.out(0).c_str()),
               1, kBlock);
    return Status::success();
  }
  e.addEntry(e.what + ": one block per scale group",
             fmt("  amaxGroups<%s>(%s, %s, %s, %s, %s, %s, %s, %s);\n", e.inDt(0), e.in(0).c_str(),
                 e.out(0).c_str(), num(g.groups()).c_str(), num(g.rows).c_str(),
                 num(g.cols).c_str(), num(g.segment).c_str(), num(g.rowBlock).c_str(),
                 transposed ? "true" : "false"),
             gridFor(uint64_t(g.groups()), 1), g.segment * g.rowBlock >= 256 ? kBlock : 128);
  return Status::success();
}

/// fp8.cast_transpose: 32 x 32 tiles through shared memory.
Status castTranspose(const KernelEmit &e) {
  const vector<int64_t> &shape = e.types[e.op.operands[0]].shape;
  const Grid g = scaleGrid(e.op, shape), gt = scaleGrid(e.op, {shape[1], shape[0]});
  const bool own = e.op.operands.size() == 3;
  const int64_t tiles = ((shape[0] + 31) / 32) * ((shape[1] + 31) / 32);
  e.addEntry(e.what + ": 32 x 32 tiles through shared memory",
             fmt("  castTranspose<%s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n",
                 e.inDt(0), e.outDt(0), e.in(0).c_str(), e.in(1).c_str(),
                 own ? e.in(2).c_str() : "nullptr", num(shape[0]).c_str(), num(shape[1]).c_str(),
                 num(g.segment).c_str(), num(g.rowBlock).c_str(), num(gt.segment).c_str(),
                 num(gt.rowBlock).c_str(), g.single ? "true" : "false", own ? "true" : "false",
                 e.out(0).c_str(), e.out(1).c_str()),
             gridFor(uint64_t(tiles), 1), 32, 8);
  return Status::success();
}

/// fp8.amax_history_update: the history shifted, newest first.
Status amaxHistoryUpdate(const KernelEmit &e) {
  const int64_t len = e.elems(e.op.operands[0]);
  e.addEntry(e.what + ": shift, newest first",
             fmt("  for (i64 k = blockIdx.x * (i64)blockDim.x + threadIdx.x; k < %s; "
                 "k += (i64)gridDim.x * blockDim.x)\n"
                 "    put<F32>(%s, k, k == 0 ? ldf<F32>(%s, 0) : ldf<F32>(%s, k - 1));\n",
                 num(len).c_str(), e.out(0).c_str(), e.in(1).c_str(), e.in(0).c_str()),
             gridFor(uint64_t(len), kBlock), kBlock);
  return Status::success();
}

/// fp8.amax_from_history: one thread.
Status amaxFromHistory(const KernelEmit &e) {
  const int64_t len = e.elems(e.op.operands[0]);
  const bool mostRecent = attrS(e.op, "algo") == "most_recent";
  e.addEntry(e.what + (mostRecent ? ": the newest entry" : ": the maximum, in order"),
             fmt("  if (blockIdx.x != 0 || threadIdx.x != 0) return;\n"
                 "  float result = ldf<F32>(%s, 0);\n"
                 "  for (i64 k = 1; k < %s; ++k) result = maxAmax(result, ldf<F32>(%s, k));\n"
                 "  put<F32>(%s, 0, result);\n",
                 e.in(0).c_str(), mostRecent ? "1LL" : num(len).c_str(), e.in(0).c_str(),
                 e.out(0).c_str()),
             1, 32);
  return Status::success();
}

/// fp8.scaled_matmul inside a kernel: the compiler emits FP8 GEMMs as gemm
/// instructions (cuBLASLt), so the CUDA backend has no kernel for it.
Status scaledMatmul(const KernelEmit &e) {
  return e.error("no CUDA code for op '" + e.op.op +
                 "' (fp8.scaled_matmul inside a kernel runs on the CPU backend only; "
                 "the compiler emits FP8 GEMMs as gemm instructions)");
}

} // namespace

const OpEmitter emitFp8Amax{nullptr, amax};
const OpEmitter emitFp8CastTranspose{nullptr, castTranspose};
const OpEmitter emitFp8AmaxHistoryUpdate{nullptr, amaxHistoryUpdate};
const OpEmitter emitFp8AmaxFromHistory{nullptr, amaxFromHistory};
const OpEmitter emitFp8ScaledMatmul{nullptr, scaledMatmul};

} // namespace fp8rt::cuda::detail
