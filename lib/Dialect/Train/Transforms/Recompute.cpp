//===- Recompute.cpp - recompute forward values in backward ----------------===//
//
// fp8-recompute (Passes.td, docs/memory-plan.md "Recompute under a budget").
// A forward value that backward reads lives from forward to its backward use;
// recomputing it clones its producer chain right before that use, from values
// that stay alive anyway, and backward reads the clone. The clones are the same
// ops on the same inputs, so the numbers are the same bit for bit; ops with
// state or side effects are never cloned, and scales are reused, not
// recomputed, so a recomputed FP8 cast writes the same codes.
//
// The choice is made at this level (tensors, before kernel fusion and the
// arena plan) from an estimate: a liveness sweep over the function's ops. The
// driver checks the real plan afterwards (fp8c --memory-budget).
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/ByteSize.h"
#include "fp8c/Dialect/Train/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <map>
#include <set>

namespace fp8c::train {
#define GEN_PASS_DEF_RECOMPUTE
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"
} // namespace fp8c::train

using namespace mlir;
using namespace fp8c::train;

namespace {

enum class Mode { None, Selective, Full, Auto };

std::optional<Mode> parseMode(StringRef s) {
  if (s == "none")
    return Mode::None;
  if (s == "selective")
    return Mode::Selective;
  if (s == "full")
    return Mode::Full;
  if (s == "auto")
    return Mode::Auto;
  return std::nullopt;
}

StringRef modeName(Mode m) {
  switch (m) {
  case Mode::None:
    return "none";
  case Mode::Selective:
    return "selective";
  case Mode::Full:
    return "full";
  case Mode::Auto:
    return "auto";
  }
  return "";
}

int64_t elementsOf(Type t) {
  auto shaped = dyn_cast<ShapedType>(t);
  return shaped && shaped.hasStaticShape() ? shaped.getNumElements() : 0;
}

int64_t bytesOf(Type t) {
  auto shaped = dyn_cast<ShapedType>(t);
  if (!shaped || !shaped.hasStaticShape())
    return 0;
  return shaped.getNumElements() * ((shaped.getElementTypeBitWidth() + 7) / 8);
}

/// Scales, amaxes, biases and norm weights: kept alive rather than recomputed
/// (a scale must be the forward's own for the same FP8 codes).
bool isSmall(Value v) { return elementsOf(v.getType()) <= 4096; }

bool isReshape(Operation *op) { return isa<ReshapeOp>(op); }

StringRef gemmKind(Operation *op) {
  auto gemm = op->getAttrOfType<DictionaryAttr>("fp8.gemm");
  auto kind = gemm ? gemm.getAs<StringAttr>("kind") : StringAttr();
  return kind ? kind.getValue() : "";
}

/// Backward starts at the first gradient op or dgrad/wgrad GEMM: what autodiff
/// appends after the loss.
bool isBackward(Operation *op) {
  StringRef kind = gemmKind(op);
  return op->getName().getStringRef().ends_with("_grad") || kind == "dgrad" || kind == "wgrad";
}

/// Ops that may be cloned: pure train/fp8 ops without regions, and none that
/// carries state from step to step.
bool isRecomputable(Operation *op) {
  StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
  if ((dialect != "train" && dialect != "fp8") || op->getNumRegions() || !isMemoryEffectFree(op))
    return false;
  StringRef name = op->getName().getStringRef();
  return name != "fp8.amax_history_update" && name != "train.param" && name != "train.input" &&
         name != "train.adamw_update" && name != "train.sgd_update" && name != "train.all_reduce" &&
         name != "train.global_norm" && !name.ends_with("_grad");
}

/// What selective recompute clones: casts, layout, norms, activations and
/// pointwise ops. Everything else (GEMMs, attention, the loss, ops added
/// later) only full (per-block) recompute clones.
bool isCheap(Operation *op) {
  if (isa<ConvertOp, ReshapeOp, TransposeOp, SliceOp, AddOp, MulOp, GeluOp, SiluOp, Relu2Op,
          SwigluOp, LayerNormOp, RMSNormOp, EmbeddingOp>(op))
    return true;
  StringRef name = op->getName().getStringRef();
  return llvm::is_contained({"train.mul_scalar", "fp8.amax", "fp8.compute_scale", "fp8.quantize",
                             "fp8.dequantize", "fp8.cast_transpose", "fp8.amax_from_history"},
                            name);
}

bool isExpensive(Operation *op) { return !isCheap(op); }

/// Floating-point work of one op: 2·M·N·K per GEMM, 4·B·T·S·D per attention,
/// a few per element for norms and activations, one per element otherwise.
double flopsOf(Operation *op) {
  if (auto gemm = op->getAttrOfType<DictionaryAttr>("fp8.gemm")) {
    auto dim = [&](StringRef key) {
      auto a = gemm.getAs<IntegerAttr>(key);
      return a ? static_cast<double>(a.getInt()) : 0.0;
    };
    return 2 * dim("m") * dim("n") * dim("k");
  }
  if (isReshape(op) || op->getNumResults() == 0)
    return 0;
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    auto q = cast<ShapedType>(op->getOperand(0).getType());
    auto k = cast<ShapedType>(op->getOperand(1).getType());
    return 4.0 * q.getDimSize(0) * q.getDimSize(1) * k.getDimSize(1) * q.getDimSize(2);
  }
  double elements = 0;
  for (Value v : op->getOperands())
    elements = std::max(elements, static_cast<double>(elementsOf(v.getType())));
  if (isa<LayerNormOp, RMSNormOp, GeluOp, SiluOp, SoftmaxCrossEntropyOp>(op))
    return 8 * elements;
  return elements;
}

