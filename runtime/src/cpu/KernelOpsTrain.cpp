//===- KernelOpsTrain.cpp - The train dialect's kernel ops on the CPU -----===//
//
// The arithmetic is the reference kernels' (fp8rt/cpu/*.h); the checks these
// implementations rely on are ops/CheckTrain.cpp.
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include "fp8rt/cpu/LayerKernels.h"
#include "fp8rt/cpu/NormKernels.h"
#include "fp8rt/cpu/OptimizerKernels.h"
#include "fp8rt/cpu/PointwiseKernels.h"

#include <algorithm>
#include <cmath>

namespace fp8rt::cpu {

using std::vector;

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

Status runTrainEmbedding(const OpRun &ctx) {
  const int64_t vocab = ctx.shape(0)[0], dim = ctx.shape(0)[1];
  return kernelError(ctx, cpu::embedding(ctx.inF(0), vocab, dim, ctx.inI(1),
                                         elementCount(ctx.type(1)), ctx.outF(0)));
}

Status runTrainEmbeddingGrad(const OpRun &ctx) {
  const TensorType &result = ctx.op.results[0];
  const int64_t vocab = result.shape[0], dim = result.shape[1];
  return kernelError(ctx, cpu::embeddingGrad(ctx.inF(0), ctx.inI(1), elementCount(ctx.type(1)),
                                             vocab, dim, ctx.outF(0)));
}

Status runTrainLinear(const OpRun &ctx) {
  const bool hasBias = ctx.numOperands() == 3;
  const int64_t in = ctx.shape(0).back(), out = ctx.shape(1)[0];
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

namespace {

Status matmulLike(const OpRun &ctx) {
  MatmulParams mm;
  FP8RT_RETURN_IF_ERROR(matmulParams(ctx, mm));
  const bool transLhs = mm.transLhs, transRhs = mm.transRhs;
  const int64_t m = mm.m, n = mm.n, k = mm.k;
  const int64_t batch = elementCount(mm.shape) / (m * n);
  for (int64_t b = 0; b < batch; ++b)
    FP8RT_RETURN_IF_ERROR(kernelError(
        ctx, cpu::gemm(transLhs, transRhs, m, n, k, ctx.inF(0) + b * m * k, transLhs ? m : k,
                       ctx.inF(1) + b * k * n, transRhs ? k : n, ctx.outF(0) + b * m * n, n)));
  return Status::success();
}

} // namespace

Status runTrainMatmul(const OpRun &ctx) { return matmulLike(ctx); }
Status runTrainBatchMatmul(const OpRun &ctx) { return matmulLike(ctx); }

Status runTrainAttention(const OpRun &ctx) {
  cpu::AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 0, config));
  return kernelError(ctx, cpu::attention(config, ctx.inF(0), ctx.inF(1), ctx.inF(2), ctx.outF(0)));
}

Status runTrainAttentionGrad(const OpRun &ctx) {
  cpu::AttentionConfig config;
  FP8RT_RETURN_IF_ERROR(attentionConfig(ctx, 1, config));
  return kernelError(ctx, cpu::attentionGrad(config, ctx.inF(0), ctx.inF(1), ctx.inF(2), ctx.inF(3),
                                             ctx.outF(0), ctx.outF(1), ctx.outF(2)));
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

Status runTrainLayerNorm(const OpRun &ctx) {
  const bool hasBias = ctx.numOperands() == 3;
  const int64_t d = ctx.shape(0).back();
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  const size_t rows = size_t(elementCount(ctx.type(0)) / d);
  cpu::layerNorm(ctx.inF(0), ctx.inF(1), hasBias ? ctx.inF(2) : nullptr, rows, size_t(d), eps,
                 ctx.outF(0));
  return Status::success();
}

Status runTrainRmsNorm(const OpRun &ctx) {
  const int64_t d = ctx.shape(0).back();
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  const size_t rows = size_t(elementCount(ctx.type(0)) / d);
  cpu::rmsNorm(ctx.inF(0), ctx.inF(1), rows, size_t(d), eps, ctx.outF(0));
  return Status::success();
}

Status runTrainLayerNormGrad(const OpRun &ctx) {
  const int64_t d = ctx.shape(1).back();
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  const size_t rows = size_t(elementCount(ctx.type(1)) / d);
  cpu::layerNormGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), rows, size_t(d), eps, ctx.outF(0),
                     ctx.outF(1), ctx.outF(2));
  return Status::success();
}

