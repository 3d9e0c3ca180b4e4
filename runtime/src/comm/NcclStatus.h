//===- NcclStatus.h - NCCL results as Status --------------------*- C++ -*-===//
//
// Private to runtime/src/comm/Nccl*.cpp, as CudaStatus.h is to src/cuda: the
// one place where an ncclResult_t becomes an fp8rt::Status. Its own header so
// that the CUDA backend's files need no NCCL include path.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_COMM_NCCLSTATUS_H
#define FP8RT_SRC_COMM_NCCLSTATUS_H

#include "NcclApi.h"

#include <string>

namespace fp8rt::comm {

/// "call failed: unhandled cuda error (...)" plus NCCL's last message when
/// there is one. A system or remote error (a peer gone) is kUnavailable, an
/// invalid argument or usage kInvalidArgument, the rest kInternal.
inline Status ncclStatus(const NcclApi &api, ncclResult_t r, const std::string &call) {
  if (r == ncclSuccess)
    return Status::success();
  const StatusCode code = r == ncclSystemError || r == ncclRemoteError ? StatusCode::kUnavailable
                          : r == ncclInvalidArgument || r == ncclInvalidUsage
                              ? StatusCode::kInvalidArgument
                              : StatusCode::kInternal;
  std::string message = call + " failed: " + api.ncclGetErrorString(r);
  if (const char *last = api.ncclGetLastError(nullptr); last && *last)
    message += std::string(" (") + last + ")";
  return Status(code, message);
}

} // namespace fp8rt::comm

/// FP8RT_NCCL_RETURN_IF_ERROR(api, ncclGetUniqueId, &id): calls
/// api.ncclGetUniqueId(&id) and returns "ncclGetUniqueId failed: ..." on error.
#define FP8RT_NCCL_RETURN_IF_ERROR(api, function, ...)                                             \
  FP8RT_RETURN_IF_ERROR(::fp8rt::comm::ncclStatus((api), (api).function(__VA_ARGS__), #function))

#endif // FP8RT_SRC_COMM_NCCLSTATUS_H
