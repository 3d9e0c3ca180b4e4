//===- CudaBackend.cpp - A program on an NVIDIA GPU -----------------------===//
//
// load():  one cudaMalloc for the arena; every kernel generated
//          (KernelCodegen.h), NVRTC-compiled for this GPU (cache on disk,
//          misses compiled in parallel), loaded with cudaLibraryLoadData;
//          one cuBLASLt descriptor per GEMM with its heuristic result; one
//          workspace, one kernel scratch, one scale staging area (all
//          instructions run in order on one stream, so they can share).
// run():   the first call of a function captures its instructions into a
//          CUDA graph; every call replays it, then copies the function's
//          outputs and metrics into pinned host memory and synchronises once.
//          read() of those buffers is served from that copy.
// write(): asynchronous (pageable copies are staged by the driver before
//          cudaMemcpyAsync returns); all-zero data becomes a memset.
//
// Only the runtime API (cudart) is used: no libcuda symbol, so the binary
// runs (and falls back to the CPU) on machines without a driver.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cuda/CudaBackend.h"

#include "KernelCache.h"
#include "fp8rt/TokenBounds.h"
#include "fp8rt/cpu/KernelOps.h"
#include "fp8rt/cuda/CublasLt.h"
#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/cuda/Nvrtc.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace fp8rt {

namespace {

using cuda::LtMatmul;

constexpr uint64_t kWorkspaceBytes = 32ull << 20;
constexpr int kStageThreads = 256;

Status cudaStatus(cudaError_t e, const std::string &what) {
  if (e == cudaSuccess)
    return Status::success();
  const StatusCode code = e == cudaErrorMemoryAllocation ? StatusCode::kOutOfRange
                          : e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver
                              ? StatusCode::kUnavailable
                              : StatusCode::kInternal;
  return Status(code, what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

#define FP8RT_CUDA(call) FP8RT_RETURN_IF_ERROR(cudaStatus((call), #call))

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
  return buf;
}

uint64_t align256(uint64_t x) { return (x + 255) / 256 * 256; }

bool isFp8(DType t) { return t == DType::F8E4M3 || t == DType::F8E5M2; }

/// Reciprocal scales in cuBLASLt's layout (CublasLt.h, ScaleStaging). One
/// launch per FP8 GEMM, blockIdx.y picks the operand. Plain IEEE division
/// (NVRTC without fast math).
const char *kStageScalesSource = R"(
struct ScaleOperand {
  const float *src;
  float *dst;
  int source;  // 0 tensorwise, 1 rowwise, 2 1x128, 3 128x128
  int target;  // 0 scalar, 1 outer vector, 2 vec128, 3 block128
  long long rows, kBlocks, ld, count;
};
extern "C" __global__ void fp8rt_stage_scales(ScaleOperand a, ScaleOperand b) {
  const ScaleOperand &o = blockIdx.y == 0 ? a : b;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= o.count)
    return;
  long long r = 0, kb = 0;
  if (o.target == 1) {
    r = i;
  } else if (o.target == 2) {
    kb = i / o.ld;
    r = i % o.ld;
    if (r >= o.rows) { o.dst[i] = 1.0f; return; }
  } else if (o.target == 3) {
    r = (i / o.ld) * 128;
    kb = i % o.ld;
    if (kb >= o.kBlocks) { o.dst[i] = 1.0f; return; }
  }
  long long s = 0;
  if (o.source == 1) s = r;
  else if (o.source == 2) s = r * o.kBlocks + kb;
  else if (o.source == 3) s = (r / 128) * o.kBlocks + kb;
  o.dst[i] = 1.0f / o.src[s];
}
)";

/// Mirrors the struct of kStageScalesSource (passed by value).
struct ScaleOperandArg {
  const float *src = nullptr;
  float *dst = nullptr;
  int32_t source = 0, target = 0;
  long long rows = 0, kBlocks = 0, ld = 1, count = 1;
};

int sourceCode(GemmScaleMode m) {
  switch (m) {
  case GemmScaleMode::Rowwise:
    return 1;
  case GemmScaleMode::Block1x128:
    return 2;
  case GemmScaleMode::Block128x128:
    return 3;
  case GemmScaleMode::None:
  case GemmScaleMode::Tensorwise:
    break;
  }
  return 0;
}

struct FreeDevice {
  void operator()(void *p) const { (void)cudaFree(p); }
};
struct FreeHost {
  void operator()(void *p) const { (void)cudaFreeHost(p); }
};
using DevicePtr = std::unique_ptr<void, FreeDevice>;
using HostPtr = std::unique_ptr<void, FreeHost>;

