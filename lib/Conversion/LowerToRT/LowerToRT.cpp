//===- LowerToRT.cpp - the arena plan and the lowering to rt ops ----------===//
//
// Every function of the module (train_step, eval_step, accumulate_step) becomes
// a function without arguments or results over one arena:
//
//   1. The persistent state (parameters, optimizer and FP8 scaling state,
//      gradient accumulators, constants) is laid out once, at the bottom of
//      the arena, in first-seen order over all functions: a buffer has the
//      same offset in every function.
//   2. Per function, every other tensor gets a storage (a reshape shares its
//      operand's), a role (input, output, metric, grad, scratch) and a live
//      range over program order; new state is written in place where that is
//      safe, else copied back at the end.
//   3. The storages are placed first fit (MemoryPlan.h); buffers the host sees
//      keep one offset across functions.
//   4. Each op becomes an rt.kernel, rt.gemm or nothing (views), in order.
//
// The rules and their reasons are in docs/memory-plan.md. Step 4 is in
// Emission.cpp; FunctionLowering.h declares what both files share.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Conversion/LowerToRT/LowerToRT.h"

#include "FunctionLowering.h"

#include "fp8c/Analysis/GemmAnnotation.h"
#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "llvm/ADT/DenseSet.h"

#include <algorithm>
#include <limits>

namespace fp8c {
#define GEN_PASS_DEF_LOWERTORT
#include "fp8c/Conversion/Passes.h.inc"
} // namespace fp8c

using namespace mlir;
using namespace fp8c;
using namespace fp8c::lower_to_rt;
using rt::ArenaPlanner;

namespace {

/// The role of a step-function argument, from its name and initialiser.
Role argumentRole(StringRef name, bool hasInit) {
  if (name.starts_with("optimizer."))
    return Role::optimizer;
  // The amaxes of one optimizer step's micro-batches, zeroed and not
  // saved like the gradient accumulators.
  if (name.starts_with("fp8.amax_pending."))
    return Role::grad_accum;
  if (name.starts_with("fp8."))
    return Role::fp8_state;
  if (name.starts_with("grad_accum."))
    return Role::grad_accum;
  return hasInit ? Role::param : Role::input;
}

std::optional<rt::Init> initOf(train::InitKind kind) {
  switch (kind) {
  case train::InitKind::normal:
    return rt::Init::normal;
  case train::InitKind::zeros:
    return rt::Init::zeros;
  case train::InitKind::ones:
    return rt::Init::ones;
  }
  return std::nullopt;
}

} // namespace

/// A splat constant that only kernels read is cloned into their bodies; any
/// other constant (non-splat, or read by a GEMM, a reshape or the return) is a
/// `constant` buffer that the loader fills from its `data`.
bool lower_to_rt::constantNeedsBuffer(arith::ConstantOp op) {
  auto value = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!value || !value.isSplat())
    return true;
  return llvm::any_of(op->getUsers(), [](Operation *user) {
    return isGemm(user) || isa<train::ReshapeOp, func::ReturnOp>(user);
  });
}

/// `<layer>.<kind>` from the GEMM's fp8.gemm annotation, else its `name`.
std::string lower_to_rt::gemmName(Operation *op) {
  if (auto dict = op->getAttrOfType<DictionaryAttr>(fp8::kGemmAttrName)) {
    auto name = dict.getAs<StringAttr>("name");
    auto kind = dict.getAs<StringAttr>("kind");
    if (name && kind)
      return (name.getValue() + "." + kind.getValue()).str();
  }
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    return name.str();
  return "";
}