/// "model.layers.3.mlp.down_proj" → "model.layers.3": the prefix up to the
/// first all-digit component; "" outside blocks.
std::string blockOfName(StringRef name) {
  SmallVector<StringRef> parts;
  name.split(parts, '.');
  for (size_t i = 1; i < parts.size(); ++i)
    if (!parts[i].empty() && llvm::all_of(parts[i], llvm::isDigit))
      return llvm::join(ArrayRef<StringRef>(parts).take_front(i + 1), ".");
  return "";
}

std::string blockOf(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    if (std::string b = blockOfName(name.getValue()); !b.empty())
      return b;
  std::string block;
  op->getLoc()->walk([&](Location loc) {
    if (auto named = dyn_cast<NameLoc>(loc))
      block = blockOfName(named.getName().getValue());
    return block.empty() ? WalkResult::advance() : WalkResult::interrupt();
  });
  return block;
}

/// A step function's ops in order, where backward starts, and the saved
/// values (forward results that backward reads).
struct Step {
  func::FuncOp func;
  SmallVector<Operation *> ops;
  DenseMap<Operation *, int64_t> index;
  int64_t backwardStart = -1;
  llvm::SetVector<Value> saved;

  explicit Step(func::FuncOp f) : func(f) {
    for (Operation &op : f.front()) {
      index[&op] = ops.size();
      if (backwardStart < 0 && isBackward(&op))
        backwardStart = ops.size();
      ops.push_back(&op);
    }
    if (backwardStart < 0)
      return;
    for (int64_t i = 0; i < backwardStart; ++i)
      for (Value r : ops[i]->getResults())
        if (llvm::any_of(r.getUsers(), [&](Operation *u) { return isBackwardUser(u); }))
          saved.insert(r);
  }

  bool hasBackward() const { return backwardStart >= 0; }
  bool isBackwardUser(Operation *user) const {
    auto it = index.find(user);
    return it != index.end() && it->second >= backwardStart;
  }
  bool isForwardValue(Value v) const {
    Operation *def = v.getDefiningOp();
    auto it = def ? index.find(def) : index.end();
    return it != index.end() && it->second < backwardStart;
  }
  /// The value as (op index, result number), stable across a clone.
  std::pair<int64_t, unsigned> refOf(Value v) const {
    auto r = cast<OpResult>(v);
    return {index.lookup(r.getOwner()), r.getResultNumber()};
  }
  Value valueOf(std::pair<int64_t, unsigned> ref) const {
    return ops[ref.first]->getResult(ref.second);
  }
};

