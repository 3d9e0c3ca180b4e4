//===- Watchdog.cpp - a time limit on every collective --------------------===//

#include "fp8rt/comm/Watchdog.h"

#include <algorithm>
#include <cstdio>

namespace fp8rt::comm {

Watchdog::Watchdog(int rank, double timeoutSeconds, OnStall onStall)
    : rank_(rank), timeout_(timeoutSeconds), onStall_(std::move(onStall)),
      thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::setStep(int64_t step) {
  std::lock_guard<std::mutex> lock(mutex_);
  step_ = step;
}

void Watchdog::begin(const char *collective) {
  std::lock_guard<std::mutex> lock(mutex_);
  collective_ = collective;
  since_ = Clock::now();
}

void Watchdog::end() {
  std::lock_guard<std::mutex> lock(mutex_);
  collective_ = nullptr;
}

void Watchdog::watch() {
  // Checks a few times per timeout, at least every half second, so that a
  // stall is reported within about 1.25 timeouts.
  const auto poll = std::chrono::duration<double>(std::min(timeout_ / 4, 0.5));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, poll);
    if (stopping_ || fired_ || !collective_)
      continue;
    const double waited = std::chrono::duration<double>(Clock::now() - since_).count();
    if (waited < timeout_)
      continue;
    fired_ = true;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", timeout_);
    const std::string message =
        "rank " + std::to_string(rank_) + ": " +
        (step_ > 0 ? "step " + std::to_string(step_) : std::string("before the first step")) +
        ": no progress for " + seconds + " s in " + collective_ + " (another rank may have failed)";
    lock.unlock();
    onStall_(message); // fp8-run's ends the process
    lock.lock();
  }
}

namespace {
/// begin in the constructor, end in the destructor.
class Watch {
public:
  Watch(Watchdog &watchdog, const char *collective) : watchdog_(watchdog) {
    watchdog_.begin(collective);
  }
  ~Watch() { watchdog_.end(); }

private:
  Watchdog &watchdog_;
};
} // namespace

Status WatchedCommunicator::allReduce(const float *in, float *out, size_t count,
                                      Reduction reduction) {
  Watch watch(watchdog_, "all-reduce");
  return inner_.allReduce(in, out, count, reduction);
}

Status WatchedCommunicator::reduceScatter(const float *in, float *out, size_t shardCount,
                                          Reduction reduction) {
  Watch watch(watchdog_, "reduce-scatter");
  return inner_.reduceScatter(in, out, shardCount, reduction);
}

Status WatchedCommunicator::allGather(const void *in, void *out, size_t shardBytes) {
  Watch watch(watchdog_, "all-gather");
  return inner_.allGather(in, out, shardBytes);
}

Status WatchedCommunicator::barrier() {
  Watch watch(watchdog_, "barrier");
  return inner_.barrier();
}

Status WatchedCommunicator::broadcast(void *data, size_t bytes, int root) {
  Watch watch(watchdog_, "broadcast");
  return inner_.broadcast(data, bytes, root);
}

} // namespace fp8rt::comm
