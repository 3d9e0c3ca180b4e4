//===- FuseScaling.cpp - fuse amax, casts and transposes ------------------===//
//
// `fp8-fuse-scaling` runs after `fp8-insert-casts`, which quantizes every operand
// of every FP8 GEMM on its own: amax, compute_scale, then quantize or
// cast_transpose (only its transposed result used). This pass removes the
// repeated and avoidable work, in four steps:
//
//   1. Merge identical fp8 ops per block, so that two amax + compute_scale
//      chains of one tensor become one and its scales one SSA value.
//   2. Greedy patterns on the fp8 ops: the dialect's folds and canonicalization
//      patterns, and "amax of a scaled_matmul result -> the GEMM's own amax
//      result" (cuBLASLt's amax-D epilogue).
//   3. Mark work that the producing kernel can do in its epilogue
//      (`fused_into_producer`): amax reductions of tensors written by
//      fp8c-generated kernels, and casts whose scales are known before that
//      kernel runs (delayed scaling).
//   4. Merge identical ops again (folding and marking may have made more ops
//      equal), then each quantize(X, s) into a cast_transpose(X, s) of the same
//      recipe, block and FP8 type: one op feeds the GEMM that needs X and the
//      one that needs Xᵀ. That is how a weight is cast once per step for
//      forward and dgrad, and an activation or gradient once for its two GEMMs.
//
// No step changes a value the program computes; markers only say where work
// runs. docs/fp8-passes.md describes the pass for users.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/FP8/Transforms/Passes.h"
#include "fp8c/Dialect/FP8/Transforms/ProducerFusion.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace fp8c::fp8 {
#define GEN_PASS_DEF_FUSESCALING
#include "fp8c/Dialect/FP8/Transforms/Passes.h.inc"
} // namespace fp8c::fp8

using namespace mlir;
using namespace fp8c;
using namespace fp8c::fp8;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

bool isFP8Op(Operation *op) { return isa<FP8Dialect>(op->getDialect()); }

/// Hashing and equality of ops by name, operands, attributes and result types,
/// ignoring locations: what CSE uses, restricted here to fp8 ops.
struct EquivalentOpInfo : llvm::DenseMapInfo<Operation *> {
  static unsigned getHashValue(const Operation *op) {
    return OperationEquivalence::computeHash(
        const_cast<Operation *>(op), OperationEquivalence::directHashValue,
        OperationEquivalence::ignoreHashValue, OperationEquivalence::IgnoreLocations);
  }
  static bool isEqual(const Operation *lhs, const Operation *rhs) {
    if (lhs == rhs)
      return true;
    if (lhs == getEmptyKey() || lhs == getTombstoneKey() || rhs == getEmptyKey() ||
        rhs == getTombstoneKey())
      return false;
    return OperationEquivalence::isEquivalentTo(const_cast<Operation *>(lhs),
                                                const_cast<Operation *>(rhs),
                                                OperationEquivalence::IgnoreLocations);
  }
};

//===----------------------------------------------------------------------===//
// Steps 1 and 4: merging
//===----------------------------------------------------------------------===//

/// Replaces every fp8 op by an identical earlier one of its block. Visiting in
/// order makes the merge transitive: once two amax ops are one, the
/// compute_scale ops reading them become identical too.
void mergeIdenticalFP8Ops(Operation *root) {
  root->walk([](Block *block) {
    llvm::DenseSet<Operation *, EquivalentOpInfo> seen;
    for (Operation &op : llvm::make_early_inc_range(*block)) {
      if (!isFP8Op(&op) || op.getNumRegions() != 0 || !isMemoryEffectFree(&op))
        continue;
      auto [it, inserted] = seen.insert(&op);
      if (inserted)
        continue;
      op.replaceAllUsesWith(*it);
      op.erase();
    }
  });
}

/// Program order of the ops while step 4 moves some of them. Block's own
/// order is recomputed in full at the first query after any move, which made
/// one recomputation per merge: quadratic in the depth. Here an op keeps its
/// index; the ops moved before a quantize that is then erased take that
/// quantize's index and a sub-index, in their new order.
class OpOrder {
public:
  explicit OpOrder(Operation *root) {
    root->walk([&](Block *block) {
      int64_t i = 0;
      for (Operation &op : *block)
        keys[&op] = {i++, 0};
    });
  }

  /// DominanceInfo's answer, with positions within one block from this order.
  bool properlyDominates(Operation *a, Operation *b, DominanceInfo &dom) const {
    if (a->getBlock() != b->getBlock())
      return dom.properlyDominates(a, b);
    return keys.lookup(a) < keys.lookup(b);
  }
  bool properlyDominates(Value value, Operation *point, DominanceInfo &dom) const {
    if (auto arg = dyn_cast<BlockArgument>(value); arg && arg.getOwner() == point->getBlock())
      return true;
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != point->getBlock())
      return dom.properlyDominates(value, point);
    return keys.lookup(def) < keys.lookup(point);
  }

  /// `moved`, in order, now sit where `erased` was.
  void replaceByMoved(Operation *erased, ArrayRef<Operation *> moved) {
    int64_t index = keys.lookup(erased).first;
    for (auto [i, op] : llvm::enumerate(moved))
      keys[op] = {index, int64_t(i) + 1};
    keys.erase(erased);
  }

