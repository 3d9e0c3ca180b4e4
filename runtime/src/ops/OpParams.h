//===- OpParams.h - Parameters of a checked kernel op -----------*- C++ -*-===//
//
// Private to the runtime. What a check derives from an op's types and
// attributes and an implementation needs again (a scale grid, an attention
// configuration, a GEMM's operand segments), in one place for both, so that
// they cannot drift apart. On a checked op none of these fails.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_OPS_OPPARAMS_H
#define FP8RT_SRC_OPS_OPPARAMS_H

#include "OpContext.h"

#include "fp8rt/ops/OpAttributes.h"

#include <optional>
#include <vector>

namespace fp8rt::ops {

/// A reference kernel's error, named after the op: the kernels start their
/// messages with the op's mnemonic ("embedding: id 300 ..."), which becomes
/// the full name.
Status kernelError(const OpContext &ctx, const Status &s);

//===----------------------------------------------------------------------===//
// train
//===----------------------------------------------------------------------===//

/// train.gelu(_grad)'s `approximate` (default tanh).
Status geluTanh(const OpContext &ctx, bool &tanh);

/// The product of matmul / batch_matmul: its transposes, M, N, K (checked to
/// agree) and the result shape (leading dimensions of lhs, then M and N).
struct MatmulParams {
  bool transLhs = false, transRhs = false;
  int64_t m = 0, n = 0, k = 0;
  std::vector<int64_t> shape;
};
Status matmulParams(const OpContext &ctx, MatmulParams &out);

/// Heads, RoPE and the shapes of query / key / value (operands qIndex ..
/// qIndex + 2) of attention and attention_grad.
Status attentionConfig(const OpContext &ctx, size_t qIndex, AttentionConfig &config);

/// train.lr_schedule's attributes (not validated).
Status lrSchedule(const OpContext &ctx, LRSchedule &schedule);
/// train.adamw_update's / train.sgd_update's attributes (not validated).
Status adamwConfig(const OpContext &ctx, AdamWConfig &config);
Status sgdConfig(const OpContext &ctx, SGDConfig &config);

//===----------------------------------------------------------------------===//
// fp8
//===----------------------------------------------------------------------===//

enum Recipe : int { Tensorwise = 0, Delayed = 1, Rowwise = 2, Blockwise = 3 };
inline const char *const kRecipeNames[] = {"tensorwise", "delayed", "rowwise", "blockwise"};
using Block = std::optional<std::vector<int64_t>>;

Status recipeAttr(const OpContext &ctx, int &recipe);

/// The groups of elements that share a scale, for a [rows, cols] operand:
/// every row splits into contiguous segments of `segment` elements, segment s
/// of row r uses scale `scaleIndex(r, s)`.
///
/// Scale layouts, for an operand [rows, cols] (cols the GEMM's K):
/// tensorwise / delayed one scale; rowwise [rows, 1]; blockwise with block
/// [br, bc] ([1, 128] or [128, 128]) [rows / br, cols / bc], row-major.
struct ScaleGrid {
  int64_t rows = 1, cols = 1, segment = 1;
  int64_t rowBlock = 1; ///< rows per scale row (128 for 128x128 blocks)
  bool single = true;   ///< one scale for everything

  int64_t segmentsPerRow() const { return cols / segment; }
  int64_t scaleIndex(int64_t row, int64_t seg) const {
    return single ? 0 : (row / rowBlock) * segmentsPerRow() + seg;
  }
};
ScaleGrid scaleGrid(int recipe, const Block &block, const std::vector<int64_t> &shape);

/// Rowwise and 1x128 groups are not closed under transposition: such a
/// cast_transpose takes a scale of its own for the transposed result.
inline bool needsOwnTransposedScale(int recipe, const Block &block) {
  return recipe == Rowwise || (recipe == Blockwise && (*block)[0] == 1);
}

/// fp8.scaled_matmul's optional operands (lhs, rhs, lhs_scale, rhs_scale,
/// result_scale?, bias?).
Status scaledMatmulSegments(const OpContext &ctx, bool &hasResultScale, bool &hasBias);

//===----------------------------------------------------------------------===//
// arith (i1 is an i8 holding 0 or 1)
//===----------------------------------------------------------------------===//

inline int bitWidth(DType t) { return t == DType::I8 ? 1 : t == DType::I32 ? 32 : 64; }

/// A two's complement result of type t from its low bits (i1: 0 or 1).
inline int64_t wrapTo(uint64_t bits, DType t) {
  switch (t) {
  case DType::I8:
    return int64_t(bits & 1u);
  case DType::I32:
    return int64_t(int32_t(uint32_t(bits)));
  default:
    return int64_t(bits);
  }
}

/// An integer constant element of type t: integral, and within the signed or
/// unsigned range of its width (MLIR prints i1 true as 1, other values
/// signed). False when it is not a value of t.
bool intElement(double value, DType t, int64_t &out);

/// arith.constant's splat value of an integer type (checked like every
/// element of an array).
Status intConstantSplat(const OpContext &ctx, int64_t &splat);

} // namespace fp8rt::ops

#endif // FP8RT_SRC_OPS_OPPARAMS_H
