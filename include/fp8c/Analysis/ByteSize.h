//===- ByteSize.h - "24GiB": byte counts as users write them ----*- C++ -*-===//
//
// `train.memory_budget` and `fp8c --memory-budget` (docs/memory-plan.md,
// "Recompute under a budget") spell a size as a number and a unit; the front
// end, the driver and fp8-recompute read it the same way.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_BYTESIZE_H
#define FP8C_ANALYSIS_BYTESIZE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace fp8c {

/// What a byte size must look like, for messages.
inline constexpr llvm::StringLiteral kByteSizeSyntax =
    "a size: a number and one of the units B, KiB, MiB, GiB (e.g. 24GiB, 1536MiB)";

/// "24GiB", "1.5 GiB", "512MiB", "4096B" → bytes (units are powers of 1024);
/// nullopt for anything else (no unit, an unknown unit, not positive).
inline std::optional<int64_t> parseByteSize(llvm::StringRef text) {
  text = text.trim();
  size_t unitAt = text.find_first_not_of("0123456789.");
  if (unitAt == 0 || unitAt == llvm::StringRef::npos)
    return std::nullopt;
  double number;
  if (text.take_front(unitAt).getAsDouble(number) || !(number > 0))
    return std::nullopt;
  llvm::StringRef unit = text.drop_front(unitAt).trim();
  int shift = unit == "B" ? 0 : unit == "KiB" ? 10 : unit == "MiB" ? 20 : unit == "GiB" ? 30 : -1;
  if (shift < 0)
    return std::nullopt;
  double bytes = std::ldexp(number, shift);
  if (bytes >= 9.0e18 || bytes < 1)
    return std::nullopt;
  return static_cast<int64_t>(std::llround(bytes));
}

/// Bytes with two decimals in GiB ("23.50 GiB"), in MiB below 1 GiB, exact
/// below 1 MiB.
inline std::string formatByteSize(int64_t bytes) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (bytes >= (1ll << 30))
    os << llvm::format("%.2f GiB", static_cast<double>(bytes) / (1ll << 30));
  else if (bytes >= (1ll << 20))
    os << llvm::format("%.2f MiB", static_cast<double>(bytes) / (1ll << 20));
  else
    os << bytes << " bytes";
  return s;
}

} // namespace fp8c

#endif // FP8C_ANALYSIS_BYTESIZE_H
