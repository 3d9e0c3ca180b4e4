//===- Autodiff.cpp - forward graph to train_step and eval_step -----------===//
//
// `fp8-autodiff` turns `func.func @forward(inputs) -> loss` into one training step
// (forward, reverse-mode backward, gradient clipping, optimizer update) and a
// forward-only evaluation step, and the logits step that generation samples
// from (LogitsStep.cpp). The backward pass asks every op for its VJP
// through DifferentiableOpInterface and never looks at op names; the contract of
// the two functions is documented in docs/autodiff.md.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/Transforms/Passes.h"

#include "LogitsStep.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

namespace fp8c::train {
#define GEN_PASS_DEF_AUTODIFF
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"
} // namespace fp8c::train

using namespace mlir;
using namespace fp8c::train;

namespace {

//===----------------------------------------------------------------------===//
// Optimizer settings
//===----------------------------------------------------------------------===//

/// Everything the optimizer section of `train_step` depends on.
struct TrainConfig {
  std::string optimizer; // adamw | sgd
  double lr, beta1, beta2, eps, weightDecay, gradClip, momentum;
  std::string schedule; // constant | cosine
  int64_t warmupSteps, totalSteps;
  double minLr;
  int64_t gradAccumSteps; // micro-batches per optimizer step
};

constexpr StringLiteral kConfigAttrName = TrainDialect::getConfigAttrName();

/// Reads the optimizer settings: `config` (the pass options) overridden by the
/// keys of the module's `train.config` dictionary,
///
///   train.config = {optimizer = {name = "adamw"|"sgd", lr, beta1, beta2, eps,
///                                weight_decay, grad_clip, momentum},
///                   lr_schedule = {kind = "constant"|"cosine", warmup_steps,
///                                  total_steps, min_lr},
///                   grad_accum_steps}
///
/// and checks the result. Other top-level keys belong to other passes and are
/// left alone. Errors are located at the module and name the key.
FailureOr<TrainConfig> readTrainConfig(ModuleOp module, TrainConfig config) {
  Location loc = module.getLoc();
  auto keyError = [&](StringRef section, StringRef key) {
    return emitError(loc) << kConfigAttrName << ": '" << section << "." << key << "' ";
  };

  if (Attribute raw = module->getAttr(kConfigAttrName)) {
    auto top = dyn_cast<DictionaryAttr>(raw);
    if (!top)
      return emitError(loc) << kConfigAttrName << " must be a dictionary, got " << raw;
    if (Attribute accum = top.get("grad_accum_steps")) {
      auto steps = dyn_cast<IntegerAttr>(accum);
      if (!steps || steps.getType().isInteger(1))
        return emitError(loc) << kConfigAttrName << ": 'grad_accum_steps' must be an integer, got "
                              << accum;
      config.gradAccumSteps = steps.getInt();
    }

    // One section: a dictionary whose keys are all known.
    auto section = [&](StringRef name, ArrayRef<StringRef> keys) -> FailureOr<DictionaryAttr> {
      Attribute attr = top.get(name);
      if (!attr)
        return DictionaryAttr();
      auto dict = dyn_cast<DictionaryAttr>(attr);
      if (!dict)
        return emitError(loc) << kConfigAttrName << ": '" << name << "' must be a dictionary, got "
                              << attr;
      for (NamedAttribute entry : dict)
        if (!llvm::is_contained(keys, entry.getName().getValue()))
          return keyError(name, entry.getName().getValue())
                 << "is not a known key; expected one of: " << llvm::join(keys, ", ");
      return dict;
    };
    auto number = [&](DictionaryAttr dict, StringRef name, StringRef key,
                      double &value) -> LogicalResult {
      Attribute attr = dict ? dict.get(key) : Attribute();
      if (!attr)
        return success();
      if (auto f = dyn_cast<FloatAttr>(attr))
        value = f.getValueAsDouble();
      else if (auto i = dyn_cast<IntegerAttr>(attr); i && !i.getType().isInteger(1))
        value = static_cast<double>(i.getInt());
      else
        return keyError(name, key) << "must be a number, got " << attr;
      return success();
    };
    auto integer = [&](DictionaryAttr dict, StringRef name, StringRef key,
                       int64_t &value) -> LogicalResult {
      Attribute attr = dict ? dict.get(key) : Attribute();
      if (!attr)
        return success();
      auto i = dyn_cast<IntegerAttr>(attr);
      if (!i || i.getType().isInteger(1))
        return keyError(name, key) << "must be an integer, got " << attr;
      value = i.getInt();
      return success();
    };
    auto string = [&](DictionaryAttr dict, StringRef name, StringRef key,
                      std::string &value) -> LogicalResult {
      Attribute attr = dict ? dict.get(key) : Attribute();
      if (!attr)
        return success();
      auto s = dyn_cast<StringAttr>(attr);
      if (!s)
        return keyError(name, key) << "must be a string, got " << attr;
      value = s.getValue().str();
      return success();
    };

    FailureOr<DictionaryAttr> opt = section("optimizer", {"name", "lr", "beta1", "beta2", "eps",
                                                          "weight_decay", "grad_clip", "momentum"});
    FailureOr<DictionaryAttr> sched =
        section("lr_schedule", {"kind", "warmup_steps", "total_steps", "min_lr"});
    if (failed(opt) || failed(sched) ||
        failed(string(*opt, "optimizer", "name", config.optimizer)) ||
        failed(number(*opt, "optimizer", "lr", config.lr)) ||
        failed(number(*opt, "optimizer", "beta1", config.beta1)) ||
        failed(number(*opt, "optimizer", "beta2", config.beta2)) ||
        failed(number(*opt, "optimizer", "eps", config.eps)) ||
        failed(number(*opt, "optimizer", "weight_decay", config.weightDecay)) ||
        failed(number(*opt, "optimizer", "grad_clip", config.gradClip)) ||
        failed(number(*opt, "optimizer", "momentum", config.momentum)) ||
        failed(string(*sched, "lr_schedule", "kind", config.schedule)) ||
        failed(integer(*sched, "lr_schedule", "warmup_steps", config.warmupSteps)) ||
        failed(integer(*sched, "lr_schedule", "total_steps", config.totalSteps)) ||
        failed(number(*sched, "lr_schedule", "min_lr", config.minLr)))
      return failure();
  }

  // Values, wherever they came from. `!(x >= 0)` also rejects NaN.
  auto valueError = [&](StringRef section, StringRef key) {
    return emitError(loc) << "optimizer setting '" << section << "." << key << "' ";
  };
  if (config.optimizer != "adamw" && config.optimizer != "sgd")
    return valueError("optimizer", "name")
           << "must be one of: adamw, sgd; got '" << config.optimizer << "'";
  if (!(config.lr > 0.0))
    return valueError("optimizer", "lr") << "must be positive, got " << config.lr;
  for (auto [key, beta] :
       {std::pair<StringRef, double>{"beta1", config.beta1}, {"beta2", config.beta2}})
    if (!(beta >= 0.0 && beta < 1.0))
      return valueError("optimizer", key) << "must be in [0, 1), got " << beta;
  if (!(config.eps > 0.0))
    return valueError("optimizer", "eps") << "must be positive, got " << config.eps;
  if (!(config.weightDecay >= 0.0))
    return valueError("optimizer", "weight_decay") << "must be >= 0, got " << config.weightDecay;
  if (!(config.gradClip >= 0.0))
    return valueError("optimizer", "grad_clip")
           << "must be >= 0 (0 disables clipping), got " << config.gradClip;
  if (!(config.momentum >= 0.0 && config.momentum < 1.0))
    return valueError("optimizer", "momentum") << "must be in [0, 1), got " << config.momentum;
  if (config.schedule != "constant" && config.schedule != "cosine")
    return valueError("lr_schedule", "kind")
           << "must be one of: constant, cosine; got '" << config.schedule << "'";
  if (config.gradAccumSteps < 1)
    return emitError(loc) << "optimizer setting 'grad_accum_steps' must be >= 1, got "
                          << config.gradAccumSteps;
  if (config.warmupSteps < 0)
    return valueError("lr_schedule", "warmup_steps") << "must be >= 0, got " << config.warmupSteps;
  if (config.schedule == "cosine") {
    if (config.totalSteps <= config.warmupSteps)
      return valueError("lr_schedule", "total_steps")
             << "must be greater than warmup_steps (" << config.warmupSteps
             << ") for the cosine schedule, got " << config.totalSteps;
    if (!(config.minLr >= 0.0 && config.minLr <= config.lr))
      return valueError("lr_schedule", "min_lr")
             << "must be in [0, lr] = [0, " << config.lr << "], got " << config.minLr;
  }
  return config;
}

//===----------------------------------------------------------------------===//
// Reverse mode
//===----------------------------------------------------------------------===//

/// Appends the backward pass of `ops` (a straight-line graph, in order) at the
/// builder's insertion point and fills `grads` with the gradient of `loss` with
/// respect to every value that depends on one of `sources` and reaches the loss.
/// Values used more than once get the sum of their gradients (train.add).
LogicalResult buildBackward(OpBuilder &builder, ArrayRef<Operation *> ops, Value loss,
                            ValueRange sources, DenseMap<Value, Value> &grads) {
  // Values that depend on a source: only they need gradients. An op with regions
  // counts the values its regions use as operands.
  llvm::DenseSet<Value> active(sources.begin(), sources.end());
  auto usesActive = [&](Operation *op) {
    WalkResult walk = op->walk([&](Operation *inner) {
      return llvm::any_of(inner->getOperands(), [&](Value v) { return active.contains(v); })
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    return walk.wasInterrupted();
  };
  for (Operation *op : ops)
    if (usesActive(op))
      active.insert(op->result_begin(), op->result_end());

  ImplicitLocOpBuilder b(loss.getLoc(), builder);
  auto one = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()), 1.0f);
  grads[loss] = arith::ConstantOp::create(b, one);

  for (Operation *op : llvm::reverse(ops)) {
    SmallVector<Value> resultGrads;
    for (Value result : op->getResults())
      resultGrads.push_back(grads.lookup(result));
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }) || !usesActive(op))
      continue;

    auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
    if (!differentiable)
      return op->emitOpError() << "is on the gradient path but has no VJP (it does not "
                                  "implement DifferentiableOpInterface)";
    SmallVector<Value> operandGrads;
    if (failed(differentiable.buildVJP(builder, resultGrads, operandGrads)))
      return failure();
    if (operandGrads.size() != op->getNumOperands())
      return op->emitOpError() << "VJP returned " << operandGrads.size()
                               << " operand gradients for " << op->getNumOperands() << " operands";

    for (auto [index, operand, grad] : llvm::enumerate(op->getOperands(), operandGrads)) {
      if (!grad || !active.contains(operand))
        continue;
      if (grad.getType() != operand.getType())
        return op->emitOpError() << "VJP built a gradient of type " << grad.getType()
                                 << " for operand " << index << " of type " << operand.getType();
      Value &sum = grads[operand];
      sum = sum ? Value(AddOp::create(builder, op->getLoc(), sum, grad)) : grad;
    }
  }
  return success();
}

