//===- InsertCasts.cpp - FP8 casts around the selected GEMMs --------------===//
//
// `fp8-insert-casts` replaces every GEMM that `fp8-select-gemms` marked
// `decision = "fp8"` by the fp8 dialect ops of the user's recipe:
//
//   train.linear / train.matmul  →  amax → compute_scale → quantize | cast_transpose
//                                   → fp8.scaled_matmul (Hopper's TN layout)
//
// Per GEMM the pass (1) reads the `fp8.gemm` dictionary (name, kind, decision),
// (2) plans the two TN operands: which tensor, whether it must be transposed
// (then it comes from `cast_transpose`, never from a bf16 transpose), its role
// (input, weight, grad_output) and therefore its FP8 type and block, (3) checks
// the plan against the fp8 verifiers' rules (`getScaleShape`, dims % 16) and
// keeps the GEMM in bf16 with a warning when they fail, (4) emits the ops.
// Delayed scaling threads an amax history and a scale per (layer, role) through
// `@train_step`; the other step functions read the scales only. The contract is
// documented in docs/fp8-passes.md ("fp8-insert-casts").
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Analysis/GemmAnnotation.h"
#include "fp8c/Dialect/FP8/Transforms/Passes.h"

#include "fp8c/Support/ShapeString.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVectorExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace fp8c::fp8 {
#define GEN_PASS_DEF_INSERTCASTS
#include "fp8c/Dialect/FP8/Transforms/Passes.h.inc"
} // namespace fp8c::fp8

using namespace mlir;
using namespace fp8c::fp8;
using fp8c::shapeString;
namespace train = fp8c::train;

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

//===----------------------------------------------------------------------===//
// GEMM plans
//===----------------------------------------------------------------------===//

enum class GemmKind { forward, dgrad, wgrad };

/// What a quantized tensor is to its layer. The role fixes the FP8 type (hybrid:
/// E5M2 for grad_output) and the blockwise block ([128, 128] for weights), and
/// names the delayed-scaling state.
enum class Role { input, weight, gradOutput };

StringRef roleName(Role role) {
  switch (role) {
  case Role::input:
    return "input";
  case Role::weight:
    return "weight";
  case Role::gradOutput:
    return "grad_output";
  }
  llvm_unreachable("unknown role");
}

/// The suffix of the scaled GEMM's `name`: `<layer>.fwd|dgrad|wgrad`.
StringRef kindSuffix(GemmKind kind) {
  switch (kind) {
  case GemmKind::forward:
    return "fwd";
  case GemmKind::dgrad:
    return "dgrad";
  case GemmKind::wgrad:
    return "wgrad";
  }
  llvm_unreachable("unknown GEMM kind");
}

/// One operand of the TN GEMM (`lhs [M, K]`, `rhs [N, K]`), before quantization.
struct Operand {
  Value value;                   // as the program holds it (N-D for a linear input)
  SmallVector<int64_t, 2> shape; // the 2-D tensor that is quantized
  bool transpose = false;        // the TN operand is the transpose of `shape`
  Role role = Role::input;

  SmallVector<int64_t, 2> tnShape() const {
    return transpose ? SmallVector<int64_t, 2>{shape[1], shape[0]} : shape;
  }
};

struct GemmPlan {
  Operation *op = nullptr;
  DictionaryAttr info;
  std::string layer;
  GemmKind kind = GemmKind::forward;
  Operand lhs, rhs;
  Value bias;

  std::string gemmName() const { return layer + "." + kindSuffix(kind).str(); }
};

//===----------------------------------------------------------------------===//
// The rewriter of one function
//===----------------------------------------------------------------------===//

/// Delayed-scaling state of one (layer, role): `fp8.amax_history.<key>` and
/// `fp8.scale.<key>`.
struct ScalingState {
  std::string key; // <layer>.<role>
  Type fp8Type;
  Location loc;
  Value history;              // incoming history (state-updating function only)
  Value scale;                // incoming scale: what this step quantizes with
  Value pending;              // amaxes of the optimizer step's earlier micro-batches
  SmallVector<Value> sources; // tensors quantized with it this step
  SmallVector<Value> amaxes;  // their amax, pushed into the history
};

