//===- HfModel.h - fp8c models as Hugging Face sees them ---------*- C++ -*-===//
//
// Private to the trainer: what the Hugging Face export (HfExport.cpp) and the
// --init-from import of Hugging Face files (HfImport.cpp) share. The model's
// shape comes from the program's `config` object (or the copy a checkpoint
// keeps in its metadata); the layouts differ from fp8c's only for gpt, whose
// four projection weights HF's GPT-2 keeps as Conv1D `[in, out]`, the
// transpose of nanoGPT's nn.Linear `[out, in]`. Llama names and layouts are
// the same on both sides (fp8c's RoPE is HF's rotate-half, so q_proj and k_proj
// need no permutation). docs/hf-interop.md is the reference.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_HFMODEL_H
#define FP8RT_SRC_TRAIN_HFMODEL_H

#include "fp8rt/Status.h"
#include "train/TensorFile.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt {
namespace trainer {

/// The `model` part of a program's config (docs/model-description.md).
struct HfModelShape {
  std::string family; ///< "gpt" or "llama"
  int64_t vocabSize = 0, seqLen = 0, dModel = 0, nLayers = 0, nHeads = 0, nKVHeads = 0, ffnDim = 0;
  double normEps = 1e-5, ropeTheta = 10000.0;
  bool bias = true, tieEmbeddings = false;
  bool geluTanh = false; ///< gpt: `gelu: tanh` (HF's "gelu_new")
  /// The number as the config wrote it (shortest round trip), for config.json.
  std::string normEpsText = "1e-05", ropeThetaText = "10000";
};

/// Reads the model shape from a program's config JSON; `where` prefixes the
/// errors. Refuses families Hugging Face has no class for (mlp).
StatusOr<HfModelShape> parseHfModelShape(const std::string &configJson, const std::string &where);

/// Whether HF's GPT-2 keeps the fp8c weight `name` transposed (Conv1D):
/// `*.attn.c_attn.weight`, `*.attn.c_proj.weight`, `*.mlp.c_fc.weight`,
/// `*.mlp.c_proj.weight`.
bool isConv1DWeight(const std::string &name);

/// Transposes a 2-D tensor in place (any element size).
void transpose2D(TensorRecord &r);

/// Converts BF16 and F16 tensors to F32 (exactly); F32 is left alone. Other
/// dtypes are an error naming the tensor.
Status convertToF32(TensorRecord &r, const std::string &where);

/// Whether every byte of the tensor is zero.
bool isAllZero(const TensorRecord &r);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_HFMODEL_H