/// One loaded cubin and its entries.
struct Module {
  std::string source, name;
  std::string cubin;
  cudaLibrary_t library = nullptr;
};

struct KernelPlan {
  const cuda::GeneratedKernel *code = nullptr;
  std::vector<cudaKernel_t> entries; ///< one per launch
  const int64_t *offsets = nullptr;  ///< the entries' `off`: code->offsets on the device
};

struct GemmPlan {
  LtMatmul matmul;
  cublasLtMatmulAlgo_t algo{};
  ScaleOperandArg scaleA, scaleB; ///< FP8 only (the program's A and B)
  uint64_t gridX = 0;             ///< of the staging launch
};

struct CopyPlan {
  void *target = nullptr;
  const void *source = nullptr;
  uint64_t bytes = 0;
  bool overlaps = false;
};

struct Step {
  Instruction::Kind kind = Instruction::Kind::Kernel;
  size_t index = 0; ///< into kernels_, gemms_ or copies_
  std::string label; ///< "instruction 12 (kernel k12_layer_norm)"
};

struct FunctionPlan {
  const Function *function = nullptr;
  std::vector<Step> steps;
  std::vector<uint32_t> readback; ///< output and metric buffers it writes
  cudaGraphExec_t graph = nullptr;
};

class CudaBackend final : public Backend {
public:
  CudaBackend(CudaDeviceInfo device, CudaBackendOptions options)
      : device_(std::move(device)), options_(std::move(options)),
        arch_(cuda::nvrtcArch(device_.major, device_.minor)) {}
  ~CudaBackend() override { release(); }

  const char *name() const override { return "cuda"; }
  std::string description() const override;
  Status load(const Program &program) override;
  Status write(uint32_t buffer, const void *data, size_t bytes) override;
  Status read(uint32_t buffer, void *data, size_t bytes) override;
  Status run(const Function &function) override;

  const CudaLoadStats &stats() const { return stats_; }

private:
  void release();
  Status allocate(const Program &program);
  Status writeConstants(const Program &program);
  Status compileKernels(const Program &program);
  Status planGemms(const Program &program);
  Status planFunctions(const Program &program);
  Status compileModules(std::vector<Module> &modules);
  Status enqueue(const FunctionPlan &plan, bool syncEach);
  Status enqueueKernel(const KernelPlan &k);
  Status enqueueGemm(const GemmPlan &g);
  Status enqueueCopy(const CopyPlan &c);

  uint8_t *at(uint32_t buffer) const { return arena_ + program_->buffers[buffer].offset; }

  CudaDeviceInfo device_;
  CudaBackendOptions options_;
  CudaLoadStats stats_;
  std::string arch_;
  const Program *program_ = nullptr;

  DevicePtr arenaAllocation_, scratchAllocation_, workspaceAllocation_, stagingAllocation_,
      copyAllocation_, offsetsAllocation_;
  uint8_t *arena_ = nullptr;
  void *scratch_ = nullptr, *workspace_ = nullptr, *copyStaging_ = nullptr;
  float *staging_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;

  std::vector<Module> modules_;
  cudaKernel_t stageScales_ = nullptr;
  std::vector<cuda::GeneratedKernel> generated_;
  std::vector<KernelPlan> kernels_;
  std::vector<GemmPlan> gemms_;
  std::vector<CopyPlan> copies_;
  std::vector<FunctionPlan> functions_;
  /// Buffers that kernels read as token ids: write() checks their data,
  /// since the generated kernels turn an id outside the table into NaN where
  /// the CPU backend reports it.
  std::vector<TokenBound> tokenBounds_;

  /// Pinned copies of output and metric buffers, refreshed by run().
  HostPtr mirrorAllocation_;
  std::vector<uint64_t> mirrorOffset_; ///< per buffer, UINT64_MAX: none
  std::vector<bool> mirrorValid_;
};

std::string CudaBackend::description() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "CUDA backend (%s, compute capability %d.%d, %s, %d SMs, %s; cuBLASLt %zu)",
                device_.name.c_str(), device_.major, device_.minor, arch_.c_str(),
                device_.multiprocessors, gib(device_.totalMemory).c_str(),
                cublasLtGetVersion());
  return buf;
}

