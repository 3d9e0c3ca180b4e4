//===- KernelOpsFP8.cpp - The fp8 dialect's kernel ops --------------------===//
//
// Checks follow include/fp8c/Dialect/FP8/IR/FP8Ops.td and the verifiers and
// fp8::getScaleShape of lib/Dialect/FP8/IR/FP8Ops.cpp; conversions, scales
// and the scaled GEMM are fp8rt's (Numerics.h, cpu::scaledGemmTN).
//
// Scale layouts, for an operand [rows, cols] (cols the GEMM's K):
// tensorwise / delayed one scale; rowwise [rows, 1]; blockwise with block
// [br, bc] ([1, 128] or [128, 128]) [rows / br, cols / bc], row-major.
//
//===----------------------------------------------------------------------===//

#include "KernelOpsImpl.h"

#include "fp8rt/cpu/LayerKernels.h"

#include <cmath>

namespace fp8rt::kernelops {
namespace {

using std::vector;

enum Recipe : int { Tensorwise = 0, Delayed = 1, Rowwise = 2, Blockwise = 3 };
const char *const kRecipeNames[] = {"tensorwise", "delayed", "rowwise", "blockwise"};

using Block = std::optional<vector<int64_t>>;

Status recipeAttr(const OpContext &ctx, int &recipe) {
  return ctx.enumAttr("recipe", {"tensorwise", "delayed", "rowwise", "blockwise"}, recipe);
}

/// fp8::getScaleShape: the shape of the scales (and amaxes) of an operand of
/// `shape` under `recipe`, or an error naming `operand`.
Status scaleShape(const OpContext &ctx, int recipe, const Block &block,
                  const vector<int64_t> &shape, const std::string &operand,
                  vector<int64_t> &out) {
  out.clear();
  const bool blockwise = recipe == Blockwise;
  if (blockwise && !block)
    return ctx.error(operand + ": blockwise scaling needs a block ([1, 128] or [128, 128])");
  if (!blockwise && block)
    return ctx.error(operand + ": a block is only meaningful with blockwise scaling, not " +
                     kRecipeNames[recipe]);
  if (recipe == Tensorwise || recipe == Delayed)
    return Status::success();
  if (shape.size() != 2)
    return ctx.error(operand + ": " + kRecipeNames[recipe] +
                     " scaling needs a 2-D operand, got shape " + shapeString(shape));
  if (recipe == Rowwise) {
    out = {shape[0], 1};
    return Status::success();
  }
  const vector<int64_t> &b = *block;
  if (b.size() != 2 || !((b[0] == 1 || b[0] == 128) && b[1] == 128))
    return ctx.error(operand + ": block " + shapeString(b) +
                     " is not supported; use [1, 128] or [128, 128]");
  for (size_t d = 0; d < 2; ++d) {
    if (shape[d] % b[d] != 0)
      return ctx.error(operand + ": blockwise scaling with block " + shapeString(b) +
                       " needs dimension " + std::to_string(d) + " (size " +
                       std::to_string(shape[d]) + ") to be a multiple of " +
                       std::to_string(b[d]));
    out.push_back(shape[d] / b[d]);
  }
  return Status::success();
}

/// Operand `index` is the f32 scale tensor of an operand of `shape`.
Status expectScale(const OpContext &ctx, size_t index, const char *scaleName,
                   const vector<int64_t> &shape, const char *operand, int recipe,
                   const Block &block) {
  vector<int64_t> expected;
  FP8RT_RETURN_IF_ERROR(scaleShape(ctx, recipe, block, shape, operand, expected));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(index, scaleName, TypeClass::F32));
  if (ctx.shape(index) != expected)
    return ctx.error(std::string(scaleName) + " has shape " + shapeString(ctx.shape(index)) +
                     ", but " + kRecipeNames[recipe] + " scaling of " + operand + " " +
                     shapeString(shape) + " needs " + shapeString(expected));
  return Status::success();
}

/// The groups of elements that share a scale, for a [rows, cols] operand:
/// every row splits into contiguous segments of `segment` elements, segment s
/// of row r uses scale `scaleIndex(r, s)`.
struct ScaleGrid {
  int64_t rows = 1, cols = 1, segment = 1;
  int64_t rowBlock = 1; ///< rows per scale row (128 for 128x128 blocks)
  bool single = true;   ///< one scale for everything

