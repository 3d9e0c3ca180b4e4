//===- HostEmulator.h - Generated CUDA kernels run on the CPU ---*- C++ -*-===//
//
// Runs the CUDA C++ that KernelCodegen.h generates without a GPU, so that
// every kernel can be checked against the CPU backend on any machine
// (docs/cuda-backend.md, "The host emulator"). The sources are compiled by
// the host's C++ compiler behind a shim for the CUDA keywords, intrinsics and
// built-in variables, and loaded with dlopen. Each block's threads run as
// fibers on one OS thread: a thread runs until __syncthreads, a warp shuffle
// or its end; a barrier releases when every thread of the block (a shuffle:
// of the warp) has reached it, and a barrier that can never release is
// reported as a divergence error instead of a hang. Shared memory and the
// scratch area start every block / kernel filled with 0xFF bytes (NaN as
// floats), so reading what no thread wrote shows up in the results.
//
// What this checks: the generator's indexing, phases, scratch use, block
// reductions, barriers and shuffles, and every rounding, against the CPU
// backend. What it cannot: CUDA's own math library (expf, erf, ... here are
// glibc's), races between blocks that a GPU runs concurrently (blocks run one
// after another here; a seed permutes their order), the memory model,
// resource limits beyond the launch shape, speed, and cuBLASLt (GEMMs are the
// CPU backend's in the emulator backend).
//
// Needs a C++ compiler at run time: $FP8C_HOST_CXX, else the compiler fp8rt
// was built with. Linux (dlopen); x86-64 switches fibers in a few
// instructions, other architectures through ucontext.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_HOSTEMULATOR_H
#define FP8RT_CUDA_HOSTEMULATOR_H

#include "fp8rt/Backend.h"
#include "fp8rt/Status.h"
#include "fp8rt/cuda/KernelCodegen.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fp8rt::cuda {

struct HostEmulatorOptions {
  /// The C++ compiler; empty: $FP8C_HOST_CXX, else the one fp8rt was built with.
  std::string compiler;
  /// Compiler processes at once; 0: one per hardware thread.
  int jobs = 0;
  /// 0: blocks run in grid order and threads in index order between
  /// barriers. Otherwise both orders are permutations drawn from this seed:
  /// a result that changes with the seed depends on an order that CUDA does
  /// not define.
  uint64_t schedulingSeed = 0;
};

struct HostEmulatorStats {
  int sources = 0; ///< distinct kernel bodies compiled
  int chunks = 0;  ///< translation units (compiled in parallel)
  double compileSeconds = 0;
  uint64_t launches = 0, blocks = 0, threads = 0;
  uint64_t barriers = 0; ///< __syncthreads and shuffle releases
};

/// Generated kernels compiled for the host.
class HostKernelModule {
public:
  /// Compiles `kernels` (their distinct bodies, in `jobs` parallel parts).
  /// A compiler failure is an error with the compiler's first lines of
  /// output and the path of the source it kept.
  static StatusOr<std::unique_ptr<HostKernelModule>>
  compile(const std::vector<GeneratedKernel> &kernels, const HostEmulatorOptions &options = {});

  ~HostKernelModule();
  HostKernelModule(const HostKernelModule &) = delete;
  HostKernelModule &operator=(const HostKernelModule &) = delete;

  /// Runs the launches of `kernel` (one of the compiled ones) in order.
  /// `arena` is the program's arena in host memory; `scratch` holds at least
  /// kernel.scratchBytes bytes (256-aligned); the entries' `off` is
  /// kernel.offsets. Errors: a launch shape no GPU
  /// accepts, a divergent barrier or shuffle, naming the entry, block and
  /// thread.
  Status run(const GeneratedKernel &kernel, uint8_t *arena, uint8_t *scratch);

  const HostEmulatorStats &stats() const;

  struct Impl;

private:
  explicit HostKernelModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A backend named "cuda-emu": the CPU backend (its arena, GEMMs and
/// copies) with every kernel instruction running the generated CUDA code of
/// that kernel under the host emulator. Its results should equal the CPU
/// backend's up to the summation order of reductions.
std::unique_ptr<Backend> createCudaEmulatorBackend(const HostEmulatorOptions &options = {});

} // namespace fp8rt::cuda

#endif // FP8RT_CUDA_HOSTEMULATOR_H
