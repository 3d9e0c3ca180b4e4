//===- KernelOpsTrain.cpp - The train dialect's kernel ops ----------------===//
//
// Checks follow the ODS constraints and verifiers of the train dialect
// (include/fp8c/Dialect/Train/IR/TrainOps.td, lib/Dialect/Train/IR/
// TrainOps.cpp); the arithmetic is the reference kernels' (fp8rt/cpu/*.h).
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include "fp8rt/cpu/LayerKernels.h"
#include "fp8rt/cpu/NormKernels.h"
#include "fp8rt/cpu/OptimizerKernels.h"
#include "fp8rt/cpu/PointwiseKernels.h"

#include <algorithm>
#include <cmath>

namespace fp8rt::kernelops {
namespace {

using std::vector;

/// A kernel's error, named after the op: the reference kernels start their
/// messages with the op's mnemonic ("embedding: id 300 ..."), which becomes
/// the full name.
Status kernelError(const OpContext &ctx, const Status &s) {
  if (s.ok())
    return s;
  const std::string &name = ctx.op.op;
  const std::string mnemonic = name.substr(name.find('.') + 1);
  if (s.message().compare(0, mnemonic.size() + 1, mnemonic + ":") == 0)
    return Status(s.code(), name.substr(0, name.find('.') + 1) + s.message());
  return s.withContext(name);
}

TensorType withDType(const TensorType &t, DType d) { return TensorType{d, t.shape}; }

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

Status embeddingOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "table", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "indices", TypeClass::Index));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(0, "table ([vocab, dim])", 2));
  const int64_t vocab = ctx.shape(0)[0], dim = ctx.shape(0)[1];
  vector<int64_t> shape = ctx.shape(1);
  shape.push_back(dim);
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  if (!ctx.running())
    return Status::success();
  return kernelError(ctx, cpu::embedding(ctx.inF(0), vocab, dim, ctx.inI(1),
                                         elementCount(ctx.type(1)), ctx.outF(0)));
}

Status embeddingGradOp(OpContext &ctx) {
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
  if (!ctx.running())
    return Status::success();
  return kernelError(ctx, cpu::embeddingGrad(ctx.inF(0), ctx.inI(1),
                                             elementCount(ctx.type(1)), vocab, dim,
                                             ctx.outF(0)));
}

Status linearOp(OpContext &ctx) {
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
  if (!ctx.running())
    return Status::success();
  const int64_t rows = elementCount(ctx.type(0)) / in;
  float *y = ctx.outF(0);
  FP8RT_RETURN_IF_ERROR(kernelError(
      ctx, cpu::gemm(false, true, rows, out, in, ctx.inF(0), in, ctx.inF(1), in, y, out)));
  if (hasBias) {
    const float *b = ctx.inF(2);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o)
        y[r * out + o] += b[o];
  }
  return Status::success();
}

/// The trailing product of matmul / batch_matmul: checks K and returns the
/// result shape (leading dimensions of lhs, then M and N).
Status productShape(const OpContext &ctx, bool transLhs, bool transRhs, int64_t &m,
                    int64_t &n, int64_t &k, vector<int64_t> &shape) {
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  const size_t r = lhs.size();
  m = transLhs ? lhs[r - 1] : lhs[r - 2];
  k = transLhs ? lhs[r - 2] : lhs[r - 1];
  const int64_t kr = transRhs ? rhs[r - 1] : rhs[r - 2];
  n = transRhs ? rhs[r - 2] : rhs[r - 1];
  if (k != kr)
    return ctx.error("contraction dimensions differ: lhs " + shapeString(lhs) +
                     (transLhs ? " (transposed)" : "") + " has K = " + std::to_string(k) +
                     ", rhs " + shapeString(rhs) + (transRhs ? " (transposed)" : "") +
                     " has K = " + std::to_string(kr));
  shape.assign(lhs.begin(), lhs.end() - 2);
  shape.push_back(m);
  shape.push_back(n);
  return Status::success();
}

