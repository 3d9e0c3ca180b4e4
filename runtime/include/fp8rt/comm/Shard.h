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

namespace fp8rt::comm {

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
