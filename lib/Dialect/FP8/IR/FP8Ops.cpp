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
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using fp8c::shapeString;
using namespace fp8c::fp8;

#define GET_OP_CLASSES
#include "fp8c/Dialect/FP8/IR/FP8Ops.cpp.inc"

namespace {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Checks that `scale` has the shape the recipe gives to an operand `operand`.
LogicalResult verifyScaleFor(Operation *op, StringRef scaleName, Value scale,
                             StringRef operandName, RankedTensorType operand, Recipe recipe,
                             std::optional<ArrayRef<int64_t>> block) {
  SmallVector<int64_t> expected;
  std::string error;
  if (failed(getScaleShape(recipe, block, operand.getShape(), expected, error)))
    return op->emitOpError() << operandName << ": " << error;
  if (tensorType(scale).getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError() << scaleName << " has shape "
                             << shapeString(tensorType(scale).getShape()) << ", but "
                             << stringifyRecipe(recipe) << " scaling of " << operandName
                             << " " << shapeString(operand.getShape()) << " needs "
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
                                       SmallVectorImpl<int64_t> &scaleShape,
                                       std::string &error) {
  scaleShape.clear();
  llvm::raw_string_ostream os(error);
  bool blockwise = recipe == Recipe::blockwise;
  if (blockwise && !block) {
    os << "blockwise scaling needs a block ([1, 128] or [128, 128])";
    return failure();
  }
  if (!blockwise && block) {
    os << "a block is only meaningful with blockwise scaling, not "
       << stringifyRecipe(recipe);
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
  return verifyScaleFor(*this, "result", getResult(), "input", tensorType(getInput()),
                        getRecipe(), getBlock());
}

LogicalResult ComputeScaleOp::verify() {
  if (!getFP8Max(getFp8Type()))
    return emitOpError() << "fp8_type must be f8E4M3FN or f8E5M2, got " << getFp8Type();
  if (Value prev = getPrevious(); prev && prev.getType() != getAmax().getType())
    return emitOpError() << "previous scale type " << prev.getType()
                         << " differs from amax type " << getAmax().getType();
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
    return emitOpError() << "both results must have one FP8 type, got "
                         << out.getElementType() << " and " << outT.getElementType();
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
                         << shapeString(lhs.getShape()) << " and "
                         << shapeString(rhs.getShape());
  Type lt = lhs.getElementType(), rt = rhs.getElementType();
  if (isa<Float8E5M2Type>(lt) && isa<Float8E5M2Type>(rt))
    return emitOpError() << "f8E5M2 x f8E5M2 GEMMs are not supported by cuBLASLt; "
                            "one operand must be f8E4M3FN";
  if (getFormat() == Format::e4m3 && (isa<Float8E5M2Type>(lt) || isa<Float8E5M2Type>(rt)))
    return emitOpError() << "format e4m3 uses f8E4M3FN for every operand, got " << lt
                         << " and " << rt;
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
    return emitOpError() << "result has shape " << shapeString(res.getShape())
                         << ", expected " << shapeString(expected);
  bool fp8Result = getFP8Max(res.getElementType()).has_value();
  if (fp8Result && !getResultScale())
    return emitOpError() << "an FP8 result needs 'result_scale'";
  if (!fp8Result && getResultScale())
    return emitOpError() << "'result_scale' is only used with an FP8 result";
  if (Value bias = getBias()) {
    RankedTensorType b = tensorType(bias);
    if (b.getShape() != ArrayRef<int64_t>{n})
      return emitOpError() << "bias has shape " << shapeString(b.getShape()) << ", expected ["
                           << n << "]";
  }
  Recipe recipe = getRecipe();
  if (failed(verifyScaleFor(*this, "lhs_scale", getLhsScale(), "lhs", lhs, recipe,
                            getLhsBlock())) ||
      failed(verifyScaleFor(*this, "rhs_scale", getRhsScale(), "rhs", rhs, recipe,
                            getRhsBlock())))
    return failure();
  return success();
}

LogicalResult AmaxHistoryUpdateOp::verify() {
  return verifyHistory(*this, getHistory());
}

LogicalResult AmaxFromHistoryOp::verify() {
  return verifyHistory(*this, getHistory());
}
