//===- TrainOps.cpp - verifiers of the train dialect ----------------------===//
//
// Verifiers state exactly what was expected: shapes are printed in full so that a
// user reading an error on a generated graph can find the layer at fault.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "fp8c/Support/ShapeString.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using fp8c::shapeString;
using namespace fp8c::train;

#include "fp8c/Dialect/Train/IR/TrainInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "fp8c/Dialect/Train/IR/TrainOps.cpp.inc"

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// All float operands of an op share one element type: precision changes are
/// explicit `train.convert` ops.
LogicalResult verifySameElementType(Operation *op, ValueRange values) {
  Type first = getElementTypeOrSelf(values.front().getType());
  for (Value v : values.drop_front()) {
    Type t = getElementTypeOrSelf(v.getType());
    if (t != first)
      return op->emitOpError() << "expects one floating-point element type, got " << first
                               << " and " << t << " (insert a train.convert)";
  }
  return success();
}

LogicalResult verifyExpectedShape(Operation *op, StringRef what, RankedTensorType type,
                                  ArrayRef<int64_t> expected) {
  if (type.getShape() != expected)
    return op->emitOpError() << what << " has shape " << shapeString(type.getShape())
                             << ", expected " << shapeString(expected);
  return success();
}

/// Names declared by train.param / train.input share one namespace per block.
template <typename OpT> LogicalResult verifyDeclaredName(OpT op) {
  StringRef name = op.getName();
  if (!isValidQualifiedName(name))
    return op.emitOpError() << "name '" << name
                            << "' is not a qualified name (dot-separated "
                               "identifiers or numbers)";
  Block *block = op->getBlock();
  if (!block)
    return success();
  for (Operation &other : *block) {
    if (&other == op.getOperation())
      break;
    StringAttr otherName;
    if (auto p = dyn_cast<ParamOp>(other))
      otherName = p.getNameAttr();
    else if (auto i = dyn_cast<InputOp>(other))
      otherName = i.getNameAttr();
    if (otherName && otherName.getValue() == name)
      return op.emitOpError() << "name '" << name << "' is already declared";
  }
  return success();
}

/// Checks the two trailing dimensions of a (batched) product and returns the
/// expected result shape in `expected`.
LogicalResult verifyProduct(Operation *op, RankedTensorType lhs, RankedTensorType rhs,
                            bool transposeLhs, bool transposeRhs,
                            SmallVectorImpl<int64_t> &expected) {
  int64_t rank = lhs.getRank();
  int64_t m = transposeLhs ? lhs.getDimSize(rank - 1) : lhs.getDimSize(rank - 2);
  int64_t kl = transposeLhs ? lhs.getDimSize(rank - 2) : lhs.getDimSize(rank - 1);
  int64_t kr = transposeRhs ? rhs.getDimSize(rank - 1) : rhs.getDimSize(rank - 2);
  int64_t n = transposeRhs ? rhs.getDimSize(rank - 2) : rhs.getDimSize(rank - 1);
  if (kl != kr)
    return op->emitOpError() << "contraction dimensions differ: lhs " << shapeString(lhs.getShape())
                             << (transposeLhs ? " (transposed)" : "") << " has K = " << kl
                             << ", rhs " << shapeString(rhs.getShape())
                             << (transposeRhs ? " (transposed)" : "") << " has K = " << kr;
  expected.assign(lhs.getShape().begin(), lhs.getShape().end() - 2);
  expected.push_back(m);
  expected.push_back(n);
  return success();
}

LogicalResult verifyPositive(Operation *op, StringRef attr, double value) {
  if (!(value > 0.0))
    return op->emitOpError() << "'" << attr << "' must be positive, got " << value;
  return success();
}

} // namespace

Value fp8c::train::stripReshapes(Value value) {
  while (auto reshape = value.getDefiningOp<ReshapeOp>())
    value = reshape.getInput();
  return value;
}

