//===- ChunkLoss.cpp - lm_head and cross-entropy over chunks of tokens ----===//
//
// fp8-chunk-loss (Passes.td, docs/memory-plan.md "Chunked loss"). Runs in the
// fp8 stage after the GEMM decisions and casts, so a chunk's GEMMs are plain
// bf16 train ops carrying the lm_head's decisions, and the memory planner sees
// chunk c's logits die before chunk c+1's are written.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/Transforms/ChunkLoss.h"
#include "fp8c/Analysis/DistributedSettings.h"
#include "fp8c/Dialect/Train/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

namespace fp8c::train {
#define GEN_PASS_DEF_CHUNKLOSS
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"
} // namespace fp8c::train

using namespace mlir;
using namespace fp8c::train;

namespace {

/// The lm_head, the loss and the three GEMMs that fp8-autodiff emits for it
/// when they run in bf16.
struct LossGroup {
  LinearOp logits;
  SoftmaxCrossEntropyOp loss;
  SoftmaxCrossEntropyGradOp grad;
  ReshapeOp gradView; // dlogits as [tokens, vocab]
  MatmulOp dgrad, wgrad;
};

/// Why the GEMMs producing `logits` are not a bf16 train.linear.
std::string notLinearReason(Value logits, ModuleOp module) {
  Operation *producer = logits.getDefiningOp();
  while (auto reshape = dyn_cast_or_null<ReshapeOp>(producer))
    producer = reshape.getInput().getDefiningOp();
  if (producer && producer->getDialect()->getNamespace() == "fp8") {
    auto config = module->getAttrOfType<DictionaryAttr>(TrainDialect::getConfigAttrName());
    auto fp8 = config ? config.getAs<DictionaryAttr>("fp8") : nullptr;
    auto recipe = fp8 ? fp8.getAs<StringAttr>("recipe") : nullptr;
    if (recipe && recipe.getValue() == "delayed")
      return "lm_head runs in FP8 (recipe delayed): not built (its scales come from history, "
             "so chunks could share them, with the amax the largest of the chunks')";
    return "lm_head runs in FP8" +
           (recipe ? " (recipe " + recipe.getValue().str() + ")" : std::string()) +
           ": the logits gradient's scale needs the amax of the whole gradient "
           "(keep lm_head in bf16 with fp8.filter_fqns: [lm_head] to chunk it)";
  }
  return "the logits are not the result of a train.linear";
}

/// Matches the group around `grad`, or says why it does not match.
FailureOr<LossGroup> matchGroup(SoftmaxCrossEntropyGradOp grad, ModuleOp module,
                                std::string &reason) {
  LossGroup g;
  g.grad = grad;
  g.logits = grad.getLogits().getDefiningOp<LinearOp>();
  if (!g.logits)
    return reason = notLinearReason(grad.getLogits(), module), failure();
  if (g.logits.getBias())
    return reason = "lm_head has a bias", failure();
  if (grad.getIgnoreIndex())
    return reason = "ignore_index: the mean's divisor counts the targets of every chunk", failure();
  for (Operation *user : g.logits->getUsers()) {
    if (auto loss = dyn_cast<SoftmaxCrossEntropyOp>(user); loss && !g.loss)
      g.loss = loss;
    else if (user != grad)
      return reason = "the logits have another use than the loss and its gradient", failure();
  }
  if (!g.loss || g.loss.getTargets() != grad.getTargets() || g.loss.getIgnoreIndex())
    return reason = "no matching train.softmax_cross_entropy", failure();
  if (!grad->hasOneUse() || !(g.gradView = dyn_cast<ReshapeOp>(*grad->getUsers().begin())))
    return reason = "the logits gradient is not read as [tokens, vocab]", failure();
  for (Operation *user : g.gradView->getUsers()) {
    auto matmul = dyn_cast<MatmulOp>(user);
    if (!matmul || matmul.getLhs() != g.gradView || matmul.getTransposeRhs())
      return reason = "the logits gradient has another use than lm_head's dgrad and wgrad",
             failure();
    (matmul.getTransposeLhs() ? g.wgrad : g.dgrad) = matmul;
  }
  if (!g.dgrad || !g.wgrad || std::distance(g.gradView->user_begin(), g.gradView->user_end()) != 2)
    return reason = "lm_head's dgrad or wgrad is missing", failure();
  auto hView = g.wgrad.getRhs().getDefiningOp<ReshapeOp>();
  Value h = hView ? hView.getInput() : g.wgrad.getRhs();
  if (g.dgrad.getRhs() != g.logits.getWeight() || h != g.logits.getInput())
    return reason = "lm_head's dgrad or wgrad reads other operands", failure();
  for (Operation *user : g.loss->getUsers())
    if (user->getBlock() != grad->getBlock() || user->isBeforeInBlock(grad))
      return reason = "the loss is read before its gradient is computed", failure();
  return g;
}

/// `gemm`'s fp8.gemm annotation with the chunk's token count in place of the
/// whole batch's (M of forward and dgrad, K of wgrad); the decision is kept.
void copyGemmAttrs(Operation *from, Operation *to, StringRef tokenDim, int64_t chunkTokens) {
  for (NamedAttribute attr : from->getDiscardableAttrs()) {
    auto dict = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!dict || !dict.get(tokenDim)) {
      to->setAttr(attr.getName(), attr.getValue());
      continue;
    }
    NamedAttrList entries(dict);
    entries.set(tokenDim, IntegerAttr::get(IntegerType::get(from->getContext(), 64), chunkTokens));
    to->setAttr(attr.getName(), entries.getDictionary(from->getContext()));
  }
}