/// The index of argument `i`'s persistent buffer, or -1 for an input.
FailureOr<int64_t> lower_to_rt::collectArgument(func::FuncOp func, unsigned i,
                                                ModuleLayout &layout) {
  BlockArgument arg = func.getArgument(i);
  auto name = func.getArgAttrOfType<StringAttr>(i, train::TrainDialect::getNameAttrName());
  if (!name)
    return emitError(arg.getLoc()) << "argument #" << i << " of @" << func.getSymName()
                                   << " has no train.name: every buffer is named after it",
           failure();
  auto tensor = dyn_cast<RankedTensorType>(arg.getType());
  if (!tensor || !isBufferElementType(tensor.getElementType()))
    return emitError(arg.getLoc()) << "argument '" << name.getValue() << "' of type "
                                   << arg.getType() << " cannot live in an rt buffer",
           failure();
  auto init = func.getArgAttrOfType<train::InitKindAttr>(i, train::TrainDialect::getInitAttrName());
  Role role = argumentRole(name.getValue(), static_cast<bool>(init));
  if (role == Role::input)
    return int64_t(-1);
  PersistentBuffer buffer{name.str(), role, memrefOf(tensor), std::nullopt, std::nullopt, {}, 0};
  buffer.shardOf = func.getArgAttrOfType<DenseI64ArrayAttr>(i, "train.shard_of");
  // State without an initialiser starts at zero (accumulators, histories).
  buffer.init = init ? initOf(init.getValue()) : std::optional<rt::Init>(rt::Init::zeros);
  if (buffer.init == rt::Init::normal) {
    auto std = func.getArgAttrOfType<FloatAttr>(i, train::TrainDialect::getInitStdAttrName());
    if (!std)
      return emitError(arg.getLoc())
                 << "'" << name.getValue() << "' has train.init normal but no train.init_std",
             failure();
    buffer.initStd = std.getValueAsDouble();
  }
  FailureOr<unsigned> index = layout.addPersistent(arg.getLoc(), std::move(buffer));
  if (failed(index))
    return failure();
  return int64_t(*index);
}

/// The `constant` buffer of a constant that needs one (same data, one buffer).
FailureOr<unsigned> lower_to_rt::collectConstant(arith::ConstantOp op, ModuleLayout &layout) {
  auto [it, inserted] = layout.constantByValue.try_emplace(op.getValue(), 0);
  if (!inserted)
    return it->second;
  auto type = memrefOf(op.getType());
  if (!isBufferElementType(type.getElementType()))
    return op.emitOpError() << "of type " << op.getType() << " cannot live in an rt buffer",
           failure();
  PersistentBuffer buffer{"constant." + std::to_string(layout.constantByValue.size() - 1),
                          Role::constant,
                          type,
                          std::nullopt,
                          std::nullopt,
                          cast<ElementsAttr>(op.getValue()),
                          0};
  FailureOr<unsigned> index = layout.addPersistent(op.getLoc(), std::move(buffer));
  if (failed(index))
    return failure();
  it->second = *index;
  return *index;
}

//===----------------------------------------------------------------------===//
// One function: storages, live ranges, the plan
//===----------------------------------------------------------------------===//

