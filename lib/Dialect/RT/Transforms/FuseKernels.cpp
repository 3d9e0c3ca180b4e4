//===- FuseKernels.cpp - group ops into rt.fusion (future kernels) --------===//
//
// `fp8-fuse-kernels`: KernelGrouping.cpp decides which ops share a kernel and
// where that kernel runs; this file builds one `rt.fusion` per group there:
//
//   1. Order the groups of a block by position and name them f<N>_<ops>.
//   2. For each group, clone its members into the fusion body (with the
//      reshapes and splat constants they read), make block arguments of what
//      they read from outside and results of what outside reads or the host
//      must see, replace the uses and erase the members.
//   3. Move every reshape left outside next to its operand where it now sits
//      before its operand's definition or after one of its users.
//
// No value changes type, so the program computes exactly the same numbers.
// docs/kernel-fusion.md describes the rules for users.
//
//===----------------------------------------------------------------------===//

#include "KernelGrouping.h"

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/RT/Transforms/Passes.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace fp8c::rt {
#define GEN_PASS_DEF_FUSEKERNELS
#include "fp8c/Dialect/RT/Transforms/Passes.h.inc"
} // namespace fp8c::rt

using namespace mlir;
using namespace fp8c;
using namespace fp8c::rt;

namespace {

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

/// `f<index>_` + the first member's op name + at most two more words: the
/// anchor's name when it is not first, then other op kinds in program order.
/// compute_scale always follows an amax and adds nothing.
std::string fusionName(const KernelGroup &group, unsigned index) {
  Operation *first = group.members.front();
  std::string name = "f" + std::to_string(index) + "_" + first->getName().stripDialect().str();
  SmallVector<OperationName> used = {first->getName()};
  unsigned wordsLeft = 2;
  auto append = [&](Operation *op) {
    StringRef kind = op->getName().stripDialect();
    unsigned words = kind.count('_') + 1;
    if (llvm::is_contained(used, op->getName()) || isa<fp8::ComputeScaleOp>(op) ||
        words > wordsLeft)
      return;
    wordsLeft -= words;
    used.push_back(op->getName());
    name += "_" + kind.str();
  };
  if (group.anchor && group.anchor != first) {
    // The anchor says what the kernel is; it may take more than two words.
    wordsLeft =
        std::max<unsigned>(wordsLeft, group.anchor->getName().stripDialect().count('_') + 1);
    append(group.anchor);
  }
  for (Operation *member : group.members)
    append(member);
  return name;
}

//===----------------------------------------------------------------------===//
// Building one fusion
//===----------------------------------------------------------------------===//

class FusionBuilder {
public:
  FusionBuilder(const KernelGroup &group, std::string name)
      : group(group), name(std::move(name)), members(group.members.begin(), group.members.end()) {}

  LogicalResult build();

private:
  bool isMember(Operation *op) const { return op && members.contains(op); }
  /// True when the value is computed inside the fusion: a member result, or a
  /// reshape / splat constant the body clones.
  bool isComputedInside(Value value) const {
    Value root = train::stripReshapes(value);
    return isMember(root.getDefiningOp()) || isClonableConstant(root);
  }
  /// True when an op outside the group reads `value`, directly or through
  /// reshape views outside the group.
  bool isReadOutside(Value value) const;
  /// True for values the host or a later pass must find in a buffer.
  bool mustBeResult(Value value) const;
  /// Clones the reshapes and constants that compute `value` into the body.
  void cloneView(Value value, OpBuilder &body);
  /// Erases reshapes outside the group that nothing reads any more.
  static void eraseDeadViews(Value value);

  const KernelGroup &group;
  std::string name;
  SmallPtrSet<Operation *, 16> members;
  IRMapping mapping;
  /// Splat constants the body cloned; erased when nothing else reads them.
  SetVector<Operation *> clonedConstants;
};

bool FusionBuilder::isReadOutside(Value value) const {
  for (Operation *user : value.getUsers()) {
    if (isMember(user))
      continue;
    if (isa<train::ReshapeOp>(user) && !isReadOutside(user->getResult(0)))
      continue;
    return true;
  }
  return false;
}

bool FusionBuilder::mustBeResult(Value value) const {
  // Metrics: the runtime logs every amax and scale.
  if (isa_and_present<fp8::AmaxOp, fp8::ComputeScaleOp>(value.getDefiningOp()))
    return true;
  // `--dump`: the gradient each optimizer update received.
  for (Operation *member : group.members) {
    Value grad;
    if (auto adamw = dyn_cast<train::AdamWUpdateOp>(member))
      grad = adamw.getGrad();
    else if (auto sgd = dyn_cast<train::SGDUpdateOp>(member))
      grad = sgd.getGrad();
    if (grad && train::stripReshapes(grad) == value)
      return true;
  }
  return isReadOutside(value);
}

void FusionBuilder::cloneView(Value value, OpBuilder &body) {
  if (mapping.contains(value))
    return;
  Operation *def = value.getDefiningOp();
  if (auto reshape = dyn_cast<train::ReshapeOp>(def))
    cloneView(reshape.getInput(), body);
  else
    clonedConstants.insert(def);
  body.clone(*def, mapping);
}

void FusionBuilder::eraseDeadViews(Value value) {
  for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
    if (!isa<train::ReshapeOp>(user))
      continue;
    eraseDeadViews(user->getResult(0));
    if (user->use_empty())
      user->erase();
  }
}

