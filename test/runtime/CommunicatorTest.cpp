//===- CommunicatorTest.cpp - all_reduce instructions and communicators ---===//
//
// The single-process communicator, and a program's `all_reduce` instruction
// (docs/program-format.md) run by the CPU backend through the process's
// communicator: here a fake second rank, so that sum, avg and max differ
// from a copy. The MPI communicator is tested under mpirun (test/e2e/ddp.test).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/comm/Communicator.h"

#include "TwoRanks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using namespace fp8rt;

namespace {

// t = reduce(s) with the reduction substituted for REDUCTION.
const char *const kProgram = R"({
  "format": "fp8c-program", "version": 6, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid", "world_size": 2},
  "config": {},
  "arena_bytes": 512,
  "buffers": [
    {"name": "s", "role": "input", "dtype": "f32", "shape": [3], "offset": 0},
    {"name": "t", "role": "output", "dtype": "TDTYPE", "shape": [3], "offset": 256}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0], "outputs": [1], "instructions": [
      {"kind": "all_reduce", "reduction": "REDUCTION", "source": 0, "target": 1}
    ]}
  ]
})";

std::string program(const std::string &reduction, const std::string &targetType = "f32") {
  std::string text = kProgram;
  text.replace(text.find("REDUCTION"), 9, reduction);
  text.replace(text.find("TDTYPE"), 6, targetType);
  return text;
}

std::vector<float> runWithTwoRanks(const std::string &reduction) {
  StatusOr<Program> p = parseProgram(program(reduction), "test.fp8prog");
  EXPECT_TRUE(p.ok()) << p.status().toString();
  if (!p.ok())
    return {};
  EXPECT_EQ(p->info.worldSize, 2);
  test::TwoRanks ranks(0, {1, -4, 10});
  comm::setProcessCommunicator(&ranks);
  std::unique_ptr<Backend> backend = createCpuBackend();
  EXPECT_TRUE(backend->load(*p).ok());
  const float s[3] = {3, 2, -1};
  EXPECT_TRUE(backend->write(0, s, sizeof s).ok());
  Status run = backend->run(*p->function("train_step"));
  comm::setProcessCommunicator(nullptr);
  EXPECT_TRUE(run.ok()) << run.toString();
  std::vector<float> t(3);
  EXPECT_TRUE(backend->read(1, t.data(), 3 * sizeof(float)).ok());
  return t;
}

TEST(Communicator, SingleProcessIsTheDefault) {
  comm::Communicator &c = comm::processCommunicator();
  EXPECT_EQ(c.rank(), 0);
  EXPECT_EQ(c.size(), 1);
  float in[2] = {1.5f, -2}, out[2] = {0, 0};
  ASSERT_TRUE(c.allReduce(in, out, 2, Reduction::Avg).ok());
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2);
  ASSERT_TRUE(c.allReduce(in, in, 2, Reduction::Sum).ok()); // in place
  EXPECT_EQ(in[0], 1.5f);
  EXPECT_TRUE(c.barrier().ok());
  EXPECT_TRUE(c.broadcast(in, sizeof in, 0).ok());
  Status s = c.broadcast(in, sizeof in, 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "broadcast from rank 1 in a job of one process");
}

TEST(Communicator, SingleProcessShardsAreTheWholeTensor) {
  comm::Communicator &c = comm::processCommunicator();
  float in[3] = {1, -2, 0.5f}, out[3] = {};
  ASSERT_TRUE(c.reduceScatter(in, out, 3, Reduction::Avg).ok());
  EXPECT_EQ(std::vector<float>(out, out + 3), std::vector<float>(in, in + 3));
  unsigned char codes[4] = {0x7e, 0x01, 0xfe, 0x80}, gathered[4] = {};
  ASSERT_TRUE(c.allGather(codes, gathered, sizeof codes).ok());
  EXPECT_EQ(std::vector<unsigned char>(gathered, gathered + 4),
            std::vector<unsigned char>(codes, codes + 4));
}

TEST(Communicator, CpuBackendRunsAllReduce) {
  EXPECT_EQ(runWithTwoRanks("sum"), (std::vector<float>{4, -2, 9}));
  EXPECT_EQ(runWithTwoRanks("avg"), (std::vector<float>{2, -1, 4.5f}));
  EXPECT_EQ(runWithTwoRanks("max"), (std::vector<float>{3, 2, 10}));
}

