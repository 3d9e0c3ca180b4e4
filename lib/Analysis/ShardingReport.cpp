//===- ShardingReport.cpp - per-rank lines of --memory-report -------------===//

#include "fp8c/Analysis/ShardingReport.h"

#include "fp8c/Analysis/DistributedSettings.h"
#include "fp8c/Analysis/MemoryReport.h"

#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace fp8c::rt;

namespace {

/// The distributed settings; fp8-insert-collectives has checked them before
/// a module is lowered, so they read.
fp8c::DistributedSettings distributedOf(ModuleOp module) {
  FailureOr<fp8c::DistributedSettings> settings = fp8c::readDistributedSettings(module);
  return succeeded(settings) ? *settings : fp8c::DistributedSettings{};
}

int64_t bytesOf(Value buffer) { return cast<BufferOp>(buffer.getDefiningOp()).getSizeInBytes(); }

} // namespace

std::string fp8c::rt::perRankHeading(ModuleOp lowered) {
  fp8c::DistributedSettings d = distributedOf(lowered);
  if (d.worldSize < 2)
    return "";
  return ", per rank (world size " + std::to_string(d.worldSize) + ", strategy " + d.strategy + ")";
}

void fp8c::rt::printShardingReport(ModuleOp lowered, llvm::raw_ostream &os) {
  fp8c::DistributedSettings d = distributedOf(lowered);
  if (d.worldSize < 2 || d.strategy == "ddp")
    return;
  // Sharded persistent buffers, each name once: this rank's bytes and the full tensor's.
  llvm::StringSet<> seen;
  // parameters, optimizer state, gradient accumulators
  int64_t shard[3] = {0, 0, 0}, full[3] = {0, 0, 0};
  lowered.walk([&](BufferOp buffer) {
    auto shardOf = buffer.getShardOfAttr();
    if (!shardOf || !buffer.getName() || !seen.insert(*buffer.getName()).second)
      return;
    int64_t elements = 1;
    for (int64_t dim : shardOf.asArrayRef())
      elements *= dim;
    Role role = buffer.getRoleOrScratch();
    int index = role == Role::param ? 0 : role == Role::grad_accum ? 2 : 1;
    shard[index] += buffer.getSizeInBytes();
    full[index] += elements * buffer.getSizeInBytes() / buffer.getType().getNumElements();
  });
  os << "  sharded over " << d.worldSize << " ranks (this rank's shards, of the full tensors):\n";
  const char *names[3] = {"parameters", "optimizer state", "gradient accumulators"};
  for (int i = 0; i < 3; ++i)
    if (full[i])
      os << "    " << llvm::left_justify(names[i], 42)
         << llvm::format("%12.2f MiB  of %.2f MiB\n", mib(shard[i]), mib(full[i]));
  for (auto func : lowered.getOps<func::FuncOp>()) {
    int64_t scattered = 0, scatteredFull = 0, gathers = 0, gathered = 0, largest = 0;
    func.walk([&](Operation *op) {
      if (auto rs = dyn_cast<ReduceScatterOp>(op)) {
        scattered += bytesOf(rs.getTarget());
        scatteredFull += bytesOf(rs.getSource());
      } else if (auto ag = dyn_cast<AllGatherOp>(op)) {
        ++gathers;
        gathered += bytesOf(ag.getTarget());
        largest = std::max(largest, bytesOf(ag.getTarget()));
      }
    });
    if (!scattered && !gathers)
      continue;
    os << "    @" << func.getSymName() << ":";
    if (scattered)
      os << llvm::format(" gradients reduce-scattered %.2f MiB -> %.2f MiB;", mib(scatteredFull),
                         mib(scattered));
    os << llvm::format(" %lld all-gathers into %.2f MiB of buffers (largest %.2f MiB)\n",
                       static_cast<long long>(gathers), mib(gathered), mib(largest));
  }
  if (!d.reshardAfterForward)
    os << "    reshard_after_forward false: forward's gathered weights stay alive for backward "
          "(no second all-gather)\n";
}
