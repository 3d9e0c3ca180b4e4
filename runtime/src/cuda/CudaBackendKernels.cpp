//===- CudaBackendKernels.cpp - Generated kernels on the GPU --------------===//
//
// Every kernel instruction generated (KernelCodegen.h), identical sources
// sharing one module, NVRTC-compiled for this GPU with an on-disk cubin cache
// (misses compiled in parallel), loaded with cudaLibraryLoadData and launched
// through cudaKernel_t handles (no libcuda symbol).
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

#include "KernelCache.h"
#include "fp8rt/cuda/Nvrtc.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace fp8rt::cuda {

Status CudaBackend::compileModules(std::vector<Module> &modules) {
  const std::string dir = options_.cacheDir == "-"    ? std::string()
                          : options_.cacheDir.empty() ? defaultKernelCacheDir()
                                                      : options_.cacheDir;
  const std::string version = nvrtcVersion();
  std::vector<size_t> misses;
  std::vector<std::string> fileNames(modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    fileNames[i] = kernelCacheFileName(modules[i].source, arch_, version);
    if (readCachedKernel(dir, fileNames[i], modules[i].cubin))
      ++stats_.cacheHits;
    else
      misses.push_back(i);
  }

  // The misses compile on a pool of threads (compileMany); the first failure
  // in program order is the one reported.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<NvrtcJob> jobs;
  for (size_t i : misses)
    jobs.push_back(NvrtcJob{modules[i].source, modules[i].name, arch_, true});
  std::vector<StatusOr<std::string>> cubins = compileMany(jobs);
  stats_.compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats_.compiled = int(misses.size());
  for (size_t j = 0; j < misses.size(); ++j) {
    if (!cubins[j].ok())
      return cubins[j].status();
    modules[misses[j]].cubin = std::move(*cubins[j]);
  }

  for (size_t i = 0; i < modules.size(); ++i) {
    Module &m = modules[i];
    cudaError_t e =
        cudaLibraryLoadData(&m.library, m.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
    const bool wasCached = std::find(misses.begin(), misses.end(), i) == misses.end();
    if (e != cudaSuccess && wasCached) {
      // A cached cubin this driver refuses: compile it again.
      (void)cudaGetLastError();
      StatusOr<std::string> cubin = compileWithNvrtc(m.source, m.name, arch_, true);
      if (!cubin.ok())
        return cubin.status();
      m.cubin = std::move(*cubin);
      ++stats_.compiled;
      --stats_.cacheHits;
      e = cudaLibraryLoadData(&m.library, m.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
      misses.push_back(i);
    }
    FP8RT_RETURN_IF_ERROR(cudaStatus(e, "kernel " + m.name + ": cudaLibraryLoadData"));
  }
  if (!dir.empty())
    for (size_t i : misses) {
      // A cache that cannot be written only costs time at the next start.
      Status s = writeCachedKernel(dir, fileNames[i], modules[i].cubin);
      if (!s.ok() && i == misses.front())
        std::fprintf(stderr, "fp8rt: warning: kernel cache not written: %s\n", s.message().c_str());
    }
  for (Module &m : modules) {
    m.cubin.clear();
    m.cubin.shrink_to_fit();
  }
  return Status::success();
}

Status CudaBackend::compileKernels(const Program &program) {
  // Generate every kernel instruction's code; identical sources (eval_step
  // repeats train_step's forward kernels) share one module.
  generated_.clear();
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions)
      if (inst.kind == Instruction::Kind::Kernel) {
        StatusOr<GeneratedKernel> k = generateKernel(program, inst.kernel);
        if (!k.ok())
          return k.status().withContext(f.name + ": kernel " + inst.kernel.name);
        generated_.push_back(std::move(*k));
      }
  stats_.kernels = int(generated_.size());

  std::vector<Module> modules;
  std::map<std::string, size_t> bySource;
  std::vector<size_t> moduleOf(generated_.size());
  modules.push_back(Module{kStageScalesSource, "fp8rt_stage_scales", "", nullptr});
  for (size_t i = 0; i < generated_.size(); ++i) {
    auto [it, inserted] = bySource.emplace(generated_[i].source, modules.size());
    if (inserted)
      modules.push_back(Module{generated_[i].source, generated_[i].name, "", nullptr});
    moduleOf[i] = it->second;
  }
  stats_.uniqueSources = int(modules.size()) - 1;
  FP8RT_RETURN_IF_ERROR(compileModules(modules));
  modules_ = std::move(modules);

  FP8RT_CUDA_RETURN_IF_ERROR(
      cudaLibraryGetKernel(&stageScales_, modules_[0].library, "fp8rt_stage_scales"));
  kernels_.clear();
  for (size_t i = 0; i < generated_.size(); ++i) {
    KernelPlan plan;
    plan.code = &generated_[i];
    for (const Launch &l : generated_[i].launches) {
      cudaKernel_t k = nullptr;
      FP8RT_RETURN_IF_ERROR(
          cudaStatus(cudaLibraryGetKernel(&k, modules_[moduleOf[i]].library, l.entry.c_str()),
                     "kernel " + generated_[i].name + ": entry " + l.entry));
      if (l.sharedBytes > 48 * 1024)
        FP8RT_RETURN_IF_ERROR(cudaStatus(
            cudaKernelSetAttributeForDevice(k, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            int(l.sharedBytes), device_.device),
            "kernel " + generated_[i].name + ": " + std::to_string(l.sharedBytes) +
                " bytes of shared memory"));
      plan.entries.push_back(k);
    }
    kernels_.push_back(std::move(plan));
  }
  return Status::success();
}

Status CudaBackend::enqueueKernel(const KernelPlan &k) {
  void *arena = arena_, *scratch = scratch_;
  const int64_t *offsets = k.offsets;
  void *args[] = {&arena, &scratch, &offsets};
  for (size_t i = 0; i < k.entries.size(); ++i) {
    const Launch &l = k.code->launches[i];
    FP8RT_RETURN_IF_ERROR(cudaStatus(cudaLaunchKernel(reinterpret_cast<const void *>(k.entries[i]),
                                                      dim3(l.grid[0], l.grid[1], l.grid[2]),
                                                      dim3(l.block[0], l.block[1], l.block[2]),
                                                      args, l.sharedBytes, stream_),
                                     "launch of " + l.entry));
  }
  return Status::success();
}

} // namespace fp8rt::cuda