bool fp8c::train::isValidQualifiedName(StringRef name) {
  if (name.empty())
    return false;
  SmallVector<StringRef> segments;
  name.split(segments, '.');
  return llvm::all_of(segments, [](StringRef s) {
    if (s.empty())
      return false;
    bool allDigits = llvm::all_of(s, llvm::isDigit);
    bool identifier = (llvm::isAlpha(s.front()) || s.front() == '_') &&
                      llvm::all_of(s, [](char c) { return llvm::isAlnum(c) || c == '_'; });
    return allDigits || identifier;
  });
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (failed(verifyDeclaredName(*this)))
    return failure();
  FloatAttr std = getStdAttr();
  if (getInit() == InitKind::normal) {
    if (!std)
      return emitOpError() << "'normal' initialisation of '" << getName() << "' requires 'std'";
    if (failed(verifyPositive(*this, "std", std.getValueAsDouble())))
      return failure();
  } else if (std) {
    return emitOpError() << "'std' is only meaningful with 'normal' initialisation";
  }
  return success();
}

LogicalResult InputOp::verify() { return verifyDeclaredName(*this); }

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  RankedTensorType table = tensorType(getTable());
  if (table.getRank() != 2)
    return emitOpError() << "table must be [vocab, dim], got shape "
                         << shapeString(table.getShape());
  SmallVector<int64_t> expected(tensorType(getIndices()).getShape());
  expected.push_back(table.getDimSize(1));
  if (failed(verifyExpectedShape(*this, "result", tensorType(getResult()), expected)))
    return failure();
  return verifySameElementType(*this, {getTable(), getResult()});
}

LogicalResult LinearOp::verify() {
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight());
  if (x.getRank() < 1)
    return emitOpError() << "input must have rank >= 1";
  if (w.getRank() != 2)
    return emitOpError() << "weight must be [out, in], got shape " << shapeString(w.getShape());
  int64_t in = x.getDimSize(x.getRank() - 1), out = w.getDimSize(0);
  if (w.getDimSize(1) != in)
    return emitOpError() << "weight " << shapeString(w.getShape()) << " expects " << w.getDimSize(1)
                         << " input features, input has " << in;
  SmallVector<Value> floats = {getInput(), getWeight(), getResult()};
  if (Value b = getBias()) {
    if (failed(verifyExpectedShape(*this, "bias", tensorType(b), {out})))
      return failure();
    floats.push_back(b);
  }
  SmallVector<int64_t> expected(x.getShape().drop_back());
  expected.push_back(out);
  if (failed(verifyExpectedShape(*this, "result", tensorType(getResult()), expected)))
    return failure();
  return verifySameElementType(*this, floats);
}

LogicalResult MatmulOp::verify() {
  RankedTensorType lhs = tensorType(getLhs()), rhs = tensorType(getRhs());
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return emitOpError() << "operands must be 2-D, got " << shapeString(lhs.getShape()) << " and "
                         << shapeString(rhs.getShape()) << " (use train.batch_matmul for batches)";
  SmallVector<int64_t> expected;
  if (failed(verifyProduct(*this, lhs, rhs, getTransposeLhs(), getTransposeRhs(), expected)) ||
      failed(verifyExpectedShape(*this, "result", tensorType(getResult()), expected)))
    return failure();
  // A bf16 GEMM may keep its f32 accumulator (fp8-chunk-loss sums lm_head's wgrad chunks).
  Type operand = lhs.getElementType(), result = tensorType(getResult()).getElementType();
  if (Value acc = getAcc()) {
    if (acc.getType() != getResult().getType())
      return emitOpError() << "acc has type " << acc.getType() << ", expected the result's type "
                           << getResult().getType();
    if (!result.isF32())
      return emitOpError() << "with acc the result must be f32 (the unrounded accumulator), got "
                           << result;
  }
  if (result.isF32() && (operand.isBF16() || operand.isF16()))
    return verifySameElementType(*this, {getLhs(), getRhs()});
  return verifySameElementType(*this, {getLhs(), getRhs(), getResult()});
}

LogicalResult BatchMatmulOp::verify() {
  RankedTensorType lhs = tensorType(getLhs()), rhs = tensorType(getRhs());
  if (lhs.getRank() < 3 || lhs.getRank() != rhs.getRank())
    return emitOpError() << "operands must have one rank >= 3, got " << shapeString(lhs.getShape())
                         << " and " << shapeString(rhs.getShape());
  if (lhs.getShape().drop_back(2) != rhs.getShape().drop_back(2))
    return emitOpError() << "batch dimensions differ: " << shapeString(lhs.getShape().drop_back(2))
                         << " and " << shapeString(rhs.getShape().drop_back(2));
  SmallVector<int64_t> expected;
  if (failed(verifyProduct(*this, lhs, rhs, getTransposeLhs(), getTransposeRhs(), expected)) ||
      failed(verifyExpectedShape(*this, "result", tensorType(getResult()), expected)))
    return failure();
  return verifySameElementType(*this, {getLhs(), getRhs(), getResult()});
}

