//===- TrainVJPs.cpp - vector-Jacobian products of the train dialect ------===//
//
// Every differentiable forward op builds the cotangents of its operands from the
// cotangent of its result (`DifferentiableOpInterface::buildVJP`); `fp8-autodiff`
// only walks the graph. The formulas are written next to each VJP, because the
// runtime's finite-difference tests check them one by one.
//
// Conventions: `dy` is the gradient of the op's (single) result and has its type;
// each operand gradient has its operand's type; operands that are not
// differentiable (token ids, targets, integer tensors) get a null gradient. New
// ops carry the forward op's location, so that a diagnostic on a backward op
// points at the layer it differentiates.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace fp8c::train;

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// The gradient of the op's only result. A null gradient means that nothing
/// flows back: every operand gradient is null then.
Value resultGrad(Operation *op, ValueRange resultGrads, SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(op->getNumOperands(), Value());
  return resultGrads.empty() ? Value() : resultGrads.front();
}

/// `value` reshaped (row-major) to `shape`; `value` itself when it has it.
Value reshapeTo(ImplicitLocOpBuilder &b, Value value, ArrayRef<int64_t> shape) {
  RankedTensorType type = tensorType(value);
  if (type.getShape() == shape)
    return value;
  return ReshapeOp::create(b, RankedTensorType::get(shape, type.getElementType()), value);
}

/// `op(lhs) · op(rhs)` as train.matmul (rank 2) or train.batch_matmul, with the
/// result type derived from the operands.
Value product(ImplicitLocOpBuilder &b, Value lhs, Value rhs, bool transposeLhs, bool transposeRhs,
              StringAttr name) {
  RankedTensorType l = tensorType(lhs), r = tensorType(rhs);
  int64_t rank = l.getRank();
  SmallVector<int64_t> shape(l.getShape().drop_back(2));
  shape.push_back(transposeLhs ? l.getDimSize(rank - 1) : l.getDimSize(rank - 2));
  shape.push_back(transposeRhs ? r.getDimSize(rank - 2) : r.getDimSize(rank - 1));
  auto type = RankedTensorType::get(shape, l.getElementType());
  if (rank == 2)
    return MatmulOp::create(b, type, lhs, rhs, Value(), transposeLhs, transposeRhs, name);
  return BatchMatmulOp::create(b, type, lhs, rhs, transposeLhs, transposeRhs);
}

/// `<name>.<suffix>`, or null for an unnamed layer. Backward GEMMs are named after
/// their forward layer: `.dgrad` (activation gradient), `.wgrad` (weight gradient).
StringAttr suffixed(StringAttr name, StringRef suffix) {
  if (!name)
    return {};
  return StringAttr::get(name.getContext(), name.getValue() + "." + suffix);
}

/// The VJP of a product `C = op(A) · op(B)` (op transposes when the flag is set):
///   no transposes:  dA = dC·Bᵀ          dB = Aᵀ·dC
///   transpose_lhs:  dA = B·dCᵀ          dB = A·dC
///   transpose_rhs:  dA = dC·B           dB = dCᵀ·A
///   both:           dA = Bᵀ·dCᵀ         dB = dCᵀ·Aᵀ
/// Each case produces dA with A's shape and dB with B's shape, with no explicit
/// transpose op.
std::pair<Value, Value> productVJP(ImplicitLocOpBuilder &b, Value dc, Value a, Value bv, bool ta,
                                   bool tb, StringAttr name) {
  StringAttr dgrad = suffixed(name, "dgrad"), wgrad = suffixed(name, "wgrad");
  if (!ta && !tb)
    return {product(b, dc, bv, false, true, dgrad), product(b, a, dc, true, false, wgrad)};
  if (ta && !tb)
    return {product(b, bv, dc, false, true, dgrad), product(b, a, dc, false, false, wgrad)};
  if (!ta && tb)
    return {product(b, dc, bv, false, false, dgrad), product(b, dc, a, true, false, wgrad)};
  return {product(b, bv, dc, true, true, dgrad), product(b, dc, a, true, true, wgrad)};
}

