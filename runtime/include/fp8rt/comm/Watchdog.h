//===- Watchdog.h - a time limit on every collective ------------*- C++ -*-===//
//
// A rank whose peer died or hangs waits in its next collective forever (MPI
// and NCCL have no timeout of their own). The watchdog is a thread that sees
// which collective the rank is in and since when; when one has not returned
// within the timeout it calls its handler once, from its own thread, with
// "rank R: step S: no progress for T s in all-reduce (another rank may have
// failed)" — fp8-run's handler prints it and ends the job (MPI_Abort;
// docs/distributed.md, "Faults"). WatchedCommunicator puts every collective
// of a communicator under a watchdog.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_COMM_WATCHDOG_H
#define FP8RT_COMM_WATCHDOG_H

#include "fp8rt/comm/Communicator.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace fp8rt::comm {

class Watchdog {
public:
  using OnStall = std::function<void(const std::string &message)>;
  /// Starts the thread. `timeoutSeconds` > 0.
  Watchdog(int rank, double timeoutSeconds, OnStall onStall);
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;
  /// Stops the thread (a collective still in progress is not reported).
  ~Watchdog();

  /// The optimizer step now running (0: before the first), for the message.
  void setStep(int64_t step);
  /// The rank enters `collective` ("all-reduce"; a string literal) ...
  void begin(const char *collective);
  /// ... and has left it.
  void end();
  double timeoutSeconds() const { return timeout_; }

private:
  using Clock = std::chrono::steady_clock;
  void watch();

  const int rank_;
  const double timeout_;
  OnStall onStall_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool fired_ = false;
  const char *collective_ = nullptr; ///< nullptr: in none
  Clock::time_point since_;
  int64_t step_ = 0;
  std::thread thread_;
};

/// `inner`'s collectives, each between watchdog.begin and watchdog.end.
class WatchedCommunicator final : public Communicator {
public:
  WatchedCommunicator(Communicator &inner, Watchdog &watchdog)
      : inner_(inner), watchdog_(watchdog) {}
  std::string name() const override { return inner_.name(); }
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  Status allReduce(const float *in, float *out, size_t count, Reduction reduction) override;
  Status reduceScatter(const float *in, float *out, size_t shardCount,
                       Reduction reduction) override;
  Status allGather(const void *in, void *out, size_t shardBytes) override;
  Status barrier() override;
  Status broadcast(void *data, size_t bytes, int root) override;

private:
  Communicator &inner_;
  Watchdog &watchdog_;
};

} // namespace fp8rt::comm

#endif // FP8RT_COMM_WATCHDOG_H