namespace {

/// Does every element i of each of `op`'s results read element i of `operand`
/// only (so that a result may overwrite the operand's bytes)?
bool isIndexPreserving(Operation *op, Value operand) {
  auto operandType = dyn_cast<RankedTensorType>(operand.getType());
  if (!operandType)
    return false;
  for (Type r : op->getResultTypes()) {
    auto resultType = dyn_cast<RankedTensorType>(r);
    if (!resultType || resultType.getShape() != operandType.getShape())
      return false;
  }
  if (op->hasTrait<OpTrait::Elementwise>())
    return true;
  return isa<train::AddOp, train::MulOp, train::MulScalarOp, train::ConvertOp, train::GeluOp,
             train::SiluOp, train::Relu2Op, train::SwigluOp, train::GeluGradOp, train::SiluGradOp,
             train::Relu2GradOp, train::SwigluGradOp, train::ClipCoefOp, train::AdamWUpdateOp,
             train::SGDUpdateOp, fp8::ComputeScaleOp, fp8::QuantizeOp, fp8::DequantizeOp>(op);
}

/// A value of a fusion body as seen outside the fusion: a block argument is
/// the fusion's operand, a yielded value the fusion's result; null for a value
/// that stays inside. Values outside fusions are returned as they are.
Value outerValue(Value inner) {
  auto fusion = dyn_cast_or_null<rt::FusionOp>(inner.getParentBlock()->getParentOp());
  if (!fusion)
    return inner;
  if (auto arg = dyn_cast<BlockArgument>(inner))
    return outerValue(fusion.getInputs()[arg.getArgNumber()]);
  auto yield = cast<rt::YieldOp>(fusion.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(yield.getValues()))
    if (v == inner)
      return fusion->getResult(i);
  return {};
}

/// The op that computes `v`, looking into the fusion that yields it.
Operation *producerOf(Value v) {
  Operation *def = v.getDefiningOp();
  auto fusion = dyn_cast_or_null<rt::FusionOp>(def);
  if (!fusion)
    return def;
  auto yield = cast<rt::YieldOp>(fusion.getBody().front().getTerminator());
  Value inner = yield.getValues()[cast<OpResult>(v).getResultNumber()];
  if (auto arg = dyn_cast<BlockArgument>(inner))
    return producerOf(fusion.getInputs()[arg.getArgNumber()]);
  return inner.getDefiningOp();
}

} // namespace

LogicalResult FunctionLowering::checkSupported(Operation *op) {
  if (isa<rt::FusionOp, func::ReturnOp>(op))
    return success();
  StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
  bool known = dialect == "train" || dialect == "fp8" || dialect == "arith";
  bool tensors = llvm::all_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>) &&
                 llvm::all_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>);
  if (!known || !tensors || op->getNumRegions() != 0)
    return op->emitOpError() << "cannot be lowered to rt: only train, fp8 and arith ops on "
                                "ranked tensors, and rt.fusion, become kernels or GEMMs";
  return success();
}

void FunctionLowering::nameMetricsAndGrads() {
  // Scales (and their amax) of FP8 GEMM operands, named after the first GEMM
  // that reads them.
  for (Operation *op : ops) {
    auto gemm = dyn_cast<fp8::ScaledMatmulOp>(op);
    if (!gemm)
      continue;
    std::string name = gemmName(gemm);
    for (auto [side, scale] :
         {std::pair<StringRef, Value>{"a", gemm.getLhsScale()}, {"b", gemm.getRhsScale()}}) {
      std::string prefix = name + "." + side.str();
      Operation *producer = producerOf(scale);
      if (isa_and_nonnull<fp8::AmaxOp>(producer)) {
        metricNames.insert({scale, prefix + ".amax"});
      } else if (auto cs = dyn_cast_or_null<fp8::ComputeScaleOp>(producer)) {
        metricNames.insert({scale, prefix + ".scale"});
        Value amax = outerValue(cs.getAmax());
        if (amax && isa_and_nonnull<fp8::AmaxOp, fp8::ScaledMatmulOp>(producerOf(amax)))
          metricNames.insert({amax, prefix + ".amax"});
      }
    }
  }
  // The gradient each optimizer update receives, inside fusions too.
  func.walk([&](Operation *op) {
    Value param, grad;
    if (auto adamw = dyn_cast<train::AdamWUpdateOp>(op)) {
      param = adamw.getParam();
      grad = adamw.getGrad();
    } else if (auto sgd = dyn_cast<train::SGDUpdateOp>(op)) {
      param = sgd.getParam();
      grad = sgd.getGrad();
    } else {
      return;
    }
    param = outerValue(param);
    grad = outerValue(grad);
    auto arg = dyn_cast_or_null<BlockArgument>(param);
    if (!grad || !arg || arg.getOwner() != &body)
      return;
    if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      train::TrainDialect::getNameAttrName()))
      gradNames.insert({grad, "grad." + name.str()});
  });
}

