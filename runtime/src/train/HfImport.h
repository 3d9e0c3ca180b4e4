//===- HfImport.h - Hugging Face weights for --init-from ---------*- C++ -*-===//
//
// Private to the trainer. --init-from takes an fp8c checkpoint or a Hugging
// Face model: a model.safetensors, a sharded one through its
// model.safetensors.index.json, or a directory holding either. A Hugging Face
// file (metadata format = pt, as save_pretrained writes) is converted to
// fp8c's names, layouts and F32 before the usual matching against the
// program (Checkpoint.cpp). docs/hf-interop.md lists the conversions.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_HFIMPORT_H
#define FP8RT_SRC_TRAIN_HFIMPORT_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "train/TensorFile.h"

#include <string>

namespace fp8rt {
namespace trainer {

/// Reads the tensors `path` names: a safetensors file, a sharded model's
/// index (*.json), or a directory with model.safetensors or
/// model.safetensors.index.json.
StatusOr<TensorFileContents> readCheckpointFiles(const std::string &path);

/// Whether the contents are a Hugging Face model rather than an fp8c checkpoint.
bool isHuggingFaceModel(const TensorFileContents &contents);

/// Renames, converts and transposes a Hugging Face model's tensors into
/// fp8c's parameters of `program` (gpt or llama); the result is sorted by name.
Status convertFromHuggingFace(const Program &program, TensorFileContents &contents,
                              const std::string &path);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_HFIMPORT_H
