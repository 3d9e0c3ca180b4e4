//===- DType.h - The runtime's one element-type enum -------------*- C++ -*-===//
//
// Every element type the runtime handles, with its spellings in the two file
// formats it reads: the program format ("f32", "f8e4m3", ...) and safetensors
// ("F32", "F8_E4M3", ...). One enum and one table, so that a program buffer is
// written to a checkpoint and read back without a mapping of its own.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SUPPORT_DTYPE_H
#define FP8RT_SUPPORT_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt {

/// The float types first (isFloat relies on the order), then the integers.
/// U8 exists in checkpoints only; programs use I8 (for i1).
enum class DType : uint8_t { F32, BF16, F16, F8E4M3, F8E5M2, I32, I64, I8, U8 };

/// Bytes per element.
size_t dtypeSize(DType t);

/// The program format's spelling: "f32", "bf16", "f16", "f8e4m3", "f8e5m2",
/// "i32", "i64", "i8" ("u8" for U8, which no program uses).
const char *dtypeName(DType t);
/// Parses a program dtype (the names above except "u8").
bool parseDType(std::string_view name, DType &out);

/// The safetensors spelling ("F32", "BF16", "F16", "F8_E4M3", "F8_E5M2",
/// "I32", "I64", "U8"), or nullptr for I8, which checkpoints do not hold.
const char *safetensorsDTypeName(DType t);
/// The dtype of a safetensors header's spelling, or nullopt.
std::optional<DType> safetensorsDTypeFromName(std::string_view name);
/// "F32, BF16, F16, F8_E4M3, F8_E5M2, I32, I64, U8".
const char *supportedSafetensorsDTypes();
/// Position in the reference safetensors implementation's Dtype enum, which
/// orders tensors of equal alignment in the files it writes.
int safetensorsDTypeOrder(DType t);

/// f32, bf16, f16 and both FP8 formats.
inline bool isFloat(DType t) { return t <= DType::F8E5M2; }
inline bool isFp8(DType t) { return t == DType::F8E4M3 || t == DType::F8E5M2; }
inline bool isInteger(DType t) { return !isFloat(t); }

/// "[8, 64, 128]", "[]" for a scalar: how every message prints a shape.
template <typename Int> std::string shapeString(const std::vector<Int> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

} // namespace fp8rt

#endif // FP8RT_SUPPORT_DTYPE_H