class FunctionRewriter {
public:
  /// `updatesState`: pushes amaxes into the histories (@train_step).
  /// `pendingLen` > 0 (grad_accum_steps, with gradient accumulation):
  /// @accumulate_step pushes its micro-batch's amaxes into a pending history of
  /// that length, and @train_step pushes the max of it and its own amax, so
  /// one optimizer step records all its micro-batches.
  FunctionRewriter(func::FuncOp func, const FP8Settings &settings, bool updatesState,
                   int64_t pendingLen)
      : func(func), settings(settings), updatesState(updatesState), pendingLen(pendingLen),
        ctx(func.getContext()) {}

  /// Rewrites every fp8 GEMM of the function; false after a located error.
  bool run();

  /// `<layer>.<role>` of every scaling state, in order of first use.
  SmallVector<std::string> stateKeys() const {
    return llvm::map_to_vector(states, [](const ScalingState &s) { return s.key; });
  }

private:
  FailureOr<std::optional<GemmPlan>> analyze(Operation *op);
  std::optional<std::string> checkPlan(const GemmPlan &plan) const;
  void keepBF16(const GemmPlan &plan, StringRef why);
  void rewrite(const GemmPlan &plan);
  std::pair<Value, Value> prepare(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                                  const Operand &operand);
  Value source2D(ImplicitLocOpBuilder &b, const Operand &operand);
  Value scaleOf(ImplicitLocOpBuilder &b, Value src, Type fp8Type, DenseI64ArrayAttr block,
                bool transposedGroups);
  ScalingState &state(const GemmPlan &plan, const Operand &operand);
  bool addStateArguments();
  bool finishStates();
  bool returnPendingAmaxes();

  Recipe recipe() const { return settings.recipe; }
  Type fp8TypeOf(Role role) const {
    if (role == Role::gradOutput && settings.format == Format::hybrid)
      return Float8E5M2Type::get(ctx);
    return Float8E4M3FNType::get(ctx);
  }
  DenseI64ArrayAttr blockOf(Role role) const {
    if (recipe() != Recipe::blockwise)
      return {};
    return DenseI64ArrayAttr::get(ctx, role == Role::weight ? ArrayRef<int64_t>{128, 128}
                                                            : ArrayRef<int64_t>{1, 128});
  }
  /// Rowwise and 1×128 groups are not closed under transposition: the transposed
  /// copy of a cast_transpose then needs its own amax and scale.
  bool needsTransposedScale(DenseI64ArrayAttr block) const {
    return recipe() == Recipe::rowwise || (block && block[0] == 1);
  }
  RankedTensorType scaleType(ArrayRef<int64_t> shape, DenseI64ArrayAttr block) const {
    SmallVector<int64_t> scaleShape;
    std::string error;
    std::optional<ArrayRef<int64_t>> b;
    if (block)
      b = block.asArrayRef();
    // Checked by checkPlan before anything is built.
    (void)getScaleShape(recipe(), b, shape, scaleShape, error);
    return RankedTensorType::get(scaleShape, Float32Type::get(ctx));
  }

  func::FuncOp func;
  const FP8Settings &settings;
  bool updatesState;
  int64_t pendingLen;
  MLIRContext *ctx;

  /// The forward GEMM of each layer, to tell a backward GEMM's gradient operand
  /// from the layer's input and weight.
  llvm::StringMap<Operation *> forwards;
  /// One 2-D view per (tensor, 2-D type): the forward's flattened input and the
  /// wgrad's (autodiff's reshape) become one value, so they share amax and scale.
  DenseMap<std::pair<Value, Type>, Value> views;
  /// amax → compute_scale, per (tensor, FP8 type, transposed groups, block rows).
  DenseMap<std::tuple<Value, Type, unsigned, int64_t>, Value> scales;
  /// Quantized TN operand and its scale, per (tensor, FP8 type, transpose, block rows).
  DenseMap<std::tuple<Value, Type, unsigned, int64_t>, std::pair<Value, Value>> prepared;
  SmallVector<ScalingState> states;
  llvm::StringMap<size_t> stateIndex;
  /// Stand-ins for the state arguments until addStateArguments, with what the
  /// real arguments get.
  Block placeholders;
  SmallVector<Type> newArgTypes;
  SmallVector<DictionaryAttr> newArgAttrs;
  SmallVector<Location> newArgLocs;
};

