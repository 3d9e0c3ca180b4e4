//===- Communicator.h - collectives between the ranks of a job --*- C++ -*-===//
//
// What the backends and the trainer need from the ranks of a data-parallel job
// (docs/distributed.md): all-reduce and reduce-scatter of f32 buffers,
// all-gather of bytes (any dtype, FP8 codes included), a barrier, and a
// broadcast of bytes. Implementations: the single-process one here (world size 1) and
// MPI (fp8rt/comm/MpiCommunicator.h, library fp8rt_mpi, only where MPI is
// found). The process has one communicator, set by the tool that starts it
// (fp8-run under mpirun installs MPI's); the CPU backend's `all_reduce`
// instructions go through it. Never throws: errors are Status values.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_COMM_COMMUNICATOR_H
#define FP8RT_COMM_COMMUNICATOR_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstddef>

namespace fp8rt::comm {

class Communicator {
public:
  virtual ~Communicator() = default;
  /// "single process", "MPI (Open MPI v5.0.7)".
  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// `out[i]` = the reduction over ranks of `in[i]`, on every rank. `in` may
  /// equal `out` (in place); other overlaps are not allowed.
  virtual Status allReduce(const float *in, float *out, size_t count, Reduction reduction) = 0;
  /// Rank r's `out[0..shardCount)` = the reduction over ranks of
  /// `in[r*shardCount .. (r+1)*shardCount)`; `in` holds size()*shardCount
  /// floats on every rank. No overlap of `in` and `out`.
  virtual Status reduceScatter(const float *in, float *out, size_t shardCount,
                               Reduction reduction) = 0;
  /// `out[r*shardBytes .. (r+1)*shardBytes)` = rank r's `in[0..shardBytes)`,
  /// on every rank; `out` holds size()*shardBytes bytes. No overlap.
  virtual Status allGather(const void *in, void *out, size_t shardBytes) = 0;
  /// Returns once every rank has called it.
  virtual Status barrier() = 0;
  /// `data` of rank `root` copied into `data` of every rank.
  virtual Status broadcast(void *data, size_t bytes, int root) = 0;
};

/// The communicator of a job of one process: every collective is a copy.
class SingleProcessCommunicator final : public Communicator {
public:
  std::string name() const override { return "single process"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Status allReduce(const float *in, float *out, size_t count, Reduction reduction) override;
  Status reduceScatter(const float *in, float *out, size_t shardCount,
                       Reduction reduction) override;
  Status allGather(const void *in, void *out, size_t shardBytes) override;
  Status barrier() override { return Status::success(); }
  Status broadcast(void *, size_t, int root) override;
};

/// The process's communicator: the single-process one unless a tool installed
/// another with setProcessCommunicator (which it keeps alive while in use).
Communicator &processCommunicator();
void setProcessCommunicator(Communicator *communicator);

} // namespace fp8rt::comm

#endif // FP8RT_COMM_COMMUNICATOR_H
