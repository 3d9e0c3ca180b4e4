//===- NcclApi.h - NCCL's functions, loaded when first needed ---*- C++ -*-===//
//
// Private to runtime/src/comm/Nccl*.cpp. libnccl is about 200 MB and only a
// CUDA-backend run under mpirun needs it, so fp8rt_nccl does not link it:
// the first communicator loads it with dlopen (libnccl.so.2, as the CUDA
// toolkit and Debian's libnccl2 install it). fp8-run therefore starts on a
// machine without NCCL (and the GPU bundle stays small), and a distributed
// CUDA run there fails with a Status that says what to install. nccl.h gives
// the types and the signatures (decltype), never a symbol to link.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_COMM_NCCLAPI_H
#define FP8RT_SRC_COMM_NCCLAPI_H

#include "fp8rt/Status.h"

#include <nccl.h>

namespace fp8rt::comm {

/// Named as NCCL's functions: api.ncclAllReduce(...).
struct NcclApi {
  decltype(&::ncclGetVersion) ncclGetVersion = nullptr;
  decltype(&::ncclGetUniqueId) ncclGetUniqueId = nullptr;
  decltype(&::ncclCommInitRank) ncclCommInitRank = nullptr;
  decltype(&::ncclCommDestroy) ncclCommDestroy = nullptr;
  decltype(&::ncclCommAbort) ncclCommAbort = nullptr;
  decltype(&::ncclCommGetAsyncError) ncclCommGetAsyncError = nullptr;
  decltype(&::ncclGetErrorString) ncclGetErrorString = nullptr;
  decltype(&::ncclGetLastError) ncclGetLastError = nullptr;
  decltype(&::ncclAllReduce) ncclAllReduce = nullptr;
  decltype(&::ncclReduceScatter) ncclReduceScatter = nullptr;
  decltype(&::ncclAllGather) ncclAllGather = nullptr;
};

/// The loaded library's functions (loaded once, by the first call; thread
/// safe), or kUnavailable: "cannot load NCCL (libnccl.so.2: cannot open
/// shared object file ...): install it (...) or add its directory to
/// LD_LIBRARY_PATH", or a function missing from an old NCCL.
StatusOr<const NcclApi *> loadNccl();

} // namespace fp8rt::comm

#endif // FP8RT_SRC_COMM_NCCLAPI_H
