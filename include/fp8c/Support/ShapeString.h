//===- ShapeString.h - shapes in diagnostics --------------------*- C++ -*-===//

#ifndef FP8C_SUPPORT_SHAPESTRING_H
#define FP8C_SUPPORT_SHAPESTRING_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace fp8c {

/// Formats a shape as `[8, 64, 768]`: every verifier prints shapes this way, so
/// users see one notation whichever dialect complains.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

} // namespace fp8c

#endif // FP8C_SUPPORT_SHAPESTRING_H
