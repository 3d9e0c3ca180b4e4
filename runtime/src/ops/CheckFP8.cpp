//===- CheckFP8.cpp - Checks of the fp8 dialect's kernel ops --------------===//
//
// Checks follow include/fp8c/Dialect/FP8/IR/FP8Ops.td and the verifiers and
// fp8::getScaleShape of lib/Dialect/FP8/IR/FP8Ops.cpp. The scale layouts are
// OpParams.h's ScaleGrid; the CPU implementations cpu/KernelOpsFP8.cpp.
//
//===----------------------------------------------------------------------===//

#include "OpParams.h"

namespace fp8rt::ops {

using std::vector;

Status recipeAttr(const OpContext &ctx, int &recipe) {
  return ctx.enumAttr("recipe", {"tensorwise", "delayed", "rowwise", "blockwise"}, recipe);
}

namespace {

/// fp8::getScaleShape: the shape of the scales (and amaxes) of an operand of
/// `shape` under `recipe`, or an error naming `operand`.
Status scaleShape(const OpContext &ctx, int recipe, const Block &block,
                  const vector<int64_t> &shape, const std::string &operand, vector<int64_t> &out) {
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
                       std::to_string(shape[d]) + ") to be a multiple of " + std::to_string(b[d]));
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

} // namespace

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

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

Status checkFp8Amax(const OpContext &ctx) {
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
  return Status::success();
}

Status checkFp8ComputeScale(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1, 2));
  const bool hasPrevious = ctx.numOperands() == 2;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "amax", TypeClass::F32));
  if (hasPrevious && ctx.type(1) != ctx.type(0))
    return ctx.error("previous scale type " + typeString(ctx.type(1)) + " differs from amax type " +
                     typeString(ctx.type(0)));
  DType fp8Type;
  FP8RT_RETURN_IF_ERROR(ctx.dtypeAttr("fp8_type", fp8Type));
  if (!isFp8(fp8Type))
    return ctx.error(std::string("fp8_type must be f8e4m3 or f8e5m2, got ") + dtypeName(fp8Type));
  int64_t margin = 0;
  FP8RT_RETURN_IF_ERROR(ctx.i64Attr("margin", margin, 0));
  if (margin < 0)
    return ctx.error("margin must be >= 0, got " + std::to_string(margin));
  bool powerOf2 = false;
  FP8RT_RETURN_IF_ERROR(ctx.unitAttr("power_of_2", powerOf2));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

