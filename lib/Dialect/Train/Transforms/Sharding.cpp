//===- Sharding.cpp - zero1 and fsdp: state sharded across ranks ----------===//
//
// Private to fp8-insert-collectives (Sharding.h). The shard rule: a tensor of
// n elements on W ranks is cut into W flat, contiguous shards of
// c = ceil(n / W) elements; rank r holds [r*c, min((r+1)*c, n)), zero-padded.
// Padding stays zero through AdamW and SGD (zero gradient, zero state, zero
// parameter give a zero update) and adds nothing to the norm.
//
//===----------------------------------------------------------------------===//

#include "Sharding.h"

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace fp8c::train;

namespace {

void setFunctionType(func::FuncOp func) {
  Block &body = func.getBody().front();
  func.setType(FunctionType::get(func.getContext(), body.getArgumentTypes(),
                                 body.getTerminator()->getOperandTypes()));
}

RankedTensorType shardTypeOf(Type full, int64_t worldSize) {
  auto type = cast<RankedTensorType>(full);
  int64_t n = type.getNumElements();
  return RankedTensorType::get({(n + worldSize - 1) / worldSize}, type.getElementType());
}

/// `value` reduce-scattered (avg) right after its producer.
Value reduceScatterAfterProducer(func::FuncOp func, Value value, int64_t worldSize) {
  OpBuilder b(func.getContext());
  if (Operation *producer = value.getDefiningOp())
    b.setInsertionPointAfter(producer);
  else
    b.setInsertionPointToStart(&func.getBody().front());
  return ReduceScatterOp::create(b, value.getLoc(), shardTypeOf(value.getType(), worldSize), value,
                                 ReductionAttr::get(b.getContext(), Reduction::avg),
                                 b.getI64IntegerAttr(worldSize));
}

/// The grad_accum.* argument `value` is, used only once; else null.
BlockArgument accumulatorArgument(func::FuncOp func, Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg || arg.getOwner() != &func.getBody().front() || !arg.hasOneUse())
    return {};
  auto name =
      func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), TrainDialect::getNameAttrName());
  return name && name.getValue().starts_with("grad_accum.") ? arg : BlockArgument();
}

/// Sharded gradient accumulation (as ZeRO-2): `sum` = add(grad_accum.X, g),
/// used once, becomes add(shard of grad_accum.X, reduce_scatter(g, avg)),
/// built before `before`; the argument is retyped to this rank's shard. Each
/// micro-batch's gradient is then averaged over the ranks and accumulated
/// into the shard: Σ_k avg_r g_rk = avg_r Σ_k g_rk up to fp32 round-off.
/// Returns the new sum (a shard) and the accumulator's name, or a null value
/// when `sum` is not such an add.
std::pair<Value, StringAttr> shardAccumulation(func::FuncOp func, Value sum, Operation *before,
                                               int64_t worldSize) {
  auto add = sum.getDefiningOp<AddOp>();
  if (!add || !sum.hasOneUse())
    return {};
  Value acc = add.getLhs(), grad = add.getRhs();
  if (!accumulatorArgument(func, acc))
    std::swap(acc, grad);
  BlockArgument arg = accumulatorArgument(func, acc);
  if (!arg || acc == grad)
    return {};
  auto fullType = cast<RankedTensorType>(sum.getType());
  Value scattered = reduceScatterAfterProducer(func, grad, worldSize);
  arg.setType(scattered.getType());
  func.setArgAttr(arg.getArgNumber(), kShardOfAttrName,
                  DenseI64ArrayAttr::get(func.getContext(), fullType.getShape()));
  OpBuilder b(before);
  Value shardSum = AddOp::create(b, add.getLoc(), arg, scattered);
  return {shardSum,
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), TrainDialect::getNameAttrName())};
}

