//===- DistributedSection.cpp - the `distributed` section -----------------===//
//
// Data-parallel training over world_size ranks: ddp, zero1 or fsdp
// (docs/distributed.md).
//
//===----------------------------------------------------------------------===//

#include "ConfigSection.h"

using namespace fp8c;
using namespace fp8c::frontend;

/// Ranks a program can be compiled for: MPI itself allows more, but a larger
/// world would be a typo here long before it is a real job.
constexpr int64_t maxWorldSize = 65536;

void ConfigParser::parseDistributed(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "distributed", keyLoc);
  if (!s.isMapping())
    return;
  DistributedSection &d = config.distributed;
  d.present = true;
  s.checkKeys({"strategy", "world_size"});
  s.readEnum<DistributedStrategy>("strategy", strategyChoices, d.strategy);
  s.readInt("world_size", 1, maxWorldSize, d.worldSize, /*required=*/true);
}
