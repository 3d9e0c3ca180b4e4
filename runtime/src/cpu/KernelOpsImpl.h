//===- KernelOpsImpl.h - Shared machinery of the kernel ops -----*- C++ -*-===//
//
// Private to runtime/src/cpu/KernelOps*.cpp. Each kernel op is one function
// over an OpContext: it first checks the operand types, attributes and
// declared result types (everything checkKernelOp promises), then, when the
// context carries values (runKernelOp), computes the results in f32. One
// function per op keeps the check and the indices the computation relies on
// side by side, so they cannot drift apart.
//
// Results are pre-sized from `op.results` before an op runs, and every float
// result is rounded to its dtype after it ran (runKernelOp), so an op writes
// f32 numbers and never rounds to bf16 / f16 itself. FP8 results are written
// by the op already converted (saturating RNE), since their conversion
// depends on a scale.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CPU_KERNELOPSIMPL_H
#define FP8RT_SRC_CPU_KERNELOPSIMPL_H

#include "fp8rt/Numerics.h"
#include "fp8rt/cpu/KernelOps.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt::kernelops {

/// Largest element count of one kernel value (16 GiB of f32 on the CPU
/// backend): bounds what a hostile program can make the interpreter allocate
/// and keeps every index product far from int64 overflow.
inline constexpr int64_t kMaxElements = int64_t(1) << 32;
/// Highest rank of a kernel value, as for buffers.
inline constexpr size_t kMaxRank = 8;

/// "f32", "bf16", ... (the program format's spelling).
const char *dtypeString(DType t);
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

inline bool isFloatDType(DType t) {
  return t == DType::F32 || t == DType::BF16 || t == DType::F16;
}
inline bool isFp8DType(DType t) { return t == DType::F8E4M3 || t == DType::F8E5M2; }
inline bool isIntDType(DType t) {
  return t == DType::I32 || t == DType::I64 || t == DType::I8;
}
inline Fp8Format fp8Format(DType t) {
  return t == DType::F8E5M2 ? Fp8Format::E5M2 : Fp8Format::E4M3FN;
}

/// IEEE binary16 conversions (Numerics.h covers bf16 and FP8 only): round to
/// nearest even, overflow to +-inf; a NaN keeps its sign and the top 10 bits
/// of its payload (so that f16 NaNs round-trip through f32 exactly).
uint16_t floatToF16(float x);
float f16ToFloat(uint16_t h);
/// The f32 number `x` rounds to in dtype `t` (a float dtype; FP8 saturating).
float roundToDType(float x, DType t);
/// An FP8 code for a value that is exactly representable in the format (the
/// contents of an FP8 cpu::Value): unlike floatToFp8, E5M2 infinities keep
/// their code and a NaN its sign (and E5M2 NaNs their payload, which
/// decodeFp8Exact puts in f32 mantissa bits 21-22), so that loading and
/// storing any byte gives it back.
uint8_t encodeFp8Exact(float x, Fp8Format f);
float decodeFp8Exact(uint8_t code, Fp8Format f);

/// Type classes of the train and fp8 dialects' operand constraints.
enum class TypeClass : uint8_t {
  Float,     ///< f32, bf16, f16 (Train_FloatTensor, FP8_HighTensor)
  Index,     ///< i32, i64 (Train_IndexTensor)
  Any,       ///< float or index (Train_AnyTensor)
  Fp8,       ///< f8e4m3, f8e5m2 (FP8_LowTensor)
  GemmResult,///< float or FP8 (FP8_GemmResultTensor)
  F32,       ///< f32 of any shape (FP8_ScaleTensor)
  Int,       ///< i8 (i1), i32, i64 (arith integers)
};

class OpContext {
public:
  OpContext(const KernelOp &op, const std::vector<TensorType> &operandTypes)
      : op(op), types(operandTypes) {}

  /// Gives the context values to compute with (runKernelOp).
  void bindValues(const std::vector<const cpu::Value *> &operands,
                  std::vector<cpu::Value> &results) {
    operands_ = &operands;
    results_ = &results;
  }
  bool running() const { return results_ != nullptr; }

  const KernelOp &op;
  const std::vector<TensorType> &types;

  size_t numOperands() const { return types.size(); }
  const TensorType &type(size_t i) const { return types[i]; }
  const std::vector<int64_t> &shape(size_t i) const { return types[i].shape; }

  // Values (only while running).
  const cpu::Value &in(size_t i) const { return *(*operands_)[i]; }
  cpu::Value &out(size_t i) const { return (*results_)[i]; }
  const float *inF(size_t i) const { return in(i).f.data(); }
  const int64_t *inI(size_t i) const { return in(i).i.data(); }
  float *outF(size_t i) const { return out(i).f.data(); }
  int64_t *outI(size_t i) const { return out(i).i.data(); }
  float scalarF(size_t i) const { return in(i).f[0]; }
  int64_t scalarI(size_t i) const { return in(i).i[0]; }

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
  Status enumAttr(const char *name, std::initializer_list<const char *> choices,
                  int &out) const;
  Status enumAttr(const char *name, std::initializer_list<const char *> choices,
                  int &out, int defaultIndex) const;
  /// An array of integers (DenseI64ArrayAttr).
  Status i64ArrayAttr(const char *name, std::vector<int64_t> &out) const;
  Status optionalI64ArrayAttr(const char *name,
                              std::optional<std::vector<int64_t>> &out) const;
  /// A TypeAttr given as a dtype string.
  Status dtypeAttr(const char *name, DType &out) const;

  // Results.
  /// `op.results` are exactly `expected` (names used in messages).
  Status expectResults(const std::vector<TensorType> &expected,
                       std::initializer_list<const char *> names = {}) const;
  Status expectResultCount(size_t n) const;
  /// Result `i` is of `cls` (when its dtype is free, as for train.convert).
  Status expectResultClass(size_t i, const char *what, TypeClass cls) const;

private:
  const std::vector<const cpu::Value *> *operands_ = nullptr;
  std::vector<cpu::Value> *results_ = nullptr;
};

using OpFunction = Status (*)(OpContext &);
struct OpEntry {
  const char *name;
  OpFunction fn;
};

/// The ops of each family (KernelOpsTrain.cpp, KernelOpsFP8.cpp,
/// KernelOpsArith.cpp); `count` receives the table's length.
const OpEntry *trainOps(size_t &count);
const OpEntry *fp8Ops(size_t &count);
const OpEntry *arithOps(size_t &count);

} // namespace fp8rt::kernelops

#endif // FP8RT_SRC_CPU_KERNELOPSIMPL_H
