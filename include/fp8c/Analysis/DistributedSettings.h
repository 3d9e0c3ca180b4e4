//===- DistributedSettings.h - `train.config.distributed` -------*- C++ -*-===//
//
// The distributed settings as the passes and reports read them: the
// `distributed` entry of `train.config` (docs/model-description.md), with the
// documented defaults for keys a description left out (docs/distributed.md).
// Also fp8c's --world-size override, which rewrites that entry.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_DISTRIBUTEDSETTINGS_H
#define FP8C_ANALYSIS_DISTRIBUTEDSETTINGS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace fp8c {

struct DistributedSettings {
  /// False without a `distributed` entry: one process.
  bool present = false;
  std::string strategy = "ddp";
  int64_t worldSize = 1;
  /// nodes x gpusPerNode = worldSize (default: one node).
  int64_t nodes = 1, gpusPerNode = 1;
  /// ddp/zero1 gradient bucket size, MiB (as PyTorch DDP's bucket_cap_mb).
  double bucketMB = 25;
  /// fsdp: "auto", "true" or "false".
  std::string fp8AllGather = "auto";
  /// fsdp: gather the weights again for backward (true) or keep forward's.
  bool reshardAfterForward = true;

  int64_t bucketBytes() const { return int64_t(bucketMB * 1024 * 1024); }
};

/// Reads `train.config.distributed`; a malformed entry (no world_size or one < 1, a
/// topology that does not multiply to it) is reported on the module.
mlir::FailureOr<DistributedSettings> readDistributedSettings(mlir::ModuleOp module);

/// fp8c --world-size=N: sets `distributed.world_size` to N (adding a ddp
/// entry when there is none and N > 1; N = 1 without one changes nothing). A
/// written `nodes` is kept and gpus_per_node follows; N must be a multiple of
/// it. The error starts with the flag ("--world-size=6: ...").
llvm::Error overrideWorldSize(mlir::ModuleOp module, int64_t worldSize);

} // namespace fp8c

#endif // FP8C_ANALYSIS_DISTRIBUTEDSETTINGS_H