/// Reads `fp8.gemm` of a GEMM and plans its TN operands. Returns nullopt for an
/// op that is not an fp8 GEMM (no attribute, or decision bf16).
FailureOr<std::optional<GemmPlan>> FunctionRewriter::analyze(Operation *op) {
  auto info = op->getAttrOfType<DictionaryAttr>(kGemmAttrName);
  if (!info) {
    if (op->hasAttr(kGemmAttrName))
      return op->emitError() << "'" << kGemmAttrName << "' must be a dictionary";
    return std::optional<GemmPlan>();
  }
  auto field = [&](StringRef key) -> FailureOr<StringRef> {
    auto value = info.getAs<StringAttr>(key);
    if (!value || value.getValue().empty())
      return op->emitError() << "'" << kGemmAttrName << "' needs a non-empty string '" << key
                             << "'";
    return value.getValue();
  };
  FailureOr<StringRef> decision = field("decision");
  if (failed(decision))
    return failure();
  if (*decision != "fp8" && *decision != "bf16")
    return op->emitError() << "'" << kGemmAttrName
                           << "' decision must be \"fp8\" or \"bf16\", got \"" << *decision << "\"";
  if (*decision == "bf16")
    return std::optional<GemmPlan>();
  // fp8.scaled_matmul has no addend: casting would drop it.
  if (auto matmul = dyn_cast<train::MatmulOp>(op); matmul && matmul.getAcc())
    return op->emitError() << "an FP8 '" << kGemmAttrName
                           << "' decision on a train.matmul with acc: FP8 GEMMs do not "
                              "accumulate into an operand; decide it \"bf16\"";
  FailureOr<StringRef> name = field("name"), kind = field("kind");
  if (failed(name) || failed(kind))
    return failure();

  GemmPlan plan;
  plan.op = op;
  plan.info = info;
  plan.layer = name->str();
  if (*kind == "forward")
    plan.kind = GemmKind::forward;
  else if (*kind == "dgrad")
    plan.kind = GemmKind::dgrad;
  else if (*kind == "wgrad")
    plan.kind = GemmKind::wgrad;
  else
    return op->emitError() << "'" << kGemmAttrName
                           << "' kind must be \"forward\", \"dgrad\" or \"wgrad\", got \"" << *kind
                           << "\"";

  if (auto linear = dyn_cast<train::LinearOp>(op)) {
    if (plan.kind != GemmKind::forward)
      return op->emitError() << "'" << kGemmAttrName
                             << "' of a train.linear must have kind \"forward\"";
    // y = x·Wᵀ + b: x flattened to [rows, in] is lhs, W [out, in] is rhs as stored.
    RankedTensorType x = tensorType(linear.getInput());
    int64_t rows = 1;
    for (int64_t d : x.getShape().drop_back())
      rows *= d;
    plan.lhs = {linear.getInput(), {rows, x.getShape().back()}, false, Role::input};
    RankedTensorType w = tensorType(linear.getWeight());
    plan.rhs = {linear.getWeight(), {w.getDimSize(0), w.getDimSize(1)}, false, Role::weight};
    plan.bias = linear.getBias();
    return std::optional<GemmPlan>(std::move(plan));
  }

  auto matmul = cast<train::MatmulOp>(op);
  // op(lhs) = [M, K] is the TN lhs unless transposed; op(rhs) = [K, N] must become
  // [N, K], which it is as stored only with transpose_rhs.
  RankedTensorType l = tensorType(matmul.getLhs()), r = tensorType(matmul.getRhs());
  plan.lhs = {
      matmul.getLhs(), {l.getDimSize(0), l.getDimSize(1)}, matmul.getTransposeLhs(), Role::input};
  plan.rhs = {
      matmul.getRhs(), {r.getDimSize(0), r.getDimSize(1)}, !matmul.getTransposeRhs(), Role::weight};
  if (plan.kind == GemmKind::forward)
    return std::optional<GemmPlan>(std::move(plan)); // lhs: input, rhs: weight (positional)

  // A backward GEMM: the operand that is neither the layer's forward input nor its
  // weight is the gradient. Without a forward to compare with (or when both or
  // neither operand match), the layout autodiff emits for a linear layer is
  // assumed: dy is the lhs, and the other operand is W (dgrad) or x (wgrad).
  Role other = plan.kind == GemmKind::dgrad ? Role::weight : Role::input;
  plan.lhs.role = Role::gradOutput;
  plan.rhs.role = other;
  if (Operation *fwd = forwards.lookup(plan.layer)) {
    Value fwdIn = train::stripReshapes(fwd->getOperand(0)),
          fwdW = train::stripReshapes(fwd->getOperand(1));
    auto roleOf = [&](Value v) -> std::optional<Role> {
      Value s = train::stripReshapes(v);
      if (s == fwdIn)
        return Role::input;
      if (s == fwdW)
        return Role::weight;
      return std::nullopt;
    };
    std::optional<Role> lr = roleOf(matmul.getLhs()), rr = roleOf(matmul.getRhs());
    if (lr && !rr) {
      plan.lhs.role = *lr;
      plan.rhs.role = Role::gradOutput;
    } else if (!lr && rr) {
      plan.lhs.role = Role::gradOutput;
      plan.rhs.role = *rr;
    }
  }
  return std::optional<GemmPlan>(std::move(plan));
}

