//===- CheckTrain.cpp - Checks of the train dialect's kernel ops ----------===//
//
// Checks follow the ODS constraints and verifiers of the train dialect
// (include/fp8c/Dialect/Train/IR/TrainOps.td, lib/Dialect/Train/IR/
// TrainOps.cpp). The CPU implementations are cpu/KernelOpsTrain.cpp.
//
//===----------------------------------------------------------------------===//

#include "OpParams.h"

#include <algorithm>
#include <cmath>

namespace fp8rt::ops {

using std::vector;

Status kernelError(const OpContext &ctx, const Status &s) {
  if (s.ok())
    return s;
  const std::string &name = ctx.op.op;
  const std::string mnemonic = name.substr(name.find('.') + 1);
  if (s.message().compare(0, mnemonic.size() + 1, mnemonic + ":") == 0)
    return Status(s.code(), name.substr(0, name.find('.') + 1) + s.message());
  return s.withContext(name);
}

namespace {
TensorType withDType(const TensorType &t, DType d) { return TensorType{d, t.shape}; }
} // namespace

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

Status checkTrainEmbedding(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "table", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "indices", TypeClass::Index));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(0, "table ([vocab, dim])", 2));
  const int64_t dim = ctx.shape(0)[1];
  vector<int64_t> shape = ctx.shape(1);
  shape.push_back(dim);
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  return Status::success();
}

Status checkTrainEmbeddingGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "grad", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "indices", TypeClass::Index));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const TensorType &result = ctx.op.results[0];
  if (result.shape.size() != 2)
    return ctx.error("result must be [vocab, dim], got " + typeString(result));
  const int64_t vocab = result.shape[0], dim = result.shape[1];
  vector<int64_t> gradShape = ctx.shape(1);
  gradShape.push_back(dim);
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", gradShape));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, {vocab, dim}}}));
  return Status::success();
}

Status checkTrainLinear(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2, 3));
  const bool hasBias = ctx.numOperands() == 3;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(0, "input", 1, /*atLeast=*/true));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(1, "weight ([out, in])", 2));
  const vector<int64_t> &x = ctx.shape(0);
  const int64_t in = x.back(), out = ctx.shape(1)[0];
  if (ctx.shape(1)[1] != in)
    return ctx.error("weight " + shapeString(ctx.shape(1)) + " expects " +
                     std::to_string(ctx.shape(1)[1]) + " input features, input has " +
                     std::to_string(in));
  if (hasBias) {
    FP8RT_RETURN_IF_ERROR(ctx.expectShape(2, "bias", {out}));
    FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2}, {"input", "weight", "bias"}));
  } else {
    FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1}, {"input", "weight"}));
  }
  vector<int64_t> shape(x.begin(), x.end() - 1);
  shape.push_back(out);
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  return Status::success();
}

Status matmulParams(const OpContext &ctx, MatmulParams &out) {
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transpose_lhs", out.transLhs));
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transpose_rhs", out.transRhs));
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  const size_t r = lhs.size();
  out.m = out.transLhs ? lhs[r - 1] : lhs[r - 2];
  out.k = out.transLhs ? lhs[r - 2] : lhs[r - 1];
  const int64_t kr = out.transRhs ? rhs[r - 1] : rhs[r - 2];
  out.n = out.transRhs ? rhs[r - 2] : rhs[r - 1];
  if (out.k != kr)
    return ctx.error("contraction dimensions differ: lhs " + shapeString(lhs) +
                     (out.transLhs ? " (transposed)" : "") + " has K = " + std::to_string(out.k) +
                     ", rhs " + shapeString(rhs) + (out.transRhs ? " (transposed)" : "") +
                     " has K = " + std::to_string(kr));
  out.shape.assign(lhs.begin(), lhs.end() - 2);
  out.shape.push_back(out.m);
  out.shape.push_back(out.n);
  return Status::success();
}

