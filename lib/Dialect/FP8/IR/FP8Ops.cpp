//===- FP8Ops.cpp - verifiers of the fp8 dialect --------------------------===//
//
// The verifiers encode what FP8 hardware and cuBLASLt accept, so that an illegal
// GEMM or a scale of the wrong granularity is caught in the compiler, with the
// op's location, rather than as a cuBLASLt status code at run time.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"

#include "fp8c/Support/ShapeString.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using fp8c::shapeString;
using namespace fp8c::fp8;

#define GET_OP_CLASSES
#include "fp8c/Dialect/FP8/IR/FP8Ops.cpp.inc"

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Checks that `scale` has the shape the recipe gives to an operand `operand`.
LogicalResult verifyScaleFor(Operation *op, StringRef scaleName, Value scale, StringRef operandName,
                             RankedTensorType operand, Recipe recipe,
                             std::optional<ArrayRef<int64_t>> block) {
  SmallVector<int64_t> expected;
  std::string error;
  if (failed(getScaleShape(recipe, block, operand.getShape(), expected, error)))
    return op->emitOpError() << operandName << ": " << error;
  if (tensorType(scale).getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError() << scaleName << " has shape "
                             << shapeString(tensorType(scale).getShape()) << ", but "
                             << stringifyRecipe(recipe) << " scaling of " << operandName << " "
                             << shapeString(operand.getShape()) << " needs "
                             << shapeString(expected);
  return success();
}

LogicalResult verifySameShape(Operation *op, RankedTensorType a, RankedTensorType b) {
  if (a.getShape() != b.getShape())
    return op->emitOpError() << "result shape " << shapeString(b.getShape())
                             << " differs from input shape " << shapeString(a.getShape());
  return success();
}

/// The history is a static, non-empty f32 vector (ODS checks f32 and rank 1).
LogicalResult verifyHistory(Operation *op, Value history) {
  RankedTensorType type = tensorType(history);
  if (type.isDynamicDim(0))
    return op->emitOpError() << "amax history must have a static length, got " << type;
  if (type.getDimSize(0) < 1)
    return op->emitOpError() << "amax history must hold at least one entry";
  return success();
}

} // namespace

std::optional<double> fp8c::fp8::getFP8Max(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return 448.0;
  if (isa<Float8E5M2Type>(type))
    return 57344.0;
  return std::nullopt;
}

LogicalResult fp8c::fp8::getScaleShape(Recipe recipe, std::optional<ArrayRef<int64_t>> block,
                                       ArrayRef<int64_t> shape,
                                       SmallVectorImpl<int64_t> &scaleShape, std::string &error) {
  scaleShape.clear();
  llvm::raw_string_ostream os(error);
  bool blockwise = recipe == Recipe::blockwise;
  if (blockwise && !block) {
    os << "blockwise scaling needs a block ([1, 128] or [128, 128])";
    return failure();
  }
  if (!blockwise && block) {
    os << "a block is only meaningful with blockwise scaling, not " << stringifyRecipe(recipe);
    return failure();
  }
  if (recipe == Recipe::tensorwise || recipe == Recipe::delayed)
    return success();
  if (shape.size() != 2) {
    os << stringifyRecipe(recipe) << " scaling needs a 2-D operand, got shape "
       << shapeString(shape);
    return failure();
  }
  if (recipe == Recipe::rowwise) {
    scaleShape.append({shape[0], 1});
    return success();
  }
  ArrayRef<int64_t> b = *block;
  bool known = (b[0] == 1 || b[0] == 128) && b[1] == 128;
  if (!known) {
    os << "block " << shapeString(b) << " is not supported; use [1, 128] or [128, 128]";
    return failure();
  }
  for (int d = 0; d < 2; ++d) {
    if (shape[d] % b[d] != 0) {
      os << "blockwise scaling with block " << shapeString(b) << " needs dimension " << d
         << " (size " << shape[d] << ") to be a multiple of " << b[d];
      return failure();
    }
    scaleShape.push_back(shape[d] / b[d]);
  }
  return success();
}

