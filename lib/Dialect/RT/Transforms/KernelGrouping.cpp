//===- KernelGrouping.cpp - which ops share a generated kernel -----------===//
//
// One greedy walk in program order. Each op that may be in a fusion either
// joins the group of one of its producers or starts a group of its own; a join
// is taken only when the grown group can be placed at one point of the block
// where every value it reads from outside is already defined and no op outside
// reads its values yet. "Placed" counts every group at its position, so the
// check holds between groups as well: building every group at its position
// keeps every def before its uses.
//
//===----------------------------------------------------------------------===//

#include "KernelGrouping.h"

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/FP8/Transforms/ProducerFusion.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace fp8c;
using namespace fp8c::rt;

bool fp8c::rt::isClonableConstant(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  return dense && dense.isSplat();
}

namespace {

bool hasStaticTensorTypes(Operation *op) {
  auto isStaticTensor = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    return tensor && tensor.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStaticTensor) &&
         llvm::all_of(op->getResultTypes(), isStaticTensor);
}

/// Scalar arithmetic the kernels support (docs/program-format.md): elementwise
/// arith ops on 0-d tensors.
bool isScalarArith(Operation *op) {
  if (!isa<arith::ArithDialect>(op->getDialect()) || isa<arith::ConstantOp>(op) ||
      !op->hasTrait<OpTrait::Elementwise>())
    return false;
  auto isScalarTensor = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    return tensor && tensor.getRank() == 0;
  };
  return llvm::all_of(op->getOperandTypes(), isScalarTensor) &&
         llvm::all_of(op->getResultTypes(), isScalarTensor);
}

int64_t numElements(Value value) { return cast<ShapedType>(value.getType()).getNumElements(); }

} // namespace

FusionRole fp8c::rt::getFusionRole(Operation *op) {
  if (op->getNumRegions() != 0 || op->getNumResults() == 0 || !isMemoryEffectFree(op) ||
      !hasStaticTensorTypes(op))
    return FusionRole::Outside;
  // GEMMs run in cuBLASLt; reshapes and constants are cloned where needed.
  if (isa<train::LinearOp, train::MatmulOp, train::BatchMatmulOp, fp8::ScaledMatmulOp,
          train::ReshapeOp, arith::ConstantOp, train::ParamOp, train::InputOp>(op))
    return FusionRole::Outside;

  if (auto amax = dyn_cast<fp8::AmaxOp>(op))
    return amax.getFusedIntoProducer() || fp8::getFusibleProducer(amax.getInput())
               ? FusionRole::ProducerEpilogue
               : FusionRole::Anchor;
  if (auto quantize = dyn_cast<fp8::QuantizeOp>(op))
    return quantize.getFusedIntoProducer() ? FusionRole::ProducerEpilogue : FusionRole::Pointwise;
  if (auto castTranspose = dyn_cast<fp8::CastTransposeOp>(op))
    return castTranspose.getFusedIntoProducer() ? FusionRole::ProducerEpilogue : FusionRole::Anchor;
  if (isa<fp8::AmaxFromHistoryOp>(op))
    return FusionRole::FollowerReduction;

  if (isa<train::ConvertOp, train::AddOp, train::MulOp, train::MulScalarOp, train::GeluOp,
          train::SiluOp, train::Relu2Op, train::SwigluOp, train::GeluGradOp, train::SiluGradOp,
          train::Relu2GradOp, train::SwigluGradOp, train::AdamWUpdateOp, train::SGDUpdateOp,
          train::ClipCoefOp, fp8::DequantizeOp, fp8::ComputeScaleOp>(op) ||
      isScalarArith(op))
    return FusionRole::Pointwise;

  if (isa<train::LayerNormOp, train::RMSNormOp, train::LayerNormGradOp, train::RMSNormGradOp,
          train::AttentionOp, train::AttentionGradOp, train::SoftmaxCrossEntropyOp,
          train::SoftmaxCrossEntropyGradOp, train::EmbeddingOp, train::EmbeddingGradOp,
          train::ReduceSumOp, train::GlobalNormOp, train::SliceOp, train::SliceGradOp,
          train::TransposeOp, train::LRScheduleOp, fp8::AmaxHistoryUpdateOp>(op))
    return FusionRole::Anchor;
  return FusionRole::Outside;
}