/// train_step's gradients of the form mul_scalar(add(grad_accum.X, g), 1/G):
/// accumulated as shards (shardAccumulation), so their shards need no
/// reduce-scatter of the full sum. Returns the accumulators sharded.
llvm::StringSet<> shardTrainStepAccumulators(func::FuncOp trainStep, GlobalNormOp norm,
                                             DenseMap<Value, Value> &shardOf, int64_t worldSize) {
  llvm::StringSet<> names;
  for (Value grad : norm.getOperands()) {
    auto scale = grad.getDefiningOp<MulScalarOp>();
    if (!scale || shardOf.count(grad))
      continue;
    auto [shardSum, name] = shardAccumulation(trainStep, scale.getInput(), scale, worldSize);
    if (!shardSum)
      continue;
    OpBuilder b(scale);
    shardOf[grad] = MulScalarOp::create(b, scale.getLoc(), shardSum, scale.getScale());
    names.insert(name.getValue());
  }
  return names;
}

/// accumulate_step: the accumulators train_step shards (`names`), each
/// returned add(grad_accum.X, g), accumulated as shards too.
LogicalResult shardAccumulateStep(func::FuncOp accumulate, const llvm::StringSet<> &names,
                                  int64_t worldSize) {
  auto ret = cast<func::ReturnOp>(accumulate.getBody().front().getTerminator());
  llvm::StringSet<> done;
  for (OpOperand &operand : ret->getOpOperands()) {
    Value sum = operand.get();
    auto name = accumulate.getResultAttrOfType<StringAttr>(operand.getOperandNumber(),
                                                           TrainDialect::getNameAttrName());
    if (!name || !names.contains(name.getValue()))
      continue;
    auto [shardSum, argName] = shardAccumulation(accumulate, sum, ret, worldSize);
    if (!shardSum || argName != name)
      return accumulate.emitError() << "fp8-insert-collectives: cannot shard " << name
                                    << " in @accumulate_step (expected its sum with a gradient)",
             failure();
    operand.set(shardSum);
    sum.getDefiningOp()->erase();
    done.insert(name.getValue());
  }
  if (done.size() != names.size())
    return accumulate.emitError()
               << "fp8-insert-collectives: @accumulate_step does not return every sharded "
                  "grad_accum.* of @train_step",
           failure();
  setFunctionType(accumulate);
  return success();
}