/// Why the plan would make invalid fp8 IR, or nullopt when it is legal: the
/// recipe's scale shapes (getScaleShape, as the verifiers) and dims % 16.
std::optional<std::string> FunctionRewriter::checkPlan(const GemmPlan &plan) const {
  for (const Operand *o : {&plan.lhs, &plan.rhs}) {
    DenseI64ArrayAttr block = blockOf(o->role);
    std::optional<ArrayRef<int64_t>> b;
    if (block)
      b = block.asArrayRef();
    SmallVector<int64_t> scaleShape;
    std::string error;
    if (failed(getScaleShape(recipe(), b, o->shape, scaleShape, error)))
      return roleName(o->role).str() + " " + shapeString(o->shape) + ": " + error;
    if (o->transpose && needsTransposedScale(block)) {
      SmallVector<int64_t, 2> t = o->tnShape();
      if (failed(getScaleShape(recipe(), b, t, scaleShape, error)))
        return "transposed " + roleName(o->role).str() + " " + shapeString(t) + ": " + error;
    }
  }
  SmallVector<int64_t, 2> l = plan.lhs.tnShape(), r = plan.rhs.tnShape();
  for (auto [dim, size] : {std::pair<char, int64_t>{'M', l[0]}, {'N', r[0]}, {'K', l[1]}})
    if (size % 16 != 0)
      return "FP8 GEMM dimension " + std::string(1, dim) + " = " + std::to_string(size) +
             " is not a multiple of 16";
  return std::nullopt;
}

/// The GEMM stays as it is; its `fp8.gemm` says so and why.
void FunctionRewriter::keepBF16(const GemmPlan &plan, StringRef why) {
  plan.op->emitWarning() << "GEMM '" << plan.gemmName() << "' stays in bf16: " << why;
  NamedAttrList entries(plan.info);
  entries.set("decision", StringAttr::get(ctx, "bf16"));
  entries.set("reason", StringAttr::get(ctx, ("fp8-insert-casts: " + why).str()));
  plan.op->setAttr(kGemmAttrName, entries.getDictionary(ctx));
}

/// `operand` as the 2-D tensor to quantize: flattened with train.reshape where
/// needed, and one value per (tensor, 2-D type) across the function.
Value FunctionRewriter::source2D(ImplicitLocOpBuilder &b, const Operand &operand) {
  RankedTensorType type = tensorType(operand.value);
  auto type2D = RankedTensorType::get(operand.shape, type.getElementType());
  Value base = operand.value;
  if (type == type2D) {
    auto reshape = operand.value.getDefiningOp<train::ReshapeOp>();
    if (!reshape)
      return operand.value;
    base = reshape.getInput();
  }
  auto [it, inserted] = views.try_emplace({base, type2D}, Value());
  if (!inserted)
    return it->second; // an earlier GEMM's view: it dominates this one
  it->second = type == type2D ? operand.value
                              : train::ReshapeOp::create(b, type2D, operand.value).getResult();
  return it->second;
}