/// auto's chunk: the fewest chunks, a power of two (so that weighting each
/// chunk's mean by 1/chunks is exact), whose logits fit kAutoChunkLogitsBytes;
/// else the largest divisor of `tokens` that fits.
int64_t autoChunkTokens(int64_t tokens, int64_t tokenBytes, int64_t maxChunkBytes) {
  for (int64_t chunks = 2; tokens % chunks == 0; chunks *= 2)
    if ((tokens / chunks) * tokenBytes <= maxChunkBytes)
      return tokens / chunks;
  int64_t best = 1;
  for (int64_t d = 1; d <= tokens; ++d)
    if (tokens % d == 0 && d * tokenBytes <= maxChunkBytes)
      best = d;
  return best;
}

/// The token count of a `[..., vocab]` logits tensor and the bytes of one
/// token's logits.
struct LogitsShape {
  int64_t tokens, tokenBytes;
};
LogitsShape logitsShapeOf(Value logits) {
  auto type = cast<RankedTensorType>(logits.getType());
  int64_t vocab = type.getShape().back();
  return {type.getNumElements() / std::max<int64_t>(vocab, 1),
          vocab * int64_t(type.getElementTypeBitWidth() / 8)};
}

/// The `loss_chunking` attribute of a chunked loss (fp8c --memory-report).
DictionaryAttr chunkingDecision(Builder &b, int64_t chunkTokens, LogitsShape shape,
                                bool wgradIntoAccumulator) {
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  NamedAttrList decision;
  decision.append("chunks", i64(shape.tokens / chunkTokens));
  decision.append("chunk_tokens", i64(chunkTokens));
  decision.append("tokens", i64(shape.tokens));
  decision.append("chunk_logits_bytes", i64(chunkTokens * shape.tokenBytes));
  decision.append("logits_bytes", i64(shape.tokens * shape.tokenBytes));
  if (wgradIntoAccumulator)
    decision.append("wgrad_into_accumulator", b.getUnitAttr());
  return decision.getDictionary(b.getContext());
}

/// Tokens [first, first + count) of `targets` ([..., seq]) as a [count] tensor.
/// The whole rows that hold them are sliced first: a reshape of the targets
/// argument itself would be a second view of an input buffer, which the
/// program file cannot name twice; a slice is a small scratch copy.
Value sliceTokens(OpBuilder &b, Location loc, Value targets, int64_t first, int64_t count) {
  auto type = cast<RankedTensorType>(targets.getType());
  int64_t rowTokens = type.getNumElements() / type.getShape().front(); // per index of dim 0
  int64_t firstRow = first / rowTokens, endRow = (first + count + rowTokens - 1) / rowTokens;
  SmallVector<int64_t> shape(type.getShape());
  shape[0] = endRow - firstRow;
  Value rows = SliceOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), targets,
                               b.getI64IntegerAttr(0), b.getI64IntegerAttr(firstRow),
                               b.getI64IntegerAttr(endRow - firstRow));
  int64_t rowsTokens = (endRow - firstRow) * rowTokens;
  auto flatType = RankedTensorType::get({rowsTokens}, type.getElementType());
  Value flat = ReshapeOp::create(b, loc, flatType, rows);
  if (rowsTokens == count)
    return flat;
  return SliceOp::create(b, loc, RankedTensorType::get({count}, type.getElementType()), flat,
                         b.getI64IntegerAttr(0), b.getI64IntegerAttr(first - firstRow * rowTokens),
                         b.getI64IntegerAttr(count));
}

