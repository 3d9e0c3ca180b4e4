//===- TrainerTestFiles.cpp - Reads trainer outputs for TrainerTest --------===//
//
// Reads the checkpoints and dumps the trainer wrote, through the safetensors
// reader, for TrainerTest.cpp (dtypes in safetensors' spelling).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Safetensors.h"

#include <map>
#include <string>
#include <vector>

namespace trainer_test {

struct FileTensor {
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

bool readTensors(const std::string &path, std::map<std::string, FileTensor> &out,
                 std::map<std::string, std::string> &metadata, std::string &error) {
  fp8rt::StatusOr<fp8rt::SafetensorsReader> reader = fp8rt::SafetensorsReader::open(path);
  if (!reader.ok()) {
    error = reader.status().toString();
    return false;
  }
  out.clear();
  for (const fp8rt::SafetensorsEntry &e : reader->tensors()) {
    FileTensor t;
    t.dtype = fp8rt::safetensorsDTypeName(e.dtype);
    t.shape = e.shape;
    const uint8_t *d = reader->data(e);
    t.bytes.assign(d, d + e.numBytes());
    out[e.name] = std::move(t);
  }
  metadata.clear();
  for (const auto &[k, v] : reader->metadata())
    metadata[k] = v;
  return true;
}

} // namespace trainer_test
