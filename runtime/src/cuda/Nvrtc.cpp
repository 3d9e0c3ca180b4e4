//===- Nvrtc.cpp - Compiling generated CUDA C++ with NVRTC ----------------===//
//
// NVRTC needs no GPU: the CI test compiles every example kernel with it. The
// generated sources include no header (KernelCodegen.h), so no include path
// is passed. --fmad=false keeps every a*b+c two roundings, as on the CPU
// backend (bit-exact casts depend on it).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cuda/Nvrtc.h"

#include "CudaStatus.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace fp8rt::cuda {
namespace {

struct ProgramDeleter {
  void operator()(nvrtcProgram *p) const {
    nvrtcDestroyProgram(p);
    delete p;
  }
};

/// The compiled binary (a cubin, or PTX text without its trailing NUL).
StatusOr<std::string> compiledCode(nvrtcProgram program, const std::string &name, bool cubin) {
  const std::string kernel = "kernel '" + name + "'";
  size_t size = 0;
  if (cubin)
    FP8RT_NVRTC_RETURN_IF_ERROR(kernel, nvrtcGetCUBINSize, program, &size);
  else
    FP8RT_NVRTC_RETURN_IF_ERROR(kernel, nvrtcGetPTXSize, program, &size);
  std::string out(size, '\0');
  if (cubin)
    FP8RT_NVRTC_RETURN_IF_ERROR(kernel, nvrtcGetCUBIN, program, out.data());
  else
    FP8RT_NVRTC_RETURN_IF_ERROR(kernel, nvrtcGetPTX, program, out.data());
  if (!cubin && !out.empty() && out.back() == '\0')
    out.pop_back();
  return out;
}

} // namespace

StatusOr<std::string> compileWithNvrtc(const std::string &source, const std::string &name,
                                       const std::string &arch, bool cubin) {
  std::unique_ptr<nvrtcProgram, ProgramDeleter> program(new nvrtcProgram(nullptr));
  if (Status s = nvrtcStatus(nvrtcCreateProgram(program.get(), source.c_str(),
                                                (name + ".cu").c_str(), 0, nullptr, nullptr),
                             "nvrtcCreateProgram");
      !s.ok()) {
    delete program.release();
    return s.withContext("kernel '" + name + "'");
  }
  // A virtual architecture for PTX, a real one for a cubin.
  const std::string archOption =
      std::string("--gpu-architecture=") + (cubin ? arch : "compute_" + arch.substr(3));
  const std::vector<const char *> options = {archOption.c_str(), "--std=c++17",
                                             "--fmad=false",     "--ftz=false",
                                             "--prec-div=true",  "--prec-sqrt=true"};
  const nvrtcResult r = nvrtcCompileProgram(*program, int(options.size()), options.data());
  if (r != NVRTC_SUCCESS) {
    size_t logSize = 0;
    std::string log;
    if (nvrtcGetProgramLogSize(*program, &logSize) == NVRTC_SUCCESS && logSize > 1) {
      log.resize(logSize);
      if (nvrtcGetProgramLog(*program, log.data()) != NVRTC_SUCCESS)
        log.clear();
      while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
        log.pop_back();
    }
    return invalidArgumentError("kernel '" + name + "': NVRTC failed for " + arch + " (" +
                                nvrtcGetErrorString(r) + "):\n" + log);
  }
  return compiledCode(*program, name, cubin);
}

std::vector<StatusOr<std::string>> compileMany(const std::vector<NvrtcJob> &jobs,
                                               unsigned threads) {
  std::vector<StatusOr<std::string>> results(jobs.size(), internalError("not compiled"));
  // Each worker takes the next job; results land at the job's index, so the
  // outcome does not depend on the interleaving.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j = next++; j < jobs.size(); j = next++)
      results[j] = compileWithNvrtc(std::string(jobs[j].source), std::string(jobs[j].name),
                                    jobs[j].arch, jobs[j].cubin);
  };
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  const size_t count = std::min<size_t>(threads, jobs.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < count; ++t)
    pool.emplace_back(worker);
  worker(); // the calling thread is one of the pool
  for (std::thread &t : pool)
    t.join();
  return results;
}

std::string nvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

} // namespace fp8rt::cuda