/// Shared by train.attention and train.attention_grad: head counts, the shapes of
/// query, key and value, of the values shaped like the query (`likeQuery`) or like
/// the key (`likeKey`), and RoPE's needs.
using NamedValue = std::pair<StringRef, Value>;
static LogicalResult verifyAttentionOperands(Operation *op, Value query, Value key, Value value,
                                             int64_t heads, int64_t kvHeads, FloatAttr ropeTheta,
                                             ArrayRef<NamedValue> likeQuery,
                                             ArrayRef<NamedValue> likeKey) {
  RankedTensorType q = tensorType(query), k = tensorType(key), v = tensorType(value);
  if (q.getRank() != 3 || k.getRank() != 3 || v.getRank() != 3)
    return op->emitOpError() << "query, key and value must be [batch, seq, width]";
  if (heads < 1 || kvHeads < 1)
    return op->emitOpError() << "head counts must be positive, got n_heads = " << heads
                             << ", n_kv_heads = " << kvHeads;
  if (heads % kvHeads != 0)
    return op->emitOpError() << "n_kv_heads (" << kvHeads << ") must divide n_heads (" << heads
                             << ")";
  int64_t width = q.getDimSize(2);
  if (width == 0)
    return op->emitOpError() << "query width must be positive";
  if (width % heads != 0)
    return op->emitOpError() << "query width " << width << " is not divisible by n_heads " << heads;
  int64_t headDim = width / heads;
  SmallVector<int64_t> kvShape = {q.getDimSize(0), q.getDimSize(1), kvHeads * headDim};
  if (failed(verifyExpectedShape(op, "key", k, kvShape)) ||
      failed(verifyExpectedShape(op, "value", v, kvShape)))
    return failure();
  for (auto [name, other] : likeQuery)
    if (failed(verifyExpectedShape(op, name, tensorType(other), q.getShape())))
      return failure();
  for (auto [name, other] : likeKey)
    if (failed(verifyExpectedShape(op, name, tensorType(other), kvShape)))
      return failure();
  if (ropeTheta) {
    if (failed(verifyPositive(op, "rope_theta", ropeTheta.getValueAsDouble())))
      return failure();
    if (headDim % 2 != 0)
      return op->emitOpError() << "rotary embeddings need an even head_dim, got " << headDim;
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyAttentionOperands(*this, getQuery(), getKey(), getValue(), getNHeads(),
                                     getNKvHeads(), getRopeThetaAttr(), {{"result", getResult()}},
                                     {})))
    return failure();
  return verifySameElementType(*this, {getQuery(), getKey(), getValue(), getResult()});
}

/// Shared by the two norms: `[D]` affine parameters over the last dimension.
static LogicalResult verifyNorm(Operation *op, Value input, Value weight, Value bias, Value result,
                                double eps) {
  RankedTensorType x = tensorType(input);
  if (x.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  int64_t d = x.getDimSize(x.getRank() - 1);
  if (failed(verifyExpectedShape(op, "weight", tensorType(weight), {d})))
    return failure();
  SmallVector<Value> floats = {input, weight, result};
  if (bias) {
    if (failed(verifyExpectedShape(op, "bias", tensorType(bias), {d})))
      return failure();
    floats.push_back(bias);
  }
  if (failed(verifyExpectedShape(op, "result", tensorType(result), x.getShape())) ||
      failed(verifyPositive(op, "eps", eps)))
    return failure();
  return verifySameElementType(op, floats);
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput(), getWeight(), getBias(), getResult(),
                    getEps().convertToDouble());
}

LogicalResult RMSNormOp::verify() {
  return verifyNorm(*this, getInput(), getWeight(), Value(), getResult(),
                    getEps().convertToDouble());
}

