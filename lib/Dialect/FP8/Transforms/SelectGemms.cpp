//===- SelectGemms.cpp - fp8 or bf16, per GEMM of the step ----------------===//
//
// `fp8-select-gemms` gives every GEMM of the module (`train.linear`,
// `train.matmul`, `train.batch_matmul`) an `fp8.gemm` dictionary
// (GemmAnnotation.h): its layer name, kind, M/K/N, the predicted bf16 and fp8
// times, the decision and its reason. The rules, first match wins:
//
//   1. FP8 disabled (`train.config.fp8` absent or `enabled = false`);
//   2. `overrides` (layer-name substring, precision per kind; the last matching
//      entry with an opinion for the kind wins; fp8 still has to pass rule 6);
//   3. `filter_fqns` (layer-name substrings) -> bf16;
//   4. `first_layer_bf16` / `last_layer_bf16`: the GEMMs of the first / last
//      block (`transformer.h.N`, `model.layers.N`, `layers.N`, ...), or of the
//      first / last `train.linear` when no GEMM name has a block index;
//   5. batched GEMMs (`train.batch_matmul`) stay bf16;
//   6. hard rules (`cost::checkHardRules`: dims % 16, % 128 for blockwise);
//   7. `auto_filter: roofline`: the cost model at `threshold`, with the cast
//      costs of the fusions fp8-fuse-scaling applies (below);
//      `auto_filter: none`: fp8.
//
// Cast sharing (docs/fp8-passes.md): a bf16 tensor is quantized once for all
// the fp8 GEMMs that read it (through shape-preserving reshapes), with a
// cast_transpose when they need both layouts: a weight feeds forward and dgrad,
// an activation forward and wgrad, an output gradient dgrad and wgrad. Each GEMM
// is charged its share. Sharing only counts between fp8 GEMMs, so the roofline
// decisions are a fixpoint: start from every candidate in fp8, drop those that
// do not pay with the sharing of the others, repeat until nothing changes.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/FP8/Transforms/Passes.h"
#include "fp8c/Dialect/FP8/Transforms/ProducerFusion.h"

#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Analysis/GemmAnnotation.h"
#include "fp8c/CostModel/CostModel.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <vector>

namespace fp8c::fp8 {
#define GEN_PASS_DEF_SELECTGEMMS
#include "fp8c/Dialect/FP8/Transforms/Passes.h.inc"
} // namespace fp8c::fp8

using namespace mlir;
using namespace fp8c;
using fp8c::fp8::FP8Settings;
using fp8c::fp8::GemmAnnotation;

namespace {

//===----------------------------------------------------------------------===//
// GEMMs as the cost model sees them
//===----------------------------------------------------------------------===//

/// One operand of C[M,N] = A[M,K] · B[K,N] as stored in the IR.
struct Operand {
  /// The stored tensor, looked through reshapes that keep the last dimension
  /// (a [B,T,C] activation and its [B·T,C] view are quantized once).
  Value root;
  /// K is the stored tensor's contiguous (last) dimension: the layout the FP8
  /// GEMM ("TN", both operands K-major) reads without a transposed copy.
  bool kMajor = true;
};

/// How a decision was reached (rule of the file comment).
enum class Rule { Disabled, Override, Filter, Layer, Batched, HardRule, Roofline, AutoNone };

struct Gemm {
  Operation *op = nullptr;
  std::string name; // layer FQN, or "gemm.<index>"
  bool named = false;
  cost::GemmKind kind = cost::GemmKind::Forward;
  bool batched = false;
  int64_t m = 0, k = 0, n = 0;
  Operand a, b;
  std::optional<int64_t> block; // transformer block index parsed from the name