/// Bytes a recomputed value frees: its storage, unless it is a view of another.
int64_t storageBytes(Value v) {
  Operation *def = v.getDefiningOp();
  return def && isReshape(def) ? 0 : bytesOf(v.getType());
}

/// What a function will recompute: values cheaply (selective) and whole
/// blocks (full).
struct Choice {
  llvm::DenseSet<Value> selective;
  std::set<std::string> fullBlocks;
};

struct Stats {
  int64_t values = 0, bytes = 0;
  double flops = 0;
};

/// Decides, for a choice, the values to recompute and how, then rewrites.
class Rewriter {
public:
  Rewriter(Step &step, const Choice &choice) : step(step), choice(choice) {}

  /// Applies the choice (or only measures it when `dryRun`).
  Stats run(bool dryRun) {
    collect();
    prune();
    Stats stats;
    // Groups in order of their first backward use.
    std::map<int64_t, SmallVector<Value>> byInsertion;
    std::map<std::string, int64_t> groupStart;
    for (Value v : recomputed) {
      int64_t first = firstBackwardUse(v);
      std::string group = groupOf(v);
      auto [it, inserted] = groupStart.try_emplace(group, first);
      it->second = std::min(it->second, first);
    }
    for (Value v : recomputed)
      byInsertion[groupStart[groupOf(v)]].push_back(v);
    for (auto &[at, values] : byInsertion) {
      clones.clear();
      Operation *insertBefore = step.ops[at];
      for (Value v : values) {
        Value clone = cloneValue(v, insertBefore, stats, dryRun);
        ++stats.values;
        stats.bytes += storageBytes(v);
        if (!dryRun)
          v.replaceUsesWithIf(clone,
                              [&](OpOperand &use) { return step.isBackwardUser(use.getOwner()); });
      }
    }
    return stats;
  }

private:
  std::string groupOf(Value v) const {
    std::string block = blockOf(v.getDefiningOp());
    if (!block.empty() && choice.fullBlocks.count(block))
      return block;
    return "value " + std::to_string(step.refOf(v).first) + "." +
           std::to_string(step.refOf(v).second);
  }

  int64_t firstBackwardUse(Value v) const {
    int64_t first = INT64_MAX;
    for (Operation *u : v.getUsers())
      if (step.isBackwardUser(u))
        first = std::min(first, step.index.lookup(u));
    return first;
  }

  /// Selective values, and every saved value of a full block but the inputs
  /// of later blocks (the block's output: the next block's input).
  void collect() {
    for (Value v : step.saved) {
      if (isSmall(v))
        continue;
      std::string block = blockOf(v.getDefiningOp());
      bool full = !block.empty() && choice.fullBlocks.count(block);
      bool blockInput = full && llvm::any_of(v.getUsers(), [&](Operation *u) {
                          return !step.isBackwardUser(u) && blockOf(u) != block;
                        });
      if ((full || choice.selective.count(v)) && !blockInput)
        recomputed.insert(v);
    }
  }

  /// A value backward can read as it is: an argument, a constant, a small
  /// value, or a saved value that is kept.
  bool isAvailable(Value v) const {
    if (!step.isForwardValue(v) || isSmall(v))
      return true;
    Operation *def = v.getDefiningOp();
    if (def->hasTrait<OpTrait::ConstantLike>())
      return true;
    return step.saved.count(v) && !recomputed.count(v);
  }

  /// Whether `v` can be cloned from available values in group `group`.
  bool canClone(Value v, StringRef group, llvm::DenseSet<Value> &visiting) const {
    Operation *def = v.getDefiningOp();
    if (!def || !step.isForwardValue(v) || !isRecomputable(def))
      return false;
    if (isExpensive(def) && !(choice.fullBlocks.count(blockOf(def)) && blockOf(def) == group))
      return false;
    if (!visiting.insert(v).second)
      return true;
    return llvm::all_of(def->getOperands(),
                        [&](Value u) { return isAvailable(u) || canClone(u, group, visiting); });
  }