bool FunctionLowering::readAfter(Value root, int64_t at) const {
  SmallVector<Value> aliases{root};
  for (unsigned i = 0; i < aliases.size(); ++i)
    for (Operation *user : aliases[i].getUsers()) {
      if (position.lookup(user) > at)
        return true;
      if (auto reshape = dyn_cast<train::ReshapeOp>(user))
        aliases.push_back(reshape.getResult());
    }
  return false;
}

bool FunctionLowering::isSpentAccumulator(unsigned s, MemRefType type) const {
  const Storage &storage = storages[s];
  return storage.persistent && storage.role == Role::grad_accum &&
         func::FuncOp(func).getSymName() == "train_step" && !returnedState.contains(s) &&
         storage.type == type;
}

/// See docs/memory-plan.md, "Writing new state in place".
bool FunctionLowering::canWriteInPlace(Operation *producer, Value result, Value arg) const {
  // A GEMM accumulating into its output reads D = acc element by element.
  auto matmul = dyn_cast<train::MatmulOp>(producer);
  bool accumulating = matmul && matmul.getAcc();
  if (!isa<rt::FusionOp>(producer) && ((isGemm(producer) && !accumulating) ||
                                       !isInstruction(producer) || producer->getNumRegions() != 0))
    return false;
  // Nothing after the producer may read the old value, through any view.
  if (readAfter(arg, position.lookup(producer)))
    return false;
  // The producer reads the old value only element by element, as itself.
  SmallVector<unsigned> argOperands;
  for (auto [i, operand] : llvm::enumerate(producer->getOperands())) {
    if (rootOf(operand) != arg)
      continue;
    if (operand != arg)
      return false; // a reshaped view reads other indices
    argOperands.push_back(i);
  }
  if (accumulating)
    return rootOf(matmul.getLhs()) != arg && rootOf(matmul.getRhs()) != arg;
  auto fusion = dyn_cast<rt::FusionOp>(producer);
  if (!fusion)
    return argOperands.empty() || isIndexPreserving(producer, arg);
  Block &inner = fusion.getBody().front();
  DenseSet<Value> derived;
  for (unsigned i : argOperands)
    derived.insert(inner.getArgument(i));
  for (Operation &op : inner.without_terminator()) {
    bool reads = false;
    for (Value operand : op.getOperands())
      if (derived.contains(operand)) {
        reads = true;
        if (!isIndexPreserving(&op, operand))
          return false;
      }
    if (reads)
      derived.insert(op.result_begin(), op.result_end());
  }
  // The new value must be written in the same element loop that reads the old.
  Value yielded = inner.getTerminator()->getOperand(cast<OpResult>(result).getResultNumber());
  return argOperands.empty() || derived.contains(yielded);
}

/// See docs/memory-plan.md, "Writing over dying operands".
std::optional<unsigned> FunctionLowering::dyingOperandStorage(Operation *producer, Value result,
                                                              ArrayRef<unsigned> taken) const {
  MemRefType type = memrefOf(result.getType());
  std::optional<unsigned> found;
  for (Value operand : producer->getOperands()) {
    Value root = rootOf(operand);
    std::optional<unsigned> s = storageOf(root);
    if (!s || llvm::is_contained(taken, *s) || found == s)
      continue;
    const Storage &storage = storages[*s];
    // Scratch, or a gradient accumulator train_step has spent.
    bool scratch = storage.role == Role::scratch && !storage.persistent;
    bool spentAccumulator = isSpentAccumulator(*s, type);
    if ((!scratch && !spentAccumulator) || byteSize(storage.type) != byteSize(type))
      continue;
    // The root itself must be the operand (a view reads other indices), die
    // here and be read element by element, as new state written in place.
    if (!llvm::is_contained(producer->getOperands(), root) ||
        !canWriteInPlace(producer, result, root))
      continue;
    // An accumulator's bytes cost nothing in the plan: prefer them to scratch.
    if (spentAccumulator)
      return *s;
    if (!found)
      found = *s;
  }
  return found;
}