namespace {
Status matmulLike(const OpContext &ctx, bool batched) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1}, {"lhs", "rhs"}));
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  if (!batched && (lhs.size() != 2 || rhs.size() != 2))
    return ctx.error("operands must be 2-D, got " + shapeString(lhs) + " and " + shapeString(rhs) +
                     " (use train.batch_matmul for batches)");
  if (batched) {
    if (lhs.size() < 3 || lhs.size() != rhs.size())
      return ctx.error("operands must have one rank >= 3, got " + shapeString(lhs) + " and " +
                       shapeString(rhs));
    if (!std::equal(lhs.begin(), lhs.end() - 2, rhs.begin()))
      return ctx.error("batch dimensions differ: " + shapeString(lhs) + " and " + shapeString(rhs));
  }
  MatmulParams mm;
  FP8RT_RETURN_IF_ERROR(matmulParams(ctx, mm));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, mm.shape}}));
  return Status::success();
}

} // namespace

Status checkTrainMatmul(const OpContext &ctx) { return matmulLike(ctx, /*batched=*/false); }
Status checkTrainBatchMatmul(const OpContext &ctx) { return matmulLike(ctx, /*batched=*/true); }

Status attentionConfig(const OpContext &ctx, size_t qIndex, AttentionConfig &config) {
  for (size_t i = 0; i < 3; ++i)
    if (ctx.shape(qIndex + i).size() != 3)
      return ctx.error("query, key and value must be [batch, seq, width], got " +
                       shapeString(ctx.shape(qIndex)) + ", " + shapeString(ctx.shape(qIndex + 1)) +
                       " and " + shapeString(ctx.shape(qIndex + 2)));
  int64_t heads = 0, kvHeads = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("n_heads", heads));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("n_kv_heads", kvHeads));
  bool causal = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("causal", causal));
  std::optional<double> theta;
  FP8RT_RETURN_IF_ERROR(ctx.optionalF64Attr("rope_theta", theta));
  if (heads < 1 || kvHeads < 1)
    return ctx.error("head counts must be positive, got n_heads = " + std::to_string(heads) +
                     ", n_kv_heads = " + std::to_string(kvHeads));
  if (heads % kvHeads != 0)
    return ctx.error("n_kv_heads (" + std::to_string(kvHeads) + ") must divide n_heads (" +
                     std::to_string(heads) + ")");
  const vector<int64_t> &q = ctx.shape(qIndex);
  if (q[2] % heads != 0)
    return ctx.error("query width " + std::to_string(q[2]) + " is not divisible by n_heads " +
                     std::to_string(heads));
  const int64_t headDim = q[2] / heads;
  const vector<int64_t> kvShape = {q[0], q[1], kvHeads * headDim};
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(qIndex + 1, "key", kvShape));
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(qIndex + 2, "value", kvShape));
  if (theta) {
    if (!(*theta > 0.0) || !std::isfinite(*theta))
      return ctx.error("'rope_theta' must be positive and finite, got " + std::to_string(*theta));
    if (headDim % 2 != 0)
      return ctx.error("rotary embeddings need an even head_dim, got " + std::to_string(headDim));
  }
  config.batch = q[0];
  config.seqLen = q[1];
  config.nHeads = heads;
  config.nKvHeads = kvHeads;
  config.headDim = headDim;
  config.causal = causal;
  config.ropeTheta = theta;
  return kernelError(ctx, verifyAttentionConfig(config));
}

Status checkTrainAttention(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "query", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2}, {"query", "key", "value"}));
  AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 0, config));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

Status checkTrainAttentionGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(4));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "grad", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2, 3}, {"grad", "query", "key", "value"}));
  AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 1, config));
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", ctx.shape(1)));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(1), ctx.type(2), ctx.type(2)},
                                          {"query_grad", "key_grad", "value_grad"}));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

namespace {

Status positiveEps(const OpContext &ctx, double &eps) {
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  if (!(eps > 0.0) || !std::isfinite(eps))
    return ctx.error("'eps' must be positive, got " + std::to_string(eps));
  return Status::success();
}

/// layer_norm (withBias allowed) and rms_norm.
Status normOp(const OpContext &ctx, bool layerNorm) {
  if (layerNorm)
    FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2, 3));
  else
    FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  const bool hasBias = ctx.numOperands() == 3;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(0, "input", 1, /*atLeast=*/true));
  const int64_t d = ctx.shape(0).back();
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(1, "weight", {d}));
  if (hasBias) {
    FP8RT_RETURN_IF_ERROR(ctx.expectShape(2, "bias", {d}));
    FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2}, {"input", "weight", "bias"}));
  } else {
    FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1}, {"input", "weight"}));
  }
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(positiveEps(ctx, eps));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

} // namespace