  Rule rule = Rule::Disabled;
  bool fp8 = false;
  std::string reason;
  cost::GemmEstimate estimate;
  bool hasEstimate = false;
};

StringRef kindString(cost::GemmKind kind) {
  switch (kind) {
  case cost::GemmKind::Forward:
    return "forward";
  case cost::GemmKind::DGrad:
    return "dgrad";
  case cost::GemmKind::WGrad:
    return "wgrad";
  }
  return "forward";
}

cost::Recipe toCostRecipe(fp8::Recipe recipe) {
  switch (recipe) {
  case fp8::Recipe::tensorwise:
    return cost::Recipe::Tensorwise;
  case fp8::Recipe::delayed:
    return cost::Recipe::Delayed;
  case fp8::Recipe::rowwise:
    return cost::Recipe::Rowwise;
  case fp8::Recipe::blockwise:
    return cost::Recipe::Blockwise;
  }
  return cost::Recipe::Tensorwise;
}

/// Looks through reshapes that keep the last dimension.
Value rootOf(Value v) {
  while (auto reshape = v.getDefiningOp<train::ReshapeOp>()) {
    auto from = dyn_cast<RankedTensorType>(reshape.getInput().getType());
    auto to = dyn_cast<RankedTensorType>(reshape.getResult().getType());
    if (!from || !to || from.getRank() == 0 || to.getRank() == 0 ||
        from.getShape().back() != to.getShape().back())
      break;
    v = reshape.getInput();
  }
  return v;
}

/// Dimension `index` (negative: from the back) of a static tensor; 0 otherwise.
int64_t dimOrZero(Type type, int64_t index) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return 0;
  int64_t rank = shaped.getRank();
  if (index < 0)
    index += rank;
  if (index < 0 || index >= rank)
    return 0;
  return shaped.getDimSize(index);
}

/// Product of the dimensions of a static tensor but its `keep` trailing ones
/// (0 when not static).
int64_t leadingProduct(Type type, int64_t keep) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape() || shaped.getRank() < keep)
    return 0;
  int64_t product = 1;
  for (int64_t d : shaped.getShape().drop_back(keep))
    product *= d;
  return product;
}

/// The transformer block index of a layer name: `transformer.h.3.mlp.c_fc`,
/// `model.layers.3.mlp.up_proj`, `layers.3`, `blocks.3.attn`.
std::optional<int64_t> parseBlockIndex(StringRef name) {
  static const llvm::Regex blockRegex("(^|\\.)(h|layers|layer|blocks|block)\\.([0-9]+)(\\.|$)");
  SmallVector<StringRef, 5> groups;
  if (!blockRegex.match(name, &groups))
    return std::nullopt;
  int64_t index = 0;
  if (groups[3].getAsInteger(10, index))
    return std::nullopt;
  return index;
}

/// The GEMMs of `func` in program order; `gemm.<i>` names unnamed ones by their
/// position among the function's GEMMs.
std::vector<Gemm> collectGemms(func::FuncOp func) {
  std::vector<Gemm> gemms;
  func.walk([&](Operation *op) {
    Gemm g;
    g.op = op;
    std::optional<StringRef> name;
    if (auto linear = dyn_cast<train::LinearOp>(op)) {
      name = linear.getName();
      // x[..., K] · W[N, K]ᵀ: both K-major as stored.
      g.m = leadingProduct(linear.getInput().getType(), 1);
      g.k = dimOrZero(linear.getInput().getType(), -1);
      g.n = dimOrZero(linear.getWeight().getType(), 0);
      g.a = {rootOf(linear.getInput()), true};
      g.b = {rootOf(linear.getWeight()), true};
    } else if (auto matmul = dyn_cast<train::MatmulOp>(op)) {
      name = matmul.getName();
      // op(lhs) [M,K] · op(rhs) [K,N]: lhs is K-major unless transposed; rhs
      // stored [K,N] is K-major only when transposed ([N,K] stored).
      bool tl = matmul.getTransposeLhs(), tr = matmul.getTransposeRhs();
      Type lhs = matmul.getLhs().getType(), rhs = matmul.getRhs().getType();
      g.m = dimOrZero(lhs, tl ? 1 : 0);
      g.k = dimOrZero(lhs, tl ? 0 : 1);
      g.n = dimOrZero(rhs, tr ? 0 : 1);
      g.a = {rootOf(matmul.getLhs()), !tl};
      g.b = {rootOf(matmul.getRhs()), tr};
    } else if (auto bmm = dyn_cast<train::BatchMatmulOp>(op)) {
      // M counts the rows of every batch, so the roofline sees all the flops.
      bool tl = bmm.getTransposeLhs(), tr = bmm.getTransposeRhs();
      Type lhs = bmm.getLhs().getType(), rhs = bmm.getRhs().getType();
      int64_t batch = leadingProduct(bmm.getResult().getType(), 2);
      g.batched = true;
      g.m = batch * dimOrZero(lhs, tl ? -1 : -2);
      g.k = dimOrZero(lhs, tl ? -2 : -1);
      g.n = dimOrZero(rhs, tr ? -2 : -1);
      g.a = {rootOf(bmm.getLhs()), !tl};
      g.b = {rootOf(bmm.getRhs()), tr};
    } else {
      return;
    }
    if (name && !name->empty()) {
      StringRef layer = *name;
      if (isa<train::MatmulOp>(op)) {
        if (layer.consume_back(".dgrad"))
          g.kind = cost::GemmKind::DGrad;
        else if (layer.consume_back(".wgrad"))
          g.kind = cost::GemmKind::WGrad;
      }
      g.name = layer.str();
      g.named = true;
      g.block = parseBlockIndex(layer);
    } else {
      g.name = "gemm." + std::to_string(gemms.size());
    }
    gemms.push_back(std::move(g));
  });
  return gemms;
}