/// amax → compute_scale of `src` for `fp8Type`, once per function.
Value FunctionRewriter::scaleOf(ImplicitLocOpBuilder &b, Value src, Type fp8Type,
                                DenseI64ArrayAttr block, bool transposedGroups) {
  auto key =
      std::make_tuple(src, fp8Type, unsigned(transposedGroups), block ? block[0] : int64_t(0));
  if (Value cached = scales.lookup(key))
    return cached;
  ArrayRef<int64_t> shape = tensorType(src).getShape();
  SmallVector<int64_t, 2> groups(shape);
  if (transposedGroups)
    groups = {shape[1], shape[0]};
  RankedTensorType type = scaleType(groups, block);
  Value amax = AmaxOp::create(b, type, src, RecipeAttr::get(ctx, recipe()), block,
                              transposedGroups ? UnitAttr::get(ctx) : UnitAttr());
  Value scale =
      ComputeScaleOp::create(b, type, amax, Value(), fp8Type,
                             static_cast<uint64_t>(settings.margin), settings.powerOf2Scales);
  scales[key] = scale;
  return scale;
}

/// The delayed-scaling state of `operand`, created on first use: block arguments
/// `fp8.amax_history.<key>` (updating function only) and `fp8.scale.<key>`. They
/// stand in as placeholders until addStateArguments inserts them all at once.
ScalingState &FunctionRewriter::state(const GemmPlan &plan, const Operand &operand) {
  std::string key = plan.layer + "." + roleName(operand.role).str();
  auto [it, inserted] = stateIndex.try_emplace(key, states.size());
  if (!inserted)
    return states[it->second];

  auto argAttrs = [&](StringRef prefix, train::InitKind init) {
    NamedAttribute entries[] = {
        NamedAttribute(StringAttr::get(ctx, train::TrainDialect::getInitAttrName()),
                       train::InitKindAttr::get(ctx, init)),
        NamedAttribute(StringAttr::get(ctx, train::TrainDialect::getNameAttrName()),
                       StringAttr::get(ctx, prefix + key))};
    return DictionaryAttr::get(ctx, entries);
  };
  Location loc = plan.op->getLoc();
  auto f32 = Float32Type::get(ctx);
  auto newArgument = [&](Type type, DictionaryAttr attrs) {
    newArgTypes.push_back(type);
    newArgAttrs.push_back(attrs);
    newArgLocs.push_back(loc);
    return placeholders.addArgument(type, loc);
  };
  ScalingState s{key, fp8TypeOf(operand.role), loc, Value(), Value(), Value(), {}, {}};
  if (updatesState)
    s.history = newArgument(RankedTensorType::get({settings.amaxHistoryLen}, f32),
                            argAttrs("fp8.amax_history.", train::InitKind::zeros));
  s.scale =
      newArgument(RankedTensorType::get({}, f32), argAttrs("fp8.scale.", train::InitKind::ones));
  if (pendingLen > 0)
    s.pending = newArgument(RankedTensorType::get({pendingLen}, f32),
                            argAttrs("fp8.amax_pending.", train::InitKind::zeros));
  states.push_back(std::move(s));
  return states.back();
}

/// Inserts the state arguments in order of first use, before `step` (which
/// stays last) in train_step and at the end elsewhere, in one change of the
/// signature (one per state would make the pass quadratic in the depth).
bool FunctionRewriter::addStateArguments() {
  if (newArgTypes.empty())
    return true;
  unsigned index = func.getNumArguments();
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (auto name = func.getArgAttrOfType<StringAttr>(i, train::TrainDialect::getNameAttrName());
        name && name.getValue() == "step")
      index = i;
  SmallVector<unsigned> indices(newArgTypes.size(), index);
  if (failed(func.insertArguments(indices, newArgTypes, newArgAttrs, newArgLocs))) {
    for (BlockArgument placeholder : placeholders.getArguments())
      placeholder.dropAllUses();
    return false;
  }
  auto real = [&](Value placeholder) -> Value {
    if (!placeholder)
      return placeholder;
    Value arg = func.getArgument(index + cast<BlockArgument>(placeholder).getArgNumber());
    placeholder.replaceAllUsesWith(arg);
    return arg;
  };
  for (ScalingState &st : states) {
    st.history = real(st.history);
    st.scale = real(st.scale);
    st.pending = real(st.pending);
  }
  return true;
}

