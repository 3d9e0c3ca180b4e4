//===- Shard.h - flat padded shards and their collectives --------*- C++ -*-===//
//
// The shard rule of zero1 and fsdp (docs/distributed.md): a tensor of n
// elements on W ranks is cut into W flat, contiguous shards of c = ceil(n / W)
// elements (shardElements, fp8rt/Program.h); rank r holds elements
// [r*c, min((r+1)*c, n)), zero-padded to c. These functions pad and unpad
// around the communicator's collectives, whose buffers are exactly W*c long:
// the backends' reduce_scatter / all_gather / shard instructions and the
// trainer's checkpoints (gather on save, shard on load) use them.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_COMM_SHARD_H
#define FP8RT_COMM_SHARD_H

#include "fp8rt/comm/Communicator.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fp8rt::comm {

/// Where rank `rank`'s shard of a tensor of n elements lies, and the padded
/// length the collectives move: the plan both backends follow (the CUDA
/// backend pads on the device, in a scratch buffer of `padded` elements).
struct ShardExtent {
  size_t shard = 0;    ///< c = ceil(n / worldSize)
  size_t begin = 0;    ///< min(n, rank * c)
  size_t end = 0;      ///< min(n, begin + c): [begin, end) of the full tensor
  size_t padded = 0;   ///< worldSize * c, what a reduce-scatter / all-gather moves
  size_t elements = 0; ///< n
  /// Elements of this rank's shard past the tensor's end (zeros).
  size_t padding() const { return shard - (end - begin); }
  /// The full tensor is not exactly W shards: a collective needs a padded buffer.
  bool needsPadding() const { return padded != elements; }
};
ShardExtent shardExtent(size_t n, int rank, int worldSize);

/// A sharded instruction as device operations, planned on the host (the CUDA
/// backend runs them on its stream; test/runtime/ShardTest.cpp checks the
/// plans). Offsets and sizes are in bytes.
struct ShardStep {
  enum class Kind : uint8_t {
    Copy,          ///< `bytes` from (from, fromOffset) to (to, toOffset)
    Zero,          ///< `bytes` zeros at (to, toOffset)
    ReduceScatter, ///< f32: from holds W * `count` elements, to gets `count`
    AllGather,     ///< every rank's `bytes` from `from`, W * `bytes` into `to`
  };
  enum class Buffer : uint8_t { Source, Target, Scratch };
  Kind kind = Kind::Copy;
  Buffer from = Buffer::Source, to = Buffer::Target;
  size_t fromOffset = 0, toOffset = 0, bytes = 0, count = 0;
};

struct ShardPlan {
  std::vector<ShardStep> steps;
  /// The scratch buffer the steps use (0: none): W * c elements when the
  /// tensor is not exactly W shards.
  size_t scratchBytes = 0;
};

enum class ShardInstruction : uint8_t { ReduceScatter, AllGather, Shard };

/// The steps of one reduce_scatter (f32: `elementBytes` 4), all_gather or
/// shard instruction over a full tensor of `n` elements, as rank `rank` of
/// `worldSize`, following the shard rule: a reduce-scatter reduces a
/// zero-padded copy when n < W*c, an all-gather gathers into scratch and
/// drops the padding, a shard copies [begin, end) and zeroes the rest.
ShardPlan planShardInstruction(ShardInstruction instruction, size_t n, size_t elementBytes,
                               int rank, int worldSize);

/// `shard[0..c)` = rank `rank`'s padded shard of `full[0..n)`, elements of
/// `elementBytes` bytes; c = ceil(n / worldSize). No communication.
void copyShard(const void *full, size_t n, size_t elementBytes, int rank, int worldSize,
               void *shard);

/// Every rank passes its full f32 tensor of n elements; this rank's
/// `shard[0..c)` receives its shard of the reduction over the ranks.
Status reduceScatterShard(Communicator &comm, const float *full, size_t n, float *shard,
                          Reduction reduction);

/// Every rank passes its `shard[0..c)`; `full[0..n)` receives the tensor
/// (padding dropped) on every rank. Any element size.
Status allGatherShards(Communicator &comm, const void *shard, size_t n, size_t elementBytes,
                       void *full);

} // namespace fp8rt::comm

#endif // FP8RT_COMM_SHARD_H