/// See docs/memory-plan.md, "Gradients in the accumulators' bytes".
std::optional<unsigned> FunctionLowering::accumulatorForGrad(unsigned grad) const {
  const Storage &g = storages[grad];
  if (func::FuncOp(func).getSymName() != "train_step" || g.role != Role::grad ||
      !StringRef(g.name).starts_with("grad."))
    return std::nullopt;
  // grad.X is written by the instruction that computes it, not by a copy.
  auto named = llvm::find_if(gradNames, [&](auto &entry) { return entry.second == g.name; });
  if (named == gradNames.end())
    return std::nullopt;
  Value value = named->first;
  auto bound = home.find(value);
  Operation *writer = value.getDefiningOp();
  if (bound == home.end() || bound->second != grad || !writer)
    return std::nullopt;
  // The same parameter's accumulator, of the same type, read and not returned
  // (sharded ones too, where the gradient is the shard).
  std::string accumulatorName = "grad_accum." + g.name.substr(strlen("grad."));
  std::optional<unsigned> accumulator;
  for (auto [i, s] : llvm::enumerate(storages))
    if (s.persistent && s.role == Role::grad_accum && s.name == accumulatorName)
      accumulator = i;
  if (!accumulator || !isSpentAccumulator(*accumulator, g.type))
    return std::nullopt;
  // Every value stored in those bytes is written before the writer, and read
  // after it by nothing but the writer itself, element by element.
  int64_t at = position.lookup(writer);
  for (auto &[stored, s] : home) {
    if (s != *accumulator)
      continue;
    Operation *def = stored.getDefiningOp();
    if ((def && position.lookup(def) >= at) || !canWriteInPlace(writer, value, stored))
      return std::nullopt;
  }
  // No copy reads those bytes after the writer, or writes them at all.
  for (auto &[after, copies] : copiesAfter)
    for (const Copy &c : copies)
      if (c.target == *accumulator || (c.source == *accumulator && after >= at))
        return std::nullopt;
  for (const Copy &c : llvm::concat<const Copy>(endCopies, lateCopies))
    if (c.source == *accumulator || c.target == *accumulator)
      return std::nullopt;
  return accumulator;
}

/// See docs/memory-plan.md, "Accumulating GEMMs".
std::optional<unsigned> FunctionLowering::dyingAccStorage(train::MatmulOp matmul) const {
  Value root = rootOf(matmul.getAcc());
  std::optional<unsigned> s = storageOf(root);
  if (!s || byteSize(storages[*s].type) != byteSize(memrefOf(matmul.getType())))
    return std::nullopt;
  // Scratch, or a gradient accumulator: train_step's spent one, or one this
  // function writes back changed (accumulate_step), whose old value nothing
  // reads after this GEMM (below); its new value is written over it at the end.
  const Storage &storage = storages[*s];
  MemRefType type = memrefOf(matmul.getType());
  bool scratch = storage.role == Role::scratch && !storage.persistent;
  bool changedAccumulator = storage.persistent && storage.role == Role::grad_accum &&
                            storage.type == type && returnedState.contains(*s) &&
                            !unchangedState.contains(*s);
  if (!scratch && !changedAccumulator && !isSpentAccumulator(*s, type))
    return std::nullopt;
  // D is read while A and B are: neither may be in acc's bytes.
  if (rootOf(matmul.getLhs()) == root || rootOf(matmul.getRhs()) == root)
    return std::nullopt;
  // Nothing after the GEMM may read acc, through any view. The GEMM reads and
  // writes D element by element, so a view of acc's bytes is acc as D.
  if (readAfter(root, position.lookup(matmul)))
    return std::nullopt;
  return s;
}

