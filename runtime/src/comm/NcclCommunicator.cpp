//===- NcclCommunicator.cpp - collectives between GPUs over NCCL ----------===//
//
// f32 reductions with ncclSum / ncclAvg / ncclMax (NCCL averages itself, so
// every rank holds the same bits), all-gathers as bytes (ncclUint8: any
// dtype, FP8 codes included). docs/distributed.md, "NCCL". NCCL itself is
// loaded by the first communicator (NcclApi.h).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/comm/NcclCommunicator.h"

#include "NcclStatus.h"

#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace fp8rt::comm {

namespace {

/// No GPU or driver is kUnavailable (as the CUDA backend's probe says), the
/// rest kInternal.
Status cudaCallStatus(cudaError_t e, const std::string &call) {
  if (e == cudaSuccess)
    return Status::success();
  const bool noGpu = e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver;
  return Status(noGpu ? StatusCode::kUnavailable : StatusCode::kInternal,
                call + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

ncclRedOp_t ncclOp(Reduction reduction) {
  switch (reduction) {
  case Reduction::Sum:
    return ncclSum;
  case Reduction::Avg:
    return ncclAvg;
  case Reduction::Max:
    return ncclMax;
  }
  return ncclSum;
}

class NcclCommunicatorImpl final : public NcclCommunicator {
public:
  NcclCommunicatorImpl(const NcclApi &api, ncclComm_t comm, int rank, int size, int device,
                       double timeoutSeconds)
      : api_(api), comm_(comm), rank_(rank), size_(size), device_(device),
        timeout_(timeoutSeconds) {}
  ~NcclCommunicatorImpl() override {
    if (comm_)
      (void)api_.ncclCommDestroy(comm_);
  }

  std::string name() const override {
    int version = 0;
    (void)api_.ncclGetVersion(&version);
    char text[96];
    std::snprintf(text, sizeof text, "NCCL %d.%d.%d (rank %d of %d, GPU %d)", version / 10000,
                  version / 100 % 100, version % 100, rank_, size_, device_);
    return text;
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int device() const override { return device_; }

  Status allReduce(const float *in, float *out, size_t count, Reduction reduction,
                   void *stream) override {
    FP8RT_RETURN_IF_ERROR(usable());
    FP8RT_NCCL_RETURN_IF_ERROR(api_, ncclAllReduce, in, out, count, ncclFloat32, ncclOp(reduction),
                               comm_, static_cast<cudaStream_t>(stream));
    return Status::success();
  }

  Status reduceScatter(const float *in, float *out, size_t shardCount, Reduction reduction,
                       void *stream) override {
    FP8RT_RETURN_IF_ERROR(usable());
    FP8RT_NCCL_RETURN_IF_ERROR(api_, ncclReduceScatter, in, out, shardCount, ncclFloat32,
                               ncclOp(reduction), comm_, static_cast<cudaStream_t>(stream));
    return Status::success();
  }

  Status allGather(const void *in, void *out, size_t shardBytes, void *stream) override {
    FP8RT_RETURN_IF_ERROR(usable());
    FP8RT_NCCL_RETURN_IF_ERROR(api_, ncclAllGather, in, out, shardBytes, ncclUint8, comm_,
                               static_cast<cudaStream_t>(stream));
    return Status::success();
  }

  Status synchronize(void *stream) override {
    FP8RT_RETURN_IF_ERROR(usable());
    const auto start = std::chrono::steady_clock::now();
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    for (int polls = 0;; ++polls) {
      const cudaError_t e = cudaStreamQuery(s);
      if (e == cudaSuccess)
        return Status::success();
      if (e != cudaErrorNotReady)
        return cudaCallStatus(e, "cudaStreamQuery");
      ncclResult_t async = ncclSuccess;
      FP8RT_NCCL_RETURN_IF_ERROR(api_, ncclCommGetAsyncError, comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        Status error = ncclStatus(api_, async, "an NCCL collective");
        abort();
        return error.withContext("rank " + std::to_string(rank_));
      }
      const double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_) {
        abort();
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", timeout_);
        return unavailableError("rank " + std::to_string(rank_) + ": no progress for " + seconds +
                                " s in the NCCL collectives (another rank may have failed); the "
                                "NCCL communicator is aborted");
      }
      // Spin briefly (most steps end within microseconds of the last
      // kernel), then yield the core.
      if (polls > 1000)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

private:
  Status usable() const {
    if (!comm_)
      return unavailableError("rank " + std::to_string(rank_) +
                              ": the NCCL communicator was aborted after an error");
    return Status::success();
  }
  void abort() {
    (void)api_.ncclCommAbort(comm_);
    comm_ = nullptr;
  }

  const NcclApi &api_;
  ncclComm_t comm_;
  const int rank_, size_, device_;
  const double timeout_;
};

} // namespace

StatusOr<std::unique_ptr<NcclCommunicator>>
createNcclCommunicator(Communicator &bootstrap, int device, double timeoutSeconds) {
  int devices = 0;
  FP8RT_RETURN_IF_ERROR(cudaCallStatus(cudaGetDeviceCount(&devices), "cudaGetDeviceCount"));
  if (device < 0 || device >= devices)
    return unavailableError(
        "rank " + std::to_string(bootstrap.rank()) + ": GPU " + std::to_string(device) +
        " (the rank's local index) but this host has " + std::to_string(devices) +
        " GPU(s); start at most one rank per GPU on each host");
  FP8RT_ASSIGN_OR_RETURN(const NcclApi *api, loadNccl());
  FP8RT_RETURN_IF_ERROR(cudaCallStatus(cudaSetDevice(device), "cudaSetDevice"));
  ncclUniqueId id{};
  if (bootstrap.rank() == 0)
    FP8RT_NCCL_RETURN_IF_ERROR(*api, ncclGetUniqueId, &id);
  FP8RT_RETURN_IF_ERROR(bootstrap.broadcast(&id, sizeof id, 0));
  ncclComm_t comm = nullptr;
  FP8RT_NCCL_RETURN_IF_ERROR(*api, ncclCommInitRank, &comm, bootstrap.size(), id, bootstrap.rank());
  return std::unique_ptr<NcclCommunicator>(new NcclCommunicatorImpl(
      *api, comm, bootstrap.rank(), bootstrap.size(), device, timeoutSeconds));
}

StatusOr<int> ncclVersion() {
  FP8RT_ASSIGN_OR_RETURN(const NcclApi *api, loadNccl());
  int version = 0;
  FP8RT_NCCL_RETURN_IF_ERROR(*api, ncclGetVersion, &version);
  return version;
}

int localRankFromEnvironment() {
  for (const char *name :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "LOCAL_RANK"})
    if (const char *value = std::getenv(name)) {
      char *end = nullptr;
      const long rank = std::strtol(value, &end, 10);
      if (end != value && *end == '\0' && rank >= 0 && rank < 1 << 16)
        return int(rank);
    }
  return 0;
}

} // namespace fp8rt::comm