Status runTrainRmsNormGrad(const OpRun &ctx) {
  const int64_t d = ctx.shape(1).back();
  double eps = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("eps", eps));
  const size_t rows = size_t(elementCount(ctx.type(1)) / d);
  cpu::rmsNormGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), rows, size_t(d), eps, ctx.outF(0),
                   ctx.outF(1));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

namespace {

Status geluApproximation(const OpRun &ctx, cpu::GeluApproximation &out) {
  bool tanh = false;
  FP8RT_RETURN_IF_ERROR(geluTanh(ctx, tanh));
  out = tanh ? cpu::GeluApproximation::Tanh : cpu::GeluApproximation::None;
  return Status::success();
}

} // namespace

Status runTrainGelu(const OpRun &ctx) {
  cpu::GeluApproximation approximate;
  FP8RT_RETURN_IF_ERROR(geluApproximation(ctx, approximate));
  cpu::gelu(ctx.inF(0), ctx.count(0), approximate, ctx.outF(0));
  return Status::success();
}

Status runTrainGeluGrad(const OpRun &ctx) {
  cpu::GeluApproximation approximate;
  FP8RT_RETURN_IF_ERROR(geluApproximation(ctx, approximate));
  cpu::geluGrad(ctx.inF(0), ctx.inF(1), ctx.count(0), approximate, ctx.outF(0));
  return Status::success();
}