void FunctionLowering::bindOrCopy(Value v, unsigned target, bool atEnd) {
  // A reshape is a view of its input's bytes: a reshaped result (logits_step
  // returns [B, T, V] of a [B*T, V] GEMM) is written where its root is.
  Value root = rootOf(v);
  Operation *def = root.getDefiningOp();
  if (def && !home.count(root) && isInstruction(def)) {
    home[root] = target;
    return;
  }
  if (atEnd)
    endCopies.push_back(copyOf(v, target));
  else
    copiesAfter[positionOf(v)].push_back(copyOf(v, target));
}

LogicalResult FunctionLowering::analyze() {
  for (Operation &op : body) {
    if (failed(checkSupported(&op)))
      return failure();
    position[&op] = ops.size();
    ops.push_back(&op);
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  endPosition = position.lookup(ret);

  // Arguments: persistent state, or inputs the host writes.
  llvm::StringMap<Value> argumentByName;
  for (BlockArgument arg : body.getArguments()) {
    FailureOr<int64_t> persistent = collectArgument(func, arg.getArgNumber(), layout);
    if (failed(persistent))
      return failure();
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                  train::TrainDialect::getNameAttrName());
    argumentByName[name.getValue()] = arg;
    if (*persistent >= 0) {
      const PersistentBuffer &p = layout.persistent[*persistent];
      home[arg] = newStorage(p.type, p.role, p.name, -1);
      storages.back().persistent = *persistent;
    } else {
      home[arg] = newStorage(memrefOf(arg.getType()), Role::input, name.getValue(), -1);
    }
  }
  for (Operation *op : ops) {
    auto constant = dyn_cast<arith::ConstantOp>(op);
    if (!constant)
      continue;
    if (!constantNeedsBuffer(constant)) {
      clonedConstants.insert(constant.getResult());
      continue;
    }
    FailureOr<unsigned> index = collectConstant(constant, layout);
    if (failed(index))
      return failure();
    const PersistentBuffer &p = layout.persistent[*index];
    home[constant.getResult()] = newStorage(p.type, p.role, p.name, -1);
    storages.back().persistent = *index;
  }
  for (Operation *op : ops)
    for (Value r : op->getResults())
      if (!isBufferElementType(cast<RankedTensorType>(r.getType()).getElementType()) &&
          !clonedConstants.contains(r))
        return op->emitOpError() << "result of type " << r.getType()
                                 << " cannot live in an rt buffer",
               failure();
  nameMetricsAndGrads();

  // Results: new state into its argument's buffer, the rest into outputs.
  SmallVector<std::pair<Value, unsigned>> outputs;
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    auto nameAttr = func.getResultAttrOfType<StringAttr>(i, train::TrainDialect::getNameAttrName());
    std::string name = nameAttr ? nameAttr.str() : "output." + std::to_string(i);
    Value arg = argumentByName.lookup(name);
    if (arg && storages[home[arg]].persistent) {
      returnedState.insert(home[arg]);
      if (arg.getType() != value.getType())
        return ret.emitOpError() << "result '" << name << "' has type " << value.getType()
                                 << " but the argument of that name " << arg.getType(),
               failure();
      if (value == arg) {
        unchangedState.insert(home[arg]);
        continue;
      }
      Operation *def = value.getDefiningOp();
      if (def && !home.count(value) && canWriteInPlace(def, value, arg))
        home[value] = home[arg];
      else if (rootOf(value) != value || isa<BlockArgument>(value) ||
               isa_and_nonnull<arith::ConstantOp>(def)) {
        // Stored state or a view of it: snapshot it before any end copy
        // overwrites state, so that the order of the copies cannot matter.
        unsigned snapshot = newStorage(memrefOf(value.getType()), Role::scratch, "", endPosition);
        endCopies.insert(endCopies.begin(), copyOf(value, snapshot));
        lateCopies.push_back({snapshot, storages[snapshot].type, home[arg]});
      } else {
        outputs.push_back({value, home[arg]});
      }
      continue;
    }
    unsigned out = newStorage(memrefOf(value.getType()), Role::output, name, endPosition);
    outputs.push_back({value, out});
  }
  // Outputs and persistent copy-backs that were not written in place.
  for (auto [value, target] : outputs) {
    if (storages[target].persistent) {
      if (!home.count(value))
        home[value] = newStorage(memrefOf(value.getType()), Role::scratch, "", positionOf(value));
      endCopies.push_back(copyOf(value, target));
      continue;
    }
    bindOrCopy(value, target, /*atEnd=*/true);
  }
  for (auto &[value, name] : gradNames)
    bindOrCopy(value, newStorage(memrefOf(value.getType()), Role::grad, name, positionOf(value)),
               /*atEnd=*/false);
  for (auto &[value, name] : metricNames)
    bindOrCopy(value, newStorage(memrefOf(value.getType()), Role::metric, name, positionOf(value)),
               /*atEnd=*/false);
  // Every other value an instruction writes is scratch, in bytes of its own
  // or in those of an operand that dies in the same instruction.
  for (Operation *op : ops) {
    if (!isInstruction(op))
      continue;
    SmallVector<unsigned> taken;
    auto matmul = dyn_cast<train::MatmulOp>(op);
    for (Value r : op->getResults()) {
      if (!isKept(r) || home.count(r))
        continue;
      if (std::optional<unsigned> acc =
              matmul && matmul.getAcc() ? dyingAccStorage(matmul) : std::nullopt) {
        home[r] = *acc;
      } else if (std::optional<unsigned> reused = dyingOperandStorage(op, r, taken)) {
        home[r] = *reused;
        taken.push_back(*reused);
      } else {
        home[r] = newStorage(memrefOf(r.getType()), Role::scratch, "", position[op]);
      }
    }
  }
  // A GEMM that accumulates into acc elsewhere than acc's bytes starts from a
  // copy of acc, made right before it.
  for (Operation *op : ops)
    if (auto matmul = dyn_cast<train::MatmulOp>(op);
        matmul && matmul.getAcc() && isInstruction(op) &&
        home[matmul.getResult()] != storageOf(matmul.getAcc()))
      copiesAfter[position[op] - 1].push_back(copyOf(matmul.getAcc(), home[matmul.getResult()]));

  for (unsigned i = 0; i < storages.size(); ++i)
    storages[i].inAccumulator = accumulatorForGrad(i);

  computeLiveRanges();
  return success();
}