  /// Drops values that cannot be cloned (an expensive op outside a full
  /// block on their chain): they are kept, which may make others cloneable.
  void prune() {
    for (bool changed = true; changed;) {
      changed = false;
      for (Value v : llvm::to_vector(recomputed)) {
        llvm::DenseSet<Value> visiting;
        std::string block = blockOf(v.getDefiningOp());
        std::string group = choice.fullBlocks.count(block) ? block : "";
        if (!canClone(v, group, visiting)) {
          recomputed.remove(v);
          changed = true;
        }
      }
    }
  }

  Value cloneValue(Value v, Operation *insertBefore, Stats &stats, bool dryRun) {
    if (isAvailable(v))
      return v;
    if (auto it = clones.find(v); it != clones.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    IRMapping mapping;
    for (Value u : def->getOperands())
      mapping.map(u, cloneValue(u, insertBefore, stats, dryRun));
    stats.flops += flopsOf(def);
    Operation *clone = def;
    if (!dryRun) {
      OpBuilder b(insertBefore);
      clone = b.clone(*def, mapping);
    }
    for (auto [r, c] : llvm::zip(def->getResults(), clone->getResults()))
      clones[r] = c;
    return clones[v];
  }

  Step &step;
  const Choice &choice;
  llvm::SetVector<Value> recomputed;
  DenseMap<Value, Value> clones;
};

/// The arguments of every function, each name once: the persistent state (and
/// inputs) that the arena holds for all functions alike. Arguments without a
/// name count once per function.
int64_t persistentBytes(ModuleOp module) {
  std::set<std::string> seen;
  int64_t bytes = 0;
  for (auto func : module.getOps<func::FuncOp>())
    for (auto [i, t] : llvm::enumerate(func.getArgumentTypes())) {
      auto name = func.getArgAttrOfType<StringAttr>(i, TrainDialect::getNameAttrName());
      std::string key = name ? name.str() : func.getSymName().str() + "#" + std::to_string(i);
      if (seen.insert(key).second)
        bytes += bytesOf(t);
    }
  return bytes;
}

/// Estimated scratch bytes at the function's peak: the most bytes of op
/// results live at one op, a reshape sharing its operand's bytes, values
/// returned not counted (they are written into their arguments' buffers or
/// are scalars).
int64_t scratchPeak(func::FuncOp func) {
  DenseMap<Value, Value> root;
  DenseMap<Value, std::pair<int64_t, int64_t>> range; // root → [def, last use]
  llvm::DenseSet<Value> returned;
  int64_t at = 0;
  auto rootOf = [&](Value v) {
    auto it = root.find(v);
    return it == root.end() ? Value() : it->second;
  };
  for (Operation &op : func.front()) {
    for (Value u : op.getOperands())
      if (Value r = rootOf(u)) {
        range[r].second = at;
        if (isa<func::ReturnOp>(op))
          returned.insert(r);
      }
    for (Value r : op.getResults()) {
      if (op.hasTrait<OpTrait::ConstantLike>())
        continue;
      Value base = isReshape(&op) ? rootOf(op.getOperand(0)) : Value();
      root[r] = base ? base : r;
      if (!base)
        range[r] = {at, at};
    }
    ++at;
  }
  std::vector<int64_t> delta(at + 2, 0);
  for (auto &[r, span] : range) {
    if (returned.count(r))
      continue;
    delta[span.first] += bytesOf(r.getType());
    delta[span.second + 1] -= bytesOf(r.getType());
  }
  int64_t live = 0, peak = 0;
  for (int64_t d : delta)
    peak = std::max(peak, live += d);
  return peak;
}

/// The blocks of the forward ops, in forward order.
std::vector<std::string> blocksOf(const Step &step) {
  std::vector<std::string> blocks;
  std::set<std::string> seen;
  for (int64_t i = 0; i < step.backwardStart; ++i)
    if (std::string b = blockOf(step.ops[i]); !b.empty() && seen.insert(b).second)
      blocks.push_back(b);
  return blocks;
}

/// One step of auto's order: saved values sharing one storage (selective),
/// or a whole block (full).
struct Candidate {
  std::vector<std::pair<int64_t, unsigned>> values;
  std::string block;
};

Choice choiceOf(const Step &step, ArrayRef<Candidate> candidates) {
  Choice c;
  for (const Candidate &cand : candidates) {
    if (cand.block.empty())
      for (auto ref : cand.values)
        c.selective.insert(step.valueOf(ref));
    else
      c.fullBlocks.insert(cand.block);
  }
  return c;
}

/// The estimated scratch peak of `step` with `candidates` recomputed,
/// measured on a copy of the function.
int64_t estimateWith(const Step &step, ArrayRef<Candidate> candidates) {
  auto copy = cast<func::FuncOp>(step.func->clone());
  {
    Step copyStep(copy);
    Choice choice = choiceOf(copyStep, candidates);
    Rewriter(copyStep, choice).run(/*dryRun=*/false);
  }
  int64_t peak = scratchPeak(copy);
  copy->erase();
  return peak;
}

/// Auto's candidates, cheapest recompute per byte saved first: the
/// selective values, then whole blocks in forward order.
std::vector<Candidate> autoCandidates(Step &step) {
  struct Scored {
    Candidate c;
    double flopsPerByte;
  };
  // A storage is freed only when every saved view of it is recomputed: one
  // candidate per storage, with all its saved views.
  llvm::MapVector<Value, SmallVector<Value>> byStorage;
  for (Value v : step.saved)
    if (!isSmall(v))
      byStorage[stripReshapes(v)].push_back(v);
  std::vector<Scored> selective;
  for (auto &[root, values] : byStorage) {
    Choice group;
    group.selective.insert(values.begin(), values.end());
    Stats s = Rewriter(step, group).run(/*dryRun=*/true);
    if (s.values != static_cast<int64_t>(values.size()))
      continue;
    Candidate c;
    for (Value v : values)
      c.values.push_back(step.refOf(v));
    selective.push_back({c, s.flops / static_cast<double>(bytesOf(root.getType()))});
  }
  std::stable_sort(selective.begin(), selective.end(), [](const Scored &a, const Scored &b) {
    return a.flopsPerByte < b.flopsPerByte;
  });
  std::vector<Candidate> out;
  for (const Scored &s : selective)
    out.push_back(s.c);
  for (const std::string &b : blocksOf(step))
    out.push_back({{}, b});
  return out;
}

struct Recompute : fp8c::train::impl::RecomputeBase<Recompute> {
  using RecomputeBase::RecomputeBase;