TEST(Communicator, LoaderChecksAllReduce) {
  StatusOr<Program> bf16 = parseProgram(program("avg", "bf16"), "test.fp8prog");
  ASSERT_FALSE(bf16.ok());
  EXPECT_NE(bf16.status().message().find(
                "functions[0].instructions[0].target: buffer 1 (\"t\", bf16[3]) and the source "
                "buffer 0 (\"s\", f32[3]): an all_reduce needs two f32 buffers of one shape"),
            std::string::npos)
      << bf16.status().message();
  StatusOr<Program> min = parseProgram(program("min"), "test.fp8prog");
  ASSERT_FALSE(min.ok());
  EXPECT_NE(min.status().message().find("reduction"), std::string::npos)
      << min.status().message();
}

// A gradient bucket (format version 5): two all-reduces of bucket 0, then one
// without a bucket. The bucket goes out as one message over a packed buffer.
const char *const kBucketProgram = R"({
  "format": "fp8c-program", "version": 6, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid", "world_size": 2},
  "config": {},
  "arena_bytes": 1536,
  "buffers": [
    {"name": "a", "role": "input", "dtype": "f32", "shape": [3], "offset": 0},
    {"name": "b", "role": "input", "dtype": "f32", "shape": [2], "offset": 256},
    {"name": "c", "role": "input", "dtype": "f32", "shape": [1], "offset": 512},
    {"name": "ra", "role": "output", "dtype": "f32", "shape": [3], "offset": 768},
    {"name": "rc", "role": "output", "dtype": "f32", "shape": [1], "offset": 1280},
    {"name": "rb", "role": "output", "dtype": "f32", "shape": [2], "offset": 1024}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0, 1, 2], "outputs": [3, 5, 4], "instructions": [
      {"kind": "all_reduce", "reduction": "sum", "source": 0, "target": 3, "bucket": 0},
      {"kind": "all_reduce", "reduction": "sum", "source": 1, "target": 5, "bucket": 0},
      {"kind": "all_reduce", "reduction": "sum", "source": 2, "target": 4}
    ]}
  ]
})";

/// Rank 0 of two; the other rank holds 10, 20, 30, ... in every message; the
/// message sizes are recorded.
class CountingRanks final : public comm::Communicator {
public:
  std::string name() const override { return "counting (test)"; }
  int rank() const override { return 0; }
  int size() const override { return 2; }
  Status allReduce(const float *in, float *out, size_t count, Reduction) override {
    messages.push_back(count);
    for (size_t i = 0; i < count; ++i)
      out[i] = in[i] + 10.0f * float(i + 1);
    return Status::success();
  }
  Status reduceScatter(const float *, float *, size_t, Reduction) override {
    return unimplementedError("not used by these programs");
  }
  Status allGather(const void *, void *, size_t) override {
    return unimplementedError("not used by these programs");
  }
  Status barrier() override { return Status::success(); }
  Status broadcast(void *, size_t, int) override { return Status::success(); }
  std::vector<size_t> messages;
};

TEST(Communicator, CpuBackendSendsABucketAsOneMessage) {
  StatusOr<Program> p = parseProgram(kBucketProgram, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ(p->functions[0].instructions[0].bucket, 0);
  EXPECT_EQ(p->functions[0].instructions[2].bucket, -1);
  CountingRanks ranks;
  comm::setProcessCommunicator(&ranks);
  std::unique_ptr<Backend> backend = createCpuBackend();
  ASSERT_TRUE(backend->load(*p).ok());
  const float a[3] = {1, 2, 3}, b[2] = {4, 5}, c[1] = {6};
  ASSERT_TRUE(backend->write(0, a, sizeof a).ok());
  ASSERT_TRUE(backend->write(1, b, sizeof b).ok());
  ASSERT_TRUE(backend->write(2, c, sizeof c).ok());
  Status run = backend->run(*p->function("train_step"));
  comm::setProcessCommunicator(nullptr);
  ASSERT_TRUE(run.ok()) << run.toString();
  // One message of 3 + 2 floats for the bucket, one of 1.
  EXPECT_EQ(ranks.messages, (std::vector<size_t>{5, 1}));
  std::vector<float> ra(3), rb(2), rc(1);
  ASSERT_TRUE(backend->read(3, ra.data(), 3 * sizeof(float)).ok());
  ASSERT_TRUE(backend->read(5, rb.data(), 2 * sizeof(float)).ok());
  ASSERT_TRUE(backend->read(4, rc.data(), sizeof(float)).ok());
  EXPECT_EQ(ra, (std::vector<float>{11, 22, 33}));
  EXPECT_EQ(rb, (std::vector<float>{44, 55}));
  EXPECT_EQ(rc, (std::vector<float>{16}));
  // A bucket is a non-negative integer.
  std::string bad = kBucketProgram;
  bad.replace(bad.find("\"bucket\": 0"), 11, "\"bucket\": -1");
  StatusOr<Program> negative = parseProgram(bad, "test.fp8prog");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("functions[0].instructions[0].bucket"),
            std::string::npos)
      << negative.status().message();
}

} // namespace