/// Live ranges: from the first write to the last read; host-visible storages
/// to the end of the call (inputs from its start).
void FunctionLowering::computeLiveRanges() {
  for (Storage &s : storages) {
    s.start = std::numeric_limits<int64_t>::max();
    s.end = std::numeric_limits<int64_t>::min();
  }
  auto touch = [&](unsigned s, int64_t at) {
    storages[s].start = std::min(storages[s].start, at);
    storages[s].end = std::max(storages[s].end, at);
  };
  for (Operation *op : ops) {
    int64_t at = position[op];
    for (Value operand : op->getOperands())
      if (std::optional<unsigned> s = storageOf(operand))
        touch(*s, at);
    if (isInstruction(op))
      for (Value r : op->getResults())
        if (isKept(r))
          touch(home[r], at);
  }
  for (auto &[at, copies] : copiesAfter)
    for (const Copy &c : copies) {
      touch(c.source, at);
      touch(c.target, at);
    }
  for (const Copy &c : llvm::concat<const Copy>(endCopies, lateCopies)) {
    touch(c.source, endPosition);
    touch(c.target, endPosition);
  }
  for (auto [i, s] : llvm::enumerate(storages)) {
    if (s.start > s.end) // never touched: an unused input
      s.start = s.end = endPosition;
    if (isHostVisible(s.role)) {
      s.end = endPosition + 1;
      if (s.role == Role::input)
        s.start = -1;
    }
  }
}

