//===- NcclStatus.h - NCCL results as Status --------------------*- C++ -*-===//
//
// Private to runtime/src/comm/Nccl*.cpp, as CudaStatus.h is to src/cuda: the
// one place where an ncclResult_t becomes an fp8rt::Status. Its own header so
// that the CUDA backend's files need no NCCL include path.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_COMM_NCCLSTATUS_H
#define FP8RT_SRC_COMM_NCCLSTATUS_H

#include "fp8rt/Status.h"

#include <nccl.h>

#include <string>

namespace fp8rt::comm {

/// "call failed: ncclUnhandledCudaError (unhandled cuda error ...)" plus
/// NCCL's last message when there is one. A system or remote error (a peer
/// gone) is kUnavailable, an invalid argument kInvalidArgument, the rest
/// kInternal.
inline Status ncclStatus(ncclResult_t r, const std::string &call, ncclComm_t comm = nullptr) {
  if (r == ncclSuccess)
    return Status::success();
  const StatusCode code = r == ncclSystemError || r == ncclRemoteError ? StatusCode::kUnavailable
                          : r == ncclInvalidArgument || r == ncclInvalidUsage
                              ? StatusCode::kInvalidArgument
                              : StatusCode::kInternal;
  std::string message = call + " failed: " + ncclGetErrorString(r);
  if (const char *last = ncclGetLastError(comm); last && *last)
    message += std::string(" (") + last + ")";
  return Status(code, message);
}

} // namespace fp8rt::comm

/// Returns from the enclosing function when an NCCL call fails; the message
/// names the call as written.
#define FP8RT_NCCL_RETURN_IF_ERROR(call)                                                           \
  FP8RT_RETURN_IF_ERROR(::fp8rt::comm::ncclStatus((call), #call))

#endif // FP8RT_SRC_COMM_NCCLSTATUS_H