private:
  DenseMap<Operation *, std::pair<int64_t, int64_t>> keys;
};

/// Collects, in an order that keeps definitions before uses, the ops to move
/// before `point` so that `value` dominates it: side-effect-free ops of
/// `point`'s block and, recursively, those defining their operands. Fails when
/// a definition cannot move (another block, an effect, a region).
LogicalResult collectHoist(Value value, Operation *point, const OpOrder &order, DominanceInfo &dom,
                           llvm::SetVector<Operation *> &toMove) {
  if (order.properlyDominates(value, point, dom))
    return success();
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() || def->getNumRegions() != 0 ||
      !isMemoryEffectFree(def))
    return failure();
  if (toMove.contains(def))
    return success();
  for (Value operand : def->getOperands())
    if (failed(collectHoist(operand, point, order, dom, toMove)))
      return failure();
  toMove.insert(def);
  return success();
}

/// Makes `quantize` use the first result of `castTranspose`, which computes the
/// same value, moving the cast_transpose (and the scale computations only it
/// reads, such as a rowwise `transposed_scale`) up when the quantize comes first.
/// Returns false, changing nothing, when that is impossible.
bool mergeIntoCastTranspose(QuantizeOp quantize, CastTransposeOp castTranspose, OpOrder &order,
                            DominanceInfo &dom) {
  if (!order.properlyDominates(castTranspose, quantize, dom)) {
    if (castTranspose->getBlock() != quantize->getBlock())
      return false;
    llvm::SetVector<Operation *> toMove;
    for (Value operand : castTranspose->getOperands())
      if (failed(collectHoist(operand, quantize, order, dom, toMove)))
        return false;
    for (Operation *op : toMove)
      op->moveBefore(quantize);
    castTranspose->moveBefore(quantize);
    toMove.insert(castTranspose);
    order.replaceByMoved(quantize, toMove.getArrayRef());
  }
  quantize.replaceAllUsesWith(castTranspose.getResult());
  quantize.erase();
  return true;
}

/// quantize(X, s) and cast_transpose(X, s) with the same recipe, block and FP8
/// type compute the same first result: keep the cast_transpose for both.
void mergeQuantizesIntoCastTransposes(Operation *root) {
  SmallVector<CastTransposeOp> castTransposes;
  root->walk([&](CastTransposeOp op) { castTransposes.push_back(op); });
  DominanceInfo dom(root);
  OpOrder order(root);
  for (CastTransposeOp castTranspose : castTransposes) {
    SmallVector<QuantizeOp> quantizes;
    for (Operation *user : castTranspose.getInput().getUsers())
      if (auto quantize = dyn_cast<QuantizeOp>(user))
        if (quantize.getScale() == castTranspose.getScale() &&
            quantize.getRecipe() == castTranspose.getRecipe() &&
            quantize.getBlockAttr() == castTranspose.getBlockAttr() &&
            quantize.getResult().getType() == castTranspose.getResult().getType() &&
            quantize->getDiscardableAttrDictionary() ==
                castTranspose->getDiscardableAttrDictionary())
          quantizes.push_back(quantize);
    for (QuantizeOp quantize : quantizes)
      mergeIntoCastTranspose(quantize, castTranspose, order, dom);
  }
}

//===----------------------------------------------------------------------===//
// Step 2: amax from the GEMM epilogue
//===----------------------------------------------------------------------===//

/// amax(y) of a high-precision scaled_matmul result y (looking through
/// reshapes), tensorwise or delayed -> the GEMM's `amax` result, which
/// cuBLASLt's amax-D epilogue computes while writing y. A GEMM without that
/// result is rebuilt with it. Rowwise and blockwise amax have no epilogue
/// counterpart and stay.
struct AmaxFromGemmEpilogue : OpRewritePattern<AmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AmaxOp amax, PatternRewriter &rewriter) const override {
    if (amax.getRecipe() != Recipe::tensorwise && amax.getRecipe() != Recipe::delayed)
      return rewriter.notifyMatchFailure(amax, "not a per-tensor amax");
    auto result = dyn_cast<OpResult>(train::stripReshapes(amax.getInput()));
    auto gemm = result ? dyn_cast<ScaledMatmulOp>(result.getOwner()) : ScaledMatmulOp();
    if (!gemm || result != gemm.getResult())
      return rewriter.notifyMatchFailure(amax, "input is not a scaled_matmul result");
    if (getFP8Max(gemm.getResult().getType().getElementType()))
      return rewriter.notifyMatchFailure(amax, "an FP8 result's amax is taken before scaling");

