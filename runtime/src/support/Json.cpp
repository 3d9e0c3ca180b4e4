//===- Json.cpp - A small strict JSON parser -------------------------------===//

#include "support/Json.h"

#include <unordered_map>

namespace fp8rt {
namespace json {

std::string describe(const Value &v) {
  switch (v.kind) {
  case Kind::Number:
    return "number " + v.text;
  case Kind::String:
    return "string " + quote(v.text);
  case Kind::Array:
    return "an array of " + std::to_string(v.items.size()) + " element" +
           (v.items.size() == 1 ? "" : "s");
  case Kind::Object:
    return "an object";
  case Kind::Bool:
    return v.boolean ? "true" : "false";
  case Kind::Null:
    return "null";
  }
  return "?";
}

const char *kindName(Kind k) {
  switch (k) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "boolean";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "value";
}

bool Value::isInteger() const {
  return kind == Kind::Number && text.find_first_of(".eE") == std::string::npos;
}

std::optional<uint64_t> Value::asUint64() const {
  if (!isInteger() || text.empty() || text[0] == '-')
    return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    const uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

const Value *Value::find(std::string_view key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key)
      return &items[i];
  return nullptr;
}

namespace {

/// Length of the UTF-8 sequence at p (1..4) with its code point, or 0 if it
/// is malformed (truncated, overlong, a surrogate, above U+10FFFF).
size_t decodeUtf8(const unsigned char *p, size_t avail, uint32_t &cp) {
  const unsigned c = p[0];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (avail < len)
    return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

const char kHex[] = "0123456789abcdef";

class Parser {
public:
  Parser(std::string_view text, const ParseLimits &limits) : s_(text), limits_(limits) {}

  StatusOr<Value> run() {
    Value root;
    skipWs();
    if (!parseValue(root, 0))
      return std::move(error_);
    skipWs();
    if (pos_ != s_.size())
      return fail("unexpected data after the JSON value");
    return root;
  }

private:
  bool atEnd() const { return pos_ >= s_.size(); }
  unsigned char cur() const { return static_cast<unsigned char>(s_[pos_]); }

  void skipWs() {
    while (!atEnd() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  /// "'x'", "byte 0x01" or "the end of the text" for the current position.
  std::string found() const {
    if (atEnd())
      return "the end of the text";
    const unsigned char c = cur();
    if (c >= 0x20 && c < 0x7F && c != '\'')
      return std::string("'") + char(c) + "'";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
  }

  Status fail(const std::string &what) { return failAt(what, pos_); }
  Status failAt(const std::string &what, size_t at) {
    return dataLossError(what + " at byte " + std::to_string(limits_.baseOffset + at));
  }
  bool setError(Status s) {
    error_ = std::move(s);
    return false;
  }

  bool parseValue(Value &v, size_t depth) {
    if (++count_ > limits_.maxValues)
      return setError(fail("more than " + std::to_string(limits_.maxValues) + " JSON values"));
    v.offset = limits_.baseOffset + pos_;
    if (atEnd())
      return setError(fail("expected a JSON value, found " + found()));
    switch (cur()) {
    case '{':
      return parseObject(v, depth + 1);
    case '[':
      return parseArray(v, depth + 1);
    case '"':
      v.kind = Kind::String;
      return parseString(v.text);
    case 't':
      return parseLiteral("true", v, Kind::Bool, true);
    case 'f':
      return parseLiteral("false", v, Kind::Bool, false);
    case 'n':
      return parseLiteral("null", v, Kind::Null, false);
    default:
      if (cur() == '-' || (cur() >= '0' && cur() <= '9'))
        return parseNumber(v);
      return setError(fail("expected a JSON value, found " + found()));
    }
  }

  bool parseLiteral(std::string_view word, Value &v, Kind kind, bool b) {
    if (s_.substr(pos_, word.size()) != word)
      return setError(fail("expected a JSON value, found " + found()));
    pos_ += word.size();
    v.kind = kind;
    v.boolean = b;
    return true;
  }

  bool digits() {
    const size_t start = pos_;
    while (!atEnd() && cur() >= '0' && cur() <= '9')
      ++pos_;
    return pos_ > start;
  }

  bool parseNumber(Value &v) {
    const size_t start = pos_;
    if (cur() == '-')
      ++pos_;
    if (atEnd() || !(cur() >= '0' && cur() <= '9'))
      return setError(fail("expected a digit in a number, found " + found()));
    if (cur() == '0') {
      ++pos_;
      if (!atEnd() && cur() >= '0' && cur() <= '9')
        return setError(failAt("leading zero in a number", start));
    } else {
      digits();
    }
    if (!atEnd() && cur() == '.') {
      ++pos_;
      if (!digits())
        return setError(fail("expected a digit after '.' in a number, found " + found()));
    }
    if (!atEnd() && (cur() == 'e' || cur() == 'E')) {
      ++pos_;
      if (!atEnd() && (cur() == '+' || cur() == '-'))
        ++pos_;
      if (!digits())
        return setError(fail("expected a digit in the exponent of a number, found " + found()));
    }
    v.kind = Kind::Number;
    v.text.assign(s_.substr(start, pos_ - start));
    return true;
  }

  bool parseHex4(uint32_t &out) {
    if (s_.size() - pos_ < 4)
      return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_ + size_t(i)];
      uint32_t d;
      if (c >= '0' && c <= '9')
        d = uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = uint32_t(c - 'A' + 10);
      else
        return false;
      out = out * 16 + d;
    }
    pos_ += 4;
    return true;
  }

  bool parseString(std::string &out) {
    const size_t start = pos_;
    ++pos_; // opening quote
    out.clear();
    while (true) {
      if (atEnd())
        return setError(failAt("unterminated string", start));
      const unsigned char c = cur();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20)
        return setError(fail(std::string("control character 0x") + kHex[c >> 4] + kHex[c & 15] +
                             " in a string (it must be escaped)"));
      if (c == '\\') {
        const size_t escAt = pos_;
        ++pos_;
        if (atEnd())
          return setError(failAt("unterminated string", start));
        const char e = s_[pos_++];
        switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!parseHex4(cp))
            return setError(failAt("expected 4 hex digits after \\u in a string", escAt));
          if (cp >= 0xDC00 && cp <= 0xDFFF)
            return setError(failAt("lone low surrogate \\u escape in a string", escAt));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (s_.substr(pos_, 2) != "\\u" || (pos_ += 2, !parseHex4(lo)) || lo < 0xDC00 ||
                lo > 0xDFFF)
              return setError(
                  failAt("high surrogate \\u escape not followed by a low surrogate", escAt));
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          pos_ = escAt;
          return setError(fail("invalid escape in a string"));
        }
        continue;
      }
      uint32_t cp;
      const size_t len = decodeUtf8(reinterpret_cast<const unsigned char *>(s_.data()) + pos_,
                                    s_.size() - pos_, cp);
      if (len == 0)
        return setError(fail("invalid UTF-8 in a string"));
      out.append(s_.data() + pos_, len);
      pos_ += len;
    }
  }