Status checkTrainLayerNorm(const OpContext &ctx) { return normOp(ctx, true); }
Status checkTrainRmsNorm(const OpContext &ctx) { return normOp(ctx, false); }

namespace {

Status normGradOp(const OpContext &ctx, bool layerNorm) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "grad", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2}, {"grad", "input", "weight"}));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(1, "input", 1, /*atLeast=*/true));
  const int64_t d = ctx.shape(1).back();
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", ctx.shape(1)));
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(2, "weight", {d}));
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(positiveEps(ctx, eps));
  const TensorType param{ctx.type(0).dtype, {d}};
  if (layerNorm)
    FP8RT_RETURN_IF_ERROR(
        ctx.expectResults({ctx.type(1), param, param}, {"input_grad", "weight_grad", "bias_grad"}));
  else
    FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(1), param}, {"input_grad", "weight_grad"}));
  return Status::success();
}

} // namespace

Status checkTrainLayerNormGrad(const OpContext &ctx) { return normGradOp(ctx, true); }
Status checkTrainRmsNormGrad(const OpContext &ctx) { return normGradOp(ctx, false); }

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

namespace {

/// `arity` float operands of one type (SameOperandsAndResultType), `results`
/// results of that type.
Status sameTypePointwise(const OpContext &ctx, size_t arity, size_t results,
                         std::initializer_list<const char *> names) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(arity));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, names.begin()[0], TypeClass::Float));
  for (size_t i = 1; i < arity; ++i)
    if (ctx.type(i) != ctx.type(0))
      return ctx.error(std::string("operands must have one type: ") + names.begin()[0] + " is " +
                       typeString(ctx.type(0)) + ", " + names.begin()[i] + " is " +
                       typeString(ctx.type(i)));
  return ctx.expectResults(vector<TensorType>(results, ctx.type(0)));
}

} // namespace

Status geluTanh(const OpContext &ctx, bool &tanh) {
  int index = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("approximate", {"none", "tanh"}, index, /*tanh*/ 1));
  tanh = index == 1;
  return Status::success();
}

Status checkTrainGelu(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  bool tanh = false;
  return geluTanh(ctx, tanh);
}

Status checkTrainGeluGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  bool tanh = false;
  return geluTanh(ctx, tanh);
}

Status checkTrainSilu(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  return Status::success();
}

Status checkTrainSiluGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  return Status::success();
}

Status checkTrainRelu2(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  return Status::success();
}

Status checkTrainRelu2Grad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  return Status::success();
}

Status checkTrainSwiglu(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"gate", "up"}));
  return Status::success();
}

Status checkTrainSwigluGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 3, 2, {"grad", "gate", "up"}));
  return Status::success();
}

Status checkTrainAdd(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"lhs", "rhs"}));
  return Status::success();
}

Status checkTrainMul(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"lhs", "rhs"}));
  return Status::success();
}

Status checkTrainMulScalar(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(1, "scale"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

Status checkTrainConvert(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({withDType(ctx.type(0), ctx.op.results[0].dtype)}));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

Status checkTrainReshape(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Any));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const TensorType &result = ctx.op.results[0];
  if (result.dtype != ctx.type(0).dtype)
    return ctx.error(std::string("cannot change the element type (") +
                     dtypeName(ctx.type(0).dtype) + " to " + dtypeName(result.dtype) + ")");
  if (elementCount(result) != elementCount(ctx.type(0)))
    return ctx.error("cannot reshape " + shapeString(ctx.shape(0)) + " (" +
                     std::to_string(elementCount(ctx.type(0))) + " elements) to " +
                     shapeString(result.shape) + " (" + std::to_string(elementCount(result)) +
                     " elements)");
  return Status::success();
}

Status checkTrainTranspose(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  // FP8 codes too: fsdp transposes gathered FP8 weights (docs/distributed.md).
  if (!isFp8(ctx.type(0).dtype))
    FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Any));
  vector<int64_t> perm;
  FP8RT_RETURN_IF_ERROR(ctx.i64ArrayAttr("permutation", perm));
  const vector<int64_t> &in = ctx.shape(0);
  const size_t rank = in.size();
  if (perm.size() != rank)
    return ctx.error("permutation has " + std::to_string(perm.size()) +
                     " entries, input has rank " + std::to_string(rank));
  vector<bool> seen(rank, false);
  vector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(rank) || seen[size_t(p)])
      return ctx.error("permutation " + shapeString(perm) + " is not a permutation of 0.." +
                       std::to_string(int64_t(rank) - 1));
    seen[size_t(p)] = true;
    shape.push_back(in[size_t(p)]);
  }
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  return Status::success();
}