LogicalResult ConvertOp::verify() {
  RankedTensorType in = tensorType(getInput());
  return verifyExpectedShape(*this, "result", tensorType(getResult()), in.getShape());
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "cannot change the element type (" << in.getElementType() << " to "
                         << out.getElementType() << ")";
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << shapeString(in.getShape()) << " ("
                         << in.getNumElements() << " elements) to " << shapeString(out.getShape())
                         << " (" << out.getNumElements() << " elements)";
  return success();
}

LogicalResult TransposeOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != in.getRank())
    return emitOpError() << "permutation has " << perm.size() << " entries, input has rank "
                         << in.getRank();
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError() << "permutation " << shapeString(perm) << " is not a permutation of 0.."
                           << in.getRank() - 1;
    seen[p] = true;
    expected.push_back(in.getDimSize(p));
  }
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "cannot change the element type (" << in.getElementType() << " to "
                         << out.getElementType() << ")";
  return verifyExpectedShape(*this, "result", out, expected);
}

//===----------------------------------------------------------------------===//
// Loss and optimizer
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyOp::verify() {
  RankedTensorType logits = tensorType(getLogits());
  if (logits.getRank() < 2)
    return emitOpError() << "logits must be [..., vocab] with rank >= 2, got "
                         << shapeString(logits.getShape());
  return verifyExpectedShape(*this, "targets", tensorType(getTargets()),
                             logits.getShape().drop_back());
}

LogicalResult GlobalNormOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one tensor";
  return success();
}

/// Optimizer state and gradients are f32 tensors of the parameter's shape.
static LogicalResult verifyOptimizerOperands(Operation *op, ValueRange values,
                                             ArrayRef<StringRef> names) {
  RankedTensorType param = tensorType(values.front());
  for (auto [v, name] : llvm::zip(values, names)) {
    RankedTensorType t = tensorType(v);
    if (!t.getElementType().isF32())
      return op->emitOpError() << name
                               << " must be f32 (master weights and optimizer "
                                  "state are f32), got "
                               << t.getElementType();
    if (failed(verifyExpectedShape(op, name, t, param.getShape())))
      return failure();
  }
  return success();
}

LogicalResult AdamWUpdateOp::verify() {
  if (failed(verifyOptimizerOperands(*this,
                                     {getParam(), getGrad(), getExpAvg(), getExpAvgSq(),
                                      getNewParam(), getNewExpAvg(), getNewExpAvgSq()},
                                     {"param", "grad", "exp_avg", "exp_avg_sq", "new_param",
                                      "new_exp_avg", "new_exp_avg_sq"})))
    return failure();
  for (auto [name, beta] : {std::pair<StringRef, double>{"beta1", getBeta1().convertToDouble()},
                            {"beta2", getBeta2().convertToDouble()}})
    if (!(beta >= 0.0 && beta < 1.0))
      return emitOpError() << "'" << name << "' must be in [0, 1), got " << beta;
  if (failed(verifyPositive(*this, "eps", getEps().convertToDouble())))
    return failure();
  if (!(getWeightDecay().convertToDouble() >= 0.0))
    return emitOpError() << "'weight_decay' must be >= 0, got "
                         << getWeightDecay().convertToDouble();
  return success();
}

LogicalResult SGDUpdateOp::verify() {
  SmallVector<Value> values = {getParam(), getGrad(), getNewParam()};
  SmallVector<StringRef> names = {"param", "grad", "new_param"};
  double momentum = getMomentum().convertToDouble();
  if (!(momentum >= 0.0 && momentum < 1.0))
    return emitOpError() << "'momentum' must be in [0, 1), got " << momentum;
  bool hasBuffer = static_cast<bool>(getMomentumBuffer());
  if (hasBuffer != static_cast<bool>(getNewMomentumBuffer()))
    return emitOpError() << "momentum buffer must be both an operand and a result";
  if ((momentum > 0.0) != hasBuffer)
    return emitOpError() << (hasBuffer ? "a momentum buffer needs 'momentum' > 0"
                                       : "'momentum' > 0 needs a momentum buffer");
  if (hasBuffer) {
    values.append({getMomentumBuffer(), getNewMomentumBuffer()});
    names.append({"momentum_buffer", "new_momentum_buffer"});
  }
  if (failed(verifyOptimizerOperands(*this, values, names)))
    return failure();
  if (!(getWeightDecay().convertToDouble() >= 0.0))
    return emitOpError() << "'weight_decay' must be >= 0, got "
                         << getWeightDecay().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingGradOp::verify() {
  RankedTensorType table = tensorType(getResult());
  if (table.getRank() != 2)
    return emitOpError() << "result must be [vocab, dim], got shape "
                         << shapeString(table.getShape());
  SmallVector<int64_t> expected(tensorType(getIndices()).getShape());
  expected.push_back(table.getDimSize(1));
  if (failed(verifyExpectedShape(*this, "grad", tensorType(getGrad()), expected)))
    return failure();
  return verifySameElementType(*this, {getGrad(), getResult()});
}

LogicalResult ReduceSumOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  if (out.getRank() > in.getRank() || in.getShape().take_back(out.getRank()) != out.getShape())
    return emitOpError() << "result shape " << shapeString(out.getShape())
                         << " is not a trailing part of the input shape "
                         << shapeString(in.getShape());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "cannot change the element type (" << in.getElementType() << " to "
                         << out.getElementType() << ")";
  return success();
}