Status runTrainSilu(const OpRun &ctx) {
  cpu::silu(ctx.inF(0), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainSiluGrad(const OpRun &ctx) {
  cpu::siluGrad(ctx.inF(0), ctx.inF(1), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainRelu2(const OpRun &ctx) {
  cpu::relu2(ctx.inF(0), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainRelu2Grad(const OpRun &ctx) {
  cpu::relu2Grad(ctx.inF(0), ctx.inF(1), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainSwiglu(const OpRun &ctx) {
  cpu::swiglu(ctx.inF(0), ctx.inF(1), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainSwigluGrad(const OpRun &ctx) {
  cpu::swigluGrad(ctx.inF(0), ctx.inF(1), ctx.inF(2), ctx.count(0), ctx.outF(0), ctx.outF(1));
  return Status::success();
}

Status runTrainAdd(const OpRun &ctx) {
  cpu::add(ctx.inF(0), ctx.inF(1), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainMul(const OpRun &ctx) {
  cpu::mul(ctx.inF(0), ctx.inF(1), ctx.count(0), ctx.outF(0));
  return Status::success();
}

Status runTrainMulScalar(const OpRun &ctx) {
  cpu::mulScalar(ctx.inF(0), ctx.count(0), ctx.scalarF(1), ctx.outF(0));
  return Status::success();
}

Status runTrainConvert(const OpRun &ctx) {
  // The values are copied as f32; runKernelOp rounds them to the result's
  // dtype (round to nearest even, as cpu::convertF32ToBf16).
  std::copy(ctx.in(0).f.begin(), ctx.in(0).f.end(), ctx.outF(0));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

namespace {

/// [outer, dim, inner] sizes of a shape around dimension `dim`.
void splitAround(const vector<int64_t> &shape, size_t dim, size_t &outer, size_t &inner) {
  outer = 1;
  inner = 1;
  for (size_t d = 0; d < dim; ++d)
    outer *= size_t(shape[d]);
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= size_t(shape[d]);
}

} // namespace

Status runTrainReshape(const OpRun &ctx) {
  // All elements of operand 0 (float or integer), in order.
  if (isInteger(ctx.type(0).dtype))
    std::copy(ctx.in(0).i.begin(), ctx.in(0).i.end(), ctx.outI(0));
  else
    std::copy(ctx.in(0).f.begin(), ctx.in(0).f.end(), ctx.outF(0));
  return Status::success();
}

Status runTrainTranspose(const OpRun &ctx) {
  vector<int64_t> perm;
  FP8RT_RETURN_IF_ERROR(ctx.i64ArrayAttr("permutation", perm));
  const vector<int64_t> &in = ctx.shape(0), &shape = ctx.op.results[0].shape;
  const size_t rank = in.size();
  // Walk the result in order with a multi-index; `stride[d]` is the input
  // stride of result dimension d.
  vector<int64_t> inStride(rank, 1), stride(rank), index(rank, 0);
  for (size_t d = rank; d-- > 1;)
    inStride[d - 1] = inStride[d] * in[d];
  for (size_t d = 0; d < rank; ++d)
    stride[d] = inStride[size_t(perm[d])];
  const bool isInt = isInteger(ctx.type(0).dtype);
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

Status runTrainSlice(const OpRun &ctx) {
  int64_t dim = 0, offset = 0, size = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("dim", dim));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("offset", offset));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("size", size));
  const vector<int64_t> &in = ctx.shape(0);
  const int64_t extent = in[size_t(dim)];
  size_t outer = 0, inner = 0;
  splitAround(in, size_t(dim), outer, inner);
  if (isInteger(ctx.type(0).dtype))
    cpu::slice(ctx.inI(0), outer, size_t(extent), inner, size_t(offset), size_t(size),
               sizeof(int64_t), ctx.outI(0));
  else
    cpu::slice(ctx.inF(0), outer, size_t(extent), inner, size_t(offset), size_t(size),
               sizeof(float), ctx.outF(0));
  return Status::success();
}

Status runTrainSliceGrad(const OpRun &ctx) {
  int64_t dim = 0, offset = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("dim", dim));
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("offset", offset));
  const vector<int64_t> &grad = ctx.shape(0), &out = ctx.op.results[0].shape;
  const int64_t size = grad[size_t(dim)], extent = out[size_t(dim)];
  size_t outer = 0, inner = 0;
  splitAround(out, size_t(dim), outer, inner);
  cpu::sliceGrad(ctx.inF(0), outer, size_t(size), inner, size_t(extent), size_t(offset),
                 sizeof(float), ctx.outF(0));
  return Status::success();
}

Status runTrainReduceSum(const OpRun &ctx) {
  const size_t inner = size_t(elementCount(ctx.op.results[0]));
  cpu::reduceSum(ctx.inF(0), size_t(elementCount(ctx.type(0))) / inner, inner, ctx.outF(0));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

Status runTrainSoftmaxCrossEntropy(const OpRun &ctx) {
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64Attr("ignore_index", ignoreIndex));
  const int64_t vocab = ctx.shape(0).back();
  return kernelError(ctx,
                     cpu::softmaxCrossEntropy(ctx.inF(0), ctx.inI(1), elementCount(ctx.type(1)),
                                              vocab, ignoreIndex, ctx.outF(0)));
}

Status runTrainSoftmaxCrossEntropyGrad(const OpRun &ctx) {
  std::optional<int64_t> ignoreIndex;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64Attr("ignore_index", ignoreIndex));
  const int64_t vocab = ctx.shape(0).back();
  return kernelError(ctx,
                     cpu::softmaxCrossEntropyGrad(ctx.inF(0), ctx.inI(1), elementCount(ctx.type(1)),
                                                  vocab, ctx.scalarF(2), ignoreIndex, ctx.outF(0)));
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

Status runTrainGlobalNorm(const OpRun &ctx) {
  vector<cpu::ConstTensorView> views;
  for (size_t i = 0; i < ctx.numOperands(); ++i)
    views.push_back({ctx.inF(i), ctx.count(i)});
  ctx.outF(0)[0] = cpu::globalNorm(views.data(), views.size());
  return Status::success();
}

Status runTrainClipCoef(const OpRun &ctx) {
  double maxNorm = 0;
  FP8RT_RETURN_IF_ERROR(ctx.f64Attr("max_norm", maxNorm));
  ctx.outF(0)[0] = cpu::clipCoef(ctx.scalarF(0), maxNorm);
  return Status::success();
}

Status runTrainLrSchedule(const OpRun &ctx) {
  cpu::LRSchedule schedule;
  FP8RT_RETURN_IF_ERROR(lrSchedule(ctx, schedule));
  ctx.outF(0)[0] = cpu::lrSchedule(schedule, ctx.scalarI(0));
  return Status::success();
}

Status runTrainAdamwUpdate(const OpRun &ctx) {
  cpu::AdamWConfig config;
  FP8RT_RETURN_IF_ERROR(adamwConfig(ctx, config));
  cpu::adamwUpdate(ctx.inF(0), ctx.inF(1), ctx.inF(2), ctx.inF(3), ctx.count(0), ctx.scalarF(4),
                   ctx.scalarI(5), config, ctx.outF(0), ctx.outF(1), ctx.outF(2));
  return Status::success();
}

Status runTrainSgdUpdate(const OpRun &ctx) {
  const bool hasBuffer = ctx.numOperands() == 4;
  cpu::SGDConfig config;
  FP8RT_RETURN_IF_ERROR(sgdConfig(ctx, config));
  cpu::sgdUpdate(ctx.inF(0), ctx.inF(1), hasBuffer ? ctx.inF(3) : nullptr, ctx.count(0),
                 ctx.scalarF(2), config, ctx.outF(0), hasBuffer ? ctx.outF(1) : nullptr);
  return Status::success();
}

} // namespace fp8rt::cpu