//===----------------------------------------------------------------------===//
// The decision
//===----------------------------------------------------------------------===//

/// Which GEMMs the first/last-layer rule keeps in bf16.
struct LayerRule {
  std::optional<int64_t> firstBlock, lastBlock;
  // Models without blocks: the first / last train.linear.
  std::string firstLinear, lastLinear;
  Operation *firstLinearOp = nullptr, *lastLinearOp = nullptr;
};

class Selector {
public:
  Selector(const FP8Settings &settings, cost::CostModel model)
      : settings(settings), model(std::move(model)), recipe(toCostRecipe(settings.recipe)) {}

  /// Applies rules 1-7 to the GEMMs of one function (they share casts).
  void decide(MutableArrayRef<Gemm> gemms, const LayerRule &layers);

  /// Overrides and filters that matched at least one GEMM name.
  llvm::SmallBitVector usedOverrides, usedFilters;

private:
  void applyRules(Gemm &g, const LayerRule &layers);
  cost::GemmEstimate
  estimate(const Gemm &g, ArrayRef<Gemm> gemms,
           const llvm::DenseMap<Value, SmallVector<std::pair<unsigned, bool>>> &users,
           const std::vector<bool> &inFP8) const;

  const FP8Settings &settings;
  cost::CostModel model;
  cost::Recipe recipe;
};