void CudaBackend::release() {
  for (FunctionPlan &f : functions_)
    if (f.graph)
      (void)cudaGraphExecDestroy(f.graph);
  functions_.clear();
  gemms_.clear(); // descriptors before the handle
  for (Module &m : modules_)
    if (m.library)
      (void)cudaLibraryUnload(m.library);
  modules_.clear();
  if (lt_)
    (void)cublasLtDestroy(lt_);
  lt_ = nullptr;
  if (stream_)
    (void)cudaStreamDestroy(stream_);
  stream_ = nullptr;
  arenaAllocation_.reset();
  scratchAllocation_.reset();
  workspaceAllocation_.reset();
  stagingAllocation_.reset();
  copyAllocation_.reset();
  offsetsAllocation_.reset();
  mirrorAllocation_.reset();
  tokenBounds_.clear();
  arena_ = nullptr;
  program_ = nullptr;
}

Status CudaBackend::load(const Program &program) {
  release();
  stats_ = CudaLoadStats();
  FP8RT_RETURN_IF_ERROR(checkDeviceFor(program, device_));
  FP8RT_CUDA(cudaSetDevice(device_.device));
  FP8RT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  {
    cublasStatus_t s = cublasLtCreate(&lt_);
    if (s != CUBLAS_STATUS_SUCCESS)
      return unavailableError(std::string("cublasLtCreate failed: ") +
                              cuda::cublasStatusName(s));
  }
  FP8RT_RETURN_IF_ERROR(compileKernels(program));
  FP8RT_RETURN_IF_ERROR(allocate(program));
  program_ = &program;
  tokenBounds_ = findTokenBounds(program);
  FP8RT_RETURN_IF_ERROR(writeConstants(program));
  FP8RT_RETURN_IF_ERROR(planGemms(program));
  FP8RT_RETURN_IF_ERROR(planFunctions(program));
  return Status::success();
}

