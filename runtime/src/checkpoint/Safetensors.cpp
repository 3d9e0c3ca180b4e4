//===- Safetensors.cpp - safetensors reader and writer ---------------------===//
//
// Reader: the whole file is read into memory, then validated completely before
// anything is exposed; every later access is within the buffer. Writer: the
// layout of the reference implementation (huggingface/safetensors,
// safetensors/src/tensor.rs `prepare`), written to a temporary file that is
// fsync'ed and renamed over the destination.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Safetensors.h"

#include "fp8rt/support/AtomicFile.h"

#include "support/Json.h"
#include "support/ReadFile.h"

#include <algorithm>
#include <cstring>

namespace fp8rt {

namespace {

/// The reference implementation refuses headers above 100 MB.
constexpr uint64_t kMaxHeaderLength = 100000000;

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string num(uint64_t v) { return std::to_string(v); }

/// json::describe, but a number bare ("1.5", not "number 1.5"), as
/// safetensors messages have always printed it.
std::string describeBare(const json::Value &v) {
  return v.kind == json::Kind::Number ? v.text : json::describe(v);
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t &out) {
  return __builtin_mul_overflow(a, b, &out);
}

} // namespace

uint64_t SafetensorsEntry::numElements() const {
  uint64_t n = 1;
  for (uint64_t d : shape)
    n *= d; // validated not to overflow when read
  return n;
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

StatusOr<SafetensorsReader> SafetensorsReader::open(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readRegularFile(path));
  return parse(std::move(bytes), path);
}

namespace {

/// The JSON header after the 8-byte length field, checked against the file
/// size and the reference implementation's limit; `n` is its length.
StatusOr<std::string_view> headerText(const std::vector<uint8_t> &bytes, const std::string &f,
                                      uint64_t &n) {
  const uint64_t size = bytes.size();
  if (size < 8)
    return dataLossError(f + ": file is " + num(size) +
                         " bytes, expected at least 8 (the header length)");
  n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | bytes[size_t(i)];
  if (n > kMaxHeaderLength)
    return dataLossError(f + ": header length " + num(n) + " exceeds the limit of " +
                         num(kMaxHeaderLength) + " bytes");
  if (n > size - 8)
    return dataLossError(f + ": header length " + num(n) + " exceeds the " + num(size - 8) +
                         " bytes that follow the length field");
  const std::string_view header(reinterpret_cast<const char *>(bytes.data()) + 8, size_t(n));
  if (header.empty() || header[0] != '{') {
    std::string found = "the end of the file";
    if (!header.empty()) {
      const unsigned char c = static_cast<unsigned char>(header[0]);
      found = (c >= 0x20 && c < 0x7F) ? q(std::string(1, char(c))) : "byte " + num(c);
    }
    return dataLossError(f + ": header must start with '{', found " + found);
  }
  return header;
}

/// The __metadata__ object: strings only.
Status parseMetadata(const json::Value &v, const std::string &f,
                     std::vector<std::pair<std::string, std::string>> &metadata) {
  if (v.kind != json::Kind::Object)
    return dataLossError(f +
                         ": __metadata__: expected an object of "
                         "strings, found " +
                         describeBare(v));
  for (size_t k = 0; k < v.keys.size(); ++k) {
    if (v.items[k].kind != json::Kind::String)
      return dataLossError(f + ": __metadata__ " + q(v.keys[k]) + ": expected a string, found " +
                           describeBare(v.items[k]));
    metadata.emplace_back(v.keys[k], v.items[k].text);
  }
  return Status::success();
}

/// The shape array: non-negative 64-bit integers. `t` prefixes messages.
Status parseShape(const json::Value &shape, const std::string &t, std::vector<uint64_t> &out) {
  if (shape.kind != json::Kind::Array)
    return dataLossError(t +
                         "shape: expected an array of non-negative "
                         "integers, found " +
                         describeBare(shape));
  for (size_t k = 0; k < shape.items.size(); ++k) {
    std::optional<uint64_t> dim = shape.items[k].asUint64();
    if (!dim)
      return dataLossError(t + "shape[" + num(k) +
                           "]: expected a non-negative 64-bit integer, "
                           "found " +
                           describeBare(shape.items[k]));
    out.push_back(*dim);
  }
  return Status::success();
}

/// data_offsets: [begin, end] within the data, spanning exactly the bytes
/// of the entry's dtype and shape.
Status parseOffsets(const json::Value &offsets, const std::string &t, uint64_t dataSize,
                    SafetensorsEntry &e) {
  if (offsets.kind != json::Kind::Array || offsets.items.size() != 2)
    return dataLossError(t + "data_offsets: expected [begin, end], found " + describeBare(offsets));
  uint64_t be[2];
  for (size_t k = 0; k < 2; ++k) {
    std::optional<uint64_t> o = offsets.items[k].asUint64();
    if (!o)
      return dataLossError(t + "data_offsets[" + num(k) +
                           "]: expected a non-negative 64-bit integer, "
                           "found " +
                           describeBare(offsets.items[k]));
    be[k] = *o;
  }
  e.begin = be[0];
  e.end = be[1];
  const std::string offStr = "data_offsets [" + num(e.begin) + ", " + num(e.end) + "]";
  if (e.begin > e.end)
    return dataLossError(t + offStr + ": begin is after end");

  uint64_t bytesNeeded = dtypeSize(e.dtype);
  for (uint64_t dim : e.shape)
    if (mulOverflows(bytesNeeded, dim, bytesNeeded))
      return dataLossError(t + "shape " + shapeString(e.shape) + " of " +
                           safetensorsDTypeName(e.dtype) + " has more than 2^64 bytes");
  if (e.end - e.begin != bytesNeeded)
    return dataLossError(t + offStr + " span " + num(e.end - e.begin) + " bytes, expected " +
                         num(bytesNeeded) + " (shape " + shapeString(e.shape) + " of " +
                         safetensorsDTypeName(e.dtype) + ")");
  if (e.end > dataSize)
    return dataLossError(t + offStr + " end beyond the " + num(dataSize) + " bytes of data");
  return Status::success();
}

/// One tensor's header entry: exactly dtype, shape and data_offsets.
StatusOr<SafetensorsEntry> parseEntry(const std::string &name, const json::Value &v,
                                      const std::string &f, uint64_t dataSize) {
  const std::string t = f + ": tensor " + q(name) + ": ";
  if (v.kind != json::Kind::Object)
    return dataLossError(t +
                         "expected an object with dtype, shape and "
                         "data_offsets, found " +
                         describeBare(v));
  for (const std::string &key : v.keys)
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      return dataLossError(t + "unknown field " + q(key) +
                           " (expected dtype, shape and data_offsets)");
  const json::Value *dtype = v.find("dtype");
  const json::Value *shape = v.find("shape");
  const json::Value *offsets = v.find("data_offsets");
  for (const char *field : {"dtype", "shape", "data_offsets"})
    if (!v.find(field))
      return dataLossError(t + "missing field " + q(field));

  SafetensorsEntry e;
  e.name = name;
  if (dtype->kind != json::Kind::String)
    return dataLossError(t + "dtype: expected a string, found " + describeBare(*dtype));
  std::optional<DType> d = safetensorsDTypeFromName(dtype->text);
  if (!d)
    return dataLossError(t + "unknown dtype " + json::quote(dtype->text) +
                         " (supported: " + supportedSafetensorsDTypes() + ")");
  e.dtype = *d;
  FP8RT_RETURN_IF_ERROR(parseShape(*shape, t, e.shape));
  FP8RT_RETURN_IF_ERROR(parseOffsets(*offsets, t, dataSize, e));
  return e;
}

/// Sorts the tensors by offsets and checks that they cover the data
/// exactly: each starts where the previous one ends, and the last ends at
/// the end of the file.
Status checkCoverage(std::vector<SafetensorsEntry> &tensors, const std::string &f,
                     uint64_t dataSize) {
  std::sort(tensors.begin(), tensors.end(),
            [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
              if (a.begin != b.begin)
                return a.begin < b.begin;
              if (a.end != b.end)
                return a.end < b.end;
              return a.name < b.name;
            });
  uint64_t covered = 0;
  const SafetensorsEntry *prev = nullptr;
  for (const SafetensorsEntry &e : tensors) {
    const std::string offStr = "data_offsets [" + num(e.begin) + ", " + num(e.end) + "]";
    if (e.begin < covered)
      return dataLossError(f + ": tensor " + q(e.name) + ": " + offStr + " overlap tensor " +
                           q(prev->name) + " at [" + num(prev->begin) + ", " + num(prev->end) +
                           "]");
    if (e.begin > covered)
      return dataLossError(f + ": tensor " + q(e.name) + ": " + offStr + " leave data bytes [" +
                           num(covered) + ", " + num(e.begin) +
                           ") unused; expected it to begin at " + num(covered));
    covered = e.end;
    prev = &e;
  }
  if (covered != dataSize)
    return dataLossError(f + ": the tensors cover " + num(covered) + " of the " + num(dataSize) +
                         " data bytes; expected exactly all "
                         "(bytes [" +
                         num(covered) + ", " + num(dataSize) + ") unused)");
  return Status::success();
}

} // namespace

StatusOr<SafetensorsReader> SafetensorsReader::parse(std::vector<uint8_t> bytes,
                                                     std::string displayName) {
  const std::string &f = displayName;
  uint64_t n = 0;
  FP8RT_ASSIGN_OR_RETURN(const std::string_view header, headerText(bytes, f, n));
  json::ParseLimits limits;
  limits.baseOffset = 8;
  StatusOr<json::Value> parsed = json::parse(header, limits);
  if (!parsed.ok())
    return dataLossError(f + ": header: " + parsed.status().message());
  const json::Value &root = *parsed;

  const uint64_t dataStart = 8 + n;
  const uint64_t dataSize = bytes.size() - dataStart;
  SafetensorsReader r;
  for (size_t i = 0; i < root.keys.size(); ++i) {
    const std::string &name = root.keys[i];
    if (name == "__metadata__") {
      FP8RT_RETURN_IF_ERROR(parseMetadata(root.items[i], f, r.metadata_));
      continue;
    }
    FP8RT_ASSIGN_OR_RETURN(SafetensorsEntry e, parseEntry(name, root.items[i], f, dataSize));
    r.tensors_.push_back(std::move(e));
  }
  FP8RT_RETURN_IF_ERROR(checkCoverage(r.tensors_, f, dataSize));

  r.byName_.resize(r.tensors_.size());
  for (size_t i = 0; i < r.byName_.size(); ++i)
    r.byName_[i] = uint32_t(i);
  std::sort(r.byName_.begin(), r.byName_.end(),
            [&](uint32_t a, uint32_t b) { return r.tensors_[a].name < r.tensors_[b].name; });
  std::sort(r.metadata_.begin(), r.metadata_.end());
  r.displayName_ = std::move(displayName);
  r.bytes_ = std::move(bytes);
  r.dataStart_ = dataStart;
  return r;
}

const SafetensorsEntry *SafetensorsReader::find(std::string_view name) const {
  auto it = std::lower_bound(byName_.begin(), byName_.end(), name,
                             [&](uint32_t i, std::string_view n) { return tensors_[i].name < n; });
  if (it == byName_.end() || tensors_[*it].name != name)
    return nullptr;
  return &tensors_[*it];
}

std::optional<std::string_view> SafetensorsReader::metadataValue(std::string_view key) const {
  auto it = std::lower_bound(
      metadata_.begin(), metadata_.end(), key,
      [](const std::pair<std::string, std::string> &p, std::string_view k) { return p.first < k; });
  if (it == metadata_.end() || it->first != key)
    return std::nullopt;
  return std::string_view(it->second);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

Status SafetensorsWriter::addTensor(std::string name, DType dtype, std::vector<uint64_t> shape,
                                    const void *data, size_t nbytes) {
  const std::string t = "safetensors writer: tensor " + q(name) + ": ";
  if (name == "__metadata__")
    return invalidArgumentError(t + "the name is reserved for metadata");
  if (!json::isValidUtf8(name))
    return invalidArgumentError(t + "the name is not valid UTF-8");
  for (const Tensor &other : tensors_)
    if (other.name == name)
      return invalidArgumentError(t + "added twice");
  if (!safetensorsDTypeName(dtype))
    return invalidArgumentError(t + "safetensors has no " + dtypeName(dtype) + " dtype");
  uint64_t expected = dtypeSize(dtype);
  for (uint64_t dim : shape)
    if (mulOverflows(expected, dim, expected))
      return invalidArgumentError(t + "shape " + shapeString(shape) + " of " +
                                  safetensorsDTypeName(dtype) + " has more than 2^64 bytes");
  if (uint64_t(nbytes) != expected)
    return invalidArgumentError(t + num(nbytes) + " bytes given, expected " + num(expected) +
                                " (shape " + shapeString(shape) + " of " +
                                safetensorsDTypeName(dtype) + ")");
  if (nbytes > 0 && data == nullptr)
    return invalidArgumentError(t + "null data for " + num(nbytes) + " bytes");
  tensors_.push_back(
      Tensor{std::move(name), dtype, std::move(shape), static_cast<const uint8_t *>(data), nbytes});
  return Status::success();
}

Status SafetensorsWriter::addMetadata(std::string key, std::string value) {
  if (!json::isValidUtf8(key) || !json::isValidUtf8(value))
    return invalidArgumentError("safetensors writer: metadata " + q(key) + ": not valid UTF-8");
  for (const auto &kv : metadata_)
    if (kv.first == key)
      return invalidArgumentError("safetensors writer: metadata " + q(key) + ": added twice");
  metadata_.emplace_back(std::move(key), std::move(value));
  return Status::success();
}

std::vector<const SafetensorsWriter::Tensor *> SafetensorsWriter::ordered() const {
  std::vector<const Tensor *> out;
  out.reserve(tensors_.size());
  for (const Tensor &t : tensors_)
    out.push_back(&t);
  // As the reference: descending dtype (alignment) order, then by name.
  std::sort(out.begin(), out.end(), [](const Tensor *a, const Tensor *b) {
    const int ra = safetensorsDTypeOrder(a->dtype), rb = safetensorsDTypeOrder(b->dtype);
    if (ra != rb)
      return ra > rb;
    return a->name < b->name;
  });
  return out;
}

std::string SafetensorsWriter::header() const {
  std::string h = "{";
  bool first = true;
  if (!metadata_.empty()) {
    auto sorted = metadata_;
    std::sort(sorted.begin(), sorted.end());
    h += "\"__metadata__\":{";
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i)
        h += ',';
      h += json::quote(sorted[i].first);
      h += ':';
      h += json::quote(sorted[i].second);
    }
    h += '}';
    first = false;
  }
  uint64_t offset = 0;
  for (const Tensor *t : ordered()) {
    if (!first)
      h += ',';
    first = false;
    h += json::quote(t->name);
    h += ":{\"dtype\":\"";
    h += safetensorsDTypeName(t->dtype);
    h += "\",\"shape\":[";
    for (size_t i = 0; i < t->shape.size(); ++i) {
      if (i)
        h += ',';
      h += num(t->shape[i]);
    }
    h += "],\"data_offsets\":[";
    h += num(offset);
    h += ',';
    offset += t->nbytes;
    h += num(offset);
    h += "]}";
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

std::vector<uint8_t> SafetensorsWriter::serialize() const {
  const std::string h = header();
  std::vector<uint8_t> out;
  uint64_t total = 8 + h.size();
  for (const Tensor &t : tensors_)
    total += t.nbytes;
  out.reserve(size_t(total));
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), h.begin(), h.end());
  for (const Tensor *t : ordered())
    out.insert(out.end(), t->data, t->data + t->nbytes);
  return out;
}

Status SafetensorsWriter::writeFile(const std::string &path) const {
  AtomicFile file;
  FP8RT_RETURN_IF_ERROR(AtomicFile::open(path, file));
  const std::string h = header();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
  FP8RT_RETURN_IF_ERROR(file.write(len, 8));
  FP8RT_RETURN_IF_ERROR(file.write(h.data(), h.size()));
  for (const Tensor *t : ordered())
    FP8RT_RETURN_IF_ERROR(file.write(t->data, t->nbytes));
  return file.commit();
}

} // namespace fp8rt
