//===- TwoRanks.h - A fake two-rank communicator for runtime tests -*- C++ -*-===//
//
// One rank of a job of two, in one process: the other rank's contribution is
// test data, so that sum, avg and max differ from a copy. Used by the tests
// of the all_reduce and shard instructions; the real MPI runs are the
// test/e2e mpirun tests.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_TEST_RUNTIME_TWORANKS_H
#define FP8C_TEST_RUNTIME_TWORANKS_H

#include "fp8rt/comm/Communicator.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace fp8rt::test {

/// Rank `rank` of two. The other rank's input is `other` (its whole tensor
/// for all-reduce and reduce-scatter), its shard for all-gathers `otherShard`.
class TwoRanks final : public comm::Communicator {
public:
  explicit TwoRanks(int rank = 0, std::vector<float> other = {})
      : other(std::move(other)), rank_(rank) {}
  std::string name() const override { return "two ranks (test)"; }
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  Status allReduce(const float *in, float *out, size_t count, Reduction r) override {
    for (size_t i = 0; i < count; ++i)
      out[i] = reduce(in[i], other[i], r);
    return Status::success();
  }
  Status reduceScatter(const float *in, float *out, size_t c, Reduction r) override {
    for (size_t i = 0; i < c; ++i)
      out[i] = reduce(in[rank_ * c + i], other[rank_ * c + i], r);
    return Status::success();
  }
  Status allGather(const void *in, void *out, size_t bytes) override {
    auto *o = static_cast<unsigned char *>(out);
    std::memcpy(o + rank_ * bytes, in, bytes);
    std::memcpy(o + (1 - rank_) * bytes, otherShard.data(), std::min(bytes, otherShard.size()));
    return Status::success();
  }
  Status barrier() override { return Status::success(); }
  Status broadcast(void *, size_t, int) override { return Status::success(); }

  std::vector<float> other;
  std::vector<unsigned char> otherShard;

private:
  static float reduce(float a, float b, Reduction r) {
    return r == Reduction::Max ? std::max(a, b) : r == Reduction::Sum ? a + b : (a + b) / 2;
  }
  int rank_;
};

} // namespace fp8rt::test

#endif // FP8C_TEST_RUNTIME_TWORANKS_H
