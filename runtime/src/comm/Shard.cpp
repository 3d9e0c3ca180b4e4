//===- Shard.cpp - flat padded shards and their collectives ---------------===//

#include "fp8rt/comm/Shard.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fp8rt::comm {

void copyShard(const void *full, size_t n, size_t elementBytes, int rank, int worldSize,
               void *shard) {
  const size_t c = size_t(shardElements(int64_t(n), worldSize));
  const size_t begin = std::min(n, size_t(rank) * c), end = std::min(n, begin + c);
  auto *out = static_cast<uint8_t *>(shard);
  std::memcpy(out, static_cast<const uint8_t *>(full) + begin * elementBytes,
              (end - begin) * elementBytes);
  std::memset(out + (end - begin) * elementBytes, 0, (c - (end - begin)) * elementBytes);
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
