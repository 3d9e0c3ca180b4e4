//===- ConfigSection.cpp - typed reads of YAML scalars --------------------===//

#include "ConfigSection.h"

namespace fp8c::frontend {

std::string Range::describe() const {
  if (std::isinf(hi))
    return (loOpen ? "> " : ">= ") + formatNumber(lo);
  return "in " + std::string(loOpen ? "(" : "[") + formatNumber(lo) + ", " + formatNumber(hi) +
         (hiOpen ? ")" : "]");
}

std::string describeIntRange(int64_t lo, int64_t hi) {
  if (hi >= (int64_t(1) << 40)) // step counts, seeds: the bound is not worth reading
    return "an integer >= " + std::to_string(lo);
  return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

namespace {

bool isIntegerSyntax(StringRef s) {
  if (s.starts_with("+") || s.starts_with("-"))
    s = s.drop_front();
  return !s.empty() && llvm::all_of(s, llvm::isDigit);
}

/// Decimal numbers as YAML and Python write them: 3, -1.5, 6e-4, .5; no inf/nan/hex.
bool isNumberSyntax(StringRef s) {
  if (s.starts_with("+") || s.starts_with("-"))
    s = s.drop_front();
  StringRef mantissa = s, exponent;
  size_t e = s.find_first_of("eE");
  if (e != StringRef::npos) {
    mantissa = s.take_front(e);
    exponent = s.drop_front(e + 1);
    if (exponent.starts_with("+") || exponent.starts_with("-"))
      exponent = exponent.drop_front();
    if (exponent.empty() || !llvm::all_of(exponent, llvm::isDigit))
      return false;
  }
  auto [whole, fraction] = mantissa.split('.');
  bool hasDot = mantissa.contains('.');
  if (whole.empty() && fraction.empty())
    return false;
  if (hasDot && fraction.contains('.'))
    return false;
  return llvm::all_of(whole, llvm::isDigit) && llvm::all_of(fraction, llvm::isDigit);
}

} // namespace

std::optional<int64_t> parseInt(Diagnostics &diags, const YNode &node, StringRef path, int64_t lo,
                                int64_t hi) {
  std::string expected = describeIntRange(lo, hi);
  int64_t value = 0;
  StringRef text = node.value;
  text.consume_front("+");
  if (node.kind != YNode::Kind::Scalar || node.quoted || !isIntegerSyntax(node.value) ||
      text.getAsInteger(10, value) || value < lo || value > hi) {
    diags.error(node.loc, path, "expected " + expected + ", got " + node.describe());
    return std::nullopt;
  }
  return value;
}

std::optional<double> parseNumber(Diagnostics &diags, const YNode &node, StringRef path,
                                  Range range) {
  double value = 0;
  if (node.kind != YNode::Kind::Scalar || node.quoted || !isNumberSyntax(node.value) ||
      StringRef(node.value).getAsDouble(value) || !std::isfinite(value) || !range.contains(value)) {
    diags.error(node.loc, path,
                "expected a number " + range.describe() + ", got " + node.describe());
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parseBool(Diagnostics &diags, const YNode &node, StringRef path) {
  if (node.kind == YNode::Kind::Scalar && !node.quoted) {
    if (llvm::is_contained({"true", "True", "TRUE"}, node.value))
      return true;
    if (llvm::is_contained({"false", "False", "FALSE"}, node.value))
      return false;
  }
  diags.error(node.loc, path, "expected true or false, got " + node.describe());
  return std::nullopt;
}

std::optional<std::string> parseName(Diagnostics &diags, const YNode &node, StringRef path) {
  if (node.kind != YNode::Kind::Scalar || node.value.empty()) {
    diags.error(node.loc, path, "expected a non-empty string, got " + node.describe());
    return std::nullopt;
  }
  return node.value;
}

} // namespace fp8c::frontend