/// Chunk c's logits and mean loss over tokens [c*chunkTokens, (c+1)*chunkTokens)
/// of `hFlat` ([tokens, width]) and `targets`.
struct ForwardChunk {
  Value hChunk, targets;
  LinearOp logits;
  Value loss;
};
ForwardChunk forwardChunk(OpBuilder &b, Location loc, LinearOp whole, Value hFlat, Value targets,
                          int64_t c, int64_t chunkTokens) {
  auto hType = cast<RankedTensorType>(hFlat.getType());
  auto logitsType = cast<RankedTensorType>(whole.getType());
  int64_t width = hType.getShape().back(), vocab = logitsType.getShape().back();
  ForwardChunk f;
  f.hChunk =
      SliceOp::create(b, loc, RankedTensorType::get({chunkTokens, width}, hType.getElementType()),
                      hFlat, b.getI64IntegerAttr(0), b.getI64IntegerAttr(c * chunkTokens),
                      b.getI64IntegerAttr(chunkTokens));
  f.targets = sliceTokens(b, loc, targets, c * chunkTokens, chunkTokens);
  f.logits = LinearOp::create(
      b, loc, RankedTensorType::get({chunkTokens, vocab}, logitsType.getElementType()), f.hChunk,
      whole.getWeight(), Value(), whole.getNameAttr());
  copyGemmAttrs(whole, f.logits, "m", chunkTokens);
  f.loss = SoftmaxCrossEntropyOp::create(b, loc, RankedTensorType::get({}, b.getF32Type()),
                                         f.logits, f.targets, nullptr);
  return f;
}

/// A loss without a gradient (eval_step): the chunks' mean losses, each weighted
/// by 1/chunks, summed; only a chunk's logits exist at a time.
void rewriteForwardLoss(LinearOp logits, SoftmaxCrossEntropyOp loss, int64_t chunks,
                        int64_t chunkTokens) {
  OpBuilder b(loss);
  Location loc = loss.getLoc();
  Value h = logits.getInput();
  auto hType = cast<RankedTensorType>(h.getType());
  int64_t width = hType.getShape().back();
  Value hFlat = ReshapeOp::create(
      b, loc, RankedTensorType::get({chunks * chunkTokens, width}, hType.getElementType()), h);
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  Value perChunk = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scalar, b.getF32FloatAttr(1.0f / float(chunks)).getValue()));
  Value lossSum;
  for (int64_t c = 0; c < chunks; ++c) {
    Value chunkLoss = forwardChunk(b, loc, logits, hFlat, loss.getTargets(), c, chunkTokens).loss;
    lossSum = c == 0 ? chunkLoss : AddOp::create(b, loc, lossSum, chunkLoss).getResult();
  }
  loss.getResult().replaceAllUsesWith(MulScalarOp::create(b, loc, lossSum, perChunk).getResult());
  loss->erase();
  logits->erase();
}

/// With grad_accum_steps > 1, fp8-autodiff adds lm_head's weight gradient to
/// its f32 accumulator right after the wgrad: `add(grad_accum.X, convert(dW))`.
/// Returns that add when the wgrad feeds nothing else; else null.
AddOp accumulatorAdd(MatmulOp wgrad) {
  Value dw = wgrad.getResult();
  if (!dw.hasOneUse())
    return {};
  auto convert = dyn_cast<ConvertOp>(*dw.getUsers().begin());
  if (!convert || !convert.getResult().hasOneUse() ||
      !getElementTypeOrSelf(convert.getType()).isF32())
    return {};
  auto add = dyn_cast<AddOp>(*convert->getUsers().begin());
  auto arg = add ? dyn_cast<BlockArgument>(add.getLhs()) : BlockArgument();
  if (!arg || add.getRhs() != convert.getResult() || arg.getType() != add.getType())
    return {};
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  auto name =
      func ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), TrainDialect::getNameAttrName())
           : StringAttr();
  return name && name.getValue().starts_with("grad_accum.") ? add : AddOp();
}