Status matmulLike(OpContext &ctx, bool batched) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1}, {"lhs", "rhs"}));
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  if (!batched && (lhs.size() != 2 || rhs.size() != 2))
    return ctx.error("operands must be 2-D, got " + shapeString(lhs) + " and " +
                     shapeString(rhs) + " (use train.batch_matmul for batches)");
  if (batched) {
    if (lhs.size() < 3 || lhs.size() != rhs.size())
      return ctx.error("operands must have one rank >= 3, got " + shapeString(lhs) +
                       " and " + shapeString(rhs));
    if (!std::equal(lhs.begin(), lhs.end() - 2, rhs.begin()))
      return ctx.error("batch dimensions differ: " + shapeString(lhs) + " and " +
                       shapeString(rhs));
  }
  bool transLhs = false, transRhs = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transpose_lhs", transLhs));
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transpose_rhs", transRhs));
  int64_t m = 0, n = 0, k = 0;
  vector<int64_t> shape;
  FP8RT_RETURN_IF_ERROR(productShape(ctx, transLhs, transRhs, m, n, k, shape));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  if (!ctx.running())
    return Status::success();
  const int64_t batch = elementCount(shape) / (m * n);
  for (int64_t b = 0; b < batch; ++b)
    FP8RT_RETURN_IF_ERROR(kernelError(
        ctx, cpu::gemm(transLhs, transRhs, m, n, k, ctx.inF(0) + b * m * k,
                       transLhs ? m : k, ctx.inF(1) + b * k * n, transRhs ? k : n,
                       ctx.outF(0) + b * m * n, n)));
  return Status::success();
}

Status matmulOp(OpContext &ctx) { return matmulLike(ctx, /*batched=*/false); }
Status batchMatmulOp(OpContext &ctx) { return matmulLike(ctx, /*batched=*/true); }

/// Heads, RoPE and the shapes of query / key / value (operands qIndex ..
/// qIndex + 2) of attention and attention_grad.
Status attentionConfig(const OpContext &ctx, size_t qIndex, cpu::AttentionConfig &config) {
  for (size_t i = 0; i < 3; ++i)
    if (ctx.shape(qIndex + i).size() != 3)
      return ctx.error("query, key and value must be [batch, seq, width], got " +
                       shapeString(ctx.shape(qIndex)) + ", " +
                       shapeString(ctx.shape(qIndex + 1)) + " and " +
                       shapeString(ctx.shape(qIndex + 2)));
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
      return ctx.error("'rope_theta' must be positive and finite, got " +
                       std::to_string(*theta));
    if (headDim % 2 != 0)
      return ctx.error("rotary embeddings need an even head_dim, got " +
                       std::to_string(headDim));
  }
  config.batch = q[0];
  config.seqLen = q[1];
  config.nHeads = heads;
  config.nKvHeads = kvHeads;
  config.headDim = headDim;
  config.causal = causal;
  config.ropeTheta = theta;
  return kernelError(ctx, cpu::verifyAttentionConfig(config));
}

Status attentionOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "query", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectSameDType({0, 1, 2}, {"query", "key", "value"}));
  cpu::AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 0, config));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  return kernelError(ctx, cpu::attention(config, ctx.inF(0), ctx.inF(1), ctx.inF(2),
                                         ctx.outF(0)));
}

Status attentionGradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(4));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "grad", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(
      ctx.expectSameDType({0, 1, 2, 3}, {"grad", "query", "key", "value"}));
  cpu::AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 1, config));
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", ctx.shape(1)));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(1), ctx.type(2), ctx.type(2)},
                                          {"query_grad", "key_grad", "value_grad"}));
  if (!ctx.running())
    return Status::success();
  return kernelError(ctx, cpu::attentionGrad(config, ctx.inF(0), ctx.inF(1), ctx.inF(2),
                                             ctx.inF(3), ctx.outF(0), ctx.outF(1),
                                             ctx.outF(2)));
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

Status positiveEps(const OpContext &ctx, double &eps) {
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  if (!(eps > 0.0) || !std::isfinite(eps))
    return ctx.error("'eps' must be positive, got " + std::to_string(eps));
  return Status::success();
}

/// layer_norm (withBias allowed) and rms_norm.
Status normOp(OpContext &ctx, bool layerNorm) {
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
  if (!ctx.running())
    return Status::success();
  const size_t rows = size_t(elementCount(ctx.type(0)) / d);
  if (layerNorm)
    cpu::layerNorm(ctx.inF(0), ctx.inF(1), hasBias ? ctx.inF(2) : nullptr, rows, size_t(d),
                   eps, ctx.outF(0));
  else
    cpu::rmsNorm(ctx.inF(0), ctx.inF(1), rows, size_t(d), eps, ctx.outF(0));
  return Status::success();
}

