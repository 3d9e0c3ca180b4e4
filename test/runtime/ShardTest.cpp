//===- ShardTest.cpp - reduce_scatter, all_gather and shard instructions --===//
//
// The shard rule (docs/distributed.md): 5 elements over 2 ranks are shards of
// c = 3, rank 1's padded with one zero. The CPU backend runs a program's
// reduce_scatter / all_gather / shard instructions (format version 5) through
// a fake two-rank communicator, as either rank; the loader checks the shard
// shapes against info.world_size. The MPI runs are test/e2e/zero1.test.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/comm/Communicator.h"
#include "fp8rt/comm/Shard.h"

#include "TwoRanks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace fp8rt;

namespace {

// full f32[5] -> reduce_scatter -> shard f32[3] -> all_gather -> gathered f32[5];
// shard of a bf16[5] parameter into bf16[3].
const char *const kProgram = R"({
  "format": "fp8c-program", "version": 6, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid", "world_size": 2},
  "config": {},
  "arena_bytes": 1536,
  "buffers": [
    {"name": "full", "role": "input", "dtype": "f32", "shape": [5], "offset": 0},
    {"name": "shard", "role": "output", "dtype": "f32", "shape": [SHARD], "offset": 256},
    {"name": "gathered", "role": "output", "dtype": "f32", "shape": [5], "offset": 512},
    {"name": "w", "role": "param", "dtype": "bf16", "shape": [5], "offset": 768,
     "init": "zeros"},
    {"name": "w_shard", "role": "output", "dtype": "bf16", "shape": [3], "offset": 1024},
    {"name": "exp_avg", "role": "optimizer", "dtype": "f32", "shape": [3], "offset": 1280,
     "init": "zeros", "shard_of": [5]}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0], "outputs": [1, 2, 4], "instructions": [
      {"kind": "reduce_scatter", "reduction": "REDUCTION", "source": 0, "target": 1},
      {"kind": "all_gather", "source": 1, "target": 2},
      {"kind": "shard", "source": 3, "target": 4}
    ]}
  ]
})";

std::string program(const std::string &reduction, const std::string &shard = "3") {
  std::string text = kProgram;
  text.replace(text.find("REDUCTION"), 9, reduction);
  text.replace(text.find("SHARD"), 5, shard);
  return text;
}

struct Outputs {
  std::vector<float> shard, gathered;
  std::vector<uint16_t> wShard;
};

Outputs runAsRank(int rank, const std::string &reduction) {
  StatusOr<Program> p = parseProgram(program(reduction), "test.fp8prog");
  EXPECT_TRUE(p.ok()) << p.status().toString();
  if (!p.ok())
    return {};
  test::TwoRanks ranks(rank, {1, -4, 10, 2, 6, 0}); // the other rank's full tensor, padded
  // The other rank's reduced shard, as it would send it to the all-gather.
  std::vector<float> peer = {7, 8, 9};
  ranks.otherShard.resize(sizeof(float) * 3);
  std::memcpy(ranks.otherShard.data(), peer.data(), ranks.otherShard.size());
  comm::setProcessCommunicator(&ranks);
  std::unique_ptr<Backend> backend = createCpuBackend();
  EXPECT_TRUE(backend->load(*p).ok());
  const float full[5] = {3, 2, -1, 4, -6};
  EXPECT_TRUE(backend->write(0, full, sizeof full).ok());
  const uint16_t w[5] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0}; // bf16 1..5
  EXPECT_TRUE(backend->write(3, w, sizeof w).ok());
  Status run = backend->run(*p->function("train_step"));
  comm::setProcessCommunicator(nullptr);
  EXPECT_TRUE(run.ok()) << run.toString();
  Outputs out{std::vector<float>(3), std::vector<float>(5), std::vector<uint16_t>(3)};
  EXPECT_TRUE(backend->read(1, out.shard.data(), 3 * sizeof(float)).ok());
  EXPECT_TRUE(backend->read(2, out.gathered.data(), 5 * sizeof(float)).ok());
  EXPECT_TRUE(backend->read(4, out.wShard.data(), 3 * sizeof(uint16_t)).ok());
  return out;
}

TEST(Shard, CopyShardPadsTheLastShard) {
  const float full[5] = {1, 2, 3, 4, 5};
  float shard[3] = {-1, -1, -1};
  comm::copyShard(full, 5, sizeof(float), 1, 2, shard);
  EXPECT_EQ(std::vector<float>(shard, shard + 3), (std::vector<float>{4, 5, 0}));
  // 2 elements over 4 ranks: c = 1, ranks 2 and 3 hold only padding.
  comm::copyShard(full, 2, sizeof(float), 3, 4, shard);
  EXPECT_EQ(shard[0], 0);
  EXPECT_EQ(shardElements(5, 2), 3);
  EXPECT_EQ(shardElements(4, 4), 1);
}

TEST(Shard, ExtentOfEachRank) {
  // 5 elements over 2 ranks: c = 3, rank 1 holds [3, 5) and one zero; 6 move.
  comm::ShardExtent e = comm::shardExtent(5, 1, 2);
  EXPECT_EQ(e.shard, 3u);
  EXPECT_EQ(e.begin, 3u);
  EXPECT_EQ(e.end, 5u);
  EXPECT_EQ(e.padding(), 1u);
  EXPECT_EQ(e.padded, 6u);
  EXPECT_TRUE(e.needsPadding());
  // 2 over 4: ranks 2 and 3 hold nothing of the tensor, one zero each.
  e = comm::shardExtent(2, 3, 4);
  EXPECT_EQ(e.begin, 2u);
  EXPECT_EQ(e.end, 2u);
  EXPECT_EQ(e.padding(), 1u);
  EXPECT_FALSE(comm::shardExtent(8, 3, 4).needsPadding());
}