namespace {

class Grouper {
public:
  explicit Grouper(Block &block) : block(block) {}

  LogicalResult run();
  SmallVector<KernelGroup> takeGroups();

private:
  /// Where `op` (an op of the block) will be once groups are built.
  Operation *placeOf(Operation *op) const {
    auto it = groupOf.find(op);
    return it == groupOf.end() ? op : groups[it->second].position;
  }

  /// The op of this block that is or contains `op`; null outside the block.
  Operation *inBlock(Operation *op) const { return block.findAncestorOpInBlock(*op); }

  bool definedBefore(Value value, Operation *position) const;
  bool usedOnlyAfter(Value value, const SmallPtrSetImpl<Operation *> &members,
                     Operation *position) const;
  bool canPlace(ArrayRef<Operation *> members, Operation *position) const;

  /// The groups `op` may join, most recently placed first.
  SmallVector<unsigned> candidates(Operation *op, FusionRole role) const;
  /// Adds `op` to group `index` if a legal place exists.
  bool tryJoin(unsigned index, Operation *op, FusionRole role);
  void startGroup(Operation *op, FusionRole role);

  Block &block;
  SmallVector<KernelGroup> groups;
  DenseMap<Operation *, unsigned> groupOf;
};

bool Grouper::definedBefore(Value value, Operation *position) const {
  Operation *def = value.getDefiningOp();
  if (!def)
    return true; // a block argument
  Operation *local = inBlock(def);
  if (!local)
    return true; // defined in a dominating block
  Operation *place = placeOf(local);
  return place != position && place->isBeforeInBlock(position);
}

bool Grouper::usedOnlyAfter(Value value, const SmallPtrSetImpl<Operation *> &members,
                            Operation *position) const {
  for (Operation *user : value.getUsers()) {
    if (members.contains(user))
      continue;
    // A reshape outside the group is a view that moves next to its operand;
    // what matters is who reads the view.
    if (isa<train::ReshapeOp>(user)) {
      if (!usedOnlyAfter(user->getResult(0), members, position))
        return false;
      continue;
    }
    Operation *local = inBlock(user);
    if (!local)
      continue; // a use in another block, dominated by this whole block
    Operation *place = placeOf(local);
    if (place == position || !position->isBeforeInBlock(place))
      return false;
  }
  return true;
}

bool Grouper::canPlace(ArrayRef<Operation *> members, Operation *position) const {
  SmallPtrSet<Operation *, 16> memberSet(members.begin(), members.end());
  for (Operation *member : members) {
    for (Value operand : member->getOperands()) {
      Value root = train::stripReshapes(operand);
      if (Operation *def = root.getDefiningOp(); def && memberSet.contains(def))
        continue; // computed in the kernel (through cloned reshapes)
      if (isClonableConstant(root))
        continue; // cloned into the kernel
      // Read from outside. A reshape view of it moves next to its root after
      // the fusions are built, so the root is what must come first.
      if (!definedBefore(root, position))
        return false;
    }
    for (Value result : member->getResults())
      if (!usedOnlyAfter(result, memberSet, position))
        return false;
  }
  return true;
}

SmallVector<unsigned> Grouper::candidates(Operation *op, FusionRole role) const {
  SmallVector<unsigned> result;
  auto add = [&](Operation *producer) {
    if (!producer)
      return;
    auto it = groupOf.find(producer);
    if (it != groupOf.end() && !llvm::is_contained(result, it->second))
      result.push_back(it->second);
  };

  switch (role) {
  case FusionRole::Outside:
    break;
  case FusionRole::ProducerEpilogue:
    // The one kernel that fp8-fuse-scaling decided writes this op's input.
    add(fp8::getFusibleProducer(op->getOperand(0)));
    return result;
  case FusionRole::FollowerReduction:
    add(train::stripReshapes(op->getOperand(0)).getDefiningOp());
    return result;
  case FusionRole::Pointwise:
  case FusionRole::Anchor: {
    int64_t count = numElements(op->getResult(0));
    for (Value operand : op->getOperands()) {
      if (numElements(operand) != count)
        continue;
      Operation *producer = train::stripReshapes(operand).getDefiningOp();
      if (!producer)
        continue;
      auto it = groupOf.find(producer);
      if (it == groupOf.end())
        continue;
      if (role == FusionRole::Anchor && groups[it->second].anchor)
        continue; // one anchor per kernel
      add(producer);
    }
    break;
  }
  }
  // The producer placed last is the likeliest to be legal and the one whose
  // output is still in cache.
  llvm::stable_sort(result, [&](unsigned a, unsigned b) {
    return groups[b].position->isBeforeInBlock(groups[a].position);
  });
  return result;
}

bool Grouper::tryJoin(unsigned index, Operation *op, FusionRole role) {
  KernelGroup &group = groups[index];
  SmallVector<Operation *> members(group.members);
  members.push_back(op);
  // At the op itself (the group moves down to it) or where the group is (the
  // op moves up to it, which an epilogue whose operands come from the group
  // can always do).
  for (Operation *position : {op, group.position}) {
    if (!canPlace(members, position))
      continue;
    group.members.push_back(op);
    group.position = position;
    if (role == FusionRole::Anchor)
      group.anchor = op;
    groupOf[op] = index;
    return true;
  }
  return false;
}

void Grouper::startGroup(Operation *op, FusionRole role) {
  KernelGroup group;
  group.members.push_back(op);
  group.position = op;
  if (role == FusionRole::Anchor)
    group.anchor = op;
  groupOf[op] = groups.size();
  groups.push_back(std::move(group));
}

LogicalResult Grouper::run() {
  for (Operation &op : block) {
    FusionRole role = getFusionRole(&op);
    if (role == FusionRole::Outside)
      continue;
    bool joined = false;
    for (unsigned index : candidates(&op, role))
      if ((joined = tryJoin(index, &op, role)))
        break;
    if (joined)
      continue;

    // What fp8-fuse-scaling marked must run in the producer's kernel: the cost
    // model charged nothing for it.
    bool marked = false;
    if (auto amax = dyn_cast<fp8::AmaxOp>(op))
      marked = amax.getFusedIntoProducer();
    else if (auto quantize = dyn_cast<fp8::QuantizeOp>(op))
      marked = quantize.getFusedIntoProducer();
    else if (auto castTranspose = dyn_cast<fp8::CastTransposeOp>(op))
      marked = castTranspose.getFusedIntoProducer();
    if (marked) {
      InFlightDiagnostic diag = op.emitError()
                                << "marked fused_into_producer, but cannot be fused into the "
                                   "kernel that produces its input";
      if (Operation *producer = fp8::getFusibleProducer(op.getOperand(0)))
        diag.attachNote(producer->getLoc()) << "producer";
      return failure();
    }
    // A fusible amax that no producer group can take reduces on its own.
    startGroup(&op, role == FusionRole::ProducerEpilogue ? FusionRole::Anchor : role);
  }
  return success();
}

SmallVector<KernelGroup> Grouper::takeGroups() {
  SmallVector<KernelGroup> result;
  for (KernelGroup &group : groups)
    if (group.members.size() > 1)
      result.push_back(std::move(group));
  return result;
}

} // namespace

FailureOr<SmallVector<KernelGroup>> fp8c::rt::groupKernels(Block &block) {
  Grouper grouper(block);
  if (failed(grouper.run()))
    return failure();
  return grouper.takeGroups();
}