Status layerNormOp(OpContext &ctx) { return normOp(ctx, true); }
Status rmsNormOp(OpContext &ctx) { return normOp(ctx, false); }

Status normGradOp(OpContext &ctx, bool layerNorm) {
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
    FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(1), param, param},
                                            {"input_grad", "weight_grad", "bias_grad"}));
  else
    FP8RT_RETURN_IF_ERROR(
        ctx.expectResults({ctx.type(1), param}, {"input_grad", "weight_grad"}));
  if (!ctx.running())
    return Status::success();
  const size_t rows = size_t(elementCount(ctx.type(1)) / d);
  if (layerNorm)
    cpu::layerNormGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), rows, size_t(d), eps,
                       ctx.outF(0), ctx.outF(1), ctx.outF(2));
  else
    cpu::rmsNormGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), rows, size_t(d), eps, ctx.outF(0),
                     ctx.outF(1));
  return Status::success();
}

Status layerNormGradOp(OpContext &ctx) { return normGradOp(ctx, true); }
Status rmsNormGradOp(OpContext &ctx) { return normGradOp(ctx, false); }

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

/// `arity` float operands of one type (SameOperandsAndResultType), `results`
/// results of that type.
Status sameTypePointwise(OpContext &ctx, size_t arity, size_t results,
                         std::initializer_list<const char *> names) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(arity));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, names.begin()[0], TypeClass::Float));
  for (size_t i = 1; i < arity; ++i)
    if (ctx.type(i) != ctx.type(0))
      return ctx.error(std::string("operands must have one type: ") + names.begin()[0] +
                       " is " + typeString(ctx.type(0)) + ", " + names.begin()[i] + " is " +
                       typeString(ctx.type(i)));
  return ctx.expectResults(vector<TensorType>(results, ctx.type(0)));
}

Status geluApproximation(const OpContext &ctx, cpu::GeluApproximation &out) {
  int index = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("approximate", {"none", "tanh"}, index, /*tanh*/ 1));
  out = index == 0 ? cpu::GeluApproximation::None : cpu::GeluApproximation::Tanh;
  return Status::success();
}

size_t count(const OpContext &ctx, size_t operand) {
  return size_t(elementCount(ctx.type(operand)));
}

Status geluOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  cpu::GeluApproximation approximate;
  FP8RT_RETURN_IF_ERROR(geluApproximation(ctx, approximate));
  if (ctx.running())
    cpu::gelu(ctx.inF(0), count(ctx, 0), approximate, ctx.outF(0));
  return Status::success();
}

Status geluGradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  cpu::GeluApproximation approximate;
  FP8RT_RETURN_IF_ERROR(geluApproximation(ctx, approximate));
  if (ctx.running())
    cpu::geluGrad(ctx.inF(0), ctx.inF(1), count(ctx, 0), approximate, ctx.outF(0));
  return Status::success();
}

Status siluOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  if (ctx.running())
    cpu::silu(ctx.inF(0), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status siluGradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  if (ctx.running())
    cpu::siluGrad(ctx.inF(0), ctx.inF(1), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status relu2Op(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 1, 1, {"input"}));
  if (ctx.running())
    cpu::relu2(ctx.inF(0), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status relu2GradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"grad", "input"}));
  if (ctx.running())
    cpu::relu2Grad(ctx.inF(0), ctx.inF(1), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status swigluOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"gate", "up"}));
  if (ctx.running())
    cpu::swiglu(ctx.inF(0), ctx.inF(1), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status swigluGradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 3, 2, {"grad", "gate", "up"}));
  if (ctx.running())
    cpu::swigluGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), count(ctx, 0), ctx.outF(0),
                    ctx.outF(1));
  return Status::success();
}

Status addOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"lhs", "rhs"}));
  if (ctx.running())
    cpu::add(ctx.inF(0), ctx.inF(1), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status mulOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(sameTypePointwise(ctx, 2, 1, {"lhs", "rhs"}));
  if (ctx.running())
    cpu::mul(ctx.inF(0), ctx.inF(1), count(ctx, 0), ctx.outF(0));
  return Status::success();
}

Status mulScalarOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(1, "scale"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (ctx.running())
    cpu::mulScalar(ctx.inF(0), count(ctx, 0), ctx.scalarF(1), ctx.outF(0));
  return Status::success();
}