  int64_t segmentsPerRow() const { return cols / segment; }
  int64_t scaleIndex(int64_t row, int64_t seg) const {
    return single ? 0 : (row / rowBlock) * segmentsPerRow() + seg;
  }
};

ScaleGrid scaleGrid(int recipe, const Block &block, const vector<int64_t> &shape) {
  ScaleGrid g;
  if (recipe == Tensorwise || recipe == Delayed) {
    g.cols = g.segment = elementCount(shape);
    return g;
  }
  g.single = false;
  g.rows = shape[0];
  g.cols = shape[1];
  if (recipe == Rowwise) {
    g.segment = g.cols;
  } else {
    g.rowBlock = (*block)[0];
    g.segment = (*block)[1];
  }
  return g;
}

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
      quantize(x + offset, size_t(g.segment), scales[g.scaleIndex(r, s)], format,
               codes.data());
      for (int64_t k = 0; k < g.segment; ++k)
        out[offset + k] = fp8ToFloat(codes[size_t(k)], format);
    }
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

Status amaxOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  int recipe = 0;
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  Block block;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("block", block));
  bool transposed = false, fused = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("transposed", transposed));
  // Where the reduction runs, not what it computes.
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("fused_into_producer", fused));
  vector<int64_t> shape = ctx.shape(0);
  if (transposed) {
    if (recipe != Rowwise && recipe != Blockwise)
      return ctx.error(std::string("'transposed' only applies to rowwise and blockwise amax, "
                                   "not ") +
                       kRecipeNames[recipe]);
    if (shape.size() != 2)
      return ctx.error("'transposed' needs a 2-D input, got shape " + shapeString(shape));
    shape = {shape[1], shape[0]};
  }
  vector<int64_t> resultShape;
  FP8RT_RETURN_IF_ERROR(scaleShape(ctx, recipe, block, shape,
                                   transposed ? "transposed input" : "input", resultShape));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, resultShape}}));
  if (!ctx.running())
    return Status::success();
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

Status computeScaleOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1, 2));
  const bool hasPrevious = ctx.numOperands() == 2;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "amax", TypeClass::F32));
  if (hasPrevious && ctx.type(1) != ctx.type(0))
    return ctx.error("previous scale type " + typeString(ctx.type(1)) +
                     " differs from amax type " + typeString(ctx.type(0)));
  DType fp8Type;
  FP8RT_RETURN_IF_ERROR(ctx.dtypeAttr("fp8_type", fp8Type));
  if (!isFp8DType(fp8Type))
    return ctx.error(std::string("fp8_type must be f8e4m3 or f8e5m2, got ") +
                     dtypeString(fp8Type));
  int64_t margin = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("margin", margin, 0));
  if (margin < 0)
    return ctx.error("margin must be >= 0, got " + std::to_string(margin));
  bool powerOf2 = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("power_of_2", powerOf2));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  const float fp8MaxValue = fp8Max(fp8Format(fp8Type));
  const int64_t n = elementCount(ctx.type(0));
  for (int64_t k = 0; k < n; ++k)
    ctx.outF(0)[k] = computeScale(ctx.inF(0)[k], fp8MaxValue, margin, powerOf2,
                                  hasPrevious ? ctx.inF(1)[k] : 1.0f);
  return Status::success();
}

/// The checks quantize and dequantize share: (input, scale) of the recipe's
/// scale grid and one result of the input's shape, `from` class in and `to`
/// class out. Quantize also takes `fused_into_producer`.
Status checkScaledCast(OpContext &ctx, TypeClass from, TypeClass to, bool takesFused,
                       int &recipe, Block &block) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", from));
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("block", block));
  if (takesFused) {
    bool fused = false;
    FP8RT_RETURN_IF_ERROR(ctx.unitAttr("fused_into_producer", fused));
  }
  FP8RT_RETURN_IF_ERROR(expectScale(ctx, 1, "scale", ctx.shape(0), "input", recipe, block));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(1));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", to));
  return ctx.expectResults({{ctx.op.results[0].dtype, ctx.shape(0)}});
}

Status quantizeOp(OpContext &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(
      checkScaledCast(ctx, TypeClass::Float, TypeClass::Fp8, /*takesFused=*/true, recipe, block));
  if (ctx.running())
    quantizeGrid(ctx.inF(0), ctx.inF(1), scaleGrid(recipe, block, ctx.shape(0)),
                 ctx.op.results[0].dtype, ctx.outF(0));
  return Status::success();
}

