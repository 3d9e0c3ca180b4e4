//===- CudaStatus.h - CUDA, cuBLASLt and NVRTC results as Status -*- C++ -*-===//
//
// Private to runtime/src/cuda: the one place where a vendor result code
// becomes an fp8rt::Status, and the return-if-error macros every CUDA file
// uses. The functions are inline so that a library that links only NVRTC
// (fp8rt_cuda) never references cudart or cuBLASLt symbols.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CUDA_CUDASTATUS_H
#define FP8RT_SRC_CUDA_CUDASTATUS_H

#include "fp8rt/Status.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <nvrtc.h>

#include <string>

namespace fp8rt::cuda {

/// "cudaErrorNoDevice (no CUDA-capable device is detected)".
inline std::string cudaErrorText(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

/// A CUDA runtime result: "what: cudaErrorX (text)". Out of memory is
/// kOutOfRange, no device or an old driver kUnavailable, the rest kInternal.
inline Status cudaStatus(cudaError_t e, const std::string &what) {
  if (e == cudaSuccess)
    return Status::success();
  const StatusCode code = e == cudaErrorMemoryAllocation ? StatusCode::kOutOfRange
                          : e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver
                              ? StatusCode::kUnavailable
                              : StatusCode::kInternal;
  return Status(code, what + ": " + cudaErrorText(e));
}

/// "CUBLAS_STATUS_INVALID_VALUE".
inline const char *cublasStatusName(cublasStatus_t s) { return cublasLtGetStatusName(s); }

/// A cuBLASLt result: "call failed: CUBLAS_STATUS_X", with `code` (kInternal
/// unless the caller knows better).
inline Status cublasStatus(cublasStatus_t s, const std::string &call,
                           StatusCode code = StatusCode::kInternal) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return Status(code, call + " failed: " + cublasStatusName(s));
}

/// An NVRTC result: "call: NVRTC_ERROR_X" (kInternal); callers add the
/// kernel's name in front.
inline Status nvrtcStatus(nvrtcResult r, const std::string &call) {
  if (r == NVRTC_SUCCESS)
    return Status::success();
  return internalError(call + ": " + nvrtcGetErrorString(r));
}

} // namespace fp8rt::cuda

/// Returns from the enclosing function when a CUDA runtime call fails; the
/// message names the call as written.
#define FP8RT_CUDA_RETURN_IF_ERROR(call)                                                           \
  FP8RT_RETURN_IF_ERROR(::fp8rt::cuda::cudaStatus((call), #call))

/// FP8RT_CUBLASLT_RETURN_IF_ERROR(cublasLtCreate, &handle): calls
/// cublasLtCreate(&handle) and returns "cublasLtCreate failed: ..." on error.
#define FP8RT_CUBLASLT_RETURN_IF_ERROR(function, ...)                                              \
  FP8RT_RETURN_IF_ERROR(::fp8rt::cuda::cublasStatus(function(__VA_ARGS__), #function))

/// FP8RT_NVRTC_RETURN_IF_ERROR("kernel 'k'", nvrtcGetPTXSize, program, &size):
/// calls the function and returns "kernel 'k': nvrtcGetPTXSize: ..." on error.
#define FP8RT_NVRTC_RETURN_IF_ERROR(context, function, ...)                                        \
  FP8RT_RETURN_IF_ERROR(                                                                           \
      ::fp8rt::cuda::nvrtcStatus(function(__VA_ARGS__), #function).withContext(context))

#endif // FP8RT_SRC_CUDA_CUDASTATUS_H