    Value gemmAmax = gemm.getAmax();
    if (!gemmAmax) {
      rewriter.setInsertionPoint(gemm);
      ScaledMatmulOp withAmax = cloneScaledMatmul(rewriter, gemm, /*withAmax=*/true);
      rewriter.replaceAllUsesWith(gemm.getResult(), withAmax.getResult());
      rewriter.eraseOp(gemm);
      gemmAmax = withAmax.getAmax();
    }
    Value input = amax.getInput();
    rewriter.replaceOp(amax, gemmAmax);
    // Reshapes that only fed the amax are dead now.
    while (auto reshape = input.getDefiningOp<train::ReshapeOp>()) {
      if (!reshape->use_empty())
        break;
      input = reshape.getInput();
      rewriter.eraseOp(reshape);
    }
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Step 3: producer fusion markers
//===----------------------------------------------------------------------===//

/// True when every scale operand of a cast is computed before `producer` runs,
/// so the producer's kernel can apply it (delayed scaling: the scale comes from
/// earlier steps' amax history).
bool scalesKnownBefore(Operation *cast, Operation *producer, DominanceInfo &dom) {
  return llvm::all_of(cast->getOperands().drop_front(),
                      [&](Value scale) { return dom.properlyDominates(scale, producer); });
}

void markProducerFusion(Operation *root) {
  DominanceInfo dom(root);
  root->walk([&](Operation *op) {
    if (auto amax = dyn_cast<AmaxOp>(op)) {
      if (getFusibleProducer(amax.getInput()))
        amax.setFusedIntoProducer(true);
    } else if (auto quantize = dyn_cast<QuantizeOp>(op)) {
      Operation *producer = getFusibleProducer(quantize.getInput());
      if (producer && scalesKnownBefore(op, producer, dom))
        quantize.setFusedIntoProducer(true);
    } else if (auto castTranspose = dyn_cast<CastTransposeOp>(op)) {
      Operation *producer = getFusibleProducer(castTranspose.getInput());
      if (producer && scalesKnownBefore(op, producer, dom))
        castTranspose.setFusedIntoProducer(true);
    }
  });
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct FuseScalingPass : fp8c::fp8::impl::FuseScalingBase<FuseScalingPass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    set.add<AmaxFromGemmEpilogue>(context);
    for (RegisteredOperationName name : context->getRegisteredOperations())
      if (isa<FP8Dialect>(name.getDialect()))
        name.getCanonicalizationPatterns(set, context);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    Operation *root = getOperation();

    // 1. One amax / compute_scale / cast per distinct computation.
    mergeIdenticalFP8Ops(root);

    // 2. Folds, canonicalizations and the GEMM epilogue's amax, on fp8 ops only:
    //    the pass leaves train ops to the pipeline's canonicalize.
    SmallVector<Operation *> fp8Ops;
    root->walk([&](Operation *op) {
      if (isFP8Op(op))
        fp8Ops.push_back(op);
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(fp8Ops, patterns, config))) {
      root->emitError("fp8-fuse-scaling: rewrite patterns did not converge");
      return signalPassFailure();
    }

    // 3. What the producing kernels compute in their epilogues. Markers depend
    //    only on an op's operands, so equal ops get equal markers.
    markProducerFusion(root);

    // 4. One op per distinct computation again, then one cast_transpose per
    //    tensor and scale.
    mergeIdenticalFP8Ops(root);
    mergeQuantizesIntoCastTransposes(root);
  }

  FrozenRewritePatternSet patterns;
};

} // namespace

//===----------------------------------------------------------------------===//
// Fusible producers (ProducerFusion.h)
//===----------------------------------------------------------------------===//

/// Fusible: ops whose kernel fp8c generates (the runtime has NVRTC kernels and
/// cuBLASLt, no other library) and that write each element of the result once,
/// from registers, with its final value: norms, activations, residual and other
/// pointwise ops (mul, mul_scalar), precision conversions, the embedding
/// gather (each output row is a copied table row), slice_grad (a zero fill
/// plus a copy), the softmax cross-entropy gradient, and the pointwise and norm
/// gradients (only the input gradient of a norm: its weight and bias gradients
/// are reductions over rows). Not fusible: function arguments (no kernel of
/// this step writes them), GEMMs (an FP8 GEMM's amax comes from its epilogue,
/// cuBLASLt's amax-D; bf16 GEMMs have none), attention and its gradient (how
/// they are lowered, fused kernel or GEMMs and a softmax, is not decided; a
/// flash-style backward accumulates dq across key blocks), transposes, slices,
/// and reductions such as embedding_grad and reduce_sum.
Operation *fp8c::fp8::getFusibleProducer(Value value) {
  auto result = dyn_cast<OpResult>(train::stripReshapes(value));
  if (!result)
    return nullptr;
  Operation *op = result.getOwner();
  if (isa<train::LayerNormOp, train::RMSNormOp, train::GeluOp, train::SiluOp, train::Relu2Op,
          train::SwigluOp, train::AddOp, train::MulOp, train::MulScalarOp, train::ConvertOp,
          train::EmbeddingOp, train::SliceGradOp, train::GeluGradOp, train::SiluGradOp,
          train::Relu2GradOp, train::SwigluGradOp, train::SoftmaxCrossEntropyGradOp>(op))
    return op;
  if (isa<train::LayerNormGradOp, train::RMSNormGradOp>(op) && result.getResultNumber() == 0)
    return op;
  return nullptr;
}