/// One reduce-scatter (avg) per gradient, right after backward produces it
/// (gradients already sharded in `shardOf` are skipped).
void reduceScatterGradients(func::FuncOp trainStep, GlobalNormOp norm,
                            DenseMap<Value, Value> &shardOf, int64_t worldSize) {
  for (Value grad : norm.getOperands()) {
    if (!shardOf.count(grad))
      shardOf[grad] = reduceScatterAfterProducer(trainStep, grad, worldSize);
  }
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
  // Named for --comm-report.
  Value all = AllGatherOp::create(b, NameLoc::get(b.getStringAttr("grad_norm"), loc),
                                  RankedTensorType::get({worldSize}, f32), one,
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

/// Rewrites one train.adamw_update / train.sgd_update onto shards. zero1: the
/// parameter is full (shard taken, the new shard all-gathered into the full
/// parameter); fsdp: the parameter argument already is this rank's shard and
/// the new shard is what the step returns.
LogicalResult shardUpdate(func::FuncOp trainStep, Operation *update,
                          const DenseMap<Value, Value> &shardOf, int64_t worldSize) {
  Value param = update->getOperand(0), grad = update->getOperand(1);
  if (!isa<BlockArgument>(param))
    return update->emitOpError()
               << "fp8-insert-collectives (zero1): the parameter is not an argument",
           failure();
  // The gradient has the full shape (and f32, as the master parameter).
  auto fullType = cast<RankedTensorType>(grad.getType());
  RankedTensorType shardType = shardTypeOf(fullType, worldSize);
  const bool paramIsShard = param.getType() == shardType && fullType != shardType;
  OpBuilder b(update);
  FailureOr<Value> gradShard = gradientShard(b, update, grad, shardOf);
  if (failed(gradShard))
    return failure();
  Value paramShard = paramIsShard ? param
                                  : Value(ShardOp::create(b, update->getLoc(), shardType, param,
                                                          b.getI64IntegerAttr(worldSize)));
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
  Value newParam = sharded->getResult(0);
  if (!paramIsShard)
    newParam = AllGatherOp::create(b, update->getLoc(), fullType, newParam,
                                   b.getI64IntegerAttr(worldSize));
  update->getResult(0).replaceAllUsesWith(newParam);
  for (unsigned i = 1; i < update->getNumResults(); ++i)
    update->getResult(i).replaceAllUsesWith(sharded->getResult(i));
  update->erase();
  if (auto clip = grad.getDefiningOp<MulScalarOp>(); clip && clip->use_empty())
    clip->erase();
  return success();
}

/// The first op of backward (the first `*_grad` op autodiff emitted), or
/// nullptr in a function without one.
Operation *backwardStart(func::FuncOp func) {
  for (Operation &op : func.getBody().front())
    if (op.getName().stripDialect().ends_with("_grad"))
      return &op;
  return nullptr;
}

/// `user`'s location named after the parameter (for --comm-report).
Location namedLoc(Operation *user, StringAttr name) {
  return name ? Location(NameLoc::get(name, user->getLoc())) : user->getLoc();
}

/// `value` (full) gathered from `shard` right before `user`.
Value gatherBefore(Operation *user, Value shard, Type fullType, int64_t worldSize,
                   StringAttr name) {
  OpBuilder b(user);
  return AllGatherOp::create(b, namedLoc(user, name), fullType, shard,
                             b.getI64IntegerAttr(worldSize));
}

/// fp8_all_gather for one weight of `elements` elements: true/false as
/// written; auto asks the cost model, and the decision (with its predicted
/// times) is what `reason` gets.
bool decideFP8Gather(const FsdpOptions &options, int64_t elements, std::string &reason) {
  if (options.fp8Gather != FsdpOptions::FP8Gather::Auto)
    return options.fp8Gather == FsdpOptions::FP8Gather::Always;
  fp8c::cost::FP8AllGatherEstimate estimate =
      fp8c::cost::estimateFP8AllGather(options.device, options.topology, elements);
  reason = estimate.reason;
  return estimate.useFP8;
}

/// fsdp's FP8 all-gather of one gathered bf16 weight `gathered` =
/// all_gather(`shard`): its tensorwise or delayed amax is taken on the shard
/// and all-reduced (max), its cast runs on the shard with that common scale
/// and the FP8 codes are all-gathered (half the bytes of bf16), transposed
/// for backward where the cast also wrote the transpose. Quantisation is
/// elementwise, so the codes are those of casting the gathered weight. The
/// bf16 gather stays only if something else reads it.
void gatherFP8(Value gathered, Value shard, int64_t worldSize, const FsdpOptions &options) {
  using namespace fp8c::fp8;
  auto isPerTensor = [](Recipe r) { return r == Recipe::tensorwise || r == Recipe::delayed; };
  SmallVector<Operation *> readers(gathered.getUsers());
  bool perTensorCast = llvm::any_of(readers, [&](Operation *op) {
    auto ct = dyn_cast<CastTransposeOp>(op);
    auto q = dyn_cast<QuantizeOp>(op);
    return (ct && isPerTensor(ct.getRecipe())) ||
           (q && isPerTensor(q.getRecipe()) && !q.getBlock());
  });
  if (!perTensorCast)
    return;
  std::string reason;
  bool useFP8 =
      decideFP8Gather(options, cast<RankedTensorType>(gathered.getType()).getNumElements(), reason);
  auto decision = [&](Operation *gather) {
    if (!reason.empty())
      gather->setAttr("fp8_all_gather", StringAttr::get(gather->getContext(), reason));
  };
  if (!useFP8)
    return decision(gathered.getDefiningOp());
  Location gatherLoc = gathered.getLoc();
  for (Operation *op : readers) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto amax = dyn_cast<AmaxOp>(op);
        amax && isPerTensor(amax.getRecipe()) && !amax.getBlock() && !amax.getTransposed()) {
      Value local = AmaxOp::create(b, loc, amax.getType(), shard, amax.getRecipeAttr(), nullptr,
                                   nullptr, nullptr);
      Value all = AllReduceOp::create(b, gatherLoc, local.getType(), local,
                                      ReductionAttr::get(b.getContext(), Reduction::max),
                                      b.getI64IntegerAttr(worldSize));
      amax.getResult().replaceAllUsesWith(all);
      amax.erase();
      continue;
    }
    auto ct = dyn_cast<CastTransposeOp>(op);
    auto q = dyn_cast<QuantizeOp>(op);
    if (!(ct && isPerTensor(ct.getRecipe())) && !(q && isPerTensor(q.getRecipe()) && !q.getBlock()))
      continue;
    Value scale = ct ? ct.getScale() : q.getScale();
    auto fullType = cast<RankedTensorType>(op->getResult(0).getType());
    Value codes = QuantizeOp::create(b, loc, shardTypeOf(fullType, worldSize), shard, scale,
                                     ct ? ct.getRecipeAttr() : q.getRecipeAttr(), nullptr, nullptr);
    auto fp8Gather =
        AllGatherOp::create(b, gatherLoc, fullType, codes, b.getI64IntegerAttr(worldSize));
    decision(fp8Gather);
    Value full = fp8Gather;
    op->getResult(0).replaceAllUsesWith(full);
    if (ct) {
      Value transposed = TransposeOp::create(b, loc, ct.getTransposed().getType(), full,
                                             b.getDenseI64ArrayAttr({1, 0}));
      ct.getTransposed().replaceAllUsesWith(transposed);
    }
    op->erase();
  }
  if (gathered.use_empty())
    gathered.getDefiningOp()->erase();
}