/// Shared by the two norm gradients: `grad` and `input_grad` have the input's
/// shape, `weight` and the parameter gradients are `[D]`.
static LogicalResult verifyNormGrad(Operation *op, Value grad, Value input, Value weight,
                                    Value inputGrad, ArrayRef<NamedValue> paramGrads, double eps) {
  RankedTensorType x = tensorType(input);
  if (x.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  SmallVector<int64_t> d = {x.getDimSize(x.getRank() - 1)};
  if (failed(verifyExpectedShape(op, "grad", tensorType(grad), x.getShape())) ||
      failed(verifyExpectedShape(op, "weight", tensorType(weight), d)) ||
      failed(verifyExpectedShape(op, "input_grad", tensorType(inputGrad), x.getShape())))
    return failure();
  SmallVector<Value> floats = {grad, input, weight, inputGrad};
  for (auto [name, value] : paramGrads) {
    if (failed(verifyExpectedShape(op, name, tensorType(value), d)))
      return failure();
    floats.push_back(value);
  }
  if (failed(verifyPositive(op, "eps", eps)))
    return failure();
  return verifySameElementType(op, floats);
}

LogicalResult LayerNormGradOp::verify() {
  return verifyNormGrad(*this, getGrad(), getInput(), getWeight(), getInputGrad(),
                        {{"weight_grad", getWeightGrad()}, {"bias_grad", getBiasGrad()}},
                        getEps().convertToDouble());
}

LogicalResult RMSNormGradOp::verify() {
  return verifyNormGrad(*this, getGrad(), getInput(), getWeight(), getInputGrad(),
                        {{"weight_grad", getWeightGrad()}}, getEps().convertToDouble());
}

LogicalResult AttentionGradOp::verify() {
  if (failed(verifyAttentionOperands(*this, getQuery(), getKey(), getValue(), getNHeads(),
                                     getNKvHeads(), getRopeThetaAttr(),
                                     {{"grad", getGrad()}, {"query_grad", getQueryGrad()}},
                                     {{"key_grad", getKeyGrad()}, {"value_grad", getValueGrad()}})))
    return failure();
  return verifySameElementType(*this, {getGrad(), getQuery(), getKey(), getValue(), getQueryGrad(),
                                       getKeyGrad(), getValueGrad()});
}

LogicalResult SoftmaxCrossEntropyGradOp::verify() {
  RankedTensorType logits = tensorType(getLogits());
  if (logits.getRank() < 2)
    return emitOpError() << "logits must be [..., vocab] with rank >= 2, got "
                         << shapeString(logits.getShape());
  if (failed(verifyExpectedShape(*this, "targets", tensorType(getTargets()),
                                 logits.getShape().drop_back())) ||
      failed(verifyExpectedShape(*this, "result", tensorType(getResult()), logits.getShape())))
    return failure();
  return verifySameElementType(*this, {getLogits(), getResult()});
}

LogicalResult ClipCoefOp::verify() {
  return verifyPositive(*this, "max_norm", getMaxNorm().convertToDouble());
}

LogicalResult LRScheduleOp::verify() {
  double lr = getLr().convertToDouble(), minLr = getMinLr().convertToDouble();
  int64_t warmup = getWarmupSteps(), total = getTotalSteps();
  if (failed(verifyPositive(*this, "lr", lr)))
    return failure();
  if (warmup < 0)
    return emitOpError() << "'warmup_steps' must be >= 0, got " << warmup;
  if (getKind() == LRScheduleKind::constant) {
    if (total != 0 || minLr != 0.0)
      return emitOpError() << "'total_steps' and 'min_lr' only apply to the cosine schedule";
    return success();
  }
  if (total <= warmup)
    return emitOpError() << "the cosine schedule needs 'total_steps' > 'warmup_steps', got "
                         << total << " and " << warmup;
  if (!(minLr >= 0.0 && minLr <= lr))
    return emitOpError() << "'min_lr' must be in [0, lr], got " << minLr;
  return success();
}

LogicalResult SliceGradOp::verify() {
  RankedTensorType grad = tensorType(getGrad()), out = tensorType(getResult());
  int64_t dim = getDim(), offset = getOffset();
  if (grad.getRank() != out.getRank())
    return emitOpError() << "grad " << shapeString(grad.getShape()) << " and result "
                         << shapeString(out.getShape()) << " differ in rank";
  if (dim < 0 || dim >= out.getRank())
    return emitOpError() << "dim " << dim << " is out of range for a result of rank "
                         << out.getRank();
  int64_t size = grad.getDimSize(dim), extent = out.getDimSize(dim);
  if (offset < 0 || offset > extent - size)
    return emitOpError() << "range [" << offset << ", " << offset << " + " << size
                         << ") does not fit in dimension " << dim << " of size " << extent;
  SmallVector<int64_t> expected(out.getShape());
  expected[dim] = size;
  if (failed(verifyExpectedShape(*this, "grad", grad, expected)))
    return failure();
  return verifySameElementType(*this, {getGrad(), getResult()});
}

//===----------------------------------------------------------------------===//
// Slicing
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  int64_t dim = getDim(), offset = getOffset(), size = getSize();
  if (dim < 0 || dim >= in.getRank())
    return emitOpError() << "dim " << dim << " is out of range for an input of rank "
                         << in.getRank();
  int64_t extent = in.getDimSize(dim);
  if (offset < 0 || size < 1 || offset > extent - size)
    return emitOpError() << "range [" << offset << ", " << offset << " + " << size
                         << ") does not fit in dimension " << dim << " of size " << extent;
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "cannot change the element type (" << in.getElementType() << " to "
                         << out.getElementType() << ")";
  SmallVector<int64_t> expected(in.getShape());
  expected[dim] = size;
  return verifyExpectedShape(*this, "result", out, expected);
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

LogicalResult AllReduceOp::verify() {
  // Over one rank the input already is the result: the pass emits none.
  if (getWorldSize() < 2)
    return emitOpError() << "world_size must be at least 2, got " << getWorldSize();
  return success();
}

/// Checks that `shard` is the 1-D shard of `full` over `worldSize` ranks
/// (c = ceil(n / worldSize) elements) of the same element type.
static LogicalResult verifyShardOf(Operation *op, int64_t worldSize, Type fullType,
                                   Type shardType) {
  auto full = cast<RankedTensorType>(fullType), shard = cast<RankedTensorType>(shardType);
  if (worldSize < 2)
    return op->emitOpError() << "world_size must be at least 2, got " << worldSize;
  if (full.getElementType() != shard.getElementType())
    return op->emitOpError() << "the full tensor " << full << " and the shard " << shard
                             << " must have the same element type";
  int64_t n = full.getNumElements();
  int64_t c = (n + worldSize - 1) / worldSize;
  if (shard.getRank() != 1 || shard.getDimSize(0) != c)
    return op->emitOpError() << "the shard of " << full << " over " << worldSize << " ranks is "
                             << RankedTensorType::get({c}, full.getElementType()) << " (ceil(" << n
                             << " / " << worldSize << ") elements), got " << shard;
  return success();
}

LogicalResult ReduceScatterOp::verify() {
  return verifyShardOf(*this, getWorldSize(), getInput().getType(), getResult().getType());
}

LogicalResult AllGatherOp::verify() {
  return verifyShardOf(*this, getWorldSize(), getResult().getType(), getInput().getType());
}

LogicalResult ShardOp::verify() {
  return verifyShardOf(*this, getWorldSize(), getInput().getType(), getResult().getType());
}