bool isFloatTensor(Value v) { return isa<FloatType>(tensorType(v).getElementType()); }

} // namespace

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

// d table = scatter-add of dy rows at the ids (train.embedding_grad); the ids
// get no gradient.
LogicalResult EmbeddingOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = EmbeddingGradOp::create(b, getTable().getType(), dy, getIndices());
  return success();
}

// y = x·Wᵀ + b over N = product of x's leading dimensions (x2 = x as [N, in],
// dy2 = dy as [N, out]):
//   dx = reshape(dy2·W)      dW = dy2ᵀ·x2      db = Σ over leading dims of dy
LogicalResult LinearOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight());
  int64_t in = w.getDimSize(1), out = w.getDimSize(0);
  int64_t rows = 1;
  for (int64_t d : x.getShape().drop_back())
    rows *= d;
  Value x2 = reshapeTo(b, getInput(), {rows, in});
  Value dy2 = reshapeTo(b, dy, {rows, out});
  StringAttr name = getNameAttr();
  Value dx2 = product(b, dy2, getWeight(), false, false, suffixed(name, "dgrad"));
  operandGrads[0] = reshapeTo(b, dx2, x.getShape());
  operandGrads[1] = product(b, dy2, x2, true, false, suffixed(name, "wgrad"));
  if (Value bias = getBias())
    operandGrads[2] = ReduceSumOp::create(b, bias.getType(), dy);
  return success();
}

LogicalResult MatmulOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  // The product's VJP builds its GEMMs in the operands' type: an f32 result of
  // bf16 operands (only fp8-chunk-loss makes them, after autodiff) has none.
  Type operand = tensorType(getLhs()).getElementType();
  if (operand != tensorType(getResult()).getElementType())
    return emitOpError() << "has no VJP with a " << tensorType(getResult()).getElementType()
                         << " result of " << operand << " operands";
  ImplicitLocOpBuilder b(getLoc(), builder);
  std::tie(operandGrads[0], operandGrads[1]) =
      productVJP(b, dy, getLhs(), getRhs(), getTransposeLhs(), getTransposeRhs(), getNameAttr());
  // result = acc + product: acc's gradient is the result's.
  if (getAcc())
    operandGrads[2] = dy;
  return success();
}

// As train.matmul, on the trailing two dimensions of every batch.
LogicalResult BatchMatmulOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  std::tie(operandGrads[0], operandGrads[1]) =
      productVJP(b, dy, getLhs(), getRhs(), getTransposeLhs(), getTransposeRhs(), StringAttr());
  return success();
}

// dq, dk, dv from train.attention_grad, which recomputes the probabilities (see
// its description for the formulas, RoPE and grouped heads included).
LogicalResult AttentionOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  auto grad = AttentionGradOp::create(
      b, getQuery().getType(), getKey().getType(), getValue().getType(), dy, getQuery(), getKey(),
      getValue(), getNHeadsAttr(), getNKvHeadsAttr(), getCausalAttr(), getRopeThetaAttr());
  llvm::copy(grad->getResults(), operandGrads.begin());
  return success();
}

// With r = 1/sqrt(var + eps), x̂ = (x - mean)·r, g = dy·weight:
//   dx = r·(g - mean(g) - x̂·mean(g·x̂))   dweight = Σ dy·x̂   dbias = Σ dy
LogicalResult LayerNormOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  Type weightType = getWeight().getType();
  auto grad = LayerNormGradOp::create(b, getInput().getType(), weightType, weightType, dy,
                                      getInput(), getWeight(), getEpsAttr());
  operandGrads[0] = grad.getInputGrad();
  operandGrads[1] = grad.getWeightGrad();
  if (getBias())
    operandGrads[2] = grad.getBiasGrad();
  return success();
}

