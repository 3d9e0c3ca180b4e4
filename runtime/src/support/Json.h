//===- Json.h - A small strict JSON parser and string quoting ---*- C++ -*-===//
//
// Private to the runtime. Strict RFC 8259: no comments, no trailing commas,
// no leading zeros, no NaN/Infinity, no control characters inside strings,
// valid UTF-8 only (no overlong forms, surrogates or code points above
// U+10FFFF, escaped or raw), no lone surrogate escapes, no duplicate keys in
// one object. Whitespace may surround the top-level value; anything else after
// it is an error.
//
// Resource bounds, so a hostile header cannot exhaust the stack or memory:
// nesting depth and the total number of values are limited (ParseLimits).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_SUPPORT_JSON_H
#define FP8RT_SRC_SUPPORT_JSON_H

#include "fp8rt/Status.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt {
namespace json {

enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };

/// "null", "boolean", "number", "string", "array", "object".
const char *kindName(Kind k);

struct Value {
  Kind kind = Kind::Null;
  bool boolean = false;
  /// Byte offset of the value's first character, counted from the start of
  /// the parsed text plus ParseLimits::baseOffset.
  size_t offset = 0;
  /// String: the decoded contents (UTF-8). Number: the literal as written.
  std::string text;
  /// Array elements, or object member values (parallel to `keys`).
  std::vector<Value> items;
  /// Object member keys, in document order.
  std::vector<std::string> keys;

  bool isInteger() const; ///< a number with no fraction and no exponent
  /// The number as a uint64 if it is a non-negative integer literal that fits
  /// (no sign, fraction or exponent); nullopt otherwise.
  std::optional<uint64_t> asUint64() const;
  /// The member value of an object, or nullptr.
  const Value *find(std::string_view key) const;
};

struct ParseLimits {
  size_t maxDepth = 64;               ///< arrays/objects nested inside each other
  size_t maxValues = size_t(1) << 22; ///< every value counts, keys excluded
  size_t baseOffset = 0;              ///< added to the offsets in messages
};

/// Parses one JSON document. Errors (kDataLoss) read
/// "<what went wrong> at byte <offset>", e.g.
/// "expected ':' after an object key at byte 14".
StatusOr<Value> parse(std::string_view text, const ParseLimits &limits = {});

/// `s` as a JSON string literal written the way serde_json writes it: `"` and
/// `\` escaped, control characters as \b \t \n \f \r or \u00xx (lower-case
/// hex), everything else (including non-ASCII UTF-8 and '/') as is.
std::string quote(std::string_view s);

/// What a value is, for the "found ..." part of messages: "number 1.5",
/// "string \"x\"", "an array of 2 elements", "an object", "true", "null".
std::string describe(const Value &v);

/// Whether `s` is well-formed UTF-8 (same rules as the parser).
bool isValidUtf8(std::string_view s);

} // namespace json
} // namespace fp8rt

#endif // FP8RT_SRC_SUPPORT_JSON_H