Status convertOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({withDType(ctx.type(0), ctx.op.results[0].dtype)}));
  // The values are copied as f32; runKernelOp rounds them to the result's
  // dtype (round to nearest even, as cpu::convertF32ToBf16).
  if (ctx.running())
    std::copy(ctx.in(0).f.begin(), ctx.in(0).f.end(), ctx.outF(0));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

/// Copies all elements of operand 0 (float or integer) to result 0.
void copyElements(const OpContext &ctx) {
  if (isIntDType(ctx.type(0).dtype))
    std::copy(ctx.in(0).i.begin(), ctx.in(0).i.end(), ctx.outI(0));
  else
    std::copy(ctx.in(0).f.begin(), ctx.in(0).f.end(), ctx.outF(0));
}

Status reshapeOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Any));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const TensorType &result = ctx.op.results[0];
  if (result.dtype != ctx.type(0).dtype)
    return ctx.error(std::string("cannot change the element type (") +
                     dtypeString(ctx.type(0).dtype) + " to " + dtypeString(result.dtype) + ")");
  if (elementCount(result) != elementCount(ctx.type(0)))
    return ctx.error("cannot reshape " + shapeString(ctx.shape(0)) + " (" +
                     std::to_string(elementCount(ctx.type(0))) + " elements) to " +
                     shapeString(result.shape) + " (" + std::to_string(elementCount(result)) +
                     " elements)");
  if (ctx.running())
    copyElements(ctx);
  return Status::success();
}

Status transposeOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
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
  if (!ctx.running())
    return Status::success();
  // Walk the result in order with a multi-index; `stride[d]` is the input
  // stride of result dimension d.
  vector<int64_t> inStride(rank, 1), stride(rank), index(rank, 0);
  for (size_t d = rank; d-- > 1;)
    inStride[d - 1] = inStride[d] * in[d];
  for (size_t d = 0; d < rank; ++d)
    stride[d] = inStride[size_t(perm[d])];
  const bool isInt = isIntDType(ctx.type(0).dtype);
  const int64_t n = elementCount(ctx.type(0));
  int64_t source = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (isInt)
      ctx.outI(0)[k] = ctx.inI(0)[source];
    else
      ctx.outF(0)[k] = ctx.inF(0)[source];
    for (size_t d = rank; d-- > 0;) {
      source += stride[d];
      if (++index[d] < shape[d])
        break;
      source -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return Status::success();
}

/// [outer, dim, inner] sizes of a shape around dimension `dim`.
void splitAround(const vector<int64_t> &shape, size_t dim, size_t &outer, size_t &inner) {
  outer = 1;
  inner = 1;
  for (size_t d = 0; d < dim; ++d)
    outer *= size_t(shape[d]);
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= size_t(shape[d]);
}

Status sliceOp(OpContext &ctx) {
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
    return ctx.error("range [" + std::to_string(offset) + ", " + std::to_string(offset) +
                     " + " + std::to_string(size) + ") does not fit in dimension " +
                     std::to_string(dim) + " of size " + std::to_string(extent));
  vector<int64_t> shape = in;
  shape[size_t(dim)] = size;
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, shape}}));
  if (!ctx.running())
    return Status::success();
  size_t outer = 0, inner = 0;
  splitAround(in, size_t(dim), outer, inner);
  if (isIntDType(ctx.type(0).dtype))
    cpu::slice(ctx.inI(0), outer, size_t(extent), inner, size_t(offset), size_t(size),
               sizeof(int64_t), ctx.outI(0));
  else
    cpu::slice(ctx.inF(0), outer, size_t(extent), inner, size_t(offset), size_t(size),
               sizeof(float), ctx.outF(0));
  return Status::success();
}

Status sliceGradOp(OpContext &ctx) {
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
    return ctx.error("range [" + std::to_string(offset) + ", " + std::to_string(offset) +
                     " + " + std::to_string(size) + ") does not fit in dimension " +
                     std::to_string(dim) + " of size " + std::to_string(extent));
  vector<int64_t> expected = out;
  expected[size_t(dim)] = size;
  FP8RT_RETURN_IF_ERROR(ctx.expectShape(0, "grad", expected));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, out}}));
  if (!ctx.running())
    return Status::success();
  size_t outer = 0, inner = 0;
  splitAround(out, size_t(dim), outer, inner);
  cpu::sliceGrad(ctx.inF(0), outer, size_t(size), inner, size_t(extent), size_t(offset),
                 sizeof(float), ctx.outF(0));
  return Status::success();
}

