//===- OpContext.h - What a kernel op's check sees --------------*- C++ -*-===//
//
// Private to the runtime (runtime/src/ops, and the backends' columns). A
// check is one function per op over an OpContext: the op (name, attributes,
// declared results) and its operands' types, with helpers that check
// operands, attributes and results and word the messages alike. A backend's
// implementation reads the same attributes through the same helpers (they
// cannot fail on a checked op).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_OPS_OPCONTEXT_H
#define FP8RT_SRC_OPS_OPCONTEXT_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/ops/OpId.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt::ops {

/// Largest element count of one kernel value (16 GiB of f32 on the CPU
/// backend): bounds what a hostile program can make the interpreter allocate
/// and keeps every index product far from int64 overflow.
inline constexpr int64_t kMaxElements = int64_t(1) << 32;
/// Highest rank of a kernel value, as for buffers.
inline constexpr size_t kMaxRank = 8;

using fp8rt::shapeString; // "[8, 64, 128]" (Program.h)
/// "bf16[8, 64, 128]".
std::string typeString(const TensorType &type);
/// Product of the dimensions of a checked type.
int64_t elementCount(const TensorType &type);
inline int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// f32, bf16, f16: the float types of the train dialect (FP8 excluded).
inline bool isFloatDType(DType t) { return isFloat(t) && !isFp8(t); }

/// Rank, dimensions and size limits of one operand or result type (`what`
/// starts the message).
Status checkTypeBounds(const TensorType &type, const std::string &what);

/// Type classes of the train and fp8 dialects' operand constraints.
enum class TypeClass : uint8_t {
  Float,      ///< f32, bf16, f16 (Train_FloatTensor, FP8_HighTensor)
  Index,      ///< i32, i64 (Train_IndexTensor)
  Any,        ///< float or index (Train_AnyTensor)
  Fp8,        ///< f8e4m3, f8e5m2 (FP8_LowTensor)
  GemmResult, ///< float or FP8 (FP8_GemmResultTensor)
  F32,        ///< f32 of any shape (FP8_ScaleTensor)
  Int,        ///< i8 (i1), i32, i64 (arith integers)
};

class OpContext {
public:
  OpContext(const KernelOp &op, const std::vector<TensorType> &operandTypes)
      : op(op), types(operandTypes) {}

  const KernelOp &op;
  const std::vector<TensorType> &types;

  size_t numOperands() const { return types.size(); }
  const TensorType &type(size_t i) const { return types[i]; }
  const std::vector<int64_t> &shape(size_t i) const { return types[i].shape; }

  /// kInvalidArgument "<op>: <message>".
  Status error(const std::string &message) const;

  // Operands.
  Status expectOperandCount(size_t n) const;
  Status expectOperandCount(size_t min, size_t max) const;
  /// Operand `i`, called `what` in messages, is of `cls`.
  Status expectClass(size_t i, const char *what, TypeClass cls) const;
  /// Operand `i` has exactly this shape.
  Status expectShape(size_t i, const char *what, const std::vector<int64_t> &shape) const;
  /// Operand `i` has this rank (or at least it, with `atLeast`).
  Status expectRank(size_t i, const char *what, size_t rank, bool atLeast = false) const;
  /// Operand `i` is an f32 scalar (Train_F32Scalar) / an i64 scalar.
  Status expectF32Scalar(size_t i, const char *what) const;
  Status expectI64Scalar(size_t i, const char *what) const;
  /// Operands `indices` (named `names`) share one element type.
  Status expectSameDType(std::initializer_list<size_t> indices,
                         std::initializer_list<const char *> names) const;

  // Attributes. Required ones report "attribute 'x' is missing"; every kind
  // mismatch names the expected kind.
  const Attr *attr(std::string_view name) const;
  Status f64Attr(const char *name, double &out) const;
  Status f64Attr(const char *name, double &out, double defaultValue) const;
  Status optionalF64Attr(const char *name, std::optional<double> &out) const;
  Status i64Attr(const char *name, int64_t &out) const;
  Status i64Attr(const char *name, int64_t &out, int64_t defaultValue) const;
  Status optionalI64Attr(const char *name, std::optional<int64_t> &out) const;
  /// A UnitAttr / BoolAttr: absent is false.
  Status unitAttr(const char *name, bool &out) const;
  /// An enum: `out` is the index of its spelling in `choices`.
  Status enumAttr(const char *name, std::initializer_list<const char *> choices, int &out) const;
  Status enumAttr(const char *name, std::initializer_list<const char *> choices, int &out,
                  int defaultIndex) const;
  /// An array of integers (DenseI64ArrayAttr).
  Status i64ArrayAttr(const char *name, std::vector<int64_t> &out) const;
  Status optionalI64ArrayAttr(const char *name, std::optional<std::vector<int64_t>> &out) const;
  /// A TypeAttr given as a dtype string.
  Status dtypeAttr(const char *name, DType &out) const;

  // Results.
  /// `op.results` are exactly `expected` (names used in messages).
  Status expectResults(const std::vector<TensorType> &expected,
                       std::initializer_list<const char *> names = {}) const;
  Status expectResultCount(size_t n) const;
  /// Result `i` is of `cls` (when its dtype is free, as for train.convert).
  Status expectResultClass(size_t i, const char *what, TypeClass cls) const;
};

/// Runs row `id`'s check alone (the caller checked the type bounds).
Status runCheck(OpId id, const OpContext &ctx);

/// The check column: one function per row of KernelOps.def
/// (CheckTrain.cpp, CheckFP8.cpp, CheckArith.cpp).
#define KERNEL_OP(Id, Name) Status check##Id(const OpContext &ctx);
#include "fp8rt/ops/KernelOps.def"

} // namespace fp8rt::ops

#endif // FP8RT_SRC_OPS_OPCONTEXT_H