// With r = 1/sqrt(mean(x²) + eps), x̂ = x·r, g = dy·weight:
//   dx = r·(g - x̂·mean(g·x̂))   dweight = Σ dy·x̂
LogicalResult RMSNormOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  auto grad = RMSNormGradOp::create(b, getInput().getType(), getWeight().getType(), dy, getInput(),
                                    getWeight(), getEpsAttr());
  operandGrads[0] = grad.getInputGrad();
  operandGrads[1] = grad.getWeightGrad();
  return success();
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

// dx = dy·gelu'(x), same approximation as the forward op.
LogicalResult GeluOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = GeluGradOp::create(b, dy, getInput(), getApproximateAttr());
  return success();
}

// dx = dy·σ(x)·(1 + x·(1 - σ(x)))
LogicalResult SiluOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = SiluGradOp::create(b, dy, getInput());
  return success();
}

// dx = dy·2·max(x, 0)
LogicalResult Relu2Op::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = Relu2GradOp::create(b, dy, getInput());
  return success();
}

// y = silu(g)·u:  dg = dy·u·σ(g)·(1 + g·(1 - σ(g)))   du = dy·silu(g)
LogicalResult SwigluOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  auto grad = SwigluGradOp::create(b, dy, getLhs(), getRhs());
  operandGrads[0] = grad.getGateGrad();
  operandGrads[1] = grad.getUpGrad();
  return success();
}

// y = a + b:  da = dy, db = dy
LogicalResult AddOp::buildVJP(OpBuilder &, ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  operandGrads[0] = dy;
  operandGrads[1] = dy;
  return success();
}

// y = a·b:  da = dy·b, db = dy·a
LogicalResult MulOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = MulOp::create(b, dy, getRhs());
  operandGrads[1] = MulOp::create(b, dy, getLhs());
  return success();
}

// dx = convert(dy) back to the input's type: the gradient of an f32 master weight
// used in bf16 is an f32 tensor.
LogicalResult ConvertOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy)
    return success();
  if (dy.getType() == getInput().getType()) {
    operandGrads[0] = dy;
    return success();
  }
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = ConvertOp::create(b, getInput().getType(), dy);
  return success();
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

// dx = reshape(dy) back to the input's shape; integer tensors get no gradient.
LogicalResult ReshapeOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy || !isFloatTensor(getInput()))
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = ReshapeOp::create(b, getInput().getType(), dy);
  return success();
}

// dx = transpose(dy) by the inverse permutation: inverse[permutation[i]] = i.
LogicalResult TransposeOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy || !isFloatTensor(getInput()))
    return success();
  ArrayRef<int64_t> permutation = getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [i, p] : llvm::enumerate(permutation))
    inverse[p] = static_cast<int64_t>(i);
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = TransposeOp::create(b, getInput().getType(), dy, inverse);
  return success();
}

// dx = dy placed at [offset, offset + size) along `dim` of zeros shaped like x
// (train.slice_grad); integer tensors get no gradient.
LogicalResult SliceOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrad(*this, resultGrads, operandGrads);
  if (!dy || !isFloatTensor(getInput()))
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = SliceGradOp::create(b, getInput().getType(), dy, getDimAttr(), getOffsetAttr());
  return success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

// d logits = dloss / N · (softmax(logits) - onehot(targets)), zero rows where the
// target is ignore_index (N counts the other positions); targets get no gradient.
LogicalResult SoftmaxCrossEntropyOp::buildVJP(OpBuilder &builder, ValueRange resultGrads,
                                              SmallVectorImpl<Value> &operandGrads) {
  Value dloss = resultGrad(*this, resultGrads, operandGrads);
  if (!dloss)
    return success();
  ImplicitLocOpBuilder b(getLoc(), builder);
  operandGrads[0] = SoftmaxCrossEntropyGradOp::create(b, getLogits().getType(), getLogits(),
                                                      getTargets(), dloss, getIgnoreIndexAttr());
  return success();
}