Status CudaBackend::allocate(const Program &program) {
  void *p = nullptr;
  cudaError_t e = cudaMalloc(&p, program.arenaBytes ? program.arenaBytes : 256);
  if (e != cudaSuccess) {
    (void)cudaGetLastError(); // clear the sticky-free allocation error
    size_t freeBytes = 0, totalBytes = 0;
    (void)cudaMemGetInfo(&freeBytes, &totalBytes);
    return outOfRangeError("cuda backend: cannot allocate the arena: the program's planned "
                           "peak is " +
                           std::to_string(program.arenaBytes) + " bytes (" +
                           gib(program.arenaBytes) + "), " + device_.name + " has " +
                           gib(freeBytes) + " free of " + gib(totalBytes) + " (" +
                           cudaGetErrorName(e) +
                           "); compile a smaller batch or more grad_accum_steps "
                           "(fp8c --memory-report shows the plan)");
  }
  arenaAllocation_.reset(p);
  arena_ = static_cast<uint8_t *>(p);
  FP8RT_CUDA(cudaMemset(arena_, 0, program.arenaBytes));

  auto extra = [&](DevicePtr &owner, uint64_t bytes, const char *what) -> Status {
    if (bytes == 0)
      return Status::success();
    void *q = nullptr;
    cudaError_t err = cudaMalloc(&q, bytes);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return outOfRangeError(std::string("cuda backend: cannot allocate ") + what + " (" +
                             gib(bytes) + ") beside the arena of " + gib(program.arenaBytes) +
                             ": " + cudaGetErrorName(err));
    }
    owner.reset(q);
    stats_.extraDeviceBytes += bytes;
    return Status::success();
  };
  uint64_t scratchBytes = 0;
  for (const cuda::GeneratedKernel &k : generated_)
    scratchBytes = std::max(scratchBytes, k.scratchBytes);
  FP8RT_RETURN_IF_ERROR(extra(scratchAllocation_, scratchBytes, "the kernel scratch"));
  scratch_ = scratchAllocation_.get();
  // The kernels' buffer offsets (their `off` argument), one table for all.
  std::vector<int64_t> offsets;
  std::vector<size_t> offsetsStart;
  for (const cuda::GeneratedKernel &k : generated_) {
    offsetsStart.push_back(offsets.size());
    offsets.insert(offsets.end(), k.offsets.begin(), k.offsets.end());
  }
  FP8RT_RETURN_IF_ERROR(
      extra(offsetsAllocation_, offsets.size() * sizeof(int64_t), "the kernel offset table"));
  if (!offsets.empty())
    FP8RT_CUDA(cudaMemcpy(offsetsAllocation_.get(), offsets.data(),
                          offsets.size() * sizeof(int64_t), cudaMemcpyHostToDevice));
  for (size_t i = 0; i < kernels_.size(); ++i)
    kernels_[i].offsets =
        static_cast<const int64_t *>(offsetsAllocation_.get()) + offsetsStart[i];
  FP8RT_RETURN_IF_ERROR(extra(workspaceAllocation_, kWorkspaceBytes, "the cuBLASLt workspace"));
  workspace_ = workspaceAllocation_.get();

  // Scale staging: the largest FP8 GEMM's two operands; copy staging: the
  // largest copy between overlapping views.
  uint64_t stagingFloats = 0, copyBytes = 0;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions) {
      if (inst.kind == Instruction::Kind::Gemm && isFp8(program.buffers[inst.gemm.a].type.dtype)) {
        StatusOr<cuda::GemmScaleStaging> s = cuda::planScaleStaging(program, inst.gemm);
        if (!s.ok())
          return s.status().withContext(f.name + ": gemm " + inst.gemm.name);
        stagingFloats = std::max(stagingFloats, uint64_t(align256(uint64_t(s->a.count) * 4) / 4 +
                                                         uint64_t(s->b.count)));
      }
      if (inst.kind == Instruction::Kind::Copy) {
        const Buffer &src = program.buffers[inst.copy.source], &dst = program.buffers[inst.copy.target];
        if (src.offset < dst.offset + dst.bytes() && dst.offset < src.offset + src.bytes())
          copyBytes = std::max(copyBytes, src.bytes());
      }
    }
  FP8RT_RETURN_IF_ERROR(extra(stagingAllocation_, stagingFloats * 4, "the FP8 scale staging"));
  staging_ = static_cast<float *>(stagingAllocation_.get());
  FP8RT_RETURN_IF_ERROR(extra(copyAllocation_, copyBytes, "the copy staging"));
  copyStaging_ = copyAllocation_.get();

  // Pinned mirror of every output and metric buffer.
  mirrorOffset_.assign(program.buffers.size(), UINT64_MAX);
  mirrorValid_.assign(program.buffers.size(), false);
  uint64_t mirrorBytes = 0;
  for (size_t i = 0; i < program.buffers.size(); ++i) {
    const BufferRole r = program.buffers[i].role;
    if (r == BufferRole::Output || r == BufferRole::Metric) {
      mirrorOffset_[i] = mirrorBytes;
      mirrorBytes += align256(program.buffers[i].bytes());
    }
  }
  if (mirrorBytes) {
    void *h = nullptr;
    FP8RT_CUDA(cudaMallocHost(&h, mirrorBytes));
    mirrorAllocation_.reset(h);
  }
  return Status::success();
}