Status dequantizeOp(OpContext &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(checkScaledCast(ctx, TypeClass::Fp8, TypeClass::Float,
                                        /*takesFused=*/false, recipe, block));
  if (!ctx.running())
    return Status::success();
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

Status castTransposeOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2, 3));
  const bool hasTransposedScale = ctx.numOperands() == 3;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "input", TypeClass::Float));
  FP8RT_RETURN_IF_ERROR(ctx.expectRank(0, "input", 2));
  int recipe = 0;
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  Block block;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("block", block));
  bool fused = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("fused_into_producer", fused));
  const vector<int64_t> &shape = ctx.shape(0);
  const vector<int64_t> transposedShape = {shape[1], shape[0]};
  FP8RT_RETURN_IF_ERROR(expectScale(ctx, 1, "scale", shape, "input", recipe, block));
  // Rowwise and 1x128 groups are not closed under transposition.
  const bool needsOwnScale =
      recipe == Rowwise || (recipe == Blockwise && (*block)[0] == 1);
  if (needsOwnScale && !hasTransposedScale)
    return ctx.error(std::string(kRecipeNames[recipe]) +
                     " scaling groups other elements once transposed: 'transposed_scale' "
                     "is required");
  if (!needsOwnScale && hasTransposedScale)
    return ctx.error("'transposed_scale' is only used with rowwise or 1x128 blockwise scaling");
  if (hasTransposedScale)
    FP8RT_RETURN_IF_ERROR(expectScale(ctx, 2, "transposed_scale", transposedShape,
                                      "transposed input", recipe, block));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultCount(2));
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::Fp8));
  const DType dtype = ctx.op.results[0].dtype;
  FP8RT_RETURN_IF_ERROR(
      ctx.expectResults({{dtype, shape}, {dtype, transposedShape}}, {"result", "transposed"}));
  if (!ctx.running())
    return Status::success();
  const int64_t rows = shape[0], cols = shape[1];
  quantizeGrid(ctx.inF(0), ctx.inF(1), scaleGrid(recipe, block, shape), dtype, ctx.outF(0));
  if (!needsOwnScale) {
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

cpu::ScaleMode scaleMode(int recipe, const Block &block) {
  if (recipe == Rowwise)
    return cpu::ScaleMode::Rowwise;
  if (recipe == Blockwise)
    return (*block)[0] == 1 ? cpu::ScaleMode::Block1x128 : cpu::ScaleMode::Block128x128;
  return cpu::ScaleMode::Tensorwise;
}

Status scaledMatmulOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(4, 6));
  // Operand segments: lhs, rhs, lhs_scale, rhs_scale, result_scale?, bias?.
  bool hasResultScale = false, hasBias = false;
  if (ctx.attr("operandSegmentSizes")) {
    vector<int64_t> sizes;
    FP8RT_RETURN_IF_ERROR(ctx.i64ArrayAttr("operandSegmentSizes", sizes));
    if (sizes.size() != 6 || sizes[0] != 1 || sizes[1] != 1 || sizes[2] != 1 ||
        sizes[3] != 1 || sizes[4] < 0 || sizes[4] > 1 || sizes[5] < 0 || sizes[5] > 1 ||
        size_t(4 + sizes[4] + sizes[5]) != ctx.numOperands())
      return ctx.error("'operandSegmentSizes' " + shapeString(sizes) + " does not describe " +
                       std::to_string(ctx.numOperands()) +
                       " operands (lhs, rhs, lhs_scale, rhs_scale, result_scale?, bias?)");
    hasResultScale = sizes[4] == 1;
    hasBias = sizes[5] == 1;
  } else {
    // Without segment sizes, five operands are told apart by rank: the
    // result scale is a scalar, a bias [N].
    hasResultScale = ctx.numOperands() == 6 ||
                     (ctx.numOperands() == 5 && ctx.shape(4).empty());
    hasBias = ctx.numOperands() == 6 || (ctx.numOperands() == 5 && !hasResultScale);
  }
  const size_t resultScaleIndex = 4, biasIndex = hasResultScale ? 5 : 4;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", TypeClass::Fp8));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "rhs", TypeClass::Fp8));
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  if (lhs.size() != 2 || rhs.size() != 2)
    return ctx.error("operands must be 2-D ([M, K] and [N, K]), got " + shapeString(lhs) +
                     " and " + shapeString(rhs));
  const DType lt = ctx.type(0).dtype, rt = ctx.type(1).dtype;
  int recipe = 0, format = 0;
  FP8RT_RETURN_IF_ERROR(recipeAttr(ctx, recipe));
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("format", {"hybrid", "e4m3"}, format));
  Block lhsBlock, rhsBlock;
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("lhs_block", lhsBlock));
  FP8RT_RETURN_IF_ERROR(ctx.optionalI64ArrayAttr("rhs_block", rhsBlock));
  bool fastAccum = false; // matters on the GPU only
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("fast_accum", fastAccum));
  if (lt == DType::F8E5M2 && rt == DType::F8E5M2)
    return ctx.error("f8e5m2 x f8e5m2 GEMMs are not supported by cuBLASLt; one operand must "
                     "be f8e4m3");
  if (format == 1 && (lt == DType::F8E5M2 || rt == DType::F8E5M2))
    return ctx.error(std::string("format e4m3 uses f8e4m3 for every operand, got ") +
                     dtypeString(lt) + " and " + dtypeString(rt));
  const int64_t m = lhs[0], k = lhs[1], n = rhs[0];
  if (rhs[1] != k)
    return ctx.error("rhs must be [N, K] with K = " + std::to_string(k) +
                     " (both operands K-major), got " + shapeString(rhs));
  for (auto [dim, size] : {std::pair<char, int64_t>{'M', m}, {'N', n}, {'K', k}})
    if (size % 16 != 0)
      return ctx.error(std::string("FP8 GEMM dimension ") + dim + " = " +
                       std::to_string(size) + " is not a multiple of 16");
  FP8RT_RETURN_IF_ERROR(expectScale(ctx, 2, "lhs_scale", lhs, "lhs", recipe, lhsBlock));
  FP8RT_RETURN_IF_ERROR(expectScale(ctx, 3, "rhs_scale", rhs, "rhs", recipe, rhsBlock));
  if (hasResultScale)
    FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(resultScaleIndex, "result_scale"));
  if (hasBias) {
    FP8RT_RETURN_IF_ERROR(ctx.expectClass(biasIndex, "bias", TypeClass::Float));
    FP8RT_RETURN_IF_ERROR(ctx.expectShape(biasIndex, "bias", {n}));
  }
  if (ctx.op.results.empty() || ctx.op.results.size() > 2)
    return ctx.error("produces a result and an optional amax, the program declares " +
                     std::to_string(ctx.op.results.size()) + " results");
  FP8RT_RETURN_IF_ERROR(ctx.expectResultClass(0, "result", TypeClass::GemmResult));
  const DType resultType = ctx.op.results[0].dtype;
  const bool fp8Result = isFp8DType(resultType);
  if (fp8Result && !hasResultScale)
    return ctx.error("an FP8 result needs 'result_scale'");
  if (!fp8Result && hasResultScale)
    return ctx.error("'result_scale' is only used with an FP8 result");
  const bool hasAmax = ctx.op.results.size() == 2;
  vector<TensorType> expected = {{resultType, {m, n}}};
  if (hasAmax)
    expected.push_back({DType::F32, {}});
  FP8RT_RETURN_IF_ERROR(ctx.expectResults(expected, {"result", "amax"}));
  if (!ctx.running())
    return Status::success();

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