LogicalResult FusionBuilder::build() {
  // What the body reads from outside, in first-use order.
  SetVector<Value> inputs;
  for (Operation *member : group.members)
    for (Value operand : member->getOperands())
      if (!isComputedInside(operand))
        inputs.insert(operand);

  SmallVector<Value> results;
  for (Operation *member : group.members)
    for (Value result : member->getResults())
      if (mustBeResult(result))
        results.push_back(result);
  // Nothing reads the group (dead code the pipeline's canonicalize would have
  // removed): a fusion needs a result, so leave the ops as they are.
  if (results.empty())
    return success();

  SmallVector<Location> locs =
      llvm::map_to_vector(group.members, [](Operation *op) { return op->getLoc(); });
  OpBuilder builder(group.position);
  Location loc = builder.getFusedLoc(locs);
  auto fusion =
      FusionOp::create(builder, loc, ValueRange(results).getTypes(), name, inputs.getArrayRef());
  Block &body = fusion.getBody().emplaceBlock();
  for (Value input : inputs)
    mapping.map(input, body.addArgument(input.getType(), input.getLoc()));

  OpBuilder bodyBuilder = OpBuilder::atBlockEnd(&body);
  for (Operation *member : group.members) {
    for (Value operand : member->getOperands())
      cloneView(operand, bodyBuilder);
    bodyBuilder.clone(*member, mapping);
  }
  YieldOp::create(bodyBuilder, loc,
                  llvm::map_to_vector(results, [&](Value v) { return mapping.lookup(v); }));

  for (auto [old, replacement] : llvm::zip(results, fusion.getResults()))
    old.replaceAllUsesWith(replacement);
  // Later members first: what is left reading a member is another member or
  // a view of it that only members read.
  for (Operation *member : llvm::reverse(group.members)) {
    for (Value result : member->getResults())
      eraseDeadViews(result);
    if (!member->use_empty())
      return member->emitError("fp8-fuse-kernels: an op read outside its fusion was not "
                               "made a result (internal error)");
    member->erase();
  }
  for (Operation *constant : clonedConstants)
    if (constant->use_empty())
      constant->erase();
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes left outside
//===----------------------------------------------------------------------===//

/// Program order of a block's ops while placeReshapes moves reshapes. Block's
/// own order is recomputed in full at the first query after any move, which
/// made one recomputation per moved reshape: quadratic in the depth. Here an op
/// keeps its key; one moved after `def` gets def's key plus one more element,
/// smaller for later moves (the latest sits right after `def`), and one moved
/// to the front a first element below every other.
class ReshapeOrder {
public:
  explicit ReshapeOrder(Block &block) {
    int64_t i = 0;
    for (Operation &op : block)
      keys[&op] = {i++};
  }
  bool isBefore(Operation *a, Operation *b) const {
    const SmallVector<int64_t, 2> &ka = keys.find(a)->second, &kb = keys.find(b)->second;
    return std::lexicographical_compare(ka.begin(), ka.end(), kb.begin(), kb.end());
  }
  void movedAfter(Operation *op, Operation *def) {
    SmallVector<int64_t, 2> key = keys.find(def)->second;
    key.push_back(-(++moves));
    keys[op] = std::move(key);
  }
  void movedToFront(Operation *op) { keys[op] = {-(++moves)}; }

private:
  DenseMap<Operation *, SmallVector<int64_t, 2>> keys;
  int64_t moves = 0;
};

/// A reshape outside the fusions may now sit before the fusion that defines its
/// operand, or after a fusion that reads it: views cost nothing, so each such
/// reshape moves to just after its operand's definition. Grouping guaranteed
/// that all its readers come after that point.
LogicalResult placeReshapes(Block &block) {
  SmallVector<train::ReshapeOp> worklist;
  for (auto reshape : block.getOps<train::ReshapeOp>())
    worklist.push_back(reshape);
  ReshapeOrder order(block);
  // A move can only break reshapes of the moved one's result; each reshape
  // needs at most one move per reshape in front of it.
  size_t budget = worklist.size() * (worklist.size() + 1) + 1;
  while (!worklist.empty()) {
    if (budget-- == 0)
      return block.getParentOp()->emitError(
          "fp8-fuse-kernels: reshapes could not be ordered (internal error)");
    train::ReshapeOp reshape = worklist.pop_back_val();
    Operation *op = reshape;
    Operation *def = reshape.getInput().getDefiningOp();
    if (def && def->getBlock() != &block)
      def = nullptr;
    bool defOk = !def || order.isBefore(def, op);
    bool usesOk = llvm::all_of(reshape->getUsers(), [&](Operation *user) {
      Operation *local = block.findAncestorOpInBlock(*user);
      return !local || order.isBefore(op, local);
    });
    if (defOk && usesOk)
      continue;
    if (def) {
      op->moveAfter(def);
      order.movedAfter(op, def);
    } else {
      op->moveBefore(&block, block.begin());
      order.movedToFront(op);
    }
    for (Operation *user : reshape->getUsers())
      if (auto next = dyn_cast<train::ReshapeOp>(user))
        worklist.push_back(next);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

LogicalResult fuseBlock(Block &block, unsigned &nextIndex) {
  FailureOr<SmallVector<KernelGroup>> groups = groupKernels(block);
  if (failed(groups))
    return failure();
  // Numbered in program order, so names read in order in the IR.
  llvm::sort(*groups, [](const KernelGroup &a, const KernelGroup &b) {
    return a.position->isBeforeInBlock(b.position);
  });
  for (const KernelGroup &group : *groups)
    if (failed(FusionBuilder(group, fusionName(group, nextIndex++)).build()))
      return failure();
  return placeReshapes(block);
}

struct FuseKernelsPass : fp8c::rt::impl::FuseKernelsBase<FuseKernelsPass> {
  void runOnOperation() override {
    unsigned nextIndex = 0;
    for (Block &block : getOperation().getBody())
      if (failed(fuseBlock(block, nextIndex)))
        return signalPassFailure();
  }
};

} // namespace
