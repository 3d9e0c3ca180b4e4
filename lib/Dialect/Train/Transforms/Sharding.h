//===- Sharding.h - zero1 and fsdp: state sharded across ranks ---*- C++ -*-===//
//
// Private to fp8-insert-collectives. docs/distributed.md ("Strategies", "The
// shard rule") gives the contract.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_SHARDING_H
#define FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_SHARDING_H

#include "fp8c/CostModel/CommModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace fp8c::train {

/// The argument attribute that marks a state argument as this rank's shard
/// of a tensor of the given full shape (a DenseI64ArrayAttr); fp8-lower-to-rt
/// writes it as the buffer's `shard_of`.
inline constexpr const char *kShardOfAttrName = "train.shard_of";

/// zero1 in `@train_step`: every gradient reduce-scattered (avg) right after
/// backward produces it; the gradient norm from the shards (each rank's norm
/// of its shards, all-gathered, and the norm of those); every optimizer
/// update on this rank's shards (the parameter's shard taken by train.shard,
/// the state arguments and results retyped to shards and marked
/// train.shard_of); the updated parameter shard all-gathered into the full
/// parameter.
mlir::LogicalResult shardOptimizerState(mlir::func::FuncOp trainStep, int64_t worldSize);

/// fsdp's choices (train.config.distributed, docs/distributed.md).
struct FsdpOptions {
  /// fp8_all_gather: false, true, or auto (the cost model decides per weight).
  enum class FP8Gather { Never, Always, Auto } fp8Gather = FP8Gather::Always;
  /// reshard_after_forward: gather again before backward (true), or keep the
  /// forward's gathered weight for backward (false).
  bool reshardAfterForward = true;
  /// For auto: the device and ranks `estimateFP8AllGather` prices.
  cost::DeviceSpec device;
  cost::Topology topology;
};

/// fsdp: zero1, and the f32 master parameters sharded too, in every function
/// that takes them (train_step, accumulate_step, eval_step, logits_step):
/// each conversion to the compute dtype runs on the shard and is all-gathered
/// in that dtype before its first use (and, with reshardAfterForward, again
/// before its first use in backward); the optimizer updates the shard in
/// place, with no all-gather. With FP8 gathers (always, or where auto's cost
/// model predicts a gain), a weight cast to FP8 per tensor (tensorwise,
/// delayed) is cast on the shard with the ranks' common amax and gathered as
/// FP8 codes; under auto each such gather (FP8 or bf16) carries the decision
/// in its `fp8_all_gather` attribute.
mlir::LogicalResult shardParameters(mlir::ModuleOp module, int64_t worldSize,
                                    const FsdpOptions &options);

} // namespace fp8c::train

#endif // FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_SHARDING_H