/// fsdp, one parameter argument of `func`: retyped to this rank's shard.
/// Each conversion of it to the compute dtype runs on the shard and is
/// all-gathered in that dtype (bf16: half the bytes of f32) before its first
/// use, and (reshard_after_forward, the default) again before its first use
/// in backward, so the gathered weight need not live across the step; without
/// resharding forward's gather stays alive for backward. Any other reader (not the optimizer, which
/// updates the shard) gets the f32 parameter all-gathered before it.
void gatherParameter(func::FuncOp func, BlockArgument param, int64_t worldSize,
                     const FsdpOptions &options) {
  auto fullType = cast<RankedTensorType>(param.getType());
  auto name =
      func.getArgAttrOfType<StringAttr>(param.getArgNumber(), TrainDialect::getNameAttrName());
  RankedTensorType shardType = shardTypeOf(fullType, worldSize);
  param.setType(shardType);
  func.setArgAttr(param.getArgNumber(), kShardOfAttrName,
                  DenseI64ArrayAttr::get(func.getContext(), fullType.getShape()));
  Operation *backward = backwardStart(func);
  // Without resharding, forward's gather serves backward too.
  auto inBackward = [&](Operation *op) {
    return options.reshardAfterForward && backward && !op->isBeforeInBlock(backward);
  };
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : param.getUses())
    uses.push_back(&use);
  for (OpOperand *use : uses) {
    Operation *user = use->getOwner();
    if (isa<AdamWUpdateOp, SGDUpdateOp>(user) && use->getOperandNumber() == 0)
      continue;
    auto convert = dyn_cast<ConvertOp>(user);
    if (!convert) {
      use->set(gatherBefore(user, param, fullType, worldSize, name));
      continue;
    }
    auto computeType = cast<RankedTensorType>(convert.getType());
    OpBuilder b(convert);
    Value shard =
        ConvertOp::create(b, convert.getLoc(), shardTypeOf(computeType, worldSize), param);
    SmallVector<OpOperand *> readers;
    for (OpOperand &r : convert.getResult().getUses())
      readers.push_back(&r);
    // In program order: each gather goes before the first reader it serves.
    llvm::sort(readers, [](OpOperand *x, OpOperand *y) {
      return x->getOwner()->isBeforeInBlock(y->getOwner());
    });
    Value forward, again;
    for (OpOperand *reader : readers) {
      Operation *op = reader->getOwner();
      Value &gathered = inBackward(op) ? again : forward;
      if (!gathered)
        gathered = gatherBefore(op, shard, computeType, worldSize, name);
      reader->set(gathered);
      // An amax fused into the conversion's kernel reads a gathered weight
      // now, which no kernel produces: it runs as its own kernel.
      op->removeAttr("fused_into_producer");
    }
    convert.erase();
    for (Value gathered : {forward, again})
      if (gathered && options.fp8Gather != FsdpOptions::FP8Gather::Never)
        gatherFP8(gathered, shard, worldSize, options);
  }
}

} // namespace