/// zero1 and fsdp shard the accumulators by rewriting each add(grad_accum.X, g)
/// (fp8-insert-collectives, Sharding.cpp): those keep the head's add.
bool accumulatorsSharded(ModuleOp module) {
  FailureOr<fp8c::DistributedSettings> d = fp8c::readDistributedSettings(module);
  return failed(d) || (d->present && d->worldSize > 1 && d->strategy != "ddp");
}

/// The group as `chunks` forward-and-backward groups of `chunkTokens` tokens,
/// each next to the other so that the planner frees chunk c before chunk c+1.
/// With `accAdd`, the chunks' GEMMs add their products straight into the
/// accumulator it reads (Megatron-LM's gradient-accumulation fusion), so no
/// f32 sum of the head's gradient exists beside it.
void rewriteGroup(LossGroup &g, int64_t chunks, int64_t chunkTokens, AddOp accAdd) {
  OpBuilder b(g.grad);
  Location loc = g.grad.getLoc();
  Value h = g.logits.getInput(), weight = g.logits.getWeight(), targets = g.grad.getTargets();
  auto hType = cast<RankedTensorType>(h.getType());
  int64_t tokens = chunks * chunkTokens, width = hType.getShape().back();
  auto tensor = [](ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  };
  Type f32 = b.getF32Type();
  Type hElement = hType.getElementType();
  Value hFlat = ReshapeOp::create(b, loc, tensor({tokens, width}, hElement), h);
  auto scalar = tensor({}, f32);
  Value perChunk = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scalar, b.getF32FloatAttr(1.0f / float(chunks)).getValue()));
  // Each chunk's mean is weighted by 1/chunks, so the chunks' sum is the mean over all tokens
  // (exact when chunks is a power of two).
  Value chunkLossGrad = MulScalarOp::create(b, loc, g.grad.getLossGrad(), perChunk);
  auto wgradType = cast<RankedTensorType>(g.wgrad.getType());
  Value lossSum, dh, dw = accAdd ? accAdd.getLhs() : Value();
  for (int64_t c = 0; c < chunks; ++c) {
    IntegerAttr dim0 = b.getI64IntegerAttr(0), offset = b.getI64IntegerAttr(c * chunkTokens);
    ForwardChunk f = forwardChunk(b, loc, g.logits, hFlat, targets, c, chunkTokens);
    Value hChunk = f.hChunk, loss = f.loss, targetsChunk = f.targets;
    LinearOp logits = f.logits;
    Value dlogits = SoftmaxCrossEntropyGradOp::create(b, loc, logits.getType(), logits,
                                                      targetsChunk, chunkLossGrad, nullptr);
    auto dhChunk = MatmulOp::create(b, loc, tensor({chunkTokens, width}, hElement), dlogits, weight,
                                    Value(), false, false, g.dgrad.getNameAttr());
    copyGemmAttrs(g.dgrad, dhChunk, "m", chunkTokens);
    // f32 out of the bf16 GEMM: each chunk's GEMM adds its product to the f32 sum of the
    // chunks before it (acc), which is rounded once at the end. One f32 buffer holds the sum:
    // fp8-lower-to-rt writes each GEMM over its dying acc. The product is rounded to f32
    // before it is added, so the sums are those of a GEMM followed by an f32 add.
    auto dwChunk = MatmulOp::create(b, loc, tensor(wgradType.getShape(), f32), dlogits, hChunk, dw,
                                    true, false, g.wgrad.getNameAttr());
    copyGemmAttrs(g.wgrad, dwChunk, "k", chunkTokens);
    dw = dwChunk;
    // dh is joined by placing each chunk into zeros and adding (x + 0 is exact, so dh is
    // bit-identical to a concatenation). This reuses slice_grad and add, which every backend
    // runs, instead of a new concat kernel op (table row, check, CPU and CUDA columns); the
    // cost is one pass over a [tokens, width] tensor per chunk, next to the chunk's GEMMs
    // over [tokens, vocab].
    Value placed =
        SliceGradOp::create(b, loc, tensor({tokens, width}, hElement), dhChunk, dim0, offset);
    lossSum = c == 0 ? loss : AddOp::create(b, loc, lossSum, loss).getResult();
    dh = c == 0 ? placed : AddOp::create(b, loc, dh, placed).getResult();
  }
  Value loss = MulScalarOp::create(b, loc, lossSum, perChunk);
  g.loss.getResult().replaceAllUsesWith(loss);
  if (dh.getType() != g.dgrad.getType())
    dh = ReshapeOp::create(b, loc, g.dgrad.getType(), dh);
  g.dgrad.getResult().replaceAllUsesWith(dh);
  if (accAdd) {
    // acc + Σ chunks in f32: the bf16 rounding of the head's gradient the whole loss
    // has (and the chunks without an accumulator keep) is gone.
    Operation *convert = accAdd.getRhs().getDefiningOp();
    accAdd.getResult().replaceAllUsesWith(dw);
    accAdd->erase();
    convert->erase();
  } else {
    g.wgrad.getResult().replaceAllUsesWith(ConvertOp::create(b, loc, wgradType, dw).getResult());
  }
  Operation *hView = g.wgrad.getRhs().getDefiningOp();
  for (Operation *op : {g.wgrad.getOperation(), g.dgrad.getOperation(), g.gradView.getOperation(),
                        g.grad.getOperation(), g.loss.getOperation(), g.logits.getOperation()})
    op->erase();
  if (hView && hView->use_empty())
    hView->erase();
}

} // namespace