void FunctionLowering::recordHostNames(unsigned index, unsigned count) {
  for (const Storage &s : storages) {
    if (s.persistent || !isHostVisible(s.role))
      continue;
    llvm::SmallBitVector &functions = layout.hostFunctions[s.name];
    functions.resize(count);
    functions.set(index);
  }
}

LogicalResult FunctionLowering::plan() {
  ArenaPlanner planner(layout.persistentEnd);
  // Buffers the host already knows keep their offset.
  for (Storage &s : storages) {
    if (s.persistent) {
      s.offset = layout.persistent[*s.persistent].offset;
      continue;
    }
    if (!isHostVisible(s.role))
      continue;
    // A gradient only this function has may sit on its spent accumulator.
    if (s.inAccumulator && layout.hostFunctions.lookup(s.name).count() == 1 &&
        !layout.pinned.count(s.name)) {
      s.offset = layout.persistent[*storages[*s.inAccumulator].persistent].offset;
      layout.pinned[s.name] = {s.offset, s.type};
      continue;
    }
    auto it = layout.pinned.find(s.name);
    if (it == layout.pinned.end())
      continue;
    if (it->second.type != s.type)
      return func.emitError() << "'" << s.name << "' is " << s.type << " in @" << func.getSymName()
                              << " but " << it->second.type << " in an earlier function",
             failure();
    s.offset = it->second.offset;
    planner.placeAt(s.offset, byteSize(s.type), s.start, s.end);
  }
  // The rest first fit, in order of definition.
  SmallVector<unsigned> order;
  for (auto [i, s] : llvm::enumerate(storages))
    if (s.offset < 0)
      order.push_back(i);
  llvm::stable_sort(order,
                    [&](unsigned a, unsigned b) { return storages[a].start < storages[b].start; });
  for (unsigned i : order) {
    Storage &s = storages[i];
    if (isHostVisible(s.role)) {
      // A new host-visible name avoids the earlier functions' names that some
      // function has together with it, so that function can pin both. Others
      // may share its bytes (logits_step's logits and train_step's grads).
      rt::RangeSet avoid;
      for (auto &entry : layout.pinned)
        if (layout.shareAFunction(s.name, entry.getKey()))
          avoid.insert({entry.second.offset, byteSize(entry.second.type)});
      s.offset = planner.place(byteSize(s.type), s.start, s.end, avoid);
      layout.pinned[s.name] = {s.offset, s.type};
    } else {
      s.offset = planner.place(byteSize(s.type), s.start, s.end);
    }
  }
  layout.arenaSize = std::max({layout.arenaSize, planner.highWater(), layout.persistentEnd});
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct LowerToRTPass : fp8c::impl::LowerToRTBase<LowerToRTPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    ModuleLayout layout;
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    // The persistent layout comes first, over all functions, so that a
    // function's plan starts above all of it.
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        if (failed(collectArgument(func, i, layout)))
          return signalPassFailure();
      for (auto constant : func.front().getOps<arith::ConstantOp>())
        if (constantNeedsBuffer(constant) && failed(collectConstant(constant, layout)))
          return signalPassFailure();
    }
    std::vector<std::unique_ptr<FunctionLowering>> lowerings;
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      lowerings.push_back(std::make_unique<FunctionLowering>(func, layout));
      if (failed(lowerings.back()->analyze()))
        return signalPassFailure();
    }
    // Which functions have which host-visible names, before any is placed.
    for (auto [i, lowering] : llvm::enumerate(lowerings))
      lowering->recordHostNames(i, lowerings.size());
    for (auto &lowering : lowerings)
      if (failed(lowering->plan()))
        return signalPassFailure();
    for (auto &lowering : lowerings)
      lowering->emit();
    // One arena for every function: the largest plan.
    int64_t size = alignToBuffer(layout.arenaSize);
    module.walk([&](rt::ArenaOp arena) {
      arena.setSizeAttr(IntegerAttr::get(IntegerType::get(&getContext(), 64), size));
    });
  }
};

} // namespace