Status reduceSumOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  const vector<int64_t> &in = ctx.shape(0), &out = ctx.op.results[0].shape;
  if (out.size() > in.size() || !std::equal(out.begin(), out.end(), in.end() - out.size()))
    return ctx.error("result shape " + shapeString(out) +
                     " is not a trailing part of the input shape " + shapeString(in));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{ctx.type(0).dtype, out}}));
  if (!ctx.running())
    return Status::success();
  const size_t inner = size_t(elementCount(out));
  cpu::reduceSum(ctx.inF(0), size_t(elementCount(ctx.type(0))) / inner, inner, ctx.outF(0));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

/// logits [..., V] (operand 0) and targets [...] (operand 1).
Status logitsAndTargets(const OpContext &ctx, std::optional<int64_t> &ignoreIndex) {
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "logits", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "targets", TypeClass::Index));
  const vector<int64_t> &logits = ctx.shape(0);
  if (logits.size() < 2)
    return ctx.error("logits must be [..., vocab] with rank >= 2, got " +
                     shapeString(logits));
  FP8RT_RETURN_IF_ERROR(
      ctx.expectShape(1, "targets", vector<int64_t>(logits.begin(), logits.end() - 1)));
  return ctx.optionalI64Attr("ignore_index", ignoreIndex);
}

Status softmaxCrossEntropyOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(logitsAndTargets(ctx, ignoreIndex));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  if (!ctx.running())
    return Status::success();
  const int64_t vocab = ctx.shape(0).back();
  return kernelError(ctx, cpu::softmaxCrossEntropy(ctx.inF(0), ctx.inI(1),
                                                   elementCount(ctx.type(1)), vocab,
                                                   ignoreIndex, ctx.outF(0)));
}

Status softmaxCrossEntropyGradOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3));
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(logitsAndTargets(ctx, ignoreIndex));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(2, "loss_grad"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  const int64_t vocab = ctx.shape(0).back();
  return kernelError(ctx, cpu::softmaxCrossEntropyGrad(
                              ctx.inF(0), ctx.inI(1), elementCount(ctx.type(1)), vocab,
                              ctx.scalarF(2), ignoreIndex, ctx.outF(0)));
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

Status globalNormOp(OpContext &ctx) {
  if (ctx.numOperands() == 0)
    return ctx.error("needs at least one tensor");
  vector<cpu::ConstTensorView> views;
  for (size_t i = 0; i < ctx.numOperands(); ++i) {
    const std::string what = "operand " + std::to_string(i);
    FP8RT_RETURN_IF_ERROR(ctx.expectClass(i, what.c_str(), TypeClass::Float));
    if (ctx.running())
      views.push_back({ctx.inF(i), count(ctx, i)});
  }
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  if (ctx.running())
    ctx.outF(0)[0] = cpu::globalNorm(views.data(), views.size());
  return Status::success();
}

Status clipCoefOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(0, "norm"));
  double maxNorm = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("max_norm", maxNorm));
  if (!(maxNorm > 0.0))
    return ctx.error("'max_norm' must be positive, got " + std::to_string(maxNorm));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  if (ctx.running())
    ctx.outF(0)[0] = cpu::clipCoef(ctx.scalarF(0), maxNorm);
  return Status::success();
}

Status lrScheduleOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectI64Scalar(0, "step"));
  cpu::LRSchedule schedule;
  int kind = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("kind", {"constant", "cosine"}, kind));
  schedule.kind = kind == 0 ? cpu::LRScheduleKind::Constant : cpu::LRScheduleKind::Cosine;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("lr", schedule.lr));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("warmup_steps", schedule.warmupSteps, 0));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("total_steps", schedule.totalSteps, 0));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("min_lr", schedule.minLr, 0.0));
  FP8RT_RETURN_IF_ERROR(kernelError(ctx, cpu::validateLRSchedule(schedule)));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  if (ctx.running())
    ctx.outF(0)[0] = cpu::lrSchedule(schedule, ctx.scalarI(0));
  return Status::success();
}

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