Status CudaBackend::writeConstants(const Program &program) {
  for (uint32_t i = 0; i < program.buffers.size(); ++i) {
    const Buffer &b = program.buffers[i];
    if (b.role != BufferRole::Constant)
      continue;
    std::vector<uint8_t> bytes(b.bytes());
    cpu::storeConstant(b, bytes.data());
    // Constant ids (gpt's position ids) are checked like written ones.
    FP8RT_RETURN_IF_ERROR(
        checkTokenWrite(program, tokenBounds_, i, bytes.data(), "cuda backend: program constant"));
    FP8RT_CUDA(cudaMemcpy(at(i), bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  }
  return Status::success();
}

Status CudaBackend::compileModules(std::vector<Module> &modules) {
  const std::string dir = options_.cacheDir == "-"  ? std::string()
                          : options_.cacheDir.empty() ? cuda::defaultKernelCacheDir()
                                                      : options_.cacheDir;
  const std::string version = cuda::nvrtcVersion();
  std::vector<size_t> misses;
  std::vector<std::string> fileNames(modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    fileNames[i] = cuda::kernelCacheFileName(modules[i].source, arch_, version);
    if (cuda::readCachedKernel(dir, fileNames[i], modules[i].cubin))
      ++stats_.cacheHits;
    else
      misses.push_back(i);
  }

  // The misses compile on a pool of threads (compileMany); the first failure
  // in program order is the one reported.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<cuda::NvrtcJob> jobs;
  for (size_t i : misses)
    jobs.push_back(cuda::NvrtcJob{modules[i].source, modules[i].name, arch_, true});
  std::vector<StatusOr<std::string>> cubins = cuda::compileMany(jobs);
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
    cudaError_t e = cudaLibraryLoadData(&m.library, m.cubin.data(), nullptr, nullptr, 0,
                                        nullptr, nullptr, 0);
    const bool wasCached = std::find(misses.begin(), misses.end(), i) == misses.end();
    if (e != cudaSuccess && wasCached) {
      // A cached cubin this driver refuses: compile it again.
      (void)cudaGetLastError();
      StatusOr<std::string> cubin = cuda::compileWithNvrtc(m.source, m.name, arch_, true);
      if (!cubin.ok())
        return cubin.status();
      m.cubin = std::move(*cubin);
      ++stats_.compiled;
      --stats_.cacheHits;
      e = cudaLibraryLoadData(&m.library, m.cubin.data(), nullptr, nullptr, 0, nullptr,
                              nullptr, 0);
      misses.push_back(i);
    }
    FP8RT_RETURN_IF_ERROR(cudaStatus(e, "kernel " + m.name + ": cudaLibraryLoadData"));
  }
  if (!dir.empty())
    for (size_t i : misses) {
      // A cache that cannot be written only costs time at the next start.
      Status s = cuda::writeCachedKernel(dir, fileNames[i], modules[i].cubin);
      if (!s.ok() && i == misses.front())
        std::fprintf(stderr, "fp8rt: warning: kernel cache not written: %s\n",
                     s.message().c_str());
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
        StatusOr<cuda::GeneratedKernel> k = cuda::generateKernel(program, inst.kernel);
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

  FP8RT_CUDA(cudaLibraryGetKernel(&stageScales_, modules_[0].library, "fp8rt_stage_scales"));
  kernels_.clear();
  for (size_t i = 0; i < generated_.size(); ++i) {
    KernelPlan plan;
    plan.code = &generated_[i];
    for (const cuda::Launch &l : generated_[i].launches) {
      cudaKernel_t k = nullptr;
      FP8RT_RETURN_IF_ERROR(cudaStatus(
          cudaLibraryGetKernel(&k, modules_[moduleOf[i]].library, l.entry.c_str()),
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

Status CudaBackend::planGemms(const Program &program) {
  gemms_.clear();
  cublasLtMatmulPreference_t preference = nullptr;
  if (cublasStatus_t s = cublasLtMatmulPreferenceCreate(&preference); s != CUBLAS_STATUS_SUCCESS)
    return internalError(std::string("cublasLtMatmulPreferenceCreate failed: ") +
                         cuda::cublasStatusName(s));
  struct PreferenceGuard {
    cublasLtMatmulPreference_t p;
    ~PreferenceGuard() { (void)cublasLtMatmulPreferenceDestroy(p); }
  } guard{preference};
  const uint64_t workspace = kWorkspaceBytes;
  if (cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace);
      s != CUBLAS_STATUS_SUCCESS)
    return internalError(std::string("cublasLtMatmulPreferenceSetAttribute failed: ") +
                         cuda::cublasStatusName(s));

  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions) {
      if (inst.kind != Instruction::Kind::Gemm)
        continue;
      const Gemm &g = inst.gemm;
      GemmPlan plan;
      cuda::GemmAddresses addr;
      addr.a = at(g.a);
      addr.b = at(g.b);
      addr.d = at(g.d);
      if (g.bias != Gemm::kNone)
        addr.bias = at(g.bias);
      if (g.dScale != Gemm::kNone)
        addr.dScale = reinterpret_cast<const float *>(at(g.dScale));
      if (g.amaxD != Gemm::kNone)
        addr.amaxD = reinterpret_cast<float *>(at(g.amaxD));
      const bool fp8 = isFp8(program.buffers[g.a].type.dtype);
      if (fp8) {
        FP8RT_ASSIGN_OR_RETURN(cuda::GemmScaleStaging s, cuda::planScaleStaging(program, g));
        float *aDst = staging_, *bDst = staging_ + align256(uint64_t(s.a.count) * 4) / 4;
        addr.aScaleInverse = aDst;
        addr.bScaleInverse = bDst;
        auto arg = [&](const cuda::ScaleStaging &st, uint32_t buffer, float *dst) {
          ScaleOperandArg a;
          a.src = reinterpret_cast<const float *>(at(buffer));
          a.dst = dst;
          a.source = sourceCode(st.source);
          a.target = int32_t(st.target);
          a.rows = st.rows;
          a.kBlocks = st.cols / 128;
          a.ld = st.ld;
          a.count = st.count;
          return a;
        };
        plan.scaleA = arg(s.a, g.aScale, aDst);
        plan.scaleB = arg(s.b, g.bScale, bDst);
        plan.gridX = (uint64_t(std::max(s.a.count, s.b.count)) + kStageThreads - 1) / kStageThreads;
      }
      StatusOr<LtMatmul> mm = LtMatmul::create(program, g, addr, options_.fastAccum);
      if (!mm.ok())
        return mm.status().withContext(f.name);
      plan.matmul = std::move(*mm);
      cublasLtMatmulHeuristicResult_t result{};
      int found = 0;
      cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(
          lt_, plan.matmul.desc, plan.matmul.aLayout, plan.matmul.bLayout, plan.matmul.cLayout,
          plan.matmul.dLayout, preference, 1, &result, &found);
      if (s != CUBLAS_STATUS_SUCCESS || found == 0)
        return unimplementedError(
            f.name + ": gemm " + plan.matmul.summary + ": cuBLASLt has no algorithm for it on " +
            device_.name + " (" + cuda::cublasStatusName(s) +
            (fp8 ? "; FP8 scale modes a=" + std::to_string(plan.scaleA.target) +
                       " b=" + std::to_string(plan.scaleB.target) + ", fast_accum " +
                       (plan.matmul.fastAccum ? "on" : "off")
                 : std::string()) +
            ")");
      plan.algo = result.algo;
      gemms_.push_back(std::move(plan));
    }
  return Status::success();
}

Status CudaBackend::planFunctions(const Program &program) {
  copies_.clear();
  functions_.clear();
  size_t kernel = 0, gemm = 0;
  for (const Function &f : program.functions) {
    FunctionPlan plan;
    plan.function = &f;
    std::vector<bool> readback(program.buffers.size(), false);
    auto mark = [&](uint32_t b) {
      if (b != Gemm::kNone && mirrorOffset_[b] != UINT64_MAX)
        readback[b] = true;
    };
    for (size_t i = 0; i < f.instructions.size(); ++i) {
      const Instruction &inst = f.instructions[i];
      Step step;
      step.kind = inst.kind;
      switch (inst.kind) {
      case Instruction::Kind::Kernel:
        step.index = kernel++;
        step.label = "kernel " + inst.kernel.name;
        for (uint32_t b : inst.kernel.outputs)
          mark(b);
        break;
      case Instruction::Kind::Gemm:
        step.index = gemm++;
        step.label = "gemm " + inst.gemm.name;
        mark(inst.gemm.d);
        mark(inst.gemm.amaxD);
        break;
      case Instruction::Kind::Copy: {
        CopyPlan c;
        const Buffer &src = program.buffers[inst.copy.source],
                     &dst = program.buffers[inst.copy.target];
        c.source = at(inst.copy.source);
        c.target = at(inst.copy.target);
        c.bytes = src.bytes();
        c.overlaps =
            src.offset < dst.offset + dst.bytes() && dst.offset < src.offset + src.bytes();
        step.index = copies_.size();
        copies_.push_back(c);
        step.label = "copy " + src.name + " -> " + dst.name;
        mark(inst.copy.target);
        break;
      }
      }
      step.label = "instruction " + std::to_string(i) + " (" + step.label + ")";
      plan.steps.push_back(std::move(step));
    }
    for (uint32_t b : f.outputs)
      mark(b);
    for (uint32_t b = 0; b < readback.size(); ++b)
      if (readback[b])
        plan.readback.push_back(b);
    functions_.push_back(std::move(plan));
  }
  return Status::success();
}

Status CudaBackend::enqueueKernel(const KernelPlan &k) {
  void *arena = arena_, *scratch = scratch_;
  const int64_t *offsets = k.offsets;
  void *args[] = {&arena, &scratch, &offsets};
  for (size_t i = 0; i < k.entries.size(); ++i) {
    const cuda::Launch &l = k.code->launches[i];
    FP8RT_RETURN_IF_ERROR(cudaStatus(
        cudaLaunchKernel(reinterpret_cast<const void *>(k.entries[i]),
                         dim3(l.grid[0], l.grid[1], l.grid[2]),
                         dim3(l.block[0], l.block[1], l.block[2]), args, l.sharedBytes, stream_),
        "launch of " + l.entry));
  }
  return Status::success();
}

Status CudaBackend::enqueueGemm(const GemmPlan &g) {
  const LtMatmul &mm = g.matmul;
  if (mm.fp8) {
    ScaleOperandArg a = g.scaleA, b = g.scaleB;
    void *args[] = {&a, &b};
    FP8RT_CUDA(cudaLaunchKernel(reinterpret_cast<const void *>(stageScales_),
                                dim3(unsigned(g.gridX), 2, 1), dim3(kStageThreads, 1, 1), args, 0,
                                stream_));
  }
  const float one = 1.0f, zero = 0.0f;
  cublasStatus_t s = cublasLtMatmul(lt_, mm.desc, &one, mm.ltA, mm.aLayout, mm.ltB, mm.bLayout,
                                    &zero, mm.ltD, mm.cLayout, mm.ltD, mm.dLayout, &g.algo,
                                    workspace_, kWorkspaceBytes, stream_);
  if (s != CUBLAS_STATUS_SUCCESS)
    return internalError("cublasLtMatmul failed: " + std::string(cuda::cublasStatusName(s)));
  return Status::success();
}

Status CudaBackend::enqueueCopy(const CopyPlan &c) {
  if (c.overlaps) {
    // cudaMemcpy has no memmove semantics: go through a staging buffer.
    FP8RT_CUDA(cudaMemcpyAsync(copyStaging_, c.source, c.bytes, cudaMemcpyDeviceToDevice, stream_));
    FP8RT_CUDA(cudaMemcpyAsync(c.target, copyStaging_, c.bytes, cudaMemcpyDeviceToDevice, stream_));
    return Status::success();
  }
  FP8RT_CUDA(cudaMemcpyAsync(c.target, c.source, c.bytes, cudaMemcpyDeviceToDevice, stream_));
  return Status::success();
}

Status CudaBackend::enqueue(const FunctionPlan &plan, bool syncEach) {
  for (const Step &step : plan.steps) {
    Status s;
    switch (step.kind) {
    case Instruction::Kind::Kernel:
      s = enqueueKernel(kernels_[step.index]);
      break;
    case Instruction::Kind::Gemm:
      s = enqueueGemm(gemms_[step.index]);
      break;
    case Instruction::Kind::Copy:
      s = enqueueCopy(copies_[step.index]);
      break;
    }
    if (s.ok() && syncEach)
      s = cudaStatus(cudaStreamSynchronize(stream_), "after the instruction");
    if (!s.ok())
      return s.withContext(plan.function->name + ": " + step.label);
  }
  return Status::success();
}

Status CudaBackend::run(const Function &function) {
  FunctionPlan *plan = nullptr;
  for (FunctionPlan &p : functions_)
    if (p.function == &function)
      plan = &p;
  if (!plan)
    return invalidArgumentError("cuda backend: function " + function.name +
                                " is not one of the loaded program's");
  const bool debugSync = options_.debugSync;
  if (debugSync) {
    FP8RT_RETURN_IF_ERROR(enqueue(*plan, true));
  } else {
    if (!plan->graph) {
      FP8RT_CUDA(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      Status s = enqueue(*plan, false);
      cudaGraph_t graph = nullptr;
      cudaError_t e = cudaStreamEndCapture(stream_, &graph);
      FP8RT_RETURN_IF_ERROR(s);
      FP8RT_RETURN_IF_ERROR(cudaStatus(e, function.name + ": capturing the CUDA graph"));
      e = cudaGraphInstantiate(&plan->graph, graph, 0);
      (void)cudaGraphDestroy(graph);
      FP8RT_RETURN_IF_ERROR(cudaStatus(e, function.name + ": instantiating the CUDA graph"));
    }
    FP8RT_RETURN_IF_ERROR(
        cudaStatus(cudaGraphLaunch(plan->graph, stream_), function.name + ": cudaGraphLaunch"));
  }
  uint8_t *mirror = static_cast<uint8_t *>(mirrorAllocation_.get());
  for (uint32_t b : plan->readback)
    FP8RT_CUDA(cudaMemcpyAsync(mirror + mirrorOffset_[b], at(b), program_->buffers[b].bytes(),
                               cudaMemcpyDeviceToHost, stream_));
  cudaError_t e = cudaStreamSynchronize(stream_);
  if (e != cudaSuccess)
    return cudaStatus(e, function.name + " failed on the GPU (run with FP8RT_CUDA_SYNC=1 to "
                         "find the instruction)");
  for (uint32_t b : plan->readback)
    mirrorValid_[b] = true;
  return Status::success();
}


Status CudaBackend::write(uint32_t buffer, const void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cuda backend", "write"));
  FP8RT_RETURN_IF_ERROR(checkTokenWrite(*program_, tokenBounds_, buffer, data, "cuda backend"));
  mirrorValid_[buffer] = false;
  const uint8_t *p = static_cast<const uint8_t *>(data);
  const bool zeros = std::all_of(p, p + bytes, [](uint8_t c) { return c == 0; });
  if (zeros)
    return cudaStatus(cudaMemsetAsync(at(buffer), 0, bytes, stream_), "write: cudaMemsetAsync");
  // From pageable memory the driver stages the bytes before returning, so
  // the caller may reuse `data` at once.
  return cudaStatus(cudaMemcpyAsync(at(buffer), data, bytes, cudaMemcpyHostToDevice, stream_),
                    "write: cudaMemcpyAsync");
}

Status CudaBackend::read(uint32_t buffer, void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cuda backend", "read"));
  if (mirrorValid_[buffer]) {
    std::memcpy(data, static_cast<uint8_t *>(mirrorAllocation_.get()) + mirrorOffset_[buffer],
                bytes);
    return Status::success();
  }
  FP8RT_CUDA(cudaMemcpyAsync(data, at(buffer), bytes, cudaMemcpyDeviceToHost, stream_));
  return cudaStatus(cudaStreamSynchronize(stream_), "read: cudaStreamSynchronize");
}

} // namespace

StatusOr<CudaDeviceInfo> probeCudaDevice() {
  int count = 0; // left untouched when the call fails
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    // Told apart: no driver at all (version 0), a driver without a GPU, a
    // driver older than this runtime; cudart's own words for the rest.
    int driver = 0, runtime = 0;
    (void)cudaDriverGetVersion(&driver);
    (void)cudaRuntimeGetVersion(&runtime);
    const auto version = [](int v) {
      return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
    };
    if (driver == 0)
      return unavailableError("no NVIDIA driver");
    if (e == cudaErrorNoDevice)
      return unavailableError("NVIDIA driver " + version(driver) +
                              " but no GPU (cudaGetDeviceCount: cudaErrorNoDevice)");
    if (e == cudaErrorInsufficientDriver)
      return unavailableError("the NVIDIA driver supports CUDA " + version(driver) +
                              ", older than this fp8-run's CUDA runtime " + version(runtime) +
                              " (cudaErrorInsufficientDriver)");
    return unavailableError(std::string("no CUDA device: cudaGetDeviceCount failed: ") +
                            cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
  }
  if (count == 0)
    return unavailableError("no CUDA device: cudaGetDeviceCount found 0");
  CudaDeviceInfo info;
  cudaDeviceProp prop{};
  FP8RT_RETURN_IF_ERROR(cudaStatus(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties"));
  info.device = 0;
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.totalMemory = prop.totalGlobalMem;
  (void)cudaDriverGetVersion(&info.driverVersion);
  (void)cudaRuntimeGetVersion(&info.runtimeVersion);
  return info;
}

bool programUsesFp8(const Program &program) {
  for (const Buffer &b : program.buffers)
    if (isFp8(b.type.dtype))
      return true;
  return false;
}

Status checkDeviceFor(const Program &program, const CudaDeviceInfo &device) {
  if (programUsesFp8(program) && device.major * 10 + device.minor < 89)
    return unimplementedError(
        device.name + " has compute capability " + std::to_string(device.major) + "." +
        std::to_string(device.minor) +
        "; this program uses FP8, which needs 8.9 (Ada) or 9.0 (Hopper): compile the model "
        "with fp8 off (a bf16 program runs here), or use --backend=cpu");
  return Status::success();
}

StatusOr<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions &options) {
  FP8RT_ASSIGN_OR_RETURN(CudaDeviceInfo device, probeCudaDevice());
  CudaBackendOptions o = options;
  if (const char *sync = std::getenv("FP8RT_CUDA_SYNC"); sync && std::strcmp(sync, "0") != 0)
    o.debugSync = true;
  return std::unique_ptr<Backend>(new CudaBackend(std::move(device), std::move(o)));
}

std::string cudaUnavailableReason() {
  StatusOr<CudaDeviceInfo> d = probeCudaDevice();
  return d.ok() ? std::string() : d.status().message();
}

const CudaLoadStats *cudaLoadStats(const Backend &backend) {
  if (std::strcmp(backend.name(), "cuda") != 0)
    return nullptr;
  return &static_cast<const CudaBackend &>(backend).stats();
}

} // namespace fp8rt