LogicalResult fp8c::train::shardParameters(ModuleOp module, int64_t worldSize,
                                           const FsdpOptions &options) {
  auto trainStep = module.lookupSymbol<func::FuncOp>(TrainDialect::getTrainStepFuncName());
  // The parameters: what the updates of @train_step update, by name.
  llvm::StringSet<> names;
  trainStep.walk([&](Operation *op) {
    if (!isa<AdamWUpdateOp, SGDUpdateOp>(op))
      return;
    if (auto arg = dyn_cast<BlockArgument>(op->getOperand(0)))
      if (auto name = trainStep.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                             TrainDialect::getNameAttrName()))
        names.insert(name.getValue());
  });
  for (auto func : module.getOps<func::FuncOp>()) {
    for (BlockArgument arg : func.getArguments()) {
      auto name =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), TrainDialect::getNameAttrName());
      if (name && names.contains(name.getValue()))
        gatherParameter(func, arg, worldSize, options);
    }
    if (func != trainStep)
      setFunctionType(func);
  }
  return shardOptimizerState(trainStep, worldSize);
}

LogicalResult fp8c::train::shardOptimizerState(func::FuncOp trainStep, int64_t worldSize) {
  SmallVector<GlobalNormOp> norms(trainStep.getOps<GlobalNormOp>());
  if (norms.size() != 1)
    return trainStep.emitError() << "fp8-insert-collectives: expected one train.global_norm "
                                    "over the gradients in @train_step, found "
                                 << norms.size();
  DenseMap<Value, Value> shardOf;
  llvm::StringSet<> accumulators =
      shardTrainStepAccumulators(trainStep, norms.front(), shardOf, worldSize);
  if (!accumulators.empty()) {
    auto module = trainStep->getParentOfType<ModuleOp>();
    auto accumulate = module.lookupSymbol<func::FuncOp>(TrainDialect::getAccumulateStepFuncName());
    if (!accumulate || failed(shardAccumulateStep(accumulate, accumulators, worldSize)))
      return accumulate ? failure()
                        : (trainStep.emitError() << "fp8-insert-collectives: @train_step "
                                                    "reads grad_accum.* but there is no "
                                                    "@accumulate_step",
                           failure());
  }
  // The full sums the sharded accumulation replaced, read only by the norm
  // and the updates rewritten below.
  SmallVector<Value> fullSums;
  for (auto [grad, shard] : shardOf)
    fullSums.push_back(grad);
  reduceScatterGradients(trainStep, norms.front(), shardOf, worldSize);
  normFromShards(norms.front(), shardOf, worldSize);
  SmallVector<Operation *> updates;
  for (Operation &op : trainStep.getBody().front())
    if (isa<AdamWUpdateOp, SGDUpdateOp>(op))
      updates.push_back(&op);
  for (Operation *update : updates)
    if (failed(shardUpdate(trainStep, update, shardOf, worldSize)))
      return failure();
  for (Value sum : fullSums) {
    Operation *scale = sum.getDefiningOp();
    Operation *add = scale->getOperand(0).getDefiningOp();
    if (!scale->use_empty())
      return scale->emitOpError() << "fp8-insert-collectives: the full accumulated gradient is "
                                     "still read after sharding its accumulator",
             failure();
    scale->erase();
    add->erase();
  }
  setFunctionType(trainStep);
  return success();
}