Status checkTrainSlice(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Any));
  int64_t dim = 0, offset = 0, size = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("dim", dim));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("offset", offset));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("size", size));
  const vector<int64_t> &in = ctx.shape(0);
  if (dim < 0 || dim >= int64_t(in.size()))
    return ctx.error("dim " + std::to_string(dim) + " is out of range for an input of rank " +
                     std::to_string(in.size()));
  const int64_t extent = in[size_t(dim)];
  if (offset < 0 || size < 1 || offset > extent - size)
    return ctx.error("range [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                     std::to_string(size) + ") does not fit in dimension " + std::to_string(dim) +
                     " of size " + std::to_string(extent));
  vector<int64_t> shape = in;
  shape[size_t(dim)] = size;
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  return Status::success();
}

Status checkTrainSliceGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "grad", TypeClass::Float));
  int64_t dim = 0, offset = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("dim", dim));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("offset", offset));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const vector<int64_t> &grad = ctx.shape(0), &out = ctx.op.results[0].shape;
  if (grad.size() != out.size())
    return ctx.error("grad " + shapeString(grad) + " and result " + shapeString(out) +
                     " differ in rank");
  if (dim < 0 || dim >= int64_t(out.size()))
    return ctx.error("dim " + std::to_string(dim) + " is out of range for a result of rank " +
                     std::to_string(out.size()));
  const int64_t size = grad[size_t(dim)], extent = out[size_t(dim)];
  if (offset < 0 || offset > extent - size)
    return ctx.error("range [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                     std::to_string(size) + ") does not fit in dimension " + std::to_string(dim) +
                     " of size " + std::to_string(extent));
  vector<int64_t> expected = out;
  expected[size_t(dim)] = size;
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", expected));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, out}}));
  return Status::success();
}

Status checkTrainReduceSum(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const vector<int64_t> &in = ctx.shape(0), &out = ctx.op.results[0].shape;
  if (out.size() > in.size() || !std::equal(out.begin(), out.end(), in.end() - out.size()))
    return ctx.error("result shape " + shapeString(out) +
                     " is not a trailing part of the input shape " + shapeString(in));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, out}}));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

namespace {

/// logits [..., V] (operand 0) and targets [...] (operand 1).
Status logitsAndTargets(const OpContext &ctx, std::optional<int64_t> &ignoreIndex) {
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "logits", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "targets", TypeClass::Index));
  const vector<int64_t> &logits = ctx.shape(0);
  if (logits.size() < 2)
    return ctx.error("logits must be [..., vocab] with rank >= 2, got " + shapeString(logits));
  FP8RT_RETURN_IF_ERROR(
      ctx.expectShape(1, "targets", vector<int64_t>(logits.begin(), logits.end() - 1)));
  return ctx.optionalI64Attr("ignore_index", ignoreIndex);
}

} // namespace

Status checkTrainSoftmaxCrossEntropy(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(logitsAndTargets(ctx, ignoreIndex));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  return Status::success();
}

Status checkTrainSoftmaxCrossEntropyGrad(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(logitsAndTargets(ctx, ignoreIndex));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(2, "loss_grad"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

Status checkTrainGlobalNorm(const OpContext &ctx) {
  if (ctx.numOperands() == 0)
    return ctx.error("needs at least one tensor");
  for (size_t i = 0; i < ctx.numOperands(); ++i) {
    const std::string what = "operand " + std::to_string(i);
    FP8RT_RETURN_IF_ERROR(ctx.expectClass(i, what.c_str(), TypeClass::Float));
  }
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  return Status::success();
}

Status checkTrainClipCoef(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(0, "norm"));
  double maxNorm = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("max_norm", maxNorm));
  if (!(maxNorm > 0.0))
    return ctx.error("'max_norm' must be positive, got " + std::to_string(maxNorm));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  return Status::success();
}

Status lrSchedule(const OpContext &ctx, LRSchedule &schedule) {
  int kind = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("kind", {"constant", "cosine"}, kind));
  schedule.kind = kind == 0 ? LRScheduleKind::Constant : LRScheduleKind::Cosine;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("lr", schedule.lr));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("warmup_steps", schedule.warmupSteps, 0));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("total_steps", schedule.totalSteps, 0));
  return ctx.f64Attr("min_lr", schedule.minLr, 0.0);
}

