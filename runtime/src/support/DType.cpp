//===- DType.cpp - Sizes and spellings of the element types ---------------===//

#include "fp8rt/support/DType.h"

namespace fp8rt {

namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  const char *programName;     ///< nullptr: not a program dtype
  const char *safetensorsName; ///< nullptr: not stored in checkpoints
  int safetensorsOrder;        ///< the reference implementation's Dtype order
};

// In the order of the DType enumerators, so that a DType indexes the table.
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, 4, "f32", "F32", 7},           {DType::BF16, 2, "bf16", "BF16", 5},
    {DType::F16, 2, "f16", "F16", 4},           {DType::F8E4M3, 1, "f8e4m3", "F8_E4M3", 3},
    {DType::F8E5M2, 1, "f8e5m2", "F8_E5M2", 2}, {DType::I32, 4, "i32", "I32", 6},
    {DType::I64, 8, "i64", "I64", 8},           {DType::I8, 1, "i8", nullptr, 0},
    {DType::U8, 1, nullptr, "U8", 1},
};

const DTypeInfo &info(DType t) { return kDTypes[static_cast<size_t>(t)]; }

} // namespace

size_t dtypeSize(DType t) { return info(t).size; }

const char *dtypeName(DType t) {
  const char *name = info(t).programName;
  return name ? name : "u8";
}

bool parseDType(std::string_view name, DType &out) {
  for (const DTypeInfo &d : kDTypes)
    if (d.programName && name == d.programName) {
      out = d.dtype;
      return true;
    }
  return false;
}

const char *safetensorsDTypeName(DType t) { return info(t).safetensorsName; }

std::optional<DType> safetensorsDTypeFromName(std::string_view name) {
  for (const DTypeInfo &d : kDTypes)
    if (d.safetensorsName && name == d.safetensorsName)
      return d.dtype;
  return std::nullopt;
}

const char *supportedSafetensorsDTypes() {
  return "F32, BF16, F16, F8_E4M3, F8_E5M2, I32, I64, U8";
}

int safetensorsDTypeOrder(DType t) { return info(t).safetensorsOrder; }

} // namespace fp8rt