// The CUDA backend's device operations for the sharded instructions (it runs
// them with ncclReduceScatter / ncclAllGather / cudaMemcpyAsync /
// cudaMemsetAsync on its stream; docs/distributed.md, "NCCL").
using Step = comm::ShardStep;
std::string describe(const comm::ShardPlan &plan) {
  const char *kinds[] = {"copy", "zero", "reduce_scatter", "all_gather"};
  const char *buffers[] = {"source", "target", "scratch"};
  std::string out = "scratch " + std::to_string(plan.scratchBytes) + ":";
  for (const Step &s : plan.steps) {
    out += std::string(" ") + kinds[int(s.kind)] + "(";
    if (s.kind != Step::Kind::Zero)
      out += std::string(buffers[int(s.from)]) + "+" + std::to_string(s.fromOffset) + " -> ";
    out += std::string(buffers[int(s.to)]) + "+" + std::to_string(s.toOffset) + ", " +
           (s.kind == Step::Kind::ReduceScatter ? std::to_string(s.count) + " f32"
                                                : std::to_string(s.bytes) + " B") +
           ")";
  }
  return out;
}

TEST(Shard, PlansOfTheCudaBackend) {
  using comm::ShardInstruction;
  // Exactly W shards: the collective alone, on the instruction's buffers.
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::ReduceScatter, 8, 4, 1, 2)),
            "scratch 0: reduce_scatter(source+0 -> target+0, 4 f32)");
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::AllGather, 8, 1, 0, 2)),
            "scratch 0: all_gather(source+0 -> target+0, 4 B)");
  // 5 f32 over 2 ranks (c = 3): the reduce-scatter reduces a zero-padded copy of 6.
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::ReduceScatter, 5, 4, 0, 2)),
            "scratch 24: copy(source+0 -> scratch+0, 20 B) zero(scratch+20, 4 B) "
            "reduce_scatter(scratch+0 -> target+0, 3 f32)");
  // 5 bf16 gathered: 2 x 3 into scratch, the first 5 copied out.
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::AllGather, 5, 2, 1, 2)),
            "scratch 12: all_gather(source+0 -> scratch+0, 6 B) copy(scratch+0 -> target+0, 10 B)");
  // shard: rank 1's [3, 5) and one zero; rank 3 of 4 over 2 elements: only the zero.
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::Shard, 5, 4, 1, 2)),
            "scratch 0: copy(source+12 -> target+0, 8 B) zero(target+8, 4 B)");
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::Shard, 2, 4, 3, 4)),
            "scratch 0: zero(target+0, 4 B)");
  EXPECT_EQ(describe(comm::planShardInstruction(ShardInstruction::Shard, 8, 4, 0, 2)),
            "scratch 0: copy(source+0 -> target+0, 16 B)");
}

TEST(Shard, CpuBackendRunsTheShardInstructionsAsRank0) {
  Outputs avg = runAsRank(0, "avg");
  EXPECT_EQ(avg.shard, (std::vector<float>{2, -1, 4.5f})); // elements 0..2 of (full + other) / 2
  // Rank 0's shard, then rank 1's, padding (rank 1's last) dropped.
  EXPECT_EQ(avg.gathered, (std::vector<float>{2, -1, 4.5f, 7, 8}));
  EXPECT_EQ(avg.wShard, (std::vector<uint16_t>{0x3f80, 0x4000, 0x4040}));
  EXPECT_EQ(runAsRank(0, "sum").shard, (std::vector<float>{4, -2, 9}));
  EXPECT_EQ(runAsRank(0, "max").shard, (std::vector<float>{3, 2, 10}));
}

TEST(Shard, CpuBackendRunsTheShardInstructionsAsRank1) {
  // Elements 3, 4 and the padding: (4 + 2) / 2, (-6 + 6) / 2, 0.
  Outputs avg = runAsRank(1, "avg");
  EXPECT_EQ(avg.shard, (std::vector<float>{3, 0, 0}));
  EXPECT_EQ(avg.gathered, (std::vector<float>{7, 8, 9, 3, 0}));
  EXPECT_EQ(avg.wShard, (std::vector<uint16_t>{0x4080, 0x40a0, 0}));
}

TEST(Shard, LoaderChecksShardShapes) {
  StatusOr<Program> wrong = parseProgram(program("avg", "2"), "test.fp8prog");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find(
                "functions[0].instructions[0].target: buffer 1 (\"shard\", f32[2]): the shard "
                "of buffer 0 (\"full\", f32[5]) over 2 ranks is f32[3]"),
            std::string::npos)
      << wrong.status().message();
  std::string text = program("avg");
  text.replace(text.find("\"shard_of\": [5]"), 15, "\"shard_of\": [7]");
  StatusOr<Program> badShardOf = parseProgram(text, "test.fp8prog");
  ASSERT_FALSE(badShardOf.ok());
  EXPECT_NE(badShardOf.status().message().find(
                "buffers[5].shard_of: the shard of a tensor of 7 elements over 2 ranks "
                "(info.world_size) is [4], but the buffer is f32[3]"),
            std::string::npos)
      << badShardOf.status().message();
  StatusOr<Program> ok = parseProgram(program("avg"), "test.fp8prog");
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->buffers[5].shardOf, (std::vector<int64_t>{5}));
}

} // namespace
