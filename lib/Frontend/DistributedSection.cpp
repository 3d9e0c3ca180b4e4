//===- DistributedSection.cpp - the `distributed` section -----------------===//
//
// Data-parallel training over world_size ranks: ddp, zero1 or fsdp
// (docs/distributed.md). The topology (nodes x gpus_per_node), the gradient
// bucket size, fp8_all_gather and reshard_after_forward feed the communication
// cost model, fp8-bucket-gradients and the fsdp weight all-gathers.
//
//===----------------------------------------------------------------------===//

#include "ConfigSection.h"

using namespace fp8c;
using namespace fp8c::frontend;

/// Ranks a program can be compiled for: MPI itself allows more, but a larger
/// world would be a typo here long before it is a real job.
constexpr int64_t maxWorldSize = 65536;
/// A bucket of more than 64 GiB would be one message for any model this
/// compiler describes: surely a unit mistake (the value is in MiB).
constexpr double maxBucketMB = 65536;

namespace {
enum class FP8AllGather { Auto, True, False };
const std::pair<StringRef, FP8AllGather> fp8AllGatherChoices[] = {
    {"auto", FP8AllGather::Auto}, {"true", FP8AllGather::True}, {"false", FP8AllGather::False}};
} // namespace

/// world_size = nodes x gpus_per_node: either of the two may be given (the
/// other follows), both, or neither (one node). world_size may be left out
/// when both are given.
static void resolveTopology(Section &s, DistributedSection &d, bool hasWorldSize) {
  int64_t nodes = 0, gpusPerNode = 0;
  bool hasNodes = s.readInt("nodes", 1, maxWorldSize, nodes);
  bool hasGpus = s.readInt("gpus_per_node", 1, maxWorldSize, gpusPerNode);
  if (!hasWorldSize) {
    // Missing or invalid world_size was reported, unless both others give it.
    if (hasNodes && hasGpus && !s.has("world_size")) {
      if (nodes * gpusPerNode > maxWorldSize)
        return s.error("gpus_per_node", "nodes " + std::to_string(nodes) + " x gpus_per_node " +
                                            std::to_string(gpusPerNode) + " exceeds 65536 ranks");
      d.worldSize = nodes * gpusPerNode;
      d.nodes = nodes;
      d.gpusPerNode = gpusPerNode;
    }
    return;
  }
  if (!hasNodes && !hasGpus)
    return;
  if (hasNodes && !hasGpus)
    gpusPerNode = d.worldSize / nodes;
  if (hasGpus && !hasNodes)
    nodes = d.worldSize / gpusPerNode;
  if (nodes * gpusPerNode != d.worldSize) {
    std::string world = "world_size " + std::to_string(d.worldSize);
    if (hasNodes && hasGpus)
      s.error("gpus_per_node", world + " is not nodes " + std::to_string(nodes) +
                                   " x gpus_per_node " + std::to_string(gpusPerNode) + " = " +
                                   std::to_string(nodes * gpusPerNode) +
                                   "; the three must agree (or leave one out)");
    else if (hasNodes)
      s.error("nodes", world + " is not a multiple of nodes " + std::to_string(nodes));
    else
      s.error("gpus_per_node",
              world + " is not a multiple of gpus_per_node " + std::to_string(gpusPerNode));
    return;
  }
  d.nodes = nodes;
  d.gpusPerNode = gpusPerNode;
}

void ConfigParser::parseDistributed(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "distributed", keyLoc);
  if (!s.isMapping())
    return;
  DistributedSection &d = config.distributed;
  d.present = true;
  s.checkKeys({"strategy", "world_size", "nodes", "gpus_per_node", "bucket_mb", "fp8_all_gather",
               "reshard_after_forward"});
  s.readEnum<DistributedStrategy>("strategy", strategyChoices, d.strategy);
  bool topologyOnly = !s.has("world_size") && s.has("nodes") && s.has("gpus_per_node");
  bool hasWorldSize =
      s.readInt("world_size", 1, maxWorldSize, d.worldSize, /*required=*/!topologyOnly);
  resolveTopology(s, d, hasWorldSize);
  double bucketMB = 0;
  if (s.readNumber("bucket_mb", Range::between(0, maxBucketMB, true, false), bucketMB))
    d.bucketMB = bucketMB;
  FP8AllGather fp8AllGather = FP8AllGather::Auto;
  if (s.readEnum<FP8AllGather>("fp8_all_gather", fp8AllGatherChoices, fp8AllGather))
    d.fp8AllGather = s.get("fp8_all_gather")->value;
  bool reshard = true;
  if (s.readBool("reshard_after_forward", reshard)) {
    if (d.strategy != DistributedStrategy::FSDP)
      s.error("reshard_after_forward",
              "applies to strategy fsdp only (the other strategies keep full parameters)");
    d.reshardAfterForward = reshard;
  }
}