void Selector::applyRules(Gemm &g, const LayerRule &layers) {
  if (!settings.enabled) {
    g.rule = Rule::Disabled;
    g.reason = "fp8 disabled";
    return;
  }
  std::optional<std::string> hardRule =
      g.batched ? std::optional<std::string>(
                      "batched GEMM: fp8 selection covers train.linear and train.matmul only")
                : cost::checkHardRules(model.getDevice(), recipe, g.m, g.k, g.n);

  // 2. Overrides: the last matching entry with an opinion for this kind.
  std::optional<bool> wanted;
  std::string overrideText;
  for (auto [index, ov] : llvm::enumerate(settings.overrides)) {
    if (StringRef(g.name).find(ov.match) == StringRef::npos)
      continue;
    usedOverrides.set(index);
    const std::optional<bool> &opinion = g.kind == cost::GemmKind::Forward ? ov.forward
                                         : g.kind == cost::GemmKind::DGrad ? ov.dgrad
                                                                           : ov.wgrad;
    if (!opinion)
      continue;
    wanted = *opinion;
    overrideText = llvm::formatv("override '{0}' (overrides[{1}]): {2} {3}", ov.match, index,
                                 kindString(g.kind), *opinion ? "fp8" : "bf16")
                       .str();
  }
  // Filters are checked (for the unused-filter warning) even when an override wins.
  std::optional<std::string> filter;
  for (auto [index, f] : llvm::enumerate(settings.filterFQNs)) {
    if (StringRef(g.name).find(f) == StringRef::npos)
      continue;
    usedFilters.set(index);
    if (!filter)
      filter = f;
  }

  if (wanted) {
    g.rule = Rule::Override;
    if (*wanted && hardRule) {
      g.fp8 = false;
      g.reason = *hardRule + "; " + overrideText + " not applied";
      g.op->emitWarning() << "train.config.fp8.overrides: " << overrideText << " cannot apply to '"
                          << g.name << "': " << *hardRule << "; kept bf16";
      return;
    }
    g.fp8 = *wanted;
    g.reason = overrideText;
    return;
  }
  if (filter) {
    g.rule = Rule::Filter;
    g.reason = "filtered by filter_fqns '" + *filter + "'";
    return;
  }

  // 4. First / last layer.
  auto layerRule = [&](bool enabled, std::optional<int64_t> block, StringRef linear,
                       Operation *linearOp, StringRef which, StringRef key) -> bool {
    if (!enabled)
      return false;
    if (block && g.block == block) {
      g.reason = llvm::formatv("{0} layer kept bf16 ({1}; block {2})", which, key, *block).str();
      return true;
    }
    if (!block && ((g.named && !linear.empty() && g.name == linear) || g.op == linearOp)) {
      g.reason =
          llvm::formatv("{0} layer kept bf16 ({1}; {0} linear '{2}')", which, key, g.name).str();
      return true;
    }
    return false;
  };
  if (layerRule(settings.firstLayerBF16, layers.firstBlock, layers.firstLinear,
                layers.firstLinearOp, "first", "first_layer_bf16") ||
      layerRule(settings.lastLayerBF16, layers.lastBlock, layers.lastLinear, layers.lastLinearOp,
                "last", "last_layer_bf16")) {
    g.rule = Rule::Layer;
    return;
  }

  // 5, 6. Batched GEMMs and hard rules.
  if (hardRule) {
    g.rule = g.batched ? Rule::Batched : Rule::HardRule;
    g.reason = *hardRule;
    return;
  }
  // 7. The cost model, or every eligible GEMM.
  if (settings.autoFilterRoofline) {
    g.rule = Rule::Roofline;
    g.fp8 = true; // a candidate until the fixpoint says otherwise
    return;
  }
  g.rule = Rule::AutoNone;
  g.fp8 = true;
  g.reason = "auto_filter none";
}

cost::GemmEstimate
Selector::estimate(const Gemm &g, ArrayRef<Gemm> gemms,
                   const llvm::DenseMap<Value, SmallVector<std::pair<unsigned, bool>>> &users,
                   const std::vector<bool> &inFP8) const {
  cost::GemmDesc desc;
  desc.m = g.m;
  desc.k = g.k;
  desc.n = g.n;
  desc.kind = g.kind;
  desc.recipe = recipe;
  auto castOf = [&](const Operand &operand) {
    cost::OperandCast cast;
    unsigned sharers = 0;
    bool kMajor = false, transposed = false;
    // Batched GEMMs are never fp8: priced alone, for the report.
    auto it = g.batched ? users.end() : users.find(operand.root);
    if (it != users.end()) {
      for (auto [index, userKMajor] : it->second) {
        const Gemm &user = gemms[index];
        if (&user != &g && !inFP8[index])
          continue;
        ++sharers;
        (userKMajor ? kMajor : transposed) = true;
      }
    }
    // Weight casts are not shared across gradient-accumulation micro-batches yet
    // (each accumulate_step call casts again), so they get no credit for it.
    cast.sharedBy = std::max(1u, sharers);
    cast.castTranspose = kMajor && transposed;
    // The same rule fp8-fuse-scaling applies, so the casts charged are the ones left.
    bool fusable = fp8::getFusibleProducer(operand.root) != nullptr;
    cast.amaxFused = fusable;
    cast.castFused = fusable && recipe == cost::Recipe::Delayed;
    return cast;
  };
  desc.a = castOf(g.a);
  desc.b = castOf(g.b);
  return model.estimate(desc);
}

