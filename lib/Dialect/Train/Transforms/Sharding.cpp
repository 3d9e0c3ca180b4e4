//===- Sharding.cpp - zero1: optimizer state sharded across ranks ---------===//
//
// Private to fp8-insert-collectives (Sharding.h). The shard rule: a tensor of
// n elements on W ranks is cut into W flat, contiguous shards of
// c = ceil(n / W) elements; rank r holds [r*c, min((r+1)*c, n)), zero-padded.
// Padding stays zero through AdamW and SGD (zero gradient, zero state, zero
// parameter give a zero update) and adds nothing to the norm.
//
//===----------------------------------------------------------------------===//

#include "Sharding.h"

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace fp8c::train;

namespace {

RankedTensorType shardTypeOf(Type full, int64_t worldSize) {
  auto type = cast<RankedTensorType>(full);
  int64_t n = type.getNumElements();
  return RankedTensorType::get({(n + worldSize - 1) / worldSize}, type.getElementType());
}

/// One reduce-scatter (avg) per gradient, right after backward produces it.
DenseMap<Value, Value> reduceScatterGradients(func::FuncOp trainStep, GlobalNormOp norm,
                                              int64_t worldSize) {
  DenseMap<Value, Value> shardOf;
  for (Value grad : norm.getOperands()) {
    if (shardOf.count(grad))
      continue;
    OpBuilder b(trainStep.getContext());
    if (Operation *producer = grad.getDefiningOp())
      b.setInsertionPointAfter(producer);
    else
      b.setInsertionPointToStart(&trainStep.getBody().front());
    shardOf[grad] = ReduceScatterOp::create(
        b, grad.getLoc(), shardTypeOf(grad.getType(), worldSize), grad,
        ReductionAttr::get(b.getContext(), Reduction::avg), b.getI64IntegerAttr(worldSize));
  }
  return shardOf;
}

/// The job's gradient norm from the shards: each rank's norm over its shards,
/// all-gathered (W values), and the norm of those, sqrt(sum over ranks of
/// norm_r^2): the all-reduce of squared norms and a square root, written
/// with the ops kernels have (global_norm, no sqrt op). Every rank computes
/// it from the same W values, so every rank clips alike.
void normFromShards(GlobalNormOp norm, const DenseMap<Value, Value> &shardOf, int64_t worldSize) {
  OpBuilder b(norm);
  Location loc = norm.getLoc();
  SmallVector<Value> shards;
  for (Value grad : norm.getOperands())
    shards.push_back(shardOf.lookup(grad));
  auto f32 = b.getF32Type();
  Value local = GlobalNormOp::create(b, loc, norm.getType(), shards);
  Value one = ReshapeOp::create(b, loc, RankedTensorType::get({1}, f32), local);
  Value all = AllGatherOp::create(b, loc, RankedTensorType::get({worldSize}, f32), one,
                                  b.getI64IntegerAttr(worldSize));
  Value global = GlobalNormOp::create(b, loc, norm.getType(), ValueRange{all});
  norm.getResult().replaceAllUsesWith(global);
  norm.erase();
}

/// The update's gradient on this rank's shard: the gradient's shard, or the
/// clipped shard when clipping scales it (train.mul_scalar by the clip
/// coefficient).
FailureOr<Value> gradientShard(OpBuilder &b, Operation *update, Value grad,
                               const DenseMap<Value, Value> &shardOf) {
  if (Value shard = shardOf.lookup(grad))
    return shard;
  auto clip = grad.getDefiningOp<MulScalarOp>();
  if (!clip || !shardOf.lookup(clip.getInput()))
    return update->emitOpError()
               << "fp8-insert-collectives (zero1): the gradient is neither an operand of "
                  "train.global_norm nor one scaled by train.mul_scalar",
           failure();
  Value shard = shardOf.lookup(clip.getInput());
  return Value(MulScalarOp::create(b, clip.getLoc(), shard.getType(), shard, clip.getScale()));
}

/// Rewrites one train.adamw_update / train.sgd_update onto shards.
LogicalResult shardUpdate(func::FuncOp trainStep, Operation *update,
                          const DenseMap<Value, Value> &shardOf, int64_t worldSize) {
  Value param = update->getOperand(0), grad = update->getOperand(1);
  auto paramArg = dyn_cast<BlockArgument>(param);
  if (!paramArg)
    return update->emitOpError()
               << "fp8-insert-collectives (zero1): the parameter is not an argument",
           failure();
  auto fullType = cast<RankedTensorType>(param.getType());
  RankedTensorType shardType = shardTypeOf(fullType, worldSize);
  OpBuilder b(update);
  FailureOr<Value> gradShard = gradientShard(b, update, grad, shardOf);
  if (failed(gradShard))
    return failure();
  Value paramShard =
      ShardOp::create(b, update->getLoc(), shardType, param, b.getI64IntegerAttr(worldSize));
  IRMapping mapping;
  mapping.map(param, paramShard);
  mapping.map(grad, *gradShard);
  // Optimizer state: arguments of the parameter's shape, now shards.
  auto shardOfAttr = DenseI64ArrayAttr::get(b.getContext(), fullType.getShape());
  for (OpOperand &operand : update->getOpOperands()) {
    auto state = dyn_cast<BlockArgument>(operand.get());
    if (operand.getOperandNumber() < 2 || !state || state.getType() != fullType)
      continue;
    state.setType(shardType);
    trainStep.setArgAttr(state.getArgNumber(), kShardOfAttrName, shardOfAttr);
  }
  Operation *sharded = b.clone(*update, mapping);
  for (Value r : sharded->getResults())
    r.setType(shardType);
  Value full = AllGatherOp::create(b, update->getLoc(), fullType, sharded->getResult(0),
                                   b.getI64IntegerAttr(worldSize));
  update->getResult(0).replaceAllUsesWith(full);
  for (unsigned i = 1; i < update->getNumResults(); ++i)
    update->getResult(i).replaceAllUsesWith(sharded->getResult(i));
  update->erase();
  if (auto clip = grad.getDefiningOp<MulScalarOp>(); clip && clip->use_empty())
    clip->erase();
  return success();
}

} // namespace

LogicalResult fp8c::train::shardOptimizerState(func::FuncOp trainStep, int64_t worldSize) {
  SmallVector<GlobalNormOp> norms(trainStep.getOps<GlobalNormOp>());
  if (norms.size() != 1)
    return trainStep.emitError() << "fp8-insert-collectives: expected one train.global_norm "
                                    "over the gradients in @train_step, found "
                                 << norms.size();
  DenseMap<Value, Value> shardOf = reduceScatterGradients(trainStep, norms.front(), worldSize);
  normFromShards(norms.front(), shardOf, worldSize);
  SmallVector<Operation *> updates;
  for (Operation &op : trainStep.getBody().front())
    if (isa<AdamWUpdateOp, SGDUpdateOp>(op))
      updates.push_back(&op);
  for (Operation *update : updates)
    if (failed(shardUpdate(trainStep, update, shardOf, worldSize)))
      return failure();
  Block &body = trainStep.getBody().front();
  trainStep.setType(FunctionType::get(trainStep.getContext(), body.getArgumentTypes(),
                                      body.getTerminator()->getOperandTypes()));
  return success();
}
