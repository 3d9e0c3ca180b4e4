//===- TrainFolds.cpp - folders of the train dialect ----------------------===//
//
// Only rewrites that are exact: ops that return their input unchanged, and
// chains of layout ops that compose into one. Nothing here changes a value's
// rounding (a narrowing convert is never folded away).
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace fp8c::train;

//===----------------------------------------------------------------------===//
// train.convert
//===----------------------------------------------------------------------===//

/// f32 holds every bf16 and f16 value exactly.
static bool isExactWidening(Type from, Type to) {
  return to.isF32() && (from.isBF16() || from.isF16());
}

OpFoldResult ConvertOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // convert(convert(x : A -> W) : W -> A) is x when A -> W is exact.
  if (auto widen = getInput().getDefiningOp<ConvertOp>()) {
    Value source = widen.getInput();
    if (source.getType() == getType() &&
        isExactWidening(getElementTypeOrSelf(source), getElementTypeOrSelf(widen.getType())))
      return source;
  }
  return {};
}

//===----------------------------------------------------------------------===//
// train.reshape, train.transpose
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // A row-major reshape only depends on the element order, which reshapes keep.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return getInput();
  auto inner = getInput().getDefiningOp<TransposeOp>();
  if (!inner)
    return {};
  // result[i] = inner.result[permutation[i]] = inner.input[inner.permutation[permutation[i]]].
  ArrayRef<int64_t> innerPermutation = inner.getPermutation();
  SmallVector<int64_t> composed =
      llvm::map_to_vector(permutation, [&](int64_t p) { return innerPermutation[p]; });
  if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
    return inner.getInput();
  getInputMutable().assign(inner.getInput());
  setPermutation(composed);
  return getResult();
}

//===----------------------------------------------------------------------===//
// train.slice, train.slice_grad
//===----------------------------------------------------------------------===//

OpFoldResult SliceOp::fold(FoldAdaptor) {
  // The verifier ties the types to dim, offset and size: equal types mean the
  // whole dimension from offset 0.
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult SliceGradOp::fold(FoldAdaptor) {
  if (getGrad().getType() == getType())
    return getGrad();
  return {};
}
