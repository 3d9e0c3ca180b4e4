//===- CudaBackendImpl.h - The CUDA backend's class --------------*- C++ -*-===//
//
// Private to runtime/src/cuda/CudaBackend*.cpp, one file per concern:
//   CudaBackend.cpp         load, release, the device probe, the factory;
//   CudaBackendBuffers.cpp  device allocations, constants, write and read;
//   CudaBackendKernels.cpp  kernel generation, NVRTC and the cubin cache,
//                           module loading, kernel launches;
//   CudaBackendGemms.cpp    cuBLASLt plans and the FP8 scale staging kernel;
//   CudaBackendGraph.cpp    each function's steps, CUDA graph capture, run;
//   CudaCollectives.cpp     collective instructions through NCCL.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CUDA_CUDABACKENDIMPL_H
#define FP8RT_SRC_CUDA_CUDABACKENDIMPL_H

#include "CublasLtMatmul.h"
#include "CudaStatus.h"
#include "fp8rt/TokenBounds.h"
#include "fp8rt/comm/NcclCommunicator.h"
#include "fp8rt/comm/Shard.h"
#include "fp8rt/cuda/CudaBackend.h"
#include "fp8rt/cuda/KernelCodegen.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace fp8rt::cuda {

constexpr uint64_t kWorkspaceBytes = 32ull << 20;
constexpr int kStageThreads = 256;

inline std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
  return buf;
}

inline uint64_t align256(uint64_t x) { return (x + 255) / 256 * 256; }

/// The FP8 scale staging kernel (fp8rt_stage_scales, CudaBackendGemms.cpp):
/// reciprocal scales in cuBLASLt's layout (CublasLt.h, ScaleStaging).
extern const char *const kStageScalesSource;

/// Mirrors the struct of kStageScalesSource (passed by value).
struct ScaleOperandArg {
  const float *src = nullptr;
  float *dst = nullptr;
  int32_t source = 0, target = 0;
  long long rows = 0, kBlocks = 0, ld = 1, count = 1;
};

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
  const GeneratedKernel *code = nullptr;
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

/// A collective instruction (all_reduce) on the device arena.
struct CollectivePlan {
  Instruction::Kind kind = Instruction::Kind::AllReduce;
  const void *source = nullptr;
  void *target = nullptr;
  uint64_t sourceElements = 0, targetElements = 0, sourceBytes = 0;
  Reduction reduction = Reduction::Avg;
  /// reduce_scatter / all_gather / shard: the device steps (fp8rt/comm/Shard.h)
  /// and the scratch buffer they pad in.
  comm::ShardPlan shard;
  void *scratch = nullptr;
};

struct Step {
  Instruction::Kind kind = Instruction::Kind::Kernel;
  size_t index = 0;  ///< into kernels_, gemms_, copies_ or collectives_
  std::string label; ///< "instruction 12 (kernel k12_layer_norm)"
};

struct FunctionPlan {
  const Function *function = nullptr;
  std::vector<Step> steps;
  std::vector<uint32_t> readback; ///< output and metric buffers it writes
  cudaGraphExec_t graph = nullptr;
  bool collectives = false; ///< run() waits through the NCCL communicator
};

class CudaBackend final : public Backend {
public:
  CudaBackend(CudaDeviceInfo device, CudaBackendOptions options)
      : device_(std::move(device)), options_(std::move(options)),
        arch_(nvrtcArch(device_.major, device_.minor)) {}
  ~CudaBackend() override { release(); }

  const char *name() const override { return "cuda"; }
  std::string description() const override;
  Status load(const Program &program) override;
  Status write(uint32_t buffer, const void *data, size_t bytes) override;
  Status zero(uint32_t buffer, size_t bytes) override;
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
  Status planCollective(const Program &program, const Function &f, size_t i, Step &step);
  Status enqueueCollective(const CollectivePlan &c);
  Status allocateCollectiveScratch(const Program &program);

  uint8_t *at(uint32_t buffer) const { return arena_ + program_->buffers[buffer].offset; }

  CudaDeviceInfo device_;
  CudaBackendOptions options_;
  CudaLoadStats stats_;
  std::string arch_;
  const Program *program_ = nullptr;

  DevicePtr arenaAllocation_, scratchAllocation_, workspaceAllocation_, stagingAllocation_,
      copyAllocation_, offsetsAllocation_;
  /// Padding of sharded collectives (CudaCollectives.cpp), sized at planning.
  DevicePtr collectiveScratchAllocation_;
  uint8_t *arena_ = nullptr;
  void *scratch_ = nullptr, *workspace_ = nullptr, *copyStaging_ = nullptr;
  float *staging_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;

  std::vector<Module> modules_;
  cudaKernel_t stageScales_ = nullptr;
  std::vector<GeneratedKernel> generated_;
  std::vector<KernelPlan> kernels_;
  std::vector<GemmPlan> gemms_;
  std::vector<CopyPlan> copies_;
  std::vector<CollectivePlan> collectives_;
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

} // namespace fp8rt::cuda

#endif // FP8RT_SRC_CUDA_CUDABACKENDIMPL_H
