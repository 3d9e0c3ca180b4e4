//===- Nvrtc.h - Compiling generated CUDA C++ with NVRTC --------*- C++ -*-===//
//
// Shared by the CUDA backend (at program load) and the codegen CI test (no
// GPU needed: NVRTC compiles for any architecture without a device). Built
// only when the CUDA toolkit is found (the fp8rt_cuda library); links
// libnvrtc, never libcuda.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_NVRTC_H
#define FP8RT_CUDA_NVRTC_H

#include "fp8rt/Status.h"

#include <string>
#include <string_view>
#include <vector>

namespace fp8rt::cuda {

/// Compiles one translation unit for `arch` ("sm_90a", "sm_89", ...) and
/// returns the cubin (`cubin` true) or the PTX text. An error names the
/// kernel (`name`) and carries NVRTC's log. The CUDA include directory
/// (cuda_fp8.h, cuda_bf16.h) is found at build time.
StatusOr<std::string> compileWithNvrtc(const std::string &source, const std::string &name,
                                       const std::string &arch, bool cubin);

/// One translation unit for compileMany. The views must outlive the call.
struct NvrtcJob {
  std::string_view source, name; ///< as for compileWithNvrtc
  std::string arch;              ///< "sm_90a", ...
  bool cubin = true;
};

/// Compiles independent translation units on a pool of `threads` threads
/// (0: std::thread::hardware_concurrency(), at least 1; never more than the
/// jobs). NVRTC is thread-safe across programs. The results are in job
/// order whatever order the compiles finished in, so a caller that reports
/// the first failing job reports the same one on every run.
std::vector<StatusOr<std::string>> compileMany(const std::vector<NvrtcJob> &jobs,
                                               unsigned threads = 0);

/// NVRTC's version as "major.minor" (part of the backend's cache key).
std::string nvrtcVersion();

} // namespace fp8rt::cuda

#endif // FP8RT_CUDA_NVRTC_H