Status expectHistory(const OpContext &ctx) {
  if (ctx.type(0).dtype != DType::F32 || ctx.shape(0).size() != 1)
    return ctx.error("history must be an f32 vector, got " + typeString(ctx.type(0)));
  return Status::success();
}

Status amaxHistoryUpdateOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(expectHistory(ctx));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(1, "amax"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  if (!ctx.running())
    return Status::success();
  // Index 0 is the newest entry; the oldest drops out.
  const int64_t length = ctx.shape(0)[0];
  float *out = ctx.outF(0);
  for (int64_t k = length - 1; k > 0; --k)
    out[k] = ctx.inF(0)[k - 1];
  out[0] = ctx.scalarF(1);
  return Status::success();
}

Status amaxFromHistoryOp(OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(expectHistory(ctx));
  int algo = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("algo", {"max", "most_recent"}, algo));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  if (!ctx.running())
    return Status::success();
  const float *h = ctx.inF(0);
  float result = h[0];
  if (algo == 0)
    for (int64_t k = 1; k < ctx.shape(0)[0]; ++k)
      result = maxAmax(result, h[k]);
  ctx.outF(0)[0] = result;
  return Status::success();
}

const OpEntry kFp8Ops[] = {
    {"fp8.amax", amaxOp},
    {"fp8.compute_scale", computeScaleOp},
    {"fp8.quantize", quantizeOp},
    {"fp8.dequantize", dequantizeOp},
    {"fp8.cast_transpose", castTransposeOp},
    {"fp8.scaled_matmul", scaledMatmulOp},
    {"fp8.amax_history_update", amaxHistoryUpdateOp},
    {"fp8.amax_from_history", amaxFromHistoryOp},
};

} // namespace

const OpEntry *fp8Ops(size_t &count) {
  count = sizeof(kFp8Ops) / sizeof(kFp8Ops[0]);
  return kFp8Ops;
}

} // namespace fp8rt::kernelops
