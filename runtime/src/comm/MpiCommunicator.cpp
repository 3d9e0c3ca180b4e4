//===- MpiCommunicator.cpp - the communicator over MPI --------------------===//
//
// Blocking collectives on MPI_COMM_WORLD in f32. `avg` is MPI_SUM followed by
// a division by the number of ranks on every rank (MPI has no average), so
// every rank holds the same bits.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/comm/MpiCommunicator.h"

#include <mpi.h>

#include <cstdlib>

namespace fp8rt::comm {

namespace {

Status mpiStatus(int code, const char *what) {
  if (code == MPI_SUCCESS)
    return Status::success();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return internalError(std::string(what) + " failed: " + std::string(text, size_t(length)));
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }

  std::string name() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    std::string text(version, size_t(length));
    return "MPI (" + text.substr(0, text.find(',')) + ")";
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Status allReduce(const float *in, float *out, size_t count, Reduction reduction) override {
    if (count > size_t(INT32_MAX))
      return outOfRangeError("all-reduce of " + std::to_string(count) +
                             " floats: more than MPI's int count");
    MPI_Op op = reduction == Reduction::Max ? MPI_MAX : MPI_SUM;
    const void *send = in == out ? MPI_IN_PLACE : static_cast<const void *>(in);
    FP8RT_RETURN_IF_ERROR(mpiStatus(
        MPI_Allreduce(send, out, int(count), MPI_FLOAT, op, MPI_COMM_WORLD), "MPI_Allreduce"));
    if (reduction == Reduction::Avg) {
      const float ranks = float(size_);
      for (size_t i = 0; i < count; ++i)
        out[i] /= ranks;
    }
    return Status::success();
  }

  Status reduceScatter(const float *in, float *out, size_t shardCount,
                       Reduction reduction) override {
    if (shardCount > size_t(INT32_MAX))
      return outOfRangeError("reduce-scatter of " + std::to_string(shardCount) +
                             " floats per rank: more than MPI's int count");
    MPI_Op op = reduction == Reduction::Max ? MPI_MAX : MPI_SUM;
    FP8RT_RETURN_IF_ERROR(
        mpiStatus(MPI_Reduce_scatter_block(in, out, int(shardCount), MPI_FLOAT, op, MPI_COMM_WORLD),
                  "MPI_Reduce_scatter_block"));
    if (reduction == Reduction::Avg) {
      const float ranks = float(size_);
      for (size_t i = 0; i < shardCount; ++i)
        out[i] /= ranks;
    }
    return Status::success();
  }

  Status allGather(const void *in, void *out, size_t shardBytes) override {
    if (shardBytes > size_t(INT32_MAX))
      return outOfRangeError("all-gather of " + std::to_string(shardBytes) +
                             " bytes per rank: more than MPI's int count");
    return mpiStatus(MPI_Allgather(in, int(shardBytes), MPI_BYTE, out, int(shardBytes), MPI_BYTE,
                                   MPI_COMM_WORLD),
                     "MPI_Allgather");
  }

  Status barrier() override { return mpiStatus(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  Status broadcast(void *data, size_t bytes, int root) override {
    if (bytes > size_t(INT32_MAX))
      return outOfRangeError("broadcast of " + std::to_string(bytes) + " bytes");
    return mpiStatus(MPI_Bcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }

private:
  int rank_ = 0, size_ = 1;
};

} // namespace

bool launchedByMpi() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name))
      return true;
  return false;
}

StatusOr<std::unique_ptr<Communicator>> createMpiCommunicator(int *argc, char ***argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized)
    FP8RT_RETURN_IF_ERROR(mpiStatus(MPI_Init(argc, argv), "MPI_Init"));
  // Errors come back as codes (turned into Status), not as an abort inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::unique_ptr<Communicator>(new MpiCommunicator());
}

void abortMpiJob(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

} // namespace fp8rt::comm