/// The quantized TN operand and the scale the GEMM divides it by.
std::pair<Value, Value> FunctionRewriter::prepare(ImplicitLocOpBuilder &b, const GemmPlan &plan,
                                                  const Operand &operand) {
  Value src = source2D(b, operand);
  Type fp8Type = fp8TypeOf(operand.role);
  DenseI64ArrayAttr block = blockOf(operand.role);
  auto key =
      std::make_tuple(src, fp8Type, unsigned(operand.transpose), block ? block[0] : int64_t(0));
  if (auto it = prepared.find(key); it != prepared.end())
    return it->second;

  ArrayRef<int64_t> shape = tensorType(src).getShape();
  auto qType = RankedTensorType::get(shape, fp8Type);
  auto qtType = RankedTensorType::get({shape[1], shape[0]}, fp8Type);
  auto recipeAttr = RecipeAttr::get(ctx, recipe());
  std::pair<Value, Value> result;

  if (recipe() == Recipe::delayed) {
    // Quantize with the incoming scale; this step's amax goes into the history.
    ScalingState &st = state(plan, operand);
    Value scale = st.scale;
    if (operand.transpose)
      result = {CastTransposeOp::create(b, qType, qtType, src, scale, Value(), recipeAttr, block)
                    .getTransposed(),
                scale};
    else
      result = {QuantizeOp::create(b, qType, src, scale, recipeAttr, block), scale};
    if ((updatesState || pendingLen > 0) && !llvm::is_contained(st.sources, src)) {
      st.sources.push_back(src);
      st.amaxes.push_back(AmaxOp::create(b, RankedTensorType::get({}, Float32Type::get(ctx)), src,
                                         recipeAttr, block));
    }
  } else if (!operand.transpose) {
    Value scale = scaleOf(b, src, fp8Type, block, /*transposedGroups=*/false);
    result = {QuantizeOp::create(b, qType, src, scale, recipeAttr, block), scale};
  } else {
    Value scale = scaleOf(b, src, fp8Type, block, /*transposedGroups=*/false);
    Value scaleT;
    if (needsTransposedScale(block))
      scaleT = scaleOf(b, src, fp8Type, block, /*transposedGroups=*/true);
    auto ct = CastTransposeOp::create(b, qType, qtType, src, scale, scaleT, recipeAttr, block);
    Value tnScale = scaleT;
    if (!tnScale && block) {
      // 128×128 blocks: block (i, j) of x is block (j, i) of xᵀ.
      auto scaleShape = tensorType(scale).getShape();
      tnScale = train::TransposeOp::create(
          b, RankedTensorType::get({scaleShape[1], scaleShape[0]}, Float32Type::get(ctx)), scale,
          b.getDenseI64ArrayAttr({1, 0}));
    } else if (!tnScale) {
      tnScale = scale; // tensorwise: one scalar for both copies
    }
    result = {ct.getTransposed(), tnScale};
  }
  prepared[key] = result;
  return result;
}

void FunctionRewriter::rewrite(const GemmPlan &plan) {
  Operation *op = plan.op;
  ImplicitLocOpBuilder b(op->getLoc(), op);
  auto [lhs, lhsScale] = prepare(b, plan, plan.lhs);
  auto [rhs, rhsScale] = prepare(b, plan, plan.rhs);

  RankedTensorType resultType = tensorType(op->getResult(0));
  auto type2D = RankedTensorType::get({plan.lhs.tnShape()[0], plan.rhs.tnShape()[0]},
                                      resultType.getElementType());
  bool forward = plan.kind == GemmKind::forward;
  auto gemm = ScaledMatmulOp::create(
      b, type2D, /*amax=*/Type(), lhs, rhs, lhsScale, rhsScale, /*result_scale=*/Value(), plan.bias,
      RecipeAttr::get(ctx, recipe()), FormatAttr::get(ctx, settings.format), blockOf(plan.lhs.role),
      blockOf(plan.rhs.role), forward ? UnitAttr::get(ctx) : UnitAttr(),
      StringAttr::get(ctx, plan.gemmName()));
  gemm->setAttr(kGemmAttrName, plan.info);
  Value result = gemm.getResult();
  if (type2D != resultType)
    result = train::ReshapeOp::create(b, resultType, result);
  op->getResult(0).replaceAllUsesWith(result);
  SmallVector<Value> operands(op->getOperands());
  op->erase();
  // A flattening that only the GEMM read (the wgrad's view of x, now replaced by
  // the forward's) is dead.
  for (Value v : operands)
    if (auto reshape = v.getDefiningOp<train::ReshapeOp>(); reshape && reshape->use_empty())
      reshape->erase();
}

