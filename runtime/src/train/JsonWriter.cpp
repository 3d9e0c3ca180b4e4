//===- JsonWriter.cpp - Compact JSON text, one value at a time ------------===//

#include "train/JsonWriter.h"

#include "support/Json.h"

#include <cmath>
#include <cstdio>

namespace fp8rt {

void JsonWriter::beginValue() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!hasMembers_.empty()) {
    if (hasMembers_.back())
      text_ += ',';
    hasMembers_.back() = true;
  }
}

JsonWriter &JsonWriter::beginObject() {
  beginValue();
  text_ += '{';
  hasMembers_.push_back(false);
  return *this;
}

JsonWriter &JsonWriter::endObject() {
  text_ += '}';
  hasMembers_.pop_back();
  return *this;
}

JsonWriter &JsonWriter::key(std::string_view name) {
  beginValue();
  text_ += json::quote(name);
  text_ += ':';
  afterKey_ = true;
  return *this;
}

JsonWriter &JsonWriter::number(double value, int digits) {
  if (std::isnan(value))
    return string("nan");
  if (std::isinf(value))
    return string(value > 0 ? "inf" : "-inf");
  beginValue();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  text_ += buf;
  return *this;
}

JsonWriter &JsonWriter::integer(int64_t value) {
  beginValue();
  text_ += std::to_string(value);
  return *this;
}

JsonWriter &JsonWriter::string(std::string_view value) {
  beginValue();
  text_ += json::quote(value);
  return *this;
}

JsonWriter &JsonWriter::null() {
  beginValue();
  text_ += "null";
  return *this;
}

} // namespace fp8rt
