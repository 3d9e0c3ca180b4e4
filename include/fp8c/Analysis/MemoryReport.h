//===- MemoryReport.h - where the planned bytes go --------------*- C++ -*-===//
//
// `fp8c MODEL --memory-report`: the arena that fp8-lower-to-rt planned, split
// per function into the persistent state and what is live at the function's
// peak, plus the cuBLASLt workspace the CUDA backend allocates beside it.
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

struct FunctionMemory {
  std::string name;
  int64_t arenaBytes = 0;
  // Persistent state: the same in every function.
  int64_t parameters = 0, optimizerState = 0, fp8State = 0, gradAccumulators = 0,
          constants = 0;
  // Live at the peak instruction (the one with the most non-persistent bytes
  // live): non-FP8 scratch, FP8-typed scratch, and the buffers the host sees
  // (inputs, outputs, metrics, gradients).
  int64_t activations = 0, fp8Copies = 0, hostVisible = 0;
  int64_t peakInstruction = -1;
  std::string peakInstructionName;

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

/// The report as text: MiB with the exact byte counts.
void printMemoryReport(mlir::ModuleOp lowered, llvm::raw_ostream &os);

} // namespace fp8c::rt

#endif // FP8C_ANALYSIS_MEMORYREPORT_H
