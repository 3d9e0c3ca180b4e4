//===- JsonWriter.h - Compact JSON text, one value at a time ----*- C++ -*-===//
//
// Private to the runtime. Writes what the trainer's JSONL log holds: objects,
// keys, numbers, integers, strings and null, with no whitespace. Separators
// are the writer's business; the caller only says what comes next. Strings
// are quoted as json::quote does (support/Json.h), so what the runtime
// writes its parser reads back.
//
// JSON has no literal for NaN and infinities: number() writes them as the
// strings "nan", "inf" and "-inf" (docs/runtime.md, "Metrics").
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_JSONWRITER_H
#define FP8RT_SRC_TRAIN_JSONWRITER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt {

class JsonWriter {
public:
  JsonWriter &beginObject();
  JsonWriter &endObject();
  /// The key of the next member of the innermost object.
  JsonWriter &key(std::string_view name);

  /// A finite value with `digits` significant digits (%.*g), a non-finite
  /// one as a string (file comment).
  JsonWriter &number(double value, int digits = 9);
  JsonWriter &integer(int64_t value);
  JsonWriter &string(std::string_view value);
  JsonWriter &null();

  /// key(name) and then the value.
  JsonWriter &number(std::string_view name, double value, int digits = 9) {
    return key(name).number(value, digits);
  }
  JsonWriter &integer(std::string_view name, int64_t value) { return key(name).integer(value); }

  /// The text so far.
  const std::string &text() const { return text_; }

private:
  /// A comma before a value that follows another in its object.
  void beginValue();

  std::string text_;
  std::vector<bool> hasMembers_; ///< per open object
  bool afterKey_ = false;
};

} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_JSONWRITER_H
