//===- KernelOpsFP8.cpp - The fp8 dialect's kernel ops on the CPU ---------===//
//
// Conversions, scales and the scaled GEMM are fp8rt's (Numerics.h,
// cpu::scaledGemmTN); the scale layouts are ops/OpParams.h's ScaleGrid and
// the checks these implementations rely on ops/CheckFP8.cpp.
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include "fp8rt/cpu/LayerKernels.h"

#include <cmath>

namespace fp8rt::cpu {
namespace {

using std::vector;

/// Larger of two amaxes; NaN wins, as in fp8rt::amax.
float maxAmax(float a, float b) {
  if (std::isnan(a))
    return a;
  if (std::isnan(b))
    return b;
  return a > b ? a : b;
}

/// quantize: codes of x (shape of `grid`) with the grid's scales, decoded
/// into `out`.
void quantizeGrid(const float *x, const float *scales, const ScaleGrid &g, DType dtype,
                  float *out) {
  const Fp8Format format = fp8Format(dtype);
  vector<uint8_t> codes(size_t(g.segment));
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t s = 0; s < g.segmentsPerRow(); ++s) {
      const int64_t offset = r * g.cols + s * g.segment;
      quantize(x + offset, size_t(g.segment), scales[g.scaleIndex(r, s)], format, codes.data());
      for (int64_t k = 0; k < g.segment; ++k)
        out[offset + k] = fp8ToFloat(codes[size_t(k)], format);
    }
}

/// The recipe and block of a checked op.
Status recipeAndBlock(const OpRun &ctx, int &recipe, Block &block) {
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  return ctx.optionalI64ArrayAttr("block", block);
}

cpu::ScaleMode scaleMode(int recipe, const Block &block) {
  if (recipe == Rowwise)
    return cpu::ScaleMode::Rowwise;
  if (recipe == Blockwise)
    return (*block)[0] == 1 ? cpu::ScaleMode::Block1x128 : cpu::ScaleMode::Block128x128;
  return cpu::ScaleMode::Tensorwise;
}

} // namespace

Status runFp8Amax(const OpRun &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(recipeAndBlock(ctx, recipe, block));
  bool transposed = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transposed", transposed));
  vector<int64_t> shape = ctx.shape(0);
  if (transposed)
    shape = {shape[1], shape[0]};
  const float *x = ctx.inF(0);
  float *out = ctx.outF(0);
  const ScaleGrid g = scaleGrid(recipe, block, shape);
  if (!transposed) {
    for (int64_t r = 0; r < g.rows; ++r)
      for (int64_t s = 0; s < g.segmentsPerRow(); ++s) {
        float &group = out[g.scaleIndex(r, s)];
        group = maxAmax(group, amax(x + r * g.cols + s * g.segment, size_t(g.segment)));
      }
    return Status::success();
  }
  // Element x[i][j] is (j, i) of the transposed operand the groups belong to.
  const int64_t rows = ctx.shape(0)[0], cols = ctx.shape(0)[1];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float &group = out[g.scaleIndex(j, i / g.segment)];
      group = maxAmax(group, std::fabs(x[i * cols + j]));
    }
  return Status::success();
}

Status runFp8ComputeScale(const OpRun &ctx) {
  const bool hasPrevious = ctx.numOperands() == 2;
  DType fp8Type;
  FP8RT_RETURN_IF_ERROR(ctx.dtypeAttr("fp8_type", fp8Type));
  int64_t margin = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("margin", margin, 0));
  bool powerOf2 = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("power_of_2", powerOf2));
  const float fp8MaxValue = fp8Max(fp8Format(fp8Type));
  const int64_t n = elementCount(ctx.type(0));
  for (int64_t k = 0; k < n; ++k)
    ctx.outF(0)[k] = computeScale(ctx.inF(0)[k], fp8MaxValue, margin, powerOf2,
                                  hasPrevious ? ctx.inF(1)[k] : 1.0f);
  return Status::success();
}

Status runFp8Quantize(const OpRun &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(recipeAndBlock(ctx, recipe, block));
  quantizeGrid(ctx.inF(0), ctx.inF(1), scaleGrid(recipe, block, ctx.shape(0)),
               ctx.op.results[0].dtype, ctx.outF(0));
  return Status::success();
}

Status runFp8Dequantize(const OpRun &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(recipeAndBlock(ctx, recipe, block));
  const Fp8Format format = fp8Format(ctx.type(0).dtype);
  const ScaleGrid g = scaleGrid(recipe, block, ctx.shape(0));
  vector<uint8_t> codes(size_t(g.segment));
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t s = 0; s < g.segmentsPerRow(); ++s) {
      const int64_t offset = r * g.cols + s * g.segment;
      for (int64_t k = 0; k < g.segment; ++k)
        codes[size_t(k)] = encodeFp8Exact(ctx.inF(0)[offset + k], format);
      dequantize(codes.data(), size_t(g.segment), ctx.inF(1)[g.scaleIndex(r, s)], format,
                 ctx.outF(0) + offset);
    }
  return Status::success();
}