std::string fp8c::train::setLossChunkTokens(ModuleOp module, StringRef value) {
  auto config = module->getAttrOfType<DictionaryAttr>(TrainDialect::getConfigAttrName());
  if (!config)
    return "the input has no train.config to set loss_chunk_tokens in";
  int64_t tokens = 0;
  if (value != "auto" && (value.getAsInteger(10, tokens) || tokens < 0))
    return "expected auto, 0 (off) or a number of tokens, got '" + value.str() + "'";
  NamedAttrList entries(config);
  if (value == "auto")
    entries.erase("loss_chunk_tokens");
  else
    entries.set("loss_chunk_tokens",
                IntegerAttr::get(IntegerType::get(module.getContext(), 64), tokens));
  module->setAttr(TrainDialect::getConfigAttrName(), entries.getDictionary(module.getContext()));
  return "";
}

namespace {

struct ChunkLossPass : fp8c::train::impl::ChunkLossBase<ChunkLossPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto config = module->getAttrOfType<DictionaryAttr>(TrainDialect::getConfigAttrName());
    auto requested = config ? config.getAs<IntegerAttr>("loss_chunk_tokens") : nullptr;
    // Under a memory budget auto takes smaller chunks: more, smaller GEMMs for less memory.
    underBudget = config && config.get("memory_budget");
    maxChunkBytes = underBudget ? kBudgetChunkLogitsBytes : kAutoChunkLogitsBytes;
    for (auto func : module.getOps<func::FuncOp>()) {
      SmallVector<SoftmaxCrossEntropyGradOp> grads(func.getOps<SoftmaxCrossEntropyGradOp>());
      for (SoftmaxCrossEntropyGradOp grad : grads)
        if (failed(chunk(func, grad, requested)))
          return signalPassFailure();
      if (!grads.empty())
        continue;
      SmallVector<SoftmaxCrossEntropyOp> losses(func.getOps<SoftmaxCrossEntropyOp>());
      for (SoftmaxCrossEntropyOp loss : losses)
        chunkForwardOnly(func, loss, requested);
    }
    // The key is consumed here: each function records what it did, and a loss left in one
    // chunk compiles to the very program (and train.config) it was without the key.
    if (requested)
      setLossChunkTokens(module, "auto");
  }

  LogicalResult chunk(func::FuncOp func, SoftmaxCrossEntropyGradOp grad, IntegerAttr requested) {
    LogitsShape shape = logitsShapeOf(grad.getLogits());
    auto [tokens, tokenBytes] = shape;
    Builder b(func.getContext());
    auto leaveReason = [&](const Twine &reason) {
      func->setAttr(kLossChunkingAttrName,
                    b.getDictionaryAttr(b.getNamedAttr("reason", b.getStringAttr(reason))));
      return success();
    };
    // auto: a small loss stays whole, silently (programs stay as they were).
    if (!requested && tokens * tokenBytes <= kAutoWholeLogitsBytes)
      return success();
    if (requested && requested.getInt() == 0)
      return leaveReason("train.loss_chunk_tokens is 0");
    int64_t chunkTokens =
        requested ? requested.getInt() : autoChunkTokens(tokens, tokenBytes, maxChunkBytes);
    if (chunkTokens < 0 || tokens % chunkTokens != 0)
      return emitError(func.getLoc())
             << "train.loss_chunk_tokens (--loss-chunk-tokens) = " << chunkTokens
             << " must divide the " << tokens
             << " tokens of a micro-batch (batch_size x seq_len): one of "
             << describeDivisors(tokens) << ", or 0 (off) or auto";
    std::string reason;
    FailureOr<LossGroup> group = matchGroup(grad, func->getParentOfType<ModuleOp>(), reason);
    if (failed(group))
      return leaveReason(reason);
    if (chunkTokens == tokens)
      return success(); // one chunk: the program is today's
    // What chunking saves (the logits and their gradient, less a chunk of each) against
    // what it adds: the f32 sum of lm_head's wgrad, which each chunk's GEMM accumulates into
    // (fp8-lower-to-rt writes it over its dying acc: one buffer), less the wgrad the whole
    // loss has. auto wants twice the cost back, for the planner's fragmentation around the
    // large accumulator (docs/memory-plan.md).
    auto wgradType = cast<RankedTensorType>(group->wgrad.getType());
    int64_t weightElements = wgradType.getNumElements();
    int64_t saved = 2 * (tokens - chunkTokens) * tokenBytes;
    // Under a budget only: it drops the bf16 rounding the whole loss has.
    AddOp accAdd = !underBudget || accumulatorsSharded(func->getParentOfType<ModuleOp>())
                       ? AddOp()
                       : accumulatorAdd(group->wgrad);
    int64_t added =
        accAdd ? 0 : weightElements * (4 - int64_t(wgradType.getElementTypeBitWidth() / 8));
    if (!requested && saved < 2 * added)
      return leaveReason(llvm::formatv("auto: the f32 accumulator of lm_head's weight gradient "
                                       "({0} MiB more live at a chunk) would cost more than half "
                                       "of what chunking saves ({1} MiB of logits and their "
                                       "gradient); train.loss_chunk_tokens: N forces it",
                                       added >> 20, saved >> 20)
                             .str());
    int64_t chunks = tokens / chunkTokens;
    rewriteGroup(*group, chunks, chunkTokens, accAdd);
    func->setAttr(kLossChunkingAttrName, chunkingDecision(b, chunkTokens, shape, bool(accAdd)));
    return success();
  }

  /// A loss without a gradient (eval_step): chunked as train_step's is, so that
  /// its whole logits do not set the arena; left whole where train_step's
  /// decision would be an error or one chunk, or lm_head is not a bf16 linear.
  void chunkForwardOnly(func::FuncOp func, SoftmaxCrossEntropyOp loss, IntegerAttr requested) {
    auto logits = loss.getLogits().getDefiningOp<LinearOp>();
    if (!logits || logits.getBias() || loss.getIgnoreIndex() || !logits->hasOneUse())
      return;
    LogitsShape shape = logitsShapeOf(logits);
    auto [tokens, tokenBytes] = shape;
    if (requested ? requested.getInt() == 0 : tokens * tokenBytes <= kAutoWholeLogitsBytes)
      return;
    int64_t chunkTokens =
        requested ? requested.getInt() : autoChunkTokens(tokens, tokenBytes, maxChunkBytes);
    if (chunkTokens <= 0 || chunkTokens >= tokens || tokens % chunkTokens != 0)
      return;
    rewriteForwardLoss(logits, loss, tokens / chunkTokens, chunkTokens);
    Builder b(func.getContext());
    func->setAttr(kLossChunkingAttrName, chunkingDecision(b, chunkTokens, shape, false));
  }

  int64_t maxChunkBytes = kAutoChunkLogitsBytes;
  bool underBudget = false;
};

} // namespace