  void runOnOperation() override;
  LogicalResult readSettings(ModuleOp module, Mode &m, std::optional<int64_t> &target,
                             int64_t &budgetBytes);
  DictionaryAttr recomputeFunction(func::FuncOp func, Mode m, std::optional<int64_t> target,
                                   int64_t budgetBytes);

  /// The module's persistent bytes: every function's estimate starts there.
  int64_t persistent = 0;
};

LogicalResult Recompute::readSettings(ModuleOp module, Mode &m, std::optional<int64_t> &target,
                                      int64_t &budgetBytes) {
  auto config = module->getAttrOfType<DictionaryAttr>(TrainDialect::getConfigAttrName());
  StringRef modeText = mode;
  if (modeText.empty() && config)
    if (auto s = config.getAs<StringAttr>("recompute"))
      modeText = s.getValue();
  std::optional<Mode> parsed = modeText.empty() ? Mode::Auto : parseMode(modeText);
  if (!parsed)
    return module.emitError() << "recompute: expected one of: none, selective, full, auto; got '"
                              << modeText << "'";
  m = *parsed;
  budgetBytes = 0;
  if (!budget.empty()) {
    std::optional<int64_t> b = fp8c::parseByteSize(budget);
    if (!b)
      return module.emitError() << "fp8-recompute: budget: expected " << fp8c::kByteSizeSyntax
                                << "; got '" << budget << "'";
    budgetBytes = *b;
  } else if (config) {
    if (auto b = config.getAs<IntegerAttr>("memory_budget"))
      budgetBytes = b.getInt();
  }
  if (budgetBytes > 0)
    target = budgetBytes;
  // fp8c tightens the target when the real plan came out above the estimate.
  if (auto t = module->getAttrOfType<IntegerAttr>("fp8c.recompute_target")) {
    target = t.getInt();
    m = Mode::Auto;
  }
  return success();
}

DictionaryAttr Recompute::recomputeFunction(func::FuncOp func, Mode m,
                                            std::optional<int64_t> target, int64_t budgetBytes) {
  Step step(func);
  if (!step.hasBackward())
    return {};
  double stepFlops = 0;
  for (Operation *op : step.ops)
    stepFlops += flopsOf(op);
  int64_t before = persistent + scratchPeak(func);
  std::vector<Candidate> chosen;
  bool fits = true;
  if (m == Mode::Selective || m == Mode::Full) {
    for (Value v : step.saved)
      if (!isSmall(v))
        chosen.push_back({{step.refOf(v)}, ""});
    if (m == Mode::Full)
      for (const std::string &b : blocksOf(step))
        chosen.push_back({{}, b});
  } else if (m == Mode::Auto && target && before > *target) {
    std::vector<Candidate> all = autoCandidates(step);
    // The shortest prefix that fits (the estimate falls as the prefix grows).
    size_t lo = 0, hi = all.size();
    fits = persistent + estimateWith(step, all) <= *target;
    while (fits && lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (persistent + estimateWith(step, ArrayRef<Candidate>(all).take_front(mid)) <= *target)
        hi = mid;
      else
        lo = mid + 1;
    }
    chosen.assign(all.begin(), all.begin() + hi);
  }
  if (chosen.empty())
    return {};
  Choice choice = choiceOf(step, chosen);
  Stats stats = Rewriter(step, choice).run(/*dryRun=*/false);
  Builder b(func.getContext());
  return b.getDictionaryAttr({
      b.getNamedAttr("mode", b.getStringAttr(modeName(m))),
      b.getNamedAttr("values", b.getI64IntegerAttr(stats.values)),
      b.getNamedAttr("bytes", b.getI64IntegerAttr(stats.bytes)),
      b.getNamedAttr("flops", b.getF64FloatAttr(stats.flops)),
      b.getNamedAttr("step_flops", b.getF64FloatAttr(stepFlops)),
      b.getNamedAttr("blocks", b.getI64IntegerAttr(choice.fullBlocks.size())),
      b.getNamedAttr("estimate_before", b.getI64IntegerAttr(before)),
      b.getNamedAttr("estimate_after", b.getI64IntegerAttr(persistent + scratchPeak(func))),
      b.getNamedAttr("budget", b.getI64IntegerAttr(budgetBytes)),
      b.getNamedAttr("fits_estimate", b.getBoolAttr(fits)),
  });
}

void Recompute::runOnOperation() {
  ModuleOp module = getOperation();
  Mode m = Mode::None;
  std::optional<int64_t> target;
  int64_t budgetBytes = 0;
  if (failed(readSettings(module, m, target, budgetBytes)))
    return signalPassFailure();
  if (m == Mode::None || (m == Mode::Auto && !target))
    return;
  persistent = persistentBytes(module);
  SmallVector<NamedAttribute> summary;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal())
      if (DictionaryAttr d = recomputeFunction(func, m, target, budgetBytes))
        summary.push_back(NamedAttribute(func.getSymNameAttr(), d));
  if (!summary.empty())
    module->setAttr("fp8c.recompute", DictionaryAttr::get(module.getContext(), summary));
}

} // namespace
