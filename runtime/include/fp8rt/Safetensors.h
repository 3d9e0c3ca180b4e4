//===- Safetensors.h - safetensors reader and writer ------------*- C++ -*-===//
//
// The safetensors format (https://github.com/huggingface/safetensors):
//
//   [8 bytes: N, little-endian u64][N bytes: JSON header][data]
//
// header = {"__metadata__": {str: str}, NAME: {"dtype": D, "shape": [..],
// "data_offsets": [BEGIN, END]}, ...}; offsets are relative to the start of
// the data and the tensors must cover the data exactly, without gaps or
// overlaps. This implementation supports the dtypes below; docs/runtime.md
// lists every validation rule and the exact layout the writer produces (that
// of the reference Rust implementation).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SAFETENSORS_H
#define FP8RT_SAFETENSORS_H

#include "fp8rt/Status.h"
#include "fp8rt/support/DType.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp8rt {

/// One tensor of a parsed file.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;
  uint64_t begin = 0; ///< data_offsets, relative to the start of the data
  uint64_t end = 0;

  uint64_t numElements() const; ///< product of the shape (1 for [])
  uint64_t numBytes() const { return end - begin; }
};

/// A fully validated safetensors file held in memory (read whole; no mmap).
/// Every entry's bytes are inside the buffer, so `data(entry)` is always safe
/// to read for `entry.numBytes()` bytes. The data of a tensor is aligned to
/// its element size when the header length is a multiple of 8 (as every
/// writer following the reference produces); otherwise copy before casting.
class SafetensorsReader {
public:
  /// Reads and validates `path`. Every error message starts with `path`.
  static StatusOr<SafetensorsReader> open(const std::string &path);
  /// Validates a file image already in memory; `displayName` starts every
  /// error message (a path, or "<memory>").
  static StatusOr<SafetensorsReader> parse(std::vector<uint8_t> bytes, std::string displayName);

  const std::string &displayName() const { return displayName_; }
  /// Entries in data order (ascending data_offsets).
  const std::vector<SafetensorsEntry> &tensors() const { return tensors_; }
  /// The entry called `name`, or nullptr.
  const SafetensorsEntry *find(std::string_view name) const;
  /// First byte of an entry's data (little-endian elements, C order).
  const uint8_t *data(const SafetensorsEntry &entry) const {
    return bytes_.data() + dataStart_ + entry.begin;
  }
  /// The "__metadata__" pairs, sorted by key; empty if absent.
  const std::vector<std::pair<std::string, std::string>> &metadata() const { return metadata_; }
  /// A metadata value, or nullopt.
  std::optional<std::string_view> metadataValue(std::string_view key) const;
  /// N, the length of the JSON header (padding included).
  uint64_t headerLength() const { return dataStart_ - 8; }
  /// The whole file.
  const std::vector<uint8_t> &bytes() const { return bytes_; }

private:
  SafetensorsReader() = default;
  std::string displayName_;
  std::vector<uint8_t> bytes_;
  uint64_t dataStart_ = 0;
  std::vector<SafetensorsEntry> tensors_; // data order
  std::vector<uint32_t> byName_;          // indices into tensors_, by name
  std::vector<std::pair<std::string, std::string>> metadata_;
};

/// Collects tensors and metadata, then writes them as the reference
/// implementation does: data ordered by dtype alignment (8-byte dtypes first,
/// then 4, 2, 1; within one size the reference's dtype order) and, within a
/// dtype, by name (byte order); header in that order with "__metadata__"
/// first (keys sorted), compact JSON, padded with spaces to a multiple of 8.
///
/// Tensor data is *borrowed*: the pointers passed to addTensor must stay
/// valid until the last write/serialize call.
class SafetensorsWriter {
public:
  /// Errors (kInvalidArgument): a duplicate or reserved ("__metadata__") or
  /// non-UTF-8 name, `nbytes` != product(shape) * dtypeSize, overflow, null
  /// data with nbytes > 0.
  Status addTensor(std::string name, DType dtype, std::vector<uint64_t> shape, const void *data,
                   size_t nbytes);
  /// Errors: duplicate key, non-UTF-8 key or value.
  Status addMetadata(std::string key, std::string value);

  /// The N header bytes (JSON + space padding) that follow the length field.
  std::string header() const;
  /// The complete file image.
  std::vector<uint8_t> serialize() const;
  /// Writes the file atomically: to "<path>.tmp.<pid>", fsync, rename over
  /// `path`, fsync of the directory. On any failure the temporary file is
  /// removed and `path` is untouched. Errors (kIoError) name the path and the
  /// failing system call with strerror.
  Status writeFile(const std::string &path) const;

private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<uint64_t> shape;
    const uint8_t *data;
    size_t nbytes;
  };
  /// Tensors in file order.
  std::vector<const Tensor *> ordered() const;

  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

} // namespace fp8rt

#endif // FP8RT_SAFETENSORS_H
