//===- InsertCollectives.cpp - ddp: average gradients and loss across ranks ===//
//
// fp8-insert-collectives (Passes.td, docs/distributed.md). The collectives are
// tensor ops (train.all_reduce) rather than rt ops placed during lowering: the
// pass works on dataflow (which values are gradients, where backward produces
// them), and the memory planner then sees each averaged gradient as one more
// value with a lifetime, like any other op's result. fp8-lower-to-rt turns each
// into an rt.all_reduce, an `all_reduce` instruction of the program file.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/DistributedSettings.h"
#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/Train/Transforms/Passes.h"

#include "Sharding.h"

namespace fp8c::train {
#define GEN_PASS_DEF_INSERTCOLLECTIVES
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"
} // namespace fp8c::train

using namespace mlir;
using namespace fp8c::train;

namespace {

struct Distributed {
  int64_t worldSize = 1;
  bool shardOptimizer = false;  // zero1 and fsdp
  bool shardParameters = false; // fsdp
  FsdpOptions fsdp;
};

/// The world size and strategy train.config asks for (readDistributedSettings:
/// one rank without a distributed section).
FailureOr<Distributed> distributedOf(ModuleOp module) {
  FailureOr<fp8c::DistributedSettings> settings = fp8c::readDistributedSettings(module);
  if (failed(settings))
    return failure();
  if (!settings->present)
    return Distributed{};
  StringRef name = settings->strategy;
  if (name != "ddp" && name != "zero1" && name != "fsdp")
    return module.emitError() << TrainDialect::getConfigAttrName() << ": distributed strategy '"
                              << name << "' is unknown; ddp, zero1 or fsdp (docs/distributed.md)",
           failure();
  Distributed d{settings->worldSize, name != "ddp", name == "fsdp", FsdpOptions{}};
  if (!d.shardParameters)
    return d;
  // fsdp: fp8_all_gather "true", "false" or "auto" (absent: auto, priced on
  // fp8.device over nodes x gpus_per_node); reshard_after_forward (absent: true).
  FailureOr<fp8c::fp8::FP8Settings> fp8Settings = fp8c::fp8::readFP8Settings(module);
  if (failed(fp8Settings))
    return failure();
  using FP8Gather = FsdpOptions::FP8Gather;
  d.fsdp.fp8Gather = settings->fp8AllGather == "false"  ? FP8Gather::Never
                     : settings->fp8AllGather == "true" ? FP8Gather::Always
                                                        : FP8Gather::Auto;
  d.fsdp.reshardAfterForward = settings->reshardAfterForward;
  d.fsdp.topology = fp8c::cost::Topology{settings->nodes, settings->gpusPerNode};
  llvm::Expected<fp8c::cost::DeviceSpec> device = fp8c::cost::lookupDevice(fp8Settings->device);
  if (!device)
    return module.emitError() << "fp8-insert-collectives: fp8.device: "
                              << llvm::toString(device.takeError()),
           failure();
  d.fsdp.device = *device;
  return d;
}

AllReduceOp createAllReduce(OpBuilder &b, Location loc, Value v, Reduction reduction,
                            int64_t worldSize) {
  return AllReduceOp::create(b, loc, v.getType(), v, ReductionAttr::get(b.getContext(), reduction),
                             b.getI64IntegerAttr(worldSize));
}

AllReduceOp createAverage(OpBuilder &b, Location loc, Value v, int64_t worldSize) {
  return createAllReduce(b, loc, v, Reduction::avg, worldSize);
}

/// Delayed scaling: every amax pushed into a history is the largest over the
/// ranks (as Transformer Engine reduces amaxes), so every rank keeps the same
/// histories and scales, and the checkpoint holds the job's. Placed right
/// before the update, after backward: the amaxes travel at the end of the step.
void maxAmaxesAcrossRanks(func::FuncOp func, int64_t worldSize) {
  for (auto update : llvm::make_early_inc_range(func.getOps<fp8c::fp8::AmaxHistoryUpdateOp>())) {
    // fsdp's FP8 all-gather already took the max of a weight's shard amaxes.
    auto reduced = update.getAmax().getDefiningOp<AllReduceOp>();
    if (reduced && reduced.getReduction() == Reduction::max)
      continue;
    // Gradient accumulation's pending micro-batch amaxes: their max is what
    // reaches the history, reduced there.
    if (auto arg = dyn_cast<BlockArgument>(update.getHistory()))
      if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                        TrainDialect::getNameAttrName());
          name && name.getValue().starts_with("fp8.amax_pending."))
        continue;
    OpBuilder b(update);
    update.getAmaxMutable().assign(
        createAllReduce(b, update.getLoc(), update.getAmax(), Reduction::max, worldSize));
  }
}

/// Averages the returned `loss` (only the returned value: the backward pass
/// keeps using this rank's own).
void averageLoss(func::FuncOp func, int64_t worldSize) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, TrainDialect::getNameAttrName());
    if (!name || name.getValue() != "loss")
      continue;
    OpBuilder b(ret);
    ret.setOperand(i, createAverage(b, ret.getLoc(), ret.getOperand(i), worldSize));
  }
}

/// One average per gradient, right after backward produces it.
LogicalResult averageGradients(func::FuncOp trainStep, int64_t worldSize) {
  SmallVector<GlobalNormOp> norms(trainStep.getOps<GlobalNormOp>());
  if (norms.size() != 1)
    return trainStep.emitError() << "fp8-insert-collectives: expected one train.global_norm "
                                    "over the gradients in @train_step, found "
                                 << norms.size();
  SmallVector<Value> grads(norms.front()->getOperands());
  for (Value grad : grads) {
    Operation *producer = grad.getDefiningOp();
    OpBuilder b(trainStep.getContext());
    if (producer)
      b.setInsertionPointAfter(producer);
    else
      b.setInsertionPointToStart(&trainStep.getBody().front());
    AllReduceOp average = createAverage(b, grad.getLoc(), grad, worldSize);
    grad.replaceAllUsesExcept(average.getResult(), average);
  }
  return success();
}

struct InsertCollectivesPass : fp8c::train::impl::InsertCollectivesBase<InsertCollectivesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Distributed> distributed = distributedOf(module);
    if (failed(distributed))
      return signalPassFailure();
    const int64_t worldSize = distributed->worldSize;
    if (worldSize == 1)
      return;
    auto trainStep = module.lookupSymbol<func::FuncOp>(TrainDialect::getTrainStepFuncName());
    if (!trainStep) {
      module.emitError() << "fp8-insert-collectives: no @train_step: run fp8-autodiff first";
      return signalPassFailure();
    }
    // Already placed (a module run through the pass before): nothing to add.
    if (!trainStep.getOps<AllReduceOp>().empty())
      return;
    LogicalResult placed = distributed->shardParameters
                               ? shardParameters(module, worldSize, distributed->fsdp)
                           : distributed->shardOptimizer ? shardOptimizerState(trainStep, worldSize)
                                                         : averageGradients(trainStep, worldSize);
    if (failed(placed))
      return signalPassFailure();
    averageLoss(trainStep, worldSize);
    maxAmaxesAcrossRanks(trainStep, worldSize);
    if (auto accumulate =
            module.lookupSymbol<func::FuncOp>(TrainDialect::getAccumulateStepFuncName()))
      averageLoss(accumulate, worldSize);
  }
};

} // namespace