LogicalResult AmaxOp::verify() {
  RankedTensorType in = tensorType(getInput());
  if (!getTransposed())
    return verifyScaleFor(*this, "result", getResult(), "input", in, getRecipe(), getBlock());
  // The groups of inputᵀ: what cast_transpose's transposed_scale is computed from.
  Recipe recipe = getRecipe();
  if (recipe != Recipe::rowwise && recipe != Recipe::blockwise)
    return emitOpError() << "'transposed' only applies to rowwise and blockwise amax, not "
                         << stringifyRecipe(recipe);
  if (in.getRank() != 2)
    return emitOpError() << "'transposed' needs a 2-D input, got shape "
                         << shapeString(in.getShape());
  return verifyScaleFor(
      *this, "result", getResult(), "transposed input",
      RankedTensorType::get({in.getDimSize(1), in.getDimSize(0)}, in.getElementType()), recipe,
      getBlock());
}

LogicalResult ComputeScaleOp::verify() {
  if (!getFP8Max(getFp8Type()))
    return emitOpError() << "fp8_type must be f8E4M3FN or f8E5M2, got " << getFp8Type();
  if (Value prev = getPrevious(); prev && prev.getType() != getAmax().getType())
    return emitOpError() << "previous scale type " << prev.getType() << " differs from amax type "
                         << getAmax().getType();
  int64_t margin = getMarginAttr().getInt();
  if (margin < 0)
    return emitOpError() << "margin must be >= 0, got " << margin;
  return success();
}

LogicalResult QuantizeOp::verify() {
  RankedTensorType in = tensorType(getInput());
  if (failed(verifySameShape(*this, in, tensorType(getResult()))))
    return failure();
  return verifyScaleFor(*this, "scale", getScale(), "input", in, getRecipe(), getBlock());
}

LogicalResult DequantizeOp::verify() {
  RankedTensorType in = tensorType(getInput());
  if (failed(verifySameShape(*this, in, tensorType(getResult()))))
    return failure();
  return verifyScaleFor(*this, "scale", getScale(), "input", in, getRecipe(), getBlock());
}

LogicalResult CastTransposeOp::verify() {
  RankedTensorType in = tensorType(getInput());
  if (in.getRank() != 2)
    return emitOpError() << "input must be 2-D, got shape " << shapeString(in.getShape());
  RankedTensorType out = tensorType(getResult()), outT = tensorType(getTransposed());
  if (out.getElementType() != outT.getElementType())
    return emitOpError() << "both results must have one FP8 type, got " << out.getElementType()
                         << " and " << outT.getElementType();
  if (failed(verifySameShape(*this, in, out)))
    return failure();
  SmallVector<int64_t> transposedShape = {in.getDimSize(1), in.getDimSize(0)};
  if (outT.getShape() != ArrayRef<int64_t>(transposedShape))
    return emitOpError() << "transposed result has shape " << shapeString(outT.getShape())
                         << ", expected " << shapeString(transposedShape);
  Recipe recipe = getRecipe();
  std::optional<ArrayRef<int64_t>> block = getBlock();
  if (failed(verifyScaleFor(*this, "scale", getScale(), "input", in, recipe, block)))
    return failure();
  // Rowwise and 1×128 groups are not closed under transposition.
  bool needsOwnScale =
      recipe == Recipe::rowwise || (recipe == Recipe::blockwise && (*block)[0] == 1);
  Value scaleT = getTransposedScale();
  if (needsOwnScale && !scaleT)
    return emitOpError() << stringifyRecipe(recipe)
                         << " scaling groups other elements once transposed: "
                            "'transposed_scale' is required";
  if (!needsOwnScale && scaleT)
    return emitOpError() << "'transposed_scale' is only used with rowwise or 1x128 blockwise "
                            "scaling";
  if (scaleT)
    return verifyScaleFor(*this, "transposed_scale", scaleT, "transposed input",
                          RankedTensorType::get(transposedShape, in.getElementType()), recipe,
                          block);
  return success();
}