/// Updating function: pushes each state's amax, derives the next scale from the
/// history (previous scale as fallback; only every `interval` steps) and returns
/// both. Read-only functions return nothing new.
bool FunctionRewriter::finishStates() {
  if (!addStateArguments())
    return false;
  if (states.empty())
    return true;
  if (!updatesState)
    return pendingLen > 0 ? returnPendingAmaxes() : true;
  Operation *ret = func.getBody().front().getTerminator();
  ImplicitLocOpBuilder b(func.getLoc(), ret);

  // (step - 1) % interval == 0: refresh at the end of steps 1, 1 + interval, ...
  Value refresh;
  if (settings.interval > 1) {
    Value step;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (auto name = func.getArgAttrOfType<StringAttr>(i, train::TrainDialect::getNameAttrName());
          name && name.getValue() == "step")
        step = func.getArgument(i);
    auto i64 = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    if (!step || step.getType() != i64) {
      func.emitError() << "delayed scaling with interval " << settings.interval
                       << " needs the 'step' argument (tensor<i64>) of @" << func.getSymName();
      return false;
    }
    auto constant = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(b, DenseElementsAttr::get(i64, ArrayRef<int64_t>{v}));
    };
    Value index = arith::SubIOp::create(b, step, constant(1));
    Value phase = arith::RemSIOp::create(b, index, constant(settings.interval));
    refresh = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, phase, constant(0));
  }

  SmallVector<Value> newResults;
  SmallVector<Type> newTypes;
  SmallVector<DictionaryAttr> newAttrs;
  auto named = [&](StringRef prefix, StringRef key) {
    NamedAttribute entry(StringAttr::get(ctx, train::TrainDialect::getNameAttrName()),
                         StringAttr::get(ctx, prefix + key));
    return DictionaryAttr::get(ctx, {entry});
  };
  for (ScalingState &st : states) {
    b.setLoc(st.loc);
    Value amax = st.amaxes.front();
    for (Value other : ArrayRef<Value>(st.amaxes).drop_front())
      amax = arith::MaximumFOp::create(b, amax, other);
    // The largest amax of all the step's micro-batches (arith.maximumf is no
    // kernel op: the pending history's own max, with this amax pushed).
    if (st.pending)
      amax = AmaxFromHistoryOp::create(
          b, amax.getType(), AmaxHistoryUpdateOp::create(b, st.pending.getType(), st.pending, amax),
          AmaxComputeAlgo::max);
    Value history = AmaxHistoryUpdateOp::create(b, st.history.getType(), st.history, amax);
    Value fromHistory =
        AmaxFromHistoryOp::create(b, amax.getType(), history, settings.amaxComputeAlgo);
    Value scale =
        ComputeScaleOp::create(b, st.scale.getType(), fromHistory, st.scale, st.fp8Type,
                               static_cast<uint64_t>(settings.margin), settings.powerOf2Scales);
    if (refresh)
      scale = arith::SelectOp::create(b, refresh, scale, st.scale);
    newResults.append({history, scale});
    newTypes.append({history.getType(), scale.getType()});
    newAttrs.append({named("fp8.amax_history.", st.key), named("fp8.scale.", st.key)});
  }
  unsigned first = func.getNumResults();
  SmallVector<unsigned> indices(newResults.size(), first);
  if (failed(func.insertResults(indices, newTypes, newAttrs)))
    return false;
  ret->insertOperands(ret->getNumOperands(), newResults);
  return true;
}

