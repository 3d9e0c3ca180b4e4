//===- CommModel.h - predicted time of collectives --------------*- C++ -*-===//
//
// Ring collectives over the links of the device table (docs/distributed.md,
// "Communication cost model"). With N ranks and a tensor of B bytes:
//   all-reduce      2(N-1)/N * B over the link, 2(N-1) ring steps
//   reduce-scatter   (N-1)/N * B over the link,  N-1 ring steps
//   all-gather       (N-1)/N * B over the link,  N-1 ring steps
// time = wire bytes / link bandwidth + steps * per-step latency, where the
// link is NVLink (or PCIe) inside one node and the network (per GPU) as soon
// as the job spans nodes: a ring over nodes is limited by its slowest hop.
// No MLIR here: LLVMSupport only.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_COSTMODEL_COMMMODEL_H
#define FP8C_COSTMODEL_COMMMODEL_H

#include "fp8c/CostModel/DeviceSpec.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fp8c::cost {

enum class CollectiveKind { AllReduce, ReduceScatter, AllGather };
/// "all_reduce", "reduce_scatter", "all_gather" (the op names of the train dialect).
llvm::StringRef stringifyCollectiveKind(CollectiveKind kind);
std::optional<CollectiveKind> parseCollectiveKind(llvm::StringRef name);

/// The ranks of a job: nodes x gpusPerNode.
struct Topology {
  int64_t nodes = 1;
  int64_t gpusPerNode = 1;
  int64_t worldSize() const { return nodes * gpusPerNode; }
  bool spansNodes() const { return nodes > 1; }
};

struct CommTime {
  /// Bytes each rank sends (and receives) over the ring.
  double wireBytes = 0;
  /// Ring steps, each paying the per-message latency.
  int64_t steps = 0;
  /// The link the ring is limited by, GB/s per direction, and its latency.
  double linkGBps = 0, latencyUs = 0;
  bool interNode = false;
  double bandwidthUs = 0, latencyTotalUs = 0;
  /// bandwidthUs + latencyTotalUs; 0 for one rank.
  double us = 0;
};

/// Predicted time of one collective over a tensor of `bytes` (the full tensor:
/// all-reduce's input, reduce-scatter's input, all-gather's output).
CommTime collectiveTime(const DeviceSpec &device, const Topology &topology, CollectiveKind kind,
                        double bytes);

/// fsdp's weight all-gather: gather bf16 shards, or cast each shard to FP8 with
/// a scale common to all ranks and gather half the bytes. The FP8 path pays an
/// amax pass over the shard, a one-scalar all-reduce (max) of the amax, and the
/// cast of the shard (bf16 read, fp8 write).
struct FP8AllGatherEstimate {
  double bf16Us = 0;
  double fp8GatherUs = 0, amaxUs = 0, amaxAllReduceUs = 0, castUs = 0;
  /// fp8GatherUs + amaxUs + amaxAllReduceUs + castUs.
  double fp8Us = 0;
  bool useFP8 = false;
  std::string reason;
};

/// Decides `fp8_all_gather: auto` for one weight of `elements` elements: FP8
/// when its predicted time is below the bf16 all-gather's. `amaxFused`: the
/// amax comes from an existing pass over the shard (the optimizer's update
/// writes it), so there is no separate amax kernel.
FP8AllGatherEstimate estimateFP8AllGather(const DeviceSpec &device, const Topology &topology,
                                          int64_t elements, bool amaxFused = false);

} // namespace fp8c::cost

#endif // FP8C_COSTMODEL_COMMMODEL_H