void Selector::decide(MutableArrayRef<Gemm> gemms, const LayerRule &layers) {
  for (Gemm &g : gemms)
    applyRules(g, layers);

  // Who reads each stored tensor (as operand A or B, and in which layout).
  llvm::DenseMap<Value, SmallVector<std::pair<unsigned, bool>>> users;
  for (auto [index, g] : llvm::enumerate(gemms)) {
    if (g.batched)
      continue;
    users[g.a.root].push_back({unsigned(index), g.a.kMajor});
    users[g.b.root].push_back({unsigned(index), g.b.kMajor});
  }
  std::vector<bool> inFP8(gemms.size());
  for (auto [index, g] : llvm::enumerate(gemms))
    inFP8[index] = g.fp8;

  // The roofline fixpoint: drop every candidate that does not pay given the
  // current fp8 set, until none is dropped. The set only shrinks.
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<unsigned> dropped;
    for (auto [index, g] : llvm::enumerate(gemms)) {
      if (g.rule != Rule::Roofline || !inFP8[index])
        continue;
      g.estimate = estimate(g, gemms, users, inFP8);
      g.hasEstimate = true;
      if (g.estimate.decision != cost::GemmPrecision::FP8)
        dropped.push_back(index);
    }
    for (unsigned index : dropped) {
      inFP8[index] = false;
      gemms[index].fp8 = false;
      gemms[index].reason = gemms[index].estimate.reason;
      changed = true;
    }
  }

  // Final estimates: fp8 GEMMs with the final sharing; bf16 ones as if they
  // joined the fp8 set (the what-if the report shows).
  for (auto [index, g] : llvm::enumerate(gemms)) {
    if (g.rule == Rule::Roofline && !g.fp8)
      continue; // keeps the estimate that dropped it
    g.estimate = estimate(g, gemms, users, inFP8);
    g.hasEstimate = true;
    if (g.rule == Rule::Roofline)
      g.reason = g.estimate.reason;
    else if (g.rule == Rule::AutoNone)
      g.reason = llvm::formatv("auto_filter none (predicted {0:f2}x)", g.estimate.speedup).str();
  }
}