LogicalResult ScaledMatmulOp::verify() {
  RankedTensorType lhs = tensorType(getLhs()), rhs = tensorType(getRhs());
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return emitOpError() << "operands must be 2-D ([M, K] and [N, K]), got "
                         << shapeString(lhs.getShape()) << " and " << shapeString(rhs.getShape());
  Type lt = lhs.getElementType(), rt = rhs.getElementType();
  if (isa<Float8E5M2Type>(lt) && isa<Float8E5M2Type>(rt))
    return emitOpError() << "f8E5M2 x f8E5M2 GEMMs are not supported by cuBLASLt; "
                            "one operand must be f8E4M3FN";
  if (getFormat() == Format::e4m3 && (isa<Float8E5M2Type>(lt) || isa<Float8E5M2Type>(rt)))
    return emitOpError() << "format e4m3 uses f8E4M3FN for every operand, got " << lt << " and "
                         << rt;
  int64_t m = lhs.getDimSize(0), k = lhs.getDimSize(1), n = rhs.getDimSize(0);
  if (rhs.getDimSize(1) != k)
    return emitOpError() << "rhs must be [N, K] with K = " << k << " (both operands K-major), got "
                         << shapeString(rhs.getShape());
  for (auto [dim, size] : {std::pair<char, int64_t>{'M', m}, {'N', n}, {'K', k}})
    if (size % 16 != 0)
      return emitOpError() << "FP8 GEMM dimension " << dim << " = " << size
                           << " is not a multiple of 16";
  RankedTensorType res = tensorType(getResult());
  SmallVector<int64_t> expected = {m, n};
  if (res.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape " << shapeString(res.getShape()) << ", expected "
                         << shapeString(expected);
  bool fp8Result = getFP8Max(res.getElementType()).has_value();
  if (fp8Result && !getResultScale())
    return emitOpError() << "an FP8 result needs 'result_scale'";
  if (!fp8Result && getResultScale())
    return emitOpError() << "'result_scale' is only used with an FP8 result";
  if (Value bias = getBias()) {
    RankedTensorType b = tensorType(bias);
    if (b.getShape() != ArrayRef<int64_t>{n})
      return emitOpError() << "bias has shape " << shapeString(b.getShape()) << ", expected [" << n
                           << "]";
  }
  Recipe recipe = getRecipe();
  if (failed(
          verifyScaleFor(*this, "lhs_scale", getLhsScale(), "lhs", lhs, recipe, getLhsBlock())) ||
      failed(verifyScaleFor(*this, "rhs_scale", getRhsScale(), "rhs", rhs, recipe, getRhsBlock())))
    return failure();
  return success();
}

LogicalResult AmaxHistoryUpdateOp::verify() { return verifyHistory(*this, getHistory()); }

LogicalResult AmaxFromHistoryOp::verify() { return verifyHistory(*this, getHistory()); }

//===----------------------------------------------------------------------===//
// Folds and canonicalization patterns
//===----------------------------------------------------------------------===//

namespace {

/// True when every FP8 value of type `narrow`, divided by a scale and rounded
/// to `wide` (dequantize), comes back unchanged when multiplied by the same
/// scale and rounded to `narrow` (quantize); see QuantizeOp::fold.
bool roundTripsThrough(Type wide, Type narrow) {
  auto w = dyn_cast<FloatType>(wide), n = dyn_cast<FloatType>(narrow);
  if (!w || !n)
    return false;
  const llvm::fltSemantics &ws = w.getFloatSemantics(), &ns = n.getFloatSemantics();
  const llvm::fltSemantics &f32 = llvm::APFloat::IEEEsingle();
  return llvm::APFloat::semanticsPrecision(ws) >= llvm::APFloat::semanticsPrecision(ns) + 2 &&
         llvm::APFloat::semanticsMaxExponent(ws) >= llvm::APFloat::semanticsMaxExponent(f32) &&
         llvm::APFloat::semanticsMinExponent(ws) <= llvm::APFloat::semanticsMinExponent(f32);
}

/// cast_transpose whose `transposed` result is unused -> quantize with `scale`.
/// The first result of cast_transpose is by definition quantize(input, scale);
/// `transposed_scale`, if any, only affects the dropped result.
struct CastTransposeToQuantize : OpRewritePattern<CastTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastTransposeOp op, PatternRewriter &rewriter) const override {
    if (!op.getTransposed().use_empty())
      return rewriter.notifyMatchFailure(op, "the transposed copy is used");
    auto quantize = QuantizeOp::create(rewriter, op.getLoc(), op.getResult().getType(),
                                       op.getInput(), op.getScale(), op.getRecipeAttr(),
                                       op.getBlockAttr(), op.getFusedIntoProducerAttr());
    quantize->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.replaceAllUsesWith(op.getResult(), quantize.getResult());
    rewriter.eraseOp(op);
    return success();
  }
};

