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
// This file: load, release, the device probe and the factory; the rest of
// the class is split by concern (CudaBackendImpl.h lists the files).
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

#include <cstdlib>
#include <cstring>

namespace fp8rt::cuda {

std::string CudaBackend::description() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "CUDA backend (%s, compute capability %d.%d, %s, %d SMs, %s; cuBLASLt %zu)",
                device_.name.c_str(), device_.major, device_.minor, arch_.c_str(),
                device_.multiprocessors, gib(device_.totalMemory).c_str(), cublasLtGetVersion());
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
  FP8RT_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_.device));
  FP8RT_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  FP8RT_RETURN_IF_ERROR(
      cublasStatus(cublasLtCreate(&lt_), "cublasLtCreate", StatusCode::kUnavailable));
  FP8RT_RETURN_IF_ERROR(compileKernels(program));
  FP8RT_RETURN_IF_ERROR(allocate(program));
  program_ = &program;
  tokenBounds_ = findTokenBounds(program);
  FP8RT_RETURN_IF_ERROR(writeConstants(program));
  FP8RT_RETURN_IF_ERROR(planGemms(program));
  FP8RT_RETURN_IF_ERROR(planFunctions(program));
  return Status::success();
}

StatusOr<CudaDeviceInfo> probeCudaDevice(int device) {
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
    return unavailableError("no CUDA device: cudaGetDeviceCount failed: " + cudaErrorText(e));
  }
  if (count == 0)
    return unavailableError("no CUDA device: cudaGetDeviceCount found 0");
  if (device < 0 || device >= count)
    return unavailableError("no CUDA device " + std::to_string(device) +
                            ": cudaGetDeviceCount found " + std::to_string(count));
  CudaDeviceInfo info;
  cudaDeviceProp prop{};
  FP8RT_RETURN_IF_ERROR(
      cudaStatus(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties"));
  info.device = device;
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
  FP8RT_ASSIGN_OR_RETURN(CudaDeviceInfo device, probeCudaDevice(options.device));
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

} // namespace fp8rt::cuda