GemmAnnotation annotationOf(const Gemm &g) {
  GemmAnnotation a;
  a.name = g.name;
  a.kind = kindString(g.kind).str();
  a.m = g.m;
  a.k = g.k;
  a.n = g.n;
  a.fp8 = g.fp8;
  a.reason = g.reason;
  // Rounded (to the nanosecond, to 1e-4) so that the IR stays readable.
  auto round = [](double value, double perUnit) { return std::round(value * perUnit) / perUnit; };
  a.tBF16Us = round(g.estimate.tBF16Us, 1e3);
  a.tFP8Us = round(g.estimate.tFP8GemmUs + g.estimate.tCastUs, 1e3);
  a.speedup = round(g.estimate.speedup, 1e4);
  return a;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct SelectGemmsPass : fp8c::fp8::impl::SelectGemmsBase<SelectGemmsPass> {
  using SelectGemmsBase::SelectGemmsBase;

  void runOnOperation() override;

  /// The device the cost model describes; errors name the settings.
  FailureOr<cost::DeviceSpec> lookupDevice(ModuleOp module, const FP8Settings &settings);
};

FailureOr<cost::DeviceSpec> SelectGemmsPass::lookupDevice(ModuleOp module,
                                                          const FP8Settings &settings) {
  cost::DeviceTable table;
  if (!calibration.empty())
    if (llvm::Error error = table.applyCalibrationFile(calibration)) {
      module.emitError() << "fp8-select-gemms: calibration: " << llvm::toString(std::move(error));
      return failure();
    }
  llvm::Expected<const cost::DeviceSpec &> device = table.lookup(settings.device);
  if (!device) {
    std::string message = llvm::toString(device.takeError());
    if (!settings.enabled) // the setting is inert: describe the default device
      return cost::DeviceSpec(table.devices().front());
    module.emitError() << "train.config.fp8.device: " << message;
    return failure();
  }
  if (settings.enabled)
    if (llvm::Error error = cost::checkRecipeSupported(*device, toCostRecipe(settings.recipe))) {
      // The cost model's message starts with the key's short path (fp8.recipe).
      module.emitError() << "train.config." << llvm::toString(std::move(error));
      return failure();
    }
  return cost::DeviceSpec(*device);
}

void SelectGemmsPass::runOnOperation() {
  ModuleOp module = getOperation();
  FailureOr<FP8Settings> settings = fp8::readFP8Settings(module);
  if (failed(settings))
    return signalPassFailure();
  FailureOr<cost::DeviceSpec> device = lookupDevice(module, *settings);
  if (failed(device))
    return signalPassFailure();

  // train_step first: the other step functions repeat its GEMMs and copy its
  // decisions.
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  std::stable_partition(funcs.begin(), funcs.end(), [](func::FuncOp f) {
    return f.getSymName() == train::TrainDialect::getTrainStepFuncName();
  });
  std::vector<std::vector<Gemm>> perFunc;
  for (func::FuncOp func : funcs)
    perFunc.push_back(collectGemms(func));

  // The first/last-layer rule over all GEMM names.
  LayerRule layers;
  for (const std::vector<Gemm> &gemms : perFunc)
    for (const Gemm &g : gemms)
      if (g.block) {
        layers.firstBlock = std::min(layers.firstBlock.value_or(*g.block), *g.block);
        layers.lastBlock = std::max(layers.lastBlock.value_or(*g.block), *g.block);
      }
  if (!layers.firstBlock)
    for (const std::vector<Gemm> &gemms : perFunc) {
      for (const Gemm &g : gemms)
        if (isa<train::LinearOp>(g.op)) {
          if (!layers.firstLinearOp) {
            layers.firstLinearOp = g.op;
            layers.firstLinear = g.named ? g.name : "";
          }
          layers.lastLinearOp = g.op;
          layers.lastLinear = g.named ? g.name : "";
        }
      if (layers.firstLinearOp)
        break; // the first function with linears (train_step when there is one)
    }

  // A GEMM name for the hint of the unmatched-filter warnings.
  std::string example;
  for (const std::vector<Gemm> &gemms : perFunc)
    for (const Gemm &g : gemms)
      if (g.named && example.empty())
        example = g.name;

  Selector selector(*settings, cost::CostModel(*device, settings->threshold));
  selector.usedOverrides.resize(settings->overrides.size());
  selector.usedFilters.resize(settings->filterFQNs.size());

  using Key = std::tuple<std::string, cost::GemmKind, int64_t, int64_t, int64_t>;
  std::map<Key, GemmAnnotation> trainStepDecisions;
  MLIRContext *context = &getContext();
  for (auto [func, gemms] : llvm::zip_equal(funcs, perFunc)) {
    bool isTrainStep = func.getSymName() == train::TrainDialect::getTrainStepFuncName();
    // Named GEMMs that train_step has too take its decision; the rest are
    // decided here, sharing casts among themselves.
    std::vector<Gemm> own;
    for (Gemm &g : gemms) {
      if (!isTrainStep && g.named && !trainStepDecisions.empty()) {
        auto it = trainStepDecisions.find({g.name, g.kind, g.m, g.k, g.n});
        if (it != trainStepDecisions.end()) {
          g.op->setAttr(fp8::kGemmAttrName, it->second.toAttr(context));
          continue;
        }
      }
      own.push_back(std::move(g));
    }
    selector.decide(own, layers);
    for (const Gemm &g : own) {
      GemmAnnotation a = annotationOf(g);
      g.op->setAttr(fp8::kGemmAttrName, a.toAttr(context));
      if (isTrainStep && g.named)
        trainStepDecisions.try_emplace({g.name, g.kind, g.m, g.k, g.n}, a);
    }
  }

  // Settings that select nothing are probably typos.
  if (settings->enabled) {
    auto hint = [&](InFlightDiagnostic &diag) {
      diag << " (a substring of a layer name";
      if (!example.empty())
        diag << " such as '" << example << "'";
      diag << ")";
    };
    for (auto [index, filter] : llvm::enumerate(settings->filterFQNs))
      if (!selector.usedFilters.test(index)) {
        InFlightDiagnostic diag = module.emitWarning() << "train.config.fp8.filter_fqns: '"
                                                       << filter << "' matches no GEMM";
        hint(diag);
      }
    for (auto [index, ov] : llvm::enumerate(settings->overrides))
      if (!selector.usedOverrides.test(index)) {
        InFlightDiagnostic diag = module.emitWarning()
                                  << "train.config.fp8.overrides[" << index << "].match: '"
                                  << ov.match << "' matches no GEMM";
        hint(diag);
      }
  }
}

} // namespace
