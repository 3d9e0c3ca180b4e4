//===- MemoryReport.h - where the planned bytes go --------------*- C++ -*-===//
//
// `fp8c MODEL --memory-report`: the arena that fp8-lower-to-rt planned, split
// per function into the persistent state and what is live at the function's
// peak, plus the cuBLASLt workspace the CUDA backend allocates beside it, and
// per weight gradient the activation it reads: saved as FP8 only, or kept in
// bf16 too (and why).
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_MEMORYREPORT_H
#define FP8C_ANALYSIS_MEMORYREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8c::rt {

/// The cuBLASLt workspace the CUDA backend allocates next to the arena on
/// Hopper (NVIDIA's recommendation for sm_90: 32 MiB).
inline constexpr int64_t kHopperGemmWorkspaceBytes = 32ll << 20;

/// The activation operand a weight-gradient GEMM reads, as the function saved it
/// between the forward instruction that wrote it and the wgrad.
struct SavedActivation {
  enum Status {
    FP8Only,    // the FP8 copy is saved; its bf16 source dies in forward
    FP8Fused,   // the FP8 copy is saved; the bf16 source was never stored (fused)
    BF16Kept,   // the FP8 copy is saved, and a backward op reads the bf16 source too
    BF16Gemm,   // a bf16 GEMM: the bf16 operand itself is saved
    Recomputed, // written in backward (fp8-recompute): nothing saved for it
  };
  std::string gemm;      // the wgrad's layer name, without ".wgrad"
  std::string savedType; // the saved operand's buffer type
  int64_t savedBytes = 0;
  int64_t bf16Bytes = 0; // the bf16 source's bytes (FP8 GEMMs)
  Status status = FP8Only;
  // FP8Only / FP8Fused / Recomputed: the kernel that quantises; BF16Kept: the
  // backward reader.
  std::string where;
  int64_t writer = -1, wgrad = -1; // instruction indices
};

struct FunctionMemory {
  std::string name;
  int64_t arenaBytes = 0;
  // Persistent state: the same in every function.
  int64_t parameters = 0, optimizerState = 0, fp8State = 0, gradAccumulators = 0, constants = 0;
  // Live at the peak instruction (the one with the most non-persistent bytes
  // live): non-FP8 scratch, FP8-typed scratch, and the buffers the host sees
  // (inputs, outputs, metrics, gradients).
  int64_t activations = 0, fp8Copies = 0, hostVisible = 0;
  // grad.X buffers in the bytes of their accumulator grad_accum.X (counted
  // there, not in hostVisible): docs/memory-plan.md.
  int64_t gradsInAccumulators = 0;
  int64_t peakInstruction = -1;
  std::string peakInstructionName;
  // Weight gradients' activation operands (functions with a backward pass).
  std::vector<SavedActivation> saved;
  // The largest number of non-persistent bytes live at one instruction, and
  // the same if every FP8 GEMM's bf16 source not kept had been kept from its
  // quantisation to its wgrad (what saving bf16 for backward would cost).
  int64_t peakLive = 0, peakLiveIfBF16Saved = 0;

  int64_t persistent() const {
    return parameters + optimizerState + fp8State + gradAccumulators + constants;
  }
  int64_t liveAtPeak() const { return activations + fp8Copies + hostVisible; }
};

struct MemoryReport {
  std::vector<FunctionMemory> functions;
  int64_t workspaceBytes = kHopperGemmWorkspaceBytes;
};

/// Reads the plan of a module lowered by fp8-lower-to-rt.
MemoryReport computeMemoryReport(mlir::ModuleOp lowered);

/// The report as text: MiB with the exact byte counts. `withoutRecompute`: the
/// same module's plan compiled without recompute, for the peak before it.
void printMemoryReport(mlir::ModuleOp lowered, llvm::raw_ostream &os,
                       const MemoryReport *withoutRecompute = nullptr);

/// Bytes as the memory reports print them, in MiB.
inline double mib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

/// One row of the memory reports: `what`, then MiB and the exact byte count.
void printBytesRow(llvm::raw_ostream &os, llvm::StringRef what, int64_t bytes);

} // namespace fp8c::rt

#endif // FP8C_ANALYSIS_MEMORYREPORT_H
