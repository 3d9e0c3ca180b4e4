//===- NcclCommunicator.h - collectives between GPUs over NCCL --*- C++ -*-===//
//
// The CUDA backend's collectives (docs/distributed.md, "NCCL"): one NCCL
// communicator per rank, one GPU per rank, over every rank of the job. Unlike
// fp8rt::comm::Communicator (host memory, blocking), these take device
// buffers and are enqueued on a CUDA stream (passed as void *: no CUDA
// header here), so that they are captured into the backend's CUDA graphs;
// synchronize() waits for the stream with a timeout, NCCL's own errors
// included. The implementation (NcclCommunicator.cpp, library fp8rt_nccl) is
// built only where CMake finds CUDA and NCCL; the CUDA backend sees this
// interface only.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_COMM_NCCLCOMMUNICATOR_H
#define FP8RT_COMM_NCCLCOMMUNICATOR_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/comm/Communicator.h"

#include <cstddef>
#include <memory>
#include <string>

namespace fp8rt::comm {

class NcclCommunicator {
public:
  virtual ~NcclCommunicator() = default;
  /// "NCCL 2.28.9 (rank 1 of 8, GPU 1)".
  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// The CUDA device of this rank.
  virtual int device() const = 0;
  /// As Communicator::allReduce, on device buffers, enqueued on `stream`
  /// (avg: ncclAvg).
  virtual Status allReduce(const float *in, float *out, size_t count, Reduction reduction,
                           void *stream) = 0;
  /// As Communicator::reduceScatter, on device buffers, enqueued on `stream`.
  virtual Status reduceScatter(const float *in, float *out, size_t shardCount, Reduction reduction,
                               void *stream) = 0;
  /// As Communicator::allGather, on device buffers, enqueued on `stream`.
  virtual Status allGather(const void *in, void *out, size_t shardBytes, void *stream) = 0;
  /// Waits until `stream` is idle. A collective of another rank that never
  /// comes (a peer died) would wait forever: after the communicator's
  /// timeout, or when NCCL reports an asynchronous error, the communicator
  /// is aborted (ncclCommAbort) and an error says so; the job must end then.
  virtual Status synchronize(void *stream) = 0;
};

/// Every rank of `bootstrap` calls it (collectively): rank 0 creates NCCL's
/// unique id and broadcasts it over `bootstrap` (MPI, or the single-process
/// communicator for a world of one), then each rank joins with
/// ncclCommInitRank on CUDA device `device`. `timeoutSeconds` bounds
/// synchronize(). Errors: no such device, NCCL's (as Status).
StatusOr<std::unique_ptr<NcclCommunicator>>
createNcclCommunicator(Communicator &bootstrap, int device, double timeoutSeconds);

/// The version of NCCL (2.28.9 as 22809) that communicators use, loading the
/// library if no communicator has yet (it is loaded with dlopen, not linked:
/// docs/distributed.md, "NCCL"), or kUnavailable saying why it cannot be.
StatusOr<int> ncclVersion();

/// The rank's index among the ranks of its host, which picks its GPU: from
/// the launcher's environment (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID,
/// MPI_LOCALRANKID, LOCAL_RANK); 0 when none says.
int localRankFromEnvironment();

} // namespace fp8rt::comm

#endif // FP8RT_COMM_NCCLCOMMUNICATOR_H
