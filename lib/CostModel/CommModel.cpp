//===- CommModel.cpp - predicted time of collectives ----------------------===//
//
// Ring formulas and the link figures: docs/distributed.md, "Communication cost
// model". The latency split follows NCCL's ring model (src/graph/tuning.cc):
// of the ring's steps, those that cross nodes (2(nodes-1) for an all-reduce,
// nodes-1 for the others) pay the network's latency, the rest the node's.
//
//===----------------------------------------------------------------------===//

#include "fp8c/CostModel/CommModel.h"

#include "fp8c/CostModel/CostModel.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace fp8c::cost {

StringRef stringifyCollectiveKind(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  case CollectiveKind::AllGather:
    return "all_gather";
  }
  llvm_unreachable("unknown collective kind");
}

std::optional<CollectiveKind> parseCollectiveKind(StringRef name) {
  for (CollectiveKind k :
       {CollectiveKind::AllReduce, CollectiveKind::ReduceScatter, CollectiveKind::AllGather})
    if (name == stringifyCollectiveKind(k))
      return k;
  return std::nullopt;
}

CommTime collectiveTime(const DeviceSpec &device, const Topology &topology, CollectiveKind kind,
                        double bytes) {
  CommTime t;
  int64_t n = topology.worldSize();
  if (n <= 1 || bytes <= 0)
    return t;
  // An all-reduce is a reduce-scatter then an all-gather: twice the traffic.
  int64_t passes = kind == CollectiveKind::AllReduce ? 2 : 1;
  t.wireBytes = double(passes) * double(n - 1) / double(n) * bytes;
  t.steps = passes * (n - 1);
  int64_t interSteps = topology.spansNodes() ? passes * (topology.nodes - 1) : 0;
  t.interNode = topology.spansNodes();
  t.linkGBps = t.interNode ? device.interNodeGBps : device.intraNodeGBps;
  t.latencyUs = t.interNode ? device.interNodeLatencyUs : device.intraNodeLatencyUs;
  // GB/s * 1e3 = byte/us.
  t.bandwidthUs = t.wireBytes / (t.linkGBps * 1e3);
  t.latencyTotalUs = double(t.steps - interSteps) * device.intraNodeLatencyUs +
                     double(interSteps) * device.interNodeLatencyUs;
  t.us = t.bandwidthUs + t.latencyTotalUs;
  return t;
}

FP8AllGatherEstimate estimateFP8AllGather(const DeviceSpec &device, const Topology &topology,
                                          int64_t elements, bool amaxFused) {
  FP8AllGatherEstimate e;
  double elems = double(elements);
  double shard = elems / double(std::max<int64_t>(1, topology.worldSize()));
  e.bf16Us = collectiveTime(device, topology, CollectiveKind::AllGather, 2 * elems).us;
  e.fp8GatherUs = collectiveTime(device, topology, CollectiveKind::AllGather, elems).us;
  CostModel model(device);
  // The shard's amax (one bf16 read), the common amax (max over ranks of one
  // f32), then the cast (bf16 read, fp8 write).
  e.amaxUs = amaxFused ? 0 : model.memoryKernelUs(2 * shard);
  e.amaxAllReduceUs = collectiveTime(device, topology, CollectiveKind::AllReduce, 4).us;
  e.castUs = model.memoryKernelUs(3 * shard);
  e.fp8Us = e.fp8GatherUs + e.amaxUs + e.amaxAllReduceUs + e.castUs;
  e.useFP8 = topology.worldSize() > 1 && e.fp8Us < e.bf16Us;
  e.reason = formatv("{0}: bf16 all-gather {1:f1} us vs fp8 {2:f1} us (gather {3:f1} + amax "
                     "{4:f1} + amax all-reduce {5:f1} + cast {6:f1})",
                     e.useFP8 ? "fp8" : "bf16", e.bf16Us, e.fp8Us, e.fp8GatherUs, e.amaxUs,
                     e.amaxAllReduceUs, e.castUs)
                 .str();
  return e;
}

} // namespace fp8c::cost
