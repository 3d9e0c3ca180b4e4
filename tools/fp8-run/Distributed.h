//===- Distributed.h - fp8-run as one rank of a data-parallel job -*- C++ -*-===//
//
// Under mpirun (or srun), with fp8rt_mpi linked: MPI initialised and
// installed as the process's communicator (fp8rt/comm/Communicator.h) under a
// collective watchdog, the ranks checked to run the same program on the same
// data, and the outputs of every rank but 0 silenced (docs/distributed.md).
// Without a launcher: one process, as before.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RUN_DISTRIBUTED_H
#define FP8RUN_DISTRIBUTED_H

#include "fp8rt/Trainer.h"
#include "fp8rt/comm/Communicator.h"
#include "fp8rt/comm/Watchdog.h"
#ifdef FP8RUN_HAVE_CUDA
#include "fp8rt/cuda/CudaBackend.h"
#endif
#ifdef FP8RUN_HAVE_NCCL
#include "fp8rt/comm/NcclCommunicator.h"
#endif

#include <atomic>
#include <cstdint>
#include <memory>
#include <streambuf>
#include <string>

namespace fp8run {

/// "fp8-run: rank 0 of 2: signal during step 4 (...)\n" while a job of
/// several ranks trains, for the stop-signal handler (reading it is
/// async-signal-safe); nullptr otherwise. Under mpirun a signal usually means
/// the launcher is ending the job because another rank failed.
const char *signalNote();

class Ranks {
public:
  Ranks() = default;
  Ranks(const Ranks &) = delete;
  Ranks &operator=(const Ranks &) = delete;
  ~Ranks();

  /// Joins the job when an MPI launcher started this process, with a
  /// watchdog that ends the job when one collective takes longer than
  /// `collectiveTimeout` seconds; returns an error message, empty on success.
  std::string start(int *argc, char ***argv, double collectiveTimeout);
  /// Every rank runs the file rank 0 runs (an FNV-1a hash of its bytes) on
  /// the same data (the sizes and sampled contents of --data and --val-data,
  /// --synthetic, --seed and --steps), all broadcast from rank 0; then the
  /// train options of ranks other than 0 lose their outputs (log, dump, plot;
  /// rank 0 writes the checkpoint) and stdout is silenced there. Returns an
  /// error message, empty on success.
  std::string prepare(const std::string &programPath, fp8rt::TrainOptions &train,
                      std::string &plotPath);
  /// The exit of the process with `code`: a failing rank of a job of several
  /// says which rank failed at which step and ends the whole job
  /// (MPI_Abort), so no rank waits in a collective forever.
  int finish(int code);
#ifdef FP8RUN_HAVE_CUDA
  /// The CUDA backend of a rank of a job: its GPU (the rank's local index on
  /// its host) and the job's NCCL communicator, created over MPI; nothing
  /// for one process. Returns an error message, empty on success. Without
  /// NCCL the backend refuses the program's collectives at load.
  std::string setUpCuda(fp8rt::cuda::CudaBackendOptions &options);
#endif
  bool distributed() const { return communicator_ != nullptr; }

private:
  std::string checkSameInputs(const std::string &programPath, const fp8rt::TrainOptions &train);

  std::unique_ptr<fp8rt::comm::Communicator> communicator_;
  std::unique_ptr<fp8rt::comm::Watchdog> watchdog_;
  std::unique_ptr<fp8rt::comm::WatchedCommunicator> watched_;
#ifdef FP8RUN_HAVE_NCCL
  std::unique_ptr<fp8rt::comm::NcclCommunicator> nccl_;
#endif
  double collectiveTimeout_ = 600;
  std::atomic<int64_t> step_{0}; ///< the step running; 0 before the first
  std::streambuf *savedCout_ = nullptr;
};

} // namespace fp8run

#endif // FP8RUN_DISTRIBUTED_H