Status checkTrainLrSchedule(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectI64Scalar(0, "step"));
  LRSchedule schedule;
  FP8RT_RETURN_IF_ERROR(lrSchedule(ctx, schedule));
  FP8RT_RETURN_IF_ERROR(kernelError(ctx, validateLRSchedule(schedule)));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  return Status::success();
}

Status adamwConfig(const OpContext &ctx, AdamWConfig &config) {
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("beta1", config.beta1));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("beta2", config.beta2));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", config.eps));
  return ctx.f64Attr("weight_decay", config.weightDecay);
}

Status sgdConfig(const OpContext &ctx, SGDConfig &config) {
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("momentum", config.momentum));
  return ctx.f64Attr("weight_decay", config.weightDecay);
}

namespace {

/// f32 tensors of the parameter's shape (operand 0).
Status optimizerTensors(const OpContext &ctx, std::initializer_list<size_t> indices,
                        std::initializer_list<const char *> names) {
  auto name = names.begin();
  for (size_t i : indices) {
    if (ctx.type(i).dtype != DType::F32)
      return ctx.error(std::string(*name) +
                       " must be f32 (master weights and optimizer state are f32), got " +
                       typeString(ctx.type(i)));
    FP8RT_RETURN_IF_ERROR(ctx.expectShape(i, *name, ctx.shape(0)));
    ++name;
  }
  return Status::success();
}

} // namespace

Status checkTrainAdamwUpdate(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(6));
  FP8RT_RETURN_IF_ERROR(
      optimizerTensors(ctx, {0, 1, 2, 3}, {"param", "grad", "exp_avg", "exp_avg_sq"}));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(4, "lr"));
  FP8RT_RETURN_IF_ERROR(ctx.expectI64Scalar(5, "step"));
  AdamWConfig config;
  FP8RT_RETURN_IF_ERROR(adamwConfig(ctx, config));
  for (auto [name, beta] :
       {std::pair<const char *, double>{"beta1", config.beta1}, {"beta2", config.beta2}})
    if (!(beta >= 0.0 && beta < 1.0))
      return ctx.error(std::string("'") + name + "' must be in [0, 1), got " +
                       std::to_string(beta));
  if (!(config.eps > 0.0) || !std::isfinite(config.eps))
    return ctx.error("'eps' must be positive, got " + std::to_string(config.eps));
  if (!(config.weightDecay >= 0.0) || !std::isfinite(config.weightDecay))
    return ctx.error("'weight_decay' must be >= 0, got " + std::to_string(config.weightDecay));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0), ctx.type(0), ctx.type(0)},
                                          {"new_param", "new_exp_avg", "new_exp_avg_sq"}));
  return Status::success();
}

Status checkTrainSgdUpdate(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3, 4));
  const bool hasBuffer = ctx.numOperands() == 4;
  FP8RT_RETURN_IF_ERROR(optimizerTensors(ctx, {0, 1}, {"param", "grad"}));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(2, "lr"));
  if (hasBuffer)
    FP8RT_RETURN_IF_ERROR(optimizerTensors(ctx, {3}, {"momentum_buffer"}));
  SGDConfig config;
  FP8RT_RETURN_IF_ERROR(sgdConfig(ctx, config));
  if (!(config.momentum >= 0.0 && config.momentum < 1.0))
    return ctx.error("'momentum' must be in [0, 1), got " + std::to_string(config.momentum));
  if ((config.momentum > 0.0) != hasBuffer)
    return ctx.error(hasBuffer ? "a momentum buffer needs 'momentum' > 0"
                               : "'momentum' > 0 needs a momentum buffer");
  if (!(config.weightDecay >= 0.0) || !std::isfinite(config.weightDecay))
    return ctx.error("'weight_decay' must be >= 0, got " + std::to_string(config.weightDecay));
  if (hasBuffer)
    FP8RT_RETURN_IF_ERROR(
        ctx.expectResults({ctx.type(0), ctx.type(0)}, {"new_param", "new_momentum_buffer"}));
  else
    FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}, {"new_param"}));
  return Status::success();
}

} // namespace fp8rt::ops
