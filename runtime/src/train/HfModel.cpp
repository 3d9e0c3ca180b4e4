//===- HfModel.cpp - fp8c models as Hugging Face sees them -----------------===//

#include "train/HfModel.h"

#include "fp8rt/Numerics.h"
#include "support/Json.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace fp8rt {
namespace trainer {

namespace {

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// Reads `key` of the model object into `out`; an error names the key.
Status readInt(const json::Value &model, const char *key, int64_t &out, bool required,
               const std::string &where) {
  const json::Value *v = model.find(key);
  if (!v)
    return required ? invalidArgumentError(where + ": config.model." + key + " is missing")
                    : Status::success();
  std::optional<uint64_t> n = v->asUint64();
  if (!n || *n == 0 || *n > (uint64_t(1) << 40))
    return invalidArgumentError(where + ": config.model." + key +
                                ": expected a positive integer, found " + json::describe(*v));
  out = int64_t(*n);
  return Status::success();
}

Status readNumber(const json::Value &model, const char *key, double &out, std::string &text,
                  const std::string &where) {
  const json::Value *v = model.find(key);
  if (!v)
    return Status::success();
  if (v->kind != json::Kind::Number)
    return invalidArgumentError(where + ": config.model." + key + ": expected a number, found " +
                                json::describe(*v));
  out = std::strtod(v->text.c_str(), nullptr);
  text = v->text;
  return Status::success();
}

void readBool(const json::Value &model, const char *key, bool &out) {
  if (const json::Value *v = model.find(key); v && v->kind == json::Kind::Bool)
    out = v->boolean;
}

} // namespace

StatusOr<HfModelShape> parseHfModelShape(const std::string &configJson, const std::string &where) {
  StatusOr<json::Value> config = json::parse(configJson);
  if (!config.ok())
    return invalidArgumentError(where + ": config: " + config.status().message());
  const json::Value *model = config->find("model");
  if (!model || model->kind != json::Kind::Object)
    return invalidArgumentError(where + ": config has no model object");
  HfModelShape s;
  const json::Value *family = model->find("family");
  s.family = family && family->kind == json::Kind::String ? family->text : "";
  if (s.family != "gpt" && s.family != "llama")
    return unimplementedError(where + ": family '" + s.family +
                              "' has no Hugging Face model class; gpt (GPT2LMHeadModel) and "
                              "llama (LlamaForCausalLM) do");
  FP8RT_RETURN_IF_ERROR(readInt(*model, "vocab_size", s.vocabSize, true, where));
  FP8RT_RETURN_IF_ERROR(readInt(*model, "seq_len", s.seqLen, true, where));
  FP8RT_RETURN_IF_ERROR(readInt(*model, "d_model", s.dModel, true, where));
  FP8RT_RETURN_IF_ERROR(readInt(*model, "n_layers", s.nLayers, true, where));
  FP8RT_RETURN_IF_ERROR(readInt(*model, "n_heads", s.nHeads, true, where));
  FP8RT_RETURN_IF_ERROR(readInt(*model, "ffn_dim", s.ffnDim, true, where));
  s.nKVHeads = s.nHeads;
  FP8RT_RETURN_IF_ERROR(readInt(*model, "n_kv_heads", s.nKVHeads, false, where));
  FP8RT_RETURN_IF_ERROR(readNumber(*model, "norm_eps", s.normEps, s.normEpsText, where));
  FP8RT_RETURN_IF_ERROR(readNumber(*model, "rope_theta", s.ropeTheta, s.ropeThetaText, where));
  s.bias = s.family == "gpt";
  readBool(*model, "bias", s.bias);
  s.tieEmbeddings = s.family == "gpt";
  readBool(*model, "tie_embeddings", s.tieEmbeddings);
  if (s.family == "llama")
    s.tieEmbeddings = false; // fp8c's llama always has its own lm_head
  if (const json::Value *gelu = model->find("gelu"))
    s.geluTanh = gelu->kind == json::Kind::String && gelu->text == "tanh";
  if (s.dModel % s.nHeads != 0 || s.nHeads % s.nKVHeads != 0)
    return invalidArgumentError(where + ": config.model: n_heads must divide d_model and "
                                        "n_kv_heads n_heads");
  return s;
}

bool isConv1DWeight(const std::string &name) {
  return endsWith(name, ".attn.c_attn.weight") || endsWith(name, ".attn.c_proj.weight") ||
         endsWith(name, ".mlp.c_fc.weight") || endsWith(name, ".mlp.c_proj.weight");
}

void transpose2D(TensorRecord &r) {
  if (r.shape.size() != 2)
    return;
  uint64_t rows = r.shape[0], cols = r.shape[1];
  size_t element = rows != 0 && cols != 0 ? r.bytes.size() / (rows * cols) : 0;
  std::vector<uint8_t> out(r.bytes.size());
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t j = 0; j < cols; ++j)
      std::memcpy(&out[(j * rows + i) * element], &r.bytes[(i * cols + j) * element], element);
  r.bytes = std::move(out);
  r.shape = {cols, rows};
}

Status convertToF32(TensorRecord &r, const std::string &where) {
  if (r.dtype == "F32")
    return Status::success();
  if (r.dtype != "BF16" && r.dtype != "F16")
    return invalidArgumentError(where + ": tensor " + r.name + " is " + r.dtype +
                                "; expected F32, BF16 or F16 weights");
  size_t n = r.bytes.size() / 2;
  std::vector<uint8_t> out(n * 4);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, &r.bytes[2 * i], 2);
    float f = r.dtype == "BF16" ? bf16ToFloat(h) : f16ToFloat(h);
    std::memcpy(&out[4 * i], &f, 4);
  }
  r.bytes = std::move(out);
  r.dtype = "F32";
  return Status::success();
}

bool isAllZero(const TensorRecord &r) {
  for (uint8_t b : r.bytes)
    if (b)
      return false;
  return true;
}

} // namespace trainer
} // namespace fp8rt