Status adamwUpdateOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(6));
  FP8RT_RETURN_IF_ERROR(
      optimizerTensors(ctx, {0, 1, 2, 3}, {"param", "grad", "exp_avg", "exp_avg_sq"}));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(4, "lr"));
  FP8RT_RETURN_IF_ERROR(ctx.expectI64Scalar(5, "step"));
  cpu::AdamWConfig config;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("beta1", config.beta1));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("beta2", config.beta2));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", config.eps));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("weight_decay", config.weightDecay));
  for (auto [name, beta] : {std::pair<const char *, double>{"beta1", config.beta1},
                            {"beta2", config.beta2}})
    if (!(beta >= 0.0 && beta < 1.0))
      return ctx.error(std::string("'") + name + "' must be in [0, 1), got " +
                       std::to_string(beta));
  if (!(config.eps > 0.0) || !std::isfinite(config.eps))
    return ctx.error("'eps' must be positive, got " + std::to_string(config.eps));
  if (!(config.weightDecay >= 0.0) || !std::isfinite(config.weightDecay))
    return ctx.error("'weight_decay' must be >= 0, got " + std::to_string(config.weightDecay));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0), ctx.type(0), ctx.type(0)},
                                          {"new_param", "new_exp_avg", "new_exp_avg_sq"}));
  if (ctx.running())
    cpu::adamwUpdate(ctx.inF(0), ctx.inF(1), ctx.inF(2), ctx.inF(3), count(ctx, 0),
                     ctx.scalarF(4), ctx.scalarI(5), config, ctx.outF(0), ctx.outF(1),
                     ctx.outF(2));
  return Status::success();
}

Status sgdUpdateOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(3, 4));
  const bool hasBuffer = ctx.numOperands() == 4;
  FP8RT_RETURN_IF_ERROR(optimizerTensors(ctx, {0, 1}, {"param", "grad"}));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(2, "lr"));
  if (hasBuffer)
    FP8RT_RETURN_IF_ERROR(optimizerTensors(ctx, {3}, {"momentum_buffer"}));
  cpu::SGDConfig config;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("momentum", config.momentum));
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("weight_decay", config.weightDecay));
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
  if (ctx.running())
    cpu::sgdUpdate(ctx.inF(0), ctx.inF(1), hasBuffer ? ctx.inF(3) : nullptr, count(ctx, 0),
                   ctx.scalarF(2), config, ctx.outF(0), hasBuffer ? ctx.outF(1) : nullptr);
  return Status::success();
}

const OpEntry kTrainOps[] = {
    {"train.embedding", embeddingOp},
    {"train.embedding_grad", embeddingGradOp},
    {"train.attention", attentionOp},
    {"train.attention_grad", attentionGradOp},
    {"train.layer_norm", layerNormOp},
    {"train.layer_norm_grad", layerNormGradOp},
    {"train.rms_norm", rmsNormOp},
    {"train.rms_norm_grad", rmsNormGradOp},
    {"train.gelu", geluOp},
    {"train.gelu_grad", geluGradOp},
    {"train.silu", siluOp},
    {"train.silu_grad", siluGradOp},
    {"train.relu2", relu2Op},
    {"train.relu2_grad", relu2GradOp},
    {"train.swiglu", swigluOp},
    {"train.swiglu_grad", swigluGradOp},
    {"train.add", addOp},
    {"train.mul", mulOp},
    {"train.mul_scalar", mulScalarOp},
    {"train.convert", convertOp},
    {"train.reshape", reshapeOp},
    {"train.transpose", transposeOp},
    {"train.slice", sliceOp},
    {"train.slice_grad", sliceGradOp},
    {"train.reduce_sum", reduceSumOp},
    {"train.softmax_cross_entropy", softmaxCrossEntropyOp},
    {"train.softmax_cross_entropy_grad", softmaxCrossEntropyGradOp},
    {"train.global_norm", globalNormOp},
    {"train.clip_coef", clipCoefOp},
    {"train.lr_schedule", lrScheduleOp},
    {"train.adamw_update", adamwUpdateOp},
    {"train.sgd_update", sgdUpdateOp},
    {"train.matmul", matmulOp},
    {"train.batch_matmul", batchMatmulOp},
    {"train.linear", linearOp},
};

} // namespace

const OpEntry *trainOps(size_t &count) {
  count = sizeof(kTrainOps) / sizeof(kTrainOps[0]);
  return kTrainOps;
}

} // namespace fp8rt::kernelops