namespace {

/// The checks quantize and dequantize share: (input, scale) of the recipe's
/// scale grid and one result of the input's shape, `from` class in and `to`
/// class out. Quantize also takes `fused_into_producer`.
Status checkScaledCast(const OpContext &ctx, TypeClass from, TypeClass to, bool takesFused,
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

} // namespace

Status checkFp8Quantize(const OpContext &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(
      checkScaledCast(ctx, TypeClass::Float, TypeClass::Fp8, /*takesFused=*/true, recipe, block));
  return Status::success();
}

Status checkFp8Dequantize(const OpContext &ctx) {
  int recipe = 0;
  Block block;
  FP8RT_RETURN_IF_ERROR(checkScaledCast(ctx, TypeClass::Fp8, TypeClass::Float,
                                        /*takesFused=*/false, recipe, block));
  return Status::success();
}

Status checkFp8CastTranspose(const OpContext &ctx) {
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
  const bool needsOwnScale = needsOwnTransposedScale(recipe, block);
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
  return Status::success();
}

Status scaledMatmulSegments(const OpContext &ctx, bool &hasResultScale, bool &hasBias) {
  if (ctx.attr("operandSegmentSizes")) {
    vector<int64_t> sizes;
    FP8RT_RETURN_IF_ERROR(ctx.i64ArrayAttr("operandSegmentSizes", sizes));
    if (sizes.size() != 6 || sizes[0] != 1 || sizes[1] != 1 || sizes[2] != 1 || sizes[3] != 1 ||
        sizes[4] < 0 || sizes[4] > 1 || sizes[5] < 0 || sizes[5] > 1 ||
        size_t(4 + sizes[4] + sizes[5]) != ctx.numOperands())
      return ctx.error("'operandSegmentSizes' " + shapeString(sizes) + " does not describe " +
                       std::to_string(ctx.numOperands()) +
                       " operands (lhs, rhs, lhs_scale, rhs_scale, result_scale?, bias?)");
    hasResultScale = sizes[4] == 1;
    hasBias = sizes[5] == 1;
  } else {
    // Without segment sizes, five operands are told apart by rank: the
    // result scale is a scalar, a bias [N].
    hasResultScale = ctx.numOperands() == 6 || (ctx.numOperands() == 5 && ctx.shape(4).empty());
    hasBias = ctx.numOperands() == 6 || (ctx.numOperands() == 5 && !hasResultScale);
  }
  return Status::success();
}

Status checkFp8ScaledMatmul(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(4, 6));
  bool hasResultScale = false, hasBias = false;
  FP8RT_RETURN_IF_ERROR(scaledMatmulSegments(ctx, hasResultScale, hasBias));
  const size_t resultScaleIndex = 4, biasIndex = hasResultScale ? 5 : 4;
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(0, "lhs", TypeClass::Fp8));
  FP8RT_RETURN_IF_ERROR(ctx.expectClass(1, "rhs", TypeClass::Fp8));
  const vector<int64_t> &lhs = ctx.shape(0), &rhs = ctx.shape(1);
  if (lhs.size() != 2 || rhs.size() != 2)
    return ctx.error("operands must be 2-D ([M, K] and [N, K]), got " + shapeString(lhs) + " and " +
                     shapeString(rhs));
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
                     dtypeName(lt) + " and " + dtypeName(rt));
  const int64_t m = lhs[0], k = lhs[1], n = rhs[0];
  if (rhs[1] != k)
    return ctx.error("rhs must be [N, K] with K = " + std::to_string(k) +
                     " (both operands K-major), got " + shapeString(rhs));
  for (auto [dim, size] : {std::pair<char, int64_t>{'M', m}, {'N', n}, {'K', k}})
    if (size % 16 != 0)
      return ctx.error(std::string("FP8 GEMM dimension ") + dim + " = " + std::to_string(size) +
                       " is not a multiple of 16");
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
  const bool fp8Result = isFp8(resultType);
  if (fp8Result && !hasResultScale)
    return ctx.error("an FP8 result needs 'result_scale'");
  if (!fp8Result && hasResultScale)
    return ctx.error("'result_scale' is only used with an FP8 result");
  const bool hasAmax = ctx.op.results.size() == 2;
  vector<TensorType> expected = {{resultType, {m, n}}};
  if (hasAmax)
    expected.push_back({DType::F32, {}});
  FP8RT_RETURN_IF_ERROR(ctx.expectResults(expected, {"result", "amax"}));
  return Status::success();
}

namespace {
Status expectHistory(const OpContext &ctx) {
  if (ctx.type(0).dtype != DType::F32 || ctx.shape(0).size() != 1)
    return ctx.error("history must be an f32 vector, got " + typeString(ctx.type(0)));
  return Status::success();
}

} // namespace

Status checkFp8AmaxHistoryUpdate(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(2));
  FP8RT_RETURN_IF_ERROR(expectHistory(ctx));
  FP8RT_RETURN_IF_ERROR(ctx.expectF32Scalar(1, "amax"));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({ctx.type(0)}));
  return Status::success();
}

Status checkFp8AmaxFromHistory(const OpContext &ctx) {
  FP8RT_RETURN_IF_ERROR(ctx.expectOperandCount(1));
  FP8RT_RETURN_IF_ERROR(expectHistory(ctx));
  int algo = 0;
  FP8RT_RETURN_IF_ERROR(ctx.enumAttr("algo", {"max", "most_recent"}, algo));
  FP8RT_RETURN_IF_ERROR(ctx.expectResults({{DType::F32, {}}}));
  return Status::success();
}

} // namespace fp8rt::ops
