//===- KernelCodegen.h - CUDA C++ for the kernels of a program --*- C++ -*-===//
//
// Generates one CUDA C++ translation unit per `kernel` instruction of a
// program (docs/program-format.md), from the same op list the CPU backend
// interprets, with the same numbers: every value rounded to its dtype after
// every op exactly as the CPU does (casts bit-exact), reductions deterministic
// (block reductions and a second pass, never float atomics) and equal to the
// CPU's up to summation order. docs/cuda-backend.md describes the code.
//
// No CUDA dependency: the generator is plain C++ (fp8c --emit=cuda uses it
// without a GPU); compiling the source is Nvrtc.h's job.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_KERNELCODEGEN_H
#define FP8RT_CUDA_KERNELCODEGEN_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/ops/OpId.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt::cuda {

/// One kernel launch of a generated kernel.
struct Launch {
  std::string entry; ///< an extern "C" __global__ function of the source
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t sharedBytes = 0; ///< dynamic shared memory
};

/// The CUDA code of one rt kernel.
///
/// Every entry has the signature
///   extern "C" __global__ void entry(unsigned char *arena, unsigned char *scratch,
///                                    const long long *off)
/// `arena` is the program's arena; `off` points to `offsets`: the arena byte
/// offsets of the kernel's inputs, then of its outputs (Kernel::inputs,
/// Kernel::outputs). No offset is in the code, so the same kernel over other
/// buffers (every layer's) is the same body and entry, compiled once.
/// `scratch` is a device allocation of at least `scratchBytes` bytes
/// (256-aligned, may be null when scratchBytes is 0) holding intermediates
/// between phases; its contents need not survive between calls nor be
/// initialised: each launch sequence writes before it reads. The launches
/// run in order on one stream.
struct GeneratedKernel {
  std::string name;   ///< the rt kernel's name
  std::string source; ///< one CUDA C++ translation unit: cudaPrelude()
                      ///< + body; includes no header
  std::string body;   ///< the entries alone (combinedSource joins bodies)
  std::vector<Launch> launches;
  uint64_t scratchBytes = 0;           ///< a multiple of 256
  std::vector<int64_t> offsets;        ///< the values of `off`
  std::vector<uint32_t> offsetBuffers; ///< the buffer of each offset
};

/// Generates the code of a kernel of `program` (which parseProgram has
/// validated). An op without a CUDA implementation is an kUnimplemented error
/// naming the kernel and the op.
StatusOr<GeneratedKernel> generateKernel(const Program &program, const Kernel &kernel);

/// Whether row `id` of the kernel-op table has a CUDA emitter (exactly one of
/// a pointwise expression and whole-kernel launches; KernelOpTableTest).
/// fp8.scaled_matmul's emitter reports that it has no CUDA code.
bool hasEmitter(ops::OpId id);

/// Every kernel instruction of every function, in program order.
StatusOr<std::vector<GeneratedKernel>> generateAllKernels(const Program &program);

/// The device code every source starts with (conversions, loads/stores,
/// reductions, norms, attention, ... as templates).
std::string cudaPrelude();

/// One translation unit holding the prelude once and every distinct body:
/// entry names carry a hash of their code, so bodies never clash and
/// identical kernels (the same code over other buffers) are compiled once.
std::string combinedSource(const std::vector<GeneratedKernel> &kernels);

/// The NVRTC architecture name for a compute capability: "sm_90a" for 9.0
/// (the arch-specific Hopper target), "sm_89" for 8.9, "sm_<major><minor>"
/// otherwise.
std::string nvrtcArch(int major, int minor);
/// "--gpu-architecture=" + nvrtcArch(major, minor).
std::string nvrtcArchOption(int major, int minor);

} // namespace fp8rt::cuda

#endif // FP8RT_CUDA_KERNELCODEGEN_H