Status runFp8CastTranspose(const OpRun &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(recipeAndBlock(ctx, recipe, block));
  const vector<int64_t> &shape = ctx.shape(0);
  const vector<int64_t> transposedShape = {shape[1], shape[0]};
  const DType dtype = ctx.op.results[0].dtype;
  const int64_t rows = shape[0], cols = shape[1];
  quantizeGrid(ctx.inF(0), ctx.inF(1), scaleGrid(recipe, block, shape), dtype, ctx.outF(0));
  if (!needsOwnTransposedScale(recipe, block)) {
    // Every element keeps its scale (the scalar, or its 128x128 block's):
    // the transposed codes are the codes transposed.
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        ctx.outF(1)[j * rows + i] = ctx.outF(0)[i * cols + j];
    return Status::success();
  }
  vector<float> xt(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      xt[size_t(j * rows + i)] = ctx.inF(0)[i * cols + j];
  quantizeGrid(xt.data(), ctx.inF(2), scaleGrid(recipe, block, transposedShape), dtype,
               ctx.outF(1));
  return Status::success();
}

Status runFp8ScaledMatmul(const OpRun &ctx) {
  bool hasResultScale = false, hasBias = false;
  FP8RT_RETURN_IF_ERROR(scaledMatmulSegments(ctx, hasResultScale, hasBias));
  const size_t resultScaleIndex = 4, biasIndex = hasResultScale ? 5 : 4;
  int recipe = 0;
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  Block lhsBlock, rhsBlock;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("lhs_block", lhsBlock));
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("rhs_block", rhsBlock));
  const int64_t m = ctx.shape(0)[0], k = ctx.shape(0)[1], n = ctx.shape(1)[0];
  const DType lt = ctx.type(0).dtype, rt = ctx.type(1).dtype;
  const DType resultType = ctx.op.results[0].dtype;
  const bool fp8Result = isFp8(resultType);
  const bool hasAmax = ctx.op.results.size() == 2;

  vector<uint8_t> lhsCodes(size_t(m * k)), rhsCodes(size_t(n * k));
  const Fp8Format lf = fp8Format(lt), rf = fp8Format(rt);
  for (size_t i = 0; i < lhsCodes.size(); ++i)
    lhsCodes[i] = encodeFp8Exact(ctx.inF(0)[i], lf);
  for (size_t i = 0; i < rhsCodes.size(); ++i)
    rhsCodes[i] = encodeFp8Exact(ctx.inF(1)[i], rf);
  const cpu::Fp8Operand a{lhsCodes.data(), lf, scaleMode(recipe, lhsBlock), ctx.inF(2)};
  const cpu::Fp8Operand b{rhsCodes.data(), rf, scaleMode(recipe, rhsBlock), ctx.inF(3)};
  float amaxValue = 0.0f;
  float *out = ctx.outF(0);
  FP8RT_RETURN_IF_ERROR(cpu::scaledGemmTN(m, n, k, a, b, hasBias ? ctx.inF(biasIndex) : nullptr,
                                          out, hasAmax ? &amaxValue : nullptr)
                            .withContext(ctx.op.op));
  if (fp8Result) {
    // D is multiplied by its scale and converted; amax is taken before.
    const Fp8Format df = fp8Format(resultType);
    vector<uint8_t> codes(size_t(m * n));
    quantize(out, codes.size(), ctx.scalarF(resultScaleIndex), df, codes.data());
    for (size_t i = 0; i < codes.size(); ++i)
      out[i] = fp8ToFloat(codes[i], df);
  }
  if (hasAmax)
    // For a bf16 / f16 result: the amax of the result as stored, which is the
    // f32 maximum rounded (rounding is monotonic).
    ctx.outF(1)[0] = fp8Result ? amaxValue : roundToDType(amaxValue, resultType);
  return Status::success();
}

Status runFp8AmaxHistoryUpdate(const OpRun &ctx) {
  // Index 0 is the newest entry; the oldest drops out.
  const int64_t length = ctx.shape(0)[0];
  float *out = ctx.outF(0);
  for (int64_t k = length - 1; k > 0; --k)
    out[k] = ctx.inF(0)[k - 1];
  out[0] = ctx.scalarF(1);
  return Status::success();
}

Status runFp8AmaxFromHistory(const OpRun &ctx) {
  int algo = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("algo", {"max", "most_recent"}, algo));
  const float *h = ctx.inF(0);
  float result = h[0];
  if (algo == 0)
    for (int64_t k = 1; k < ctx.shape(0)[0]; ++k)
      result = maxAmax(result, h[k]);
  ctx.outF(0)[0] = result;
  return Status::success();
}

} // namespace fp8rt::cpu