/// @accumulate_step: returns `fp8.amax_pending.<key>` with this micro-batch's
/// amax pushed (grad_accum_steps entries: none is dropped before train_step);
/// the trainer zeroes it before every optimizer step.
bool FunctionRewriter::returnPendingAmaxes() {
  Operation *ret = func.getBody().front().getTerminator();
  ImplicitLocOpBuilder b(func.getLoc(), ret);
  SmallVector<Value> newResults;
  SmallVector<DictionaryAttr> newAttrs;
  for (ScalingState &st : states) {
    b.setLoc(st.loc);
    Value amax = st.amaxes.front();
    for (Value other : ArrayRef<Value>(st.amaxes).drop_front())
      amax = arith::MaximumFOp::create(b, amax, other);
    newResults.push_back(AmaxHistoryUpdateOp::create(b, st.pending.getType(), st.pending, amax));
    newAttrs.push_back(DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, train::TrainDialect::getNameAttrName()),
                             StringAttr::get(ctx, "fp8.amax_pending." + st.key))}));
  }
  SmallVector<Type> newTypes = llvm::map_to_vector(newResults, [](Value v) { return v.getType(); });
  SmallVector<unsigned> indices(newResults.size(), func.getNumResults());
  if (failed(func.insertResults(indices, newTypes, newAttrs)))
    return false;
  ret->insertOperands(ret->getNumOperands(), newResults);
  return true;
}

bool FunctionRewriter::run() {
  SmallVector<Operation *> gemms;
  bool ok = true;
  func.walk([&](Operation *op) {
    if (!isa<train::LinearOp, train::MatmulOp>(op) || !op->hasAttr(kGemmAttrName))
      return;
    gemms.push_back(op);
    auto info = op->getAttrOfType<DictionaryAttr>(kGemmAttrName);
    if (!info)
      return;
    auto name = info.getAs<StringAttr>("name");
    auto kind = info.getAs<StringAttr>("kind");
    if (name && kind && kind.getValue() == "forward")
      forwards.try_emplace(name.getValue(), op);
  });

  // Plan everything before changing anything: backward GEMMs compare their
  // operands with their layer's forward GEMM, which rewriting would erase.
  SmallVector<GemmPlan> plans;
  for (Operation *op : gemms) {
    FailureOr<std::optional<GemmPlan>> plan = analyze(op);
    if (failed(plan)) {
      ok = false;
      continue;
    }
    if (!*plan)
      continue;
    if (std::optional<std::string> why = checkPlan(**plan)) {
      keepBF16(**plan, *why);
      continue;
    }
    plans.push_back(std::move(**plan));
  }
  if (!ok)
    return false;
  if (!plans.empty() && func.getBody().getBlocks().size() != 1) {
    func.emitError() << "fp8-insert-casts expects @" << func.getSymName()
                     << " to have a single block";
    return false;
  }
  for (const GemmPlan &plan : plans)
    rewrite(plan);
  return finishStates();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct InsertCastsPass : fp8c::fp8::impl::InsertCastsBase<InsertCastsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<FP8Settings> settings = readFP8Settings(module);
    if (failed(settings))
      return signalPassFailure();

    // @train_step first: it owns the delayed-scaling state that the other step
    // functions read.
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    std::stable_partition(funcs.begin(), funcs.end(), [](func::FuncOp f) {
      return f.getSymName() == train::TrainDialect::getTrainStepFuncName();
    });
    bool hasTrainStep =
        !funcs.empty() && funcs.front().getSymName() == train::TrainDialect::getTrainStepFuncName();
    // Gradient accumulation: the amaxes of every micro-batch reach the history.
    // (grad_accum_steps was checked by fp8-autodiff.)
    auto config = module->getAttrOfType<DictionaryAttr>(train::TrainDialect::getConfigAttrName());
    auto accumSteps = config ? config.getAs<IntegerAttr>("grad_accum_steps") : IntegerAttr();
    int64_t pendingLen =
        settings->recipe == Recipe::delayed && accumSteps && accumSteps.getInt() > 1 &&
                module.lookupSymbol<func::FuncOp>(train::TrainDialect::getAccumulateStepFuncName())
            ? accumSteps.getInt()
            : 0;
    llvm::StringSet<> updated;
    for (func::FuncOp func : funcs) {
      bool updates = func.getSymName() == train::TrainDialect::getTrainStepFuncName();
      bool accumulates =
          updates || func.getSymName() == train::TrainDialect::getAccumulateStepFuncName();
      FunctionRewriter rewriter(func, *settings, updates, accumulates ? pendingLen : 0);
      if (!rewriter.run())
        return signalPassFailure();
      for (const std::string &key : rewriter.stateKeys()) {
        if (updates)
          updated.insert(key);
        else if (hasTrainStep && !updated.contains(key))
          func.emitWarning() << "delayed scaling: 'fp8.scale." << key
                             << "' is not updated by @train_step; it keeps its initial value 1";
      }
    }
  }
};

} // namespace
