//===- WatchdogTest.cpp - the collective watchdog -------------------------===//
//
// A collective that does not return within the timeout is reported once,
// naming the rank, the step and the collective; one that returns in time is
// not. The end-to-end case (a stopped rank under mpirun) is test/e2e/ddp-fault.test.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/comm/Watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using namespace fp8rt;
using namespace fp8rt::comm;

namespace {

/// A rank whose barrier takes `barrierSeconds` (a peer that is late or gone).
class SlowCommunicator final : public Communicator {
public:
  explicit SlowCommunicator(double barrierSeconds) : barrierSeconds_(barrierSeconds) {}
  std::string name() const override { return "slow"; }
  int rank() const override { return 3; }
  int size() const override { return 4; }
  Status allReduce(const float *, float *, size_t, Reduction) override {
    return Status::success();
  }
  Status reduceScatter(const float *, float *, size_t, Reduction) override {
    return Status::success();
  }
  Status allGather(const void *, void *, size_t) override { return Status::success(); }
  Status barrier() override {
    std::this_thread::sleep_for(std::chrono::duration<double>(barrierSeconds_));
    return Status::success();
  }
  Status broadcast(void *, size_t, int) override { return Status::success(); }

private:
  double barrierSeconds_;
};

struct Reports {
  std::mutex mutex;
  std::vector<std::string> messages;
  Watchdog::OnStall handler() {
    return [this](const std::string &m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.push_back(m);
    };
  }
};

TEST(WatchdogTest, ReportsACollectiveThatDoesNotReturnOnce) {
  Reports reports;
  SlowCommunicator slow(0.6);
  {
    Watchdog watchdog(3, 0.1, reports.handler());
    WatchedCommunicator watched(slow, watchdog);
    watchdog.setStep(7);
    EXPECT_TRUE(watched.barrier().ok());
  }
  ASSERT_EQ(reports.messages.size(), 1u);
  EXPECT_EQ(reports.messages[0],
            "rank 3: step 7: no progress for 0.1 s in barrier (another rank may have failed)");
}

TEST(WatchdogTest, QuietWhenCollectivesReturnInTime) {
  Reports reports;
  SlowCommunicator slow(0.01);
  {
    Watchdog watchdog(0, 0.2, reports.handler());
    WatchedCommunicator watched(slow, watchdog);
    for (int step = 1; step <= 20; ++step) {
      watchdog.setStep(step);
      float x = 1;
      EXPECT_TRUE(watched.allReduce(&x, &x, 1, Reduction::Avg).ok());
      EXPECT_TRUE(watched.barrier().ok());
    }
    // Time between collectives (compute) is not a stall.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  EXPECT_TRUE(reports.messages.empty());
}

TEST(WatchdogTest, NamesTheStartBeforeTheFirstStep) {
  Reports reports;
  SlowCommunicator slow(0.4);
  {
    Watchdog watchdog(1, 0.05, reports.handler());
    WatchedCommunicator watched(slow, watchdog);
    EXPECT_EQ(watched.rank(), 3);
    EXPECT_TRUE(watched.barrier().ok());
  }
  ASSERT_EQ(reports.messages.size(), 1u);
  EXPECT_EQ(reports.messages[0], "rank 1: before the first step: no progress for 0.05 s in "
                                 "barrier (another rank may have failed)");
}

} // namespace
