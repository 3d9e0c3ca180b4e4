//===- CudaBackend.h - Running a program on an NVIDIA GPU -------*- C++ -*-===//
//
// The CUDA backend (docs/cuda-backend.md, "The backend"): one device
// allocation for the arena, every kernel generated (KernelCodegen.h) and
// compiled by NVRTC at load with an on-disk cubin cache, GEMMs through
// cuBLASLt (CublasLt.h), each function captured once as a CUDA graph and
// replayed. Links cudart and cuBLASLt only, never libcuda: cubins are loaded
// with cudaLibraryLoadData and launched through cudaKernel_t handles.
//
// Built only when the CUDA toolkit is found (the fp8rt_cuda_backend library).
// Includes no CUDA header: cuda_runtime_api.h, cublasLt.h and nvrtc.h stay
// private to runtime/src/cuda, so a user of this header needs none of them.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_CUDABACKEND_H
#define FP8RT_CUDA_CUDABACKEND_H

#include "fp8rt/Backend.h"
#include "fp8rt/cuda/CublasLt.h" // FastAccum

#include <cstdint>
#include <memory>
#include <string>

namespace fp8rt::comm {
class NcclCommunicator;
} // namespace fp8rt::comm

namespace fp8rt::cuda {

/// The GPU the backend would use (device 0, or CudaBackendOptions::device).
struct CudaDeviceInfo {
  int device = 0;
  std::string name;         ///< "NVIDIA H100 80GB HBM3"
  int major = 0, minor = 0; ///< compute capability
  int multiprocessors = 0;
  uint64_t totalMemory = 0;                  ///< bytes
  int driverVersion = 0, runtimeVersion = 0; ///< 13000 for 13.0
};

/// Device 0, or an kUnavailable error that says why there is no usable GPU
/// ("no NVIDIA driver", "NVIDIA driver 12.4 but no GPU (...)", a driver older
/// than the runtime, "no CUDA device: cudaGetDeviceCount found 0", ...).
StatusOr<CudaDeviceInfo> probeCudaDevice(int device = 0);
/// probeCudaDevice's error message, or "" when device 0 is usable.
std::string cudaUnavailableReason();

/// True when any GEMM of the program has FP8 operands or any buffer is FP8:
/// such a program needs compute capability 8.9 or higher.
bool programUsesFp8(const Program &program);

/// Whether `device` can run `program`: an FP8 program on compute capability
/// below 8.9 is refused ("... has compute capability 8.0; FP8 needs 8.9 (Ada)
/// or 9.0 (Hopper): compile the model with fp8 off, or use --backend=cpu").
Status checkDeviceFor(const Program &program, const CudaDeviceInfo &device);

struct CudaBackendOptions {
  /// Directory of the cubin cache; empty: $FP8C_CACHE_DIR, else
  /// $XDG_CACHE_HOME/fp8c, else ~/.cache/fp8c. "-" disables the cache.
  std::string cacheDir;
  /// GEMM fast accumulation as compiled (forward on, dgrad/wgrad off by
  /// default) or forced on / off for every FP8 GEMM.
  FastAccum fastAccum = FastAccum::AsCompiled;
  /// Run each instruction directly and synchronise after it instead of
  /// replaying a CUDA graph: slow, but an error names its instruction.
  bool debugSync = false;
  /// The GPU to run on: fp8-run under mpirun gives each rank its local index.
  int device = 0;
  /// The job's NCCL communicator, through which `all_reduce` instructions
  /// run (CudaCollectives.cpp); not owned, it outlives the backend. nullptr:
  /// a program with a collective is refused at load.
  comm::NcclCommunicator *collectives = nullptr;
};

/// A CUDA backend on device 0, or the reason there is none (probeCudaDevice).
/// Nothing is allocated before load().
StatusOr<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions &options = {});

/// Statistics of the last load() of a CUDA backend (for fp8-run and tests).
struct CudaLoadStats {
  int kernels = 0;       ///< kernel instructions
  int uniqueSources = 0; ///< distinct generated sources
  int compiled = 0;      ///< compiled by NVRTC in this load
  int cacheHits = 0;     ///< read from the cubin cache
  double compileSeconds = 0;
  uint64_t extraDeviceBytes = 0; ///< beyond the arena: scratch, workspace, scales
};
/// The statistics of `backend`, which must be a CUDA backend (nullptr otherwise).
const CudaLoadStats *cudaLoadStats(const Backend &backend);

} // namespace fp8rt::cuda

#endif // FP8RT_CUDA_CUDABACKEND_H