/// Erases the ops of `block` whose results are unused and that have no effects:
/// forward values that do not reach the loss, gradients nobody needs.
void eraseDeadOps(Block &block) {
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
    if (isOpTriviallyDead(&op))
      op.erase();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// The forward function, checked, with its declarations in order.
struct Forward {
  func::FuncOp func;
  SmallVector<ParamOp> params;
  SmallVector<InputOp> inputs; // train.input ops (arguments come first)
};

FailureOr<Forward> findForward(ModuleOp module) {
  auto func = module.lookupSymbol<func::FuncOp>(TrainDialect::getForwardFuncName());
  if (!func)
    return emitError(module.getLoc())
           << "fp8-autodiff needs a 'func.func @forward' that returns the loss";
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return func.emitError() << "@forward must have a body of one block";
  for (StringRef name :
       {TrainDialect::getTrainStepFuncName(), TrainDialect::getAccumulateStepFuncName(),
        TrainDialect::getEvalStepFuncName(), TrainDialect::getLogitsStepFuncName()})
    if (Operation *existing = module.lookupSymbol(name))
      return existing->emitError()
             << "@" << name << " already exists; fp8-autodiff creates it from @forward";
  auto scalarF32 = RankedTensorType::get({}, Float32Type::get(func.getContext()));
  if (func.getNumResults() != 1 || func.getResultTypes().front() != scalarF32)
    return func.emitError() << "@forward must return the loss as one tensor<f32>, got "
                            << func.getFunctionType();
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (!func.getArgAttrOfType<StringAttr>(i, TrainDialect::getNameAttrName()))
      return func.emitError() << "argument " << i << " of @forward has no '"
                              << TrainDialect::getNameAttrName() << "'";

  Forward forward{func, {}, {}};
  for (Operation &op : func.front()) {
    if (auto param = dyn_cast<ParamOp>(op)) {
      if (!param.getType().getElementType().isF32())
        return param.emitError() << "parameter '" << param.getName() << "' is "
                                 << param.getType().getElementType()
                                 << ": master weights are f32 (declare it f32 and "
                                    "train.convert it)";
      forward.params.push_back(param);
    } else if (auto input = dyn_cast<InputOp>(op)) {
      forward.inputs.push_back(input);
    }
  }
  if (forward.params.empty())
    return func.emitError() << "@forward declares no train.param: nothing to train";
  return forward;
}

/// Types and attributes of the arguments or results of a function being built.
struct Signature {
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> attrs;

  unsigned add(Type type, DictionaryAttr attr) {
    types.push_back(type);
    attrs.push_back(attr);
    return static_cast<unsigned>(types.size() - 1);
  }
};

/// The step functions fp8-autodiff builds from @forward.
enum class StepKind {
  /// forward, backward, gradient accumulators added in, clipping, optimizer.
  train,
  /// forward and backward only, gradients added to the accumulators (only with
  /// grad_accum_steps > 1).
  accumulate,
  /// forward only.
  eval,
};

/// Where each group of arguments of a step function starts. Parameters come
/// first; a group that the kind of step does not have is empty.
struct StepLayout {
  Signature args;
  unsigned numParams = 0, stateBegin = 0, numState = 0, accumBegin = 0, numAccum = 0,
           inputBegin = 0, stepIndex = 0;
};

class AutodiffPass : public fp8c::train::impl::AutodiffBase<AutodiffPass> {
public:
  using AutodiffBase::AutodiffBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    TrainConfig defaults;
    defaults.optimizer = optimizer;
    defaults.lr = lr;
    defaults.beta1 = beta1;
    defaults.beta2 = beta2;
    defaults.eps = eps;
    defaults.weightDecay = weightDecay;
    defaults.gradClip = gradClip;
    defaults.momentum = momentum;
    defaults.schedule = lrSchedule;
    defaults.warmupSteps = warmupSteps;
    defaults.totalSteps = totalSteps;
    defaults.minLr = minLr;
    defaults.gradAccumSteps = gradAccumSteps;
    FailureOr<TrainConfig> config = readTrainConfig(module, defaults);
    if (failed(config))
      return signalPassFailure();
    FailureOr<Forward> forward = findForward(module);
    if (failed(forward))
      return signalPassFailure();

    OpBuilder builder(forward->func);
    if (failed(buildStep(builder, *forward, *config, StepKind::train)) ||
        (config->gradAccumSteps > 1 &&
         failed(buildStep(builder, *forward, *config, StepKind::accumulate))))
      return signalPassFailure();
    (void)buildStep(builder, *forward, *config, StepKind::eval);
    // For generation; a loss other than softmax cross-entropy has no logits.
    (void)buildLogitsStep(module.lookupSymbol<func::FuncOp>(TrainDialect::getEvalStepFuncName()));
    forward->func.erase();
  }

private:
  MLIRContext *ctx() { return &getContext(); }

  DictionaryAttr named(StringRef name, ArrayRef<NamedAttribute> extra = {}) {
    SmallVector<NamedAttribute> attrs = {NamedAttribute(
        StringAttr::get(ctx(), TrainDialect::getNameAttrName()), StringAttr::get(ctx(), name))};
    attrs.append(extra.begin(), extra.end());
    return DictionaryAttr::get(ctx(), attrs);
  }

  static StringRef nameOf(DictionaryAttr attrs) {
    return cast<StringAttr>(attrs.get(TrainDialect::getNameAttrName())).getValue();
  }

  /// A parameter's argument attributes: its name and its initialisation.
  DictionaryAttr paramAttrs(ParamOp param) {
    SmallVector<NamedAttribute> init = {NamedAttribute(
        StringAttr::get(ctx(), TrainDialect::getInitAttrName()), param.getInitAttr())};
    if (FloatAttr std = param.getStdAttr())
      init.emplace_back(StringAttr::get(ctx(), TrainDialect::getInitStdAttrName()), std);
    return named(param.getName(), init);
  }

  /// Per-parameter state is named `<prefix>.<param>` and starts at zero.
  DictionaryAttr zeroStateAttrs(const Twine &prefix, ParamOp param) {
    NamedAttribute zeros(StringAttr::get(ctx(), TrainDialect::getInitAttrName()),
                         InitKindAttr::get(ctx(), InitKind::zeros));
    return named((prefix + "." + param.getName()).str(), {zeros});
  }

  /// Optimizer state slots per parameter, in argument order.
  static SmallVector<StringRef> stateSlots(const TrainConfig &config) {
    if (config.optimizer == "adamw")
      return {"exp_avg", "exp_avg_sq"};
    if (config.momentum > 0.0)
      return {"momentum_buffer"};
    return {};
  }

  /// Arguments of a step: parameters, optimizer state (train), gradient
  /// accumulators (train and accumulate, with grad_accum_steps > 1), inputs
  /// (the forward's arguments, then its train.input ops), step (train).
  StepLayout layoutOf(Forward &forward, const TrainConfig &config, StepKind kind) {
    StepLayout layout;
    Signature &args = layout.args;
    for (ParamOp param : forward.params)
      args.add(param.getType(), paramAttrs(param));
    layout.numParams = args.types.size();
    layout.stateBegin = args.types.size();
    if (kind == StepKind::train)
      for (ParamOp param : forward.params)
        for (StringRef slot : stateSlots(config))
          args.add(param.getType(), zeroStateAttrs("optimizer." + slot, param));
    layout.numState = args.types.size() - layout.stateBegin;
    layout.accumBegin = args.types.size();
    if (kind != StepKind::eval && config.gradAccumSteps > 1)
      for (ParamOp param : forward.params)
        args.add(param.getType(), zeroStateAttrs("grad_accum", param));
    layout.numAccum = args.types.size() - layout.accumBegin;
    layout.inputBegin = args.types.size();
    func::FuncOp func = forward.func;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      args.add(func.getArgumentTypes()[i], func.getArgAttrDict(i));
    for (InputOp input : forward.inputs)
      args.add(input.getType(), named(input.getName()));
    if (kind == StepKind::train)
      layout.stepIndex =
          args.add(RankedTensorType::get({}, IntegerType::get(ctx(), 64)), named("step"));
    return layout;
  }

  /// Creates `@name` with the layout's arguments and clones the forward body into
  /// it, parameters and inputs replaced by arguments. Returns the cloned ops in
  /// order and the loss.
  func::FuncOp cloneForward(OpBuilder &builder, StringRef name, Forward &forward,
                            const StepLayout &layout, SmallVectorImpl<Operation *> &ops,
                            Value &loss) {
    auto func = func::FuncOp::create(builder, forward.func.getLoc(), name,
                                     builder.getFunctionType(layout.args.types, {}));
    func.setAllArgAttrs(layout.args.attrs);
    Block *entry = func.addEntryBlock();

    IRMapping map;
    unsigned numForwardArgs = forward.func.getNumArguments();
    for (unsigned i = 0; i < numForwardArgs; ++i)
      map.map(forward.func.getArgument(i), entry->getArgument(layout.inputBegin + i));
    for (auto [i, param] : llvm::enumerate(forward.params))
      map.map(param.getResult(), entry->getArgument(i));
    for (auto [i, input] : llvm::enumerate(forward.inputs))
      map.map(input.getResult(), entry->getArgument(layout.inputBegin + numForwardArgs + i));

    OpBuilder body = OpBuilder::atBlockEnd(entry);
    for (Operation &op : forward.func.front()) {
      if (isa<ParamOp, InputOp>(op))
        continue;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        loss = map.lookup(ret.getOperand(0));
        continue;
      }
      ops.push_back(body.clone(op, map));
    }
    return func;
  }

  /// Builds one step function; see StepKind and docs/autodiff.md for the contract.
  LogicalResult buildStep(OpBuilder &builder, Forward &forward, const TrainConfig &config,
                          StepKind kind) {
    StepLayout layout = layoutOf(forward, config, kind);
    StringRef name = kind == StepKind::train        ? TrainDialect::getTrainStepFuncName()
                     : kind == StepKind::accumulate ? TrainDialect::getAccumulateStepFuncName()
                                                    : TrainDialect::getEvalStepFuncName();

    // Names are how the runtime matches results to arguments: they must be unique.
    llvm::StringSet<> seen;
    for (DictionaryAttr attr : layout.args.attrs)
      if (!seen.insert(nameOf(attr)).second)
        return forward.func.emitError()
               << "two arguments of @" << name << " would be named '" << nameOf(attr)
               << "' (a parameter or input takes a name that the step functions reserve: "
                  "step, optimizer.*, grad_accum.*)";

    SmallVector<Operation *> ops;
    Value loss;
    func::FuncOp func = cloneForward(builder, name, forward, layout, ops, loss);
    Block &entry = func.front();
    auto scalarF32 = RankedTensorType::get({}, builder.getF32Type());
    Signature results;
    SmallVector<Value> returned;
    results.add(scalarF32, named("loss"));
    returned.push_back(loss);

    if (kind != StepKind::eval &&
        failed(buildBackwardAndUpdate(forward, config, kind, layout, entry, ops, loss, results,
                                      returned))) {
      func.erase();
      return failure();
    }

    OpBuilder body = OpBuilder::atBlockEnd(&entry);
    func::ReturnOp::create(body, forward.func.getLoc(), returned);
    func.setFunctionType(builder.getFunctionType(layout.args.types, results.types));
    func.setAllResultAttrs(results.attrs);
    eraseDeadOps(entry);
    return success();
  }

  /// Appends the backward pass and, for train_step, clipping and the optimizer
  /// update; adds what the step returns after the loss to `results` / `returned`.
  LogicalResult buildBackwardAndUpdate(Forward &forward, const TrainConfig &config, StepKind kind,
                                       const StepLayout &layout, Block &entry,
                                       ArrayRef<Operation *> ops, Value loss, Signature &results,
                                       SmallVectorImpl<Value> &returned) {
    ValueRange args = entry.getArguments();
    ValueRange params = args.take_front(layout.numParams);
    ValueRange state = args.slice(layout.stateBegin, layout.numState);
    ValueRange accum = args.slice(layout.accumBegin, layout.numAccum);

    OpBuilder body = OpBuilder::atBlockEnd(&entry);
    DenseMap<Value, Value> grads;
    if (failed(buildBackward(body, ops, loss, params, grads)))
      return failure();

    // Gradients of the parameters; a parameter that does not reach the loss has
    // none and, as in PyTorch, the optimizer leaves it (and its state) alone.
    SmallVector<Value> paramGrads;
    for (Value arg : params)
      paramGrads.push_back(grads.lookup(arg));
    if (llvm::all_of(paramGrads, [](Value g) { return !g; }))
      return forward.func.emitError() << "the loss does not depend on any parameter";
    if (kind == StepKind::train)
      for (auto [param, grad] : llvm::zip(forward.params, paramGrads))
        if (!grad)
          param.emitWarning() << "parameter '" << param.getName()
                              << "' does not affect the loss: it gets no gradient and "
                                 "train_step leaves it unchanged";

    // Gradient accumulation: this micro-batch's gradient is added to the sum of
    // the previous ones right where backward produces it, and train_step takes
    // the mean over micro-batches there too (nanoGPT's loss / grad_accum_steps),
    // so that the gradient dies at once instead of living to the end of
    // backward, and a kernel fusing the add does not run there either
    // (docs/memory-plan.md).
    ImplicitLocOpBuilder b(forward.func.getLoc(), body);
    if (!accum.empty()) {
      Value inverse;
      if (kind == StepKind::train) {
        b.setInsertionPointToStart(&entry);
        auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
        inverse = arith::ConstantOp::create(
            b, DenseElementsAttr::get(scalarF32,
                                      static_cast<float>(1.0 / double(config.gradAccumSteps))));
      }
      for (auto [param, grad, acc] : llvm::zip(forward.params, paramGrads, accum)) {
        if (!grad)
          continue;
        b.setInsertionPointAfterValue(grad);
        b.setLoc(param.getLoc());
        grad = AddOp::create(b, acc, grad);
        if (inverse)
          grad = MulScalarOp::create(b, grad, inverse);
      }
      b.setInsertionPointToEnd(&entry);
      b.setLoc(forward.func.getLoc());
    }

    if (kind == StepKind::accumulate) {
      for (auto [i, grad, acc] : llvm::enumerate(paramGrads, accum)) {
        results.add(acc.getType(), named(nameOf(layout.args.attrs[layout.accumBegin + i])));
        returned.push_back(grad ? grad : acc);
      }
      return success();
    }

    SmallVector<Value> present(llvm::make_filter_range(paramGrads, [](Value g) { return g; }));
    auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
    Value norm = GlobalNormOp::create(b, scalarF32, present);
    if (config.gradClip > 0.0) {
      Value coef = ClipCoefOp::create(b, norm, b.getF64FloatAttr(config.gradClip));
      for (Value &grad : paramGrads)
        if (grad)
          grad = MulScalarOp::create(b, grad, coef);
    }
    Value step = entry.getArgument(layout.stepIndex);
    Value lrValue = buildLearningRate(b, step, config);

    SmallVector<Value> newParams(params.begin(), params.end());
    SmallVector<Value> newState(state.begin(), state.end());
    unsigned slots = stateSlots(config).size();
    for (auto [i, param, grad] : llvm::enumerate(forward.params, paramGrads)) {
      if (!grad)
        continue;
      b.setLoc(param.getLoc());
      // As nanoGPT: weight decay for matrices (rank >= 2), none for biases and norms.
      double decay = param.getType().getRank() >= 2 ? config.weightDecay : 0.0;
      Value p = params[i];
      if (config.optimizer == "adamw") {
        auto update =
            AdamWUpdateOp::create(b, p.getType(), p.getType(), p.getType(), p, grad,
                                  state[slots * i], state[slots * i + 1], lrValue, step,
                                  b.getF64FloatAttr(config.beta1), b.getF64FloatAttr(config.beta2),
                                  b.getF64FloatAttr(config.eps), b.getF64FloatAttr(decay));
        newParams[i] = update.getNewParam();
        newState[slots * i] = update.getNewExpAvg();
        newState[slots * i + 1] = update.getNewExpAvgSq();
      } else {
        Value buffer = slots ? state[i] : Value();
        auto update = SGDUpdateOp::create(b, p.getType(), slots ? p.getType() : Type(), p, grad,
                                          lrValue, buffer, b.getF64FloatAttr(config.momentum),
                                          b.getF64FloatAttr(decay));
        newParams[i] = update.getNewParam();
        if (slots)
          newState[i] = update.getNewMomentumBuffer();
      }
    }

    // New parameters and state are named as the arguments they replace;
    // initialisation is an argument's business only.
    results.add(scalarF32, named("grad_norm"));
    returned.push_back(norm);
    // The step's learning rate, so the runtime reports the schedule's value
    // without re-deriving it.
    results.add(scalarF32, named("lr"));
    returned.push_back(lrValue);
    for (unsigned i = 0; i < layout.numParams; ++i) {
      results.add(newParams[i].getType(), named(nameOf(layout.args.attrs[i])));
      returned.push_back(newParams[i]);
    }
    for (unsigned i = 0; i < layout.numState; ++i) {
      results.add(newState[i].getType(), named(nameOf(layout.args.attrs[layout.stateBegin + i])));
      returned.push_back(newState[i]);
    }
    return success();
  }

  Value buildLearningRate(ImplicitLocOpBuilder &b, Value step, const TrainConfig &config) {
    auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
    bool cosine = config.schedule == "cosine";
    auto kind =
        LRScheduleKindAttr::get(ctx(), cosine ? LRScheduleKind::cosine : LRScheduleKind::constant);
    // The constant schedule takes no total_steps / min_lr (its verifier says so).
    return LRScheduleOp::create(b, scalarF32, step, kind, b.getF64FloatAttr(config.lr),
                                b.getI64IntegerAttr(config.warmupSteps),
                                b.getI64IntegerAttr(cosine ? config.totalSteps : 0),
                                b.getF64FloatAttr(cosine ? config.minLr : 0.0));
  }
};

} // namespace
