//===- Shard.cpp - flat padded shards and their collectives ---------------===//

#include "fp8rt/comm/Shard.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fp8rt::comm {

ShardExtent shardExtent(size_t n, int rank, int worldSize) {
  ShardExtent e;
  e.elements = n;
  e.shard = size_t(shardElements(int64_t(n), worldSize));
  e.begin = std::min(n, size_t(rank) * e.shard);
  e.end = std::min(n, e.begin + e.shard);
  e.padded = size_t(worldSize) * e.shard;
  return e;
}

ShardPlan planShardInstruction(ShardInstruction instruction, size_t n, size_t elementBytes,
                               int rank, int worldSize) {
  using Kind = ShardStep::Kind;
  using Buffer = ShardStep::Buffer;
  const ShardExtent e = shardExtent(n, rank, worldSize);
  const size_t nBytes = n * elementBytes, shardBytes = e.shard * elementBytes;
  ShardPlan plan;
  auto step = [&](Kind kind, Buffer from, size_t fromOffset, Buffer to, size_t toOffset,
                  size_t bytes, size_t count) {
    plan.steps.push_back({kind, from, to, fromOffset, toOffset, bytes, count});
  };
  switch (instruction) {
  case ShardInstruction::ReduceScatter:
    if (!e.needsPadding()) {
      step(Kind::ReduceScatter, Buffer::Source, 0, Buffer::Target, 0, 0, e.shard);
      break;
    }
    plan.scratchBytes = e.padded * elementBytes;
    step(Kind::Copy, Buffer::Source, 0, Buffer::Scratch, 0, nBytes, 0);
    step(Kind::Zero, Buffer::Scratch, 0, Buffer::Scratch, nBytes, plan.scratchBytes - nBytes, 0);
    step(Kind::ReduceScatter, Buffer::Scratch, 0, Buffer::Target, 0, 0, e.shard);
    break;
  case ShardInstruction::AllGather:
    if (!e.needsPadding()) {
      step(Kind::AllGather, Buffer::Source, 0, Buffer::Target, 0, shardBytes, 0);
      break;
    }
    plan.scratchBytes = e.padded * elementBytes;
    step(Kind::AllGather, Buffer::Source, 0, Buffer::Scratch, 0, shardBytes, 0);
    step(Kind::Copy, Buffer::Scratch, 0, Buffer::Target, 0, nBytes, 0);
    break;
  case ShardInstruction::Shard:
    if (e.end > e.begin)
      step(Kind::Copy, Buffer::Source, e.begin * elementBytes, Buffer::Target, 0,
           (e.end - e.begin) * elementBytes, 0);
    if (e.padding())
      step(Kind::Zero, Buffer::Target, 0, Buffer::Target, (e.end - e.begin) * elementBytes,
           e.padding() * elementBytes, 0);
    break;
  }
  return plan;
}

void copyShard(const void *full, size_t n, size_t elementBytes, int rank, int worldSize,
               void *shard) {
  const ShardExtent e = shardExtent(n, rank, worldSize);
  auto *out = static_cast<uint8_t *>(shard);
  std::memcpy(out, static_cast<const uint8_t *>(full) + e.begin * elementBytes,
              (e.end - e.begin) * elementBytes);
  std::memset(out + (e.end - e.begin) * elementBytes, 0, e.padding() * elementBytes);
}

Status reduceScatterShard(Communicator &comm, const float *full, size_t n, float *shard,
                          Reduction reduction) {
  const size_t w = size_t(comm.size()), c = size_t(shardElements(int64_t(n), int64_t(w)));
  if (w * c == n)
    return comm.reduceScatter(full, shard, c, reduction);
  // The last shards run past n: reduce a zero-padded copy.
  std::vector<float> padded(w * c, 0.0f);
  std::copy(full, full + n, padded.begin());
  return comm.reduceScatter(padded.data(), shard, c, reduction);
}

Status allGatherShards(Communicator &comm, const void *shard, size_t n, size_t elementBytes,
                       void *full) {
  const size_t w = size_t(comm.size()), c = size_t(shardElements(int64_t(n), int64_t(w)));
  if (w * c == n)
    return comm.allGather(shard, full, c * elementBytes);
  std::vector<uint8_t> padded(w * c * elementBytes);
  if (Status s = comm.allGather(shard, padded.data(), c * elementBytes); !s.ok())
    return s;
  std::memcpy(full, padded.data(), n * elementBytes);
  return Status::success();
}

} // namespace fp8rt::comm