/// scaled_matmul with an unused `amax` result -> the same GEMM without it, so
/// that the lowering does not request cuBLASLt's amax-D epilogue for nothing.
struct DropUnusedGemmAmax : OpRewritePattern<ScaledMatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaledMatmulOp op, PatternRewriter &rewriter) const override {
    if (!op.getAmax() || !op.getAmax().use_empty())
      return rewriter.notifyMatchFailure(op, "no unused amax result");
    ScaledMatmulOp gemm = cloneScaledMatmul(rewriter, op, /*withAmax=*/false);
    rewriter.replaceAllUsesWith(op.getResult(), gemm.getResult());
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

ScaledMatmulOp fp8c::fp8::cloneScaledMatmul(OpBuilder &builder, ScaledMatmulOp op, bool withAmax) {
  OperationState state(op.getLoc(), op->getName());
  state.addOperands(op->getOperands());
  state.addTypes(op.getResult().getType());
  if (withAmax)
    state.addTypes(RankedTensorType::get({}, builder.getF32Type()));
  // Same inherent attributes (operand segments included) and discardable ones
  // (the `fp8.gemm` record of the GEMM's selection).
  state.useProperties(op.getProperties());
  state.addAttributes(op->getDiscardableAttrDictionary().getValue());
  return cast<ScaledMatmulOp>(builder.create(state));
}

/// quantize(dequantize(q, s), s) -> q, when recipe, block, scale and FP8 type
/// match and the dequantized type `w` passes roundTripsThrough (bf16, f32).
///
/// Why this is exact. Let q be a finite FP8 value with p significand bits (4
/// for E4M3, 3 for E5M2) and u = 2^-p_w the unit roundoff of `w` (2^-8 for
/// bf16). dequantize computes d = round_w(q / s) and quantize v = q / s · s
/// rounded in f32, so v = q · (1 + e) with |e| <= u + 2^-23 < 2^-(p + 1) when
/// p_w >= p + 2. Both FP8 neighbours of q are at least 2^-p · |q| away (the
/// tightest case is the finer binade just below a power of two; subnormals are
/// spaced wider relative to |q|), so v lies strictly within half the distance to
/// either neighbour and round-to-nearest-even returns q. Saturation cannot change
/// the result: v exceeds fp8_max only when q = ±fp8_max, and clamping gives q
/// back. Zeros keep their sign and NaN stays NaN.
///
/// The bound assumes q / s stays a normal number of `w` and of f32, which is why
/// `w` needs f32's exponent range (f16 does not qualify: q / s leaves its range
/// for ordinary scales). It then holds for every scale in [2^-110, 2^110], the
/// scales compute_scale produces for any amax between about 1e-31 and 1e35.
/// Outside that range the unfolded round trip would itself under- or overflow;
/// the fold then returns q, the value the program meant. An E5M2 ±inf (which
/// no fp8 op produces: every cast saturates) would also come back unchanged
/// rather than saturated.
OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  auto dequantize = getInput().getDefiningOp<DequantizeOp>();
  if (!dequantize || dequantize.getScale() != getScale() || dequantize.getRecipe() != getRecipe() ||
      dequantize.getBlockAttr() != getBlockAttr())
    return {};
  Value q = dequantize.getInput();
  if (q.getType() != getResult().getType())
    return {};
  if (!roundTripsThrough(tensorType(getInput()).getElementType(), tensorType(q).getElementType()))
    return {};
  return q;
}

void CastTransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                  MLIRContext *context) {
  results.add<CastTransposeToQuantize>(context);
}

void ScaledMatmulOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<DropUnusedGemmAmax>(context);
}
