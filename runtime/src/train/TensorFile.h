//===- TensorFile.h - The trainer's checkpoint records ----------*- C++ -*-===//
//
// Private to the trainer: named tensors as the checkpoint file holds them,
// their dtypes in safetensors' spelling ("F32", "I64", ...; fp8rt::
// safetensorsDTypeName), read and written through Safetensors.h.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_TENSORFILE_H
#define FP8RT_SRC_TRAIN_TENSORFILE_H

#include "fp8rt/Status.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fp8rt {
namespace trainer {

struct TensorRecord {
  std::string name;
  std::string dtype;           ///< safetensors spelling: "F32", "I64", ...
  std::vector<uint64_t> shape; ///< empty: a scalar
  std::vector<uint8_t> bytes;  ///< little-endian, C order
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

/// Writes a safetensors file atomically (temporary file + rename).
Status writeTensorFile(const std::string &path, const std::vector<TensorRecord> &tensors,
                       const Metadata &metadata);

struct TensorFileContents {
  std::vector<TensorRecord> tensors; ///< sorted by name
  Metadata metadata;
};

/// Reads and validates a safetensors file; every error starts with the path.
StatusOr<TensorFileContents> readTensorFile(const std::string &path);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_TENSORFILE_H
