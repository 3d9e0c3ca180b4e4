//===- TensorFile.cpp - Checkpoint files through Safetensors.h -------------===//
//
// The trainer's checkpoint records through the safetensors reader and writer.
//
//===----------------------------------------------------------------------===//

#include "train/TensorFile.h"

#include "fp8rt/Safetensors.h"

#include <algorithm>

namespace fp8rt {
namespace trainer {

Status writeTensorFile(const std::string &path, const std::vector<TensorRecord> &tensors,
                       const Metadata &metadata) {
  SafetensorsWriter writer;
  for (const TensorRecord &t : tensors) {
    std::optional<DType> dtype = safetensorsDTypeFromName(t.dtype);
    if (!dtype)
      return internalError(path + ": tensor '" + t.name + "': dtype " + t.dtype +
                           " is not a safetensors dtype");
    FP8RT_RETURN_IF_ERROR(writer.addTensor(t.name, *dtype, t.shape, t.bytes.data(), t.bytes.size())
                              .withContext(path));
  }
  for (const auto &[key, value] : metadata)
    FP8RT_RETURN_IF_ERROR(writer.addMetadata(key, value).withContext(path));
  return writer.writeFile(path);
}

StatusOr<TensorFileContents> readTensorFile(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(SafetensorsReader reader, SafetensorsReader::open(path));
  TensorFileContents contents;
  contents.metadata = reader.metadata();
  for (const SafetensorsEntry &e : reader.tensors()) {
    TensorRecord r;
    r.name = e.name;
    r.dtype = safetensorsDTypeName(e.dtype);
    r.shape = e.shape;
    const uint8_t *data = reader.data(e);
    r.bytes.assign(data, data + e.numBytes());
    contents.tensors.push_back(std::move(r));
  }
  std::sort(contents.tensors.begin(), contents.tensors.end(),
            [](const TensorRecord &a, const TensorRecord &b) { return a.name < b.name; });
  return contents;
}

} // namespace trainer
} // namespace fp8rt