  bool enter(size_t depth) {
    if (depth > limits_.maxDepth)
      return setError(
          fail("JSON nested deeper than " + std::to_string(limits_.maxDepth) + " levels"));
    return true;
  }

  bool parseArray(Value &v, size_t depth) {
    if (!enter(depth))
      return false;
    v.kind = Kind::Array;
    ++pos_;
    skipWs();
    if (!atEnd() && cur() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      v.items.emplace_back();
      if (!parseValue(v.items.back(), depth))
        return false;
      skipWs();
      if (!atEnd() && cur() == ',') {
        ++pos_;
        skipWs();
        continue;
      }
      if (!atEnd() && cur() == ']') {
        ++pos_;
        return true;
      }
      return setError(fail("expected ',' or ']' after an array element, found " + found()));
    }
  }

  bool parseObject(Value &v, size_t depth) {
    if (!enter(depth))
      return false;
    v.kind = Kind::Object;
    ++pos_;
    skipWs();
    if (!atEnd() && cur() == '}') {
      ++pos_;
      return true;
    }
    std::unordered_map<std::string, size_t> seen;
    bool afterComma = false;
    while (true) {
      if (atEnd() || cur() != '"')
        return setError(fail(std::string(afterComma ? "expected a string key after ','"
                                                    : "expected a string key or '}'") +
                             ", found " + found()));
      const size_t keyAt = pos_;
      std::string key;
      if (!parseString(key))
        return false;
      if (!seen.emplace(key, keyAt).second)
        return setError(failAt("duplicate key " + quote(key), keyAt));
      skipWs();
      if (atEnd() || cur() != ':')
        return setError(fail("expected ':' after an object key, found " + found()));
      ++pos_;
      skipWs();
      v.keys.push_back(std::move(key));
      v.items.emplace_back();
      if (!parseValue(v.items.back(), depth))
        return false;
      skipWs();
      if (!atEnd() && cur() == ',') {
        ++pos_;
        skipWs();
        afterComma = true;
        continue;
      }
      if (!atEnd() && cur() == '}') {
        ++pos_;
        return true;
      }
      return setError(fail("expected ',' or '}' after an object member, found " + found()));
    }
  }

  std::string_view s_;
  ParseLimits limits_;
  size_t pos_ = 0;
  size_t count_ = 0;
  Status error_;
};

} // namespace

StatusOr<Value> parse(std::string_view text, const ParseLimits &limits) {
  return Parser(text, limits).run();
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += ch;
      }
    }
  }
  out += '"';
  return out;
}

bool isValidUtf8(std::string_view s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    const size_t len = decodeUtf8(p + i, s.size() - i, cp);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

} // namespace json
} // namespace fp8rt
