//===- HfImport.cpp - Hugging Face weights for --init-from -----------------===//

#include "train/HfImport.h"

#include "support/Json.h"
#include "support/ReadFile.h"
#include "train/HfModel.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

namespace fp8rt {
namespace trainer {

namespace {

bool startsWith(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// model.safetensors.index.json: {"weight_map": {tensor: shard file}}; the
/// shards are next to the index.
StatusOr<TensorFileContents> readShardedModel(const std::string &indexPath) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readRegularFile(indexPath));
  StatusOr<json::Value> index =
      json::parse(std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
  if (!index.ok())
    return invalidArgumentError(indexPath + ": " + index.status().message());
  const json::Value *map = index->find("weight_map");
  if (!map || map->kind != json::Kind::Object || map->keys.empty())
    return invalidArgumentError(indexPath + ": expected a sharded model's index with a "
                                            "non-empty \"weight_map\" object");
  std::map<std::string, std::set<std::string>> shards; // shard file -> its tensors
  for (size_t i = 0; i < map->keys.size(); ++i) {
    const json::Value &file = map->items[i];
    if (file.kind != json::Kind::String || file.text.empty() ||
        file.text.find('/') != std::string::npos)
      return invalidArgumentError(indexPath + ": weight_map." + map->keys[i] +
                                  ": expected a file name next to the index");
    shards[file.text].insert(map->keys[i]);
  }
  std::filesystem::path dir = std::filesystem::path(indexPath).parent_path();
  TensorFileContents all;
  for (const auto &[file, names] : shards) {
    std::string shardPath = (dir / file).string();
    FP8RT_ASSIGN_OR_RETURN(TensorFileContents shard, readTensorFile(shardPath));
    if (all.metadata.empty())
      all.metadata = shard.metadata;
    std::set<std::string> listed = names;
    for (TensorRecord &r : shard.tensors) {
      listed.erase(r.name);
      all.tensors.push_back(std::move(r));
    }
    if (!listed.empty())
      return invalidArgumentError(indexPath + ": weight_map puts " + *listed.begin() + " in " +
                                  file + ", which does not hold it");
  }
  std::sort(all.tensors.begin(), all.tensors.end(),
            [](const TensorRecord &a, const TensorRecord &b) { return a.name < b.name; });
  // An index is Hugging Face's own format, whatever the shards' metadata says.
  all.metadata.push_back({"format", "pt"});
  return all;
}

const TensorRecord *findRecord(const std::vector<TensorRecord> &records, const std::string &name) {
  for (const TensorRecord &r : records)
    if (r.name == name)
      return &r;
  return nullptr;
}

/// HF's GPT2LMHeadModel → nanoGPT: the `transformer.` prefix (GPT2Model files
/// such as the hub's gpt2 lack it), the attention-mask buffers of older files
/// dropped, Conv1D weights transposed, position rows beyond seq_len dropped.
void convertGpt(const HfModelShape &s, std::vector<TensorRecord> &records) {
  std::vector<TensorRecord> out;
  for (TensorRecord &r : records) {
    if (!startsWith(r.name, "transformer.") && !startsWith(r.name, "lm_head."))
      r.name = "transformer." + r.name;
    if (endsWith(r.name, ".attn.bias") || endsWith(r.name, ".attn.masked_bias"))
      continue;
    if (isConv1DWeight(r.name))
      transpose2D(r);
    if (r.name == "transformer.wpe.weight" && r.shape.size() == 2 &&
        r.shape[0] > uint64_t(s.seqLen)) {
      r.bytes.resize(size_t(s.seqLen) * (r.bytes.size() / r.shape[0]));
      r.shape[0] = uint64_t(s.seqLen);
    }
    // A bias-free gpt takes an export's zero biases (HF's GPT-2 always has them).
    if (!s.bias && endsWith(r.name, ".bias") && isAllZero(r))
      continue;
    out.push_back(std::move(r));
  }
  records = std::move(out);
  const TensorRecord *wte = findRecord(records, "transformer.wte.weight");
  const TensorRecord *head = findRecord(records, "lm_head.weight");
  if (s.tieEmbeddings && head && wte && head->bytes == wte->bytes) {
    records.erase(records.begin() + (head - records.data()));
  } else if (!s.tieEmbeddings && !head && wte) {
    // A tied HF model into an untied program: the head starts as the embedding.
    TensorRecord copy = *wte;
    copy.name = "lm_head.weight";
    records.push_back(std::move(copy));
  }
}

/// HF's LlamaForCausalLM has fp8c's names and layouts; older files keep the
/// RoPE inverse frequencies, and a tied model has no lm_head.
void convertLlama(std::vector<TensorRecord> &records) {
  records.erase(std::remove_if(
                    records.begin(), records.end(),
                    [](const TensorRecord &r) { return endsWith(r.name, ".rotary_emb.inv_freq"); }),
                records.end());
  const TensorRecord *embed = findRecord(records, "model.embed_tokens.weight");
  if (embed && !findRecord(records, "lm_head.weight")) {
    TensorRecord copy = *embed;
    copy.name = "lm_head.weight";
    records.push_back(std::move(copy));
  }
}

} // namespace

StatusOr<TensorFileContents> readCheckpointFiles(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::filesystem::path dir(path);
    for (const char *name : {"model.safetensors", "model.safetensors.index.json"})
      if (std::filesystem::exists(dir / name, ec))
        return readCheckpointFiles((dir / name).string());
    return notFoundError(path + " is a directory without model.safetensors or "
                                "model.safetensors.index.json");
  }
  if (endsWith(path, ".json"))
    return readShardedModel(path);
  return readTensorFile(path);
}

bool isHuggingFaceModel(const TensorFileContents &contents) {
  for (const auto &[key, value] : contents.metadata)
    if (key == "format")
      return value == "pt";
  return false;
}

Status convertFromHuggingFace(const Program &program, TensorFileContents &contents,
                              const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(HfModelShape shape,
                         parseHfModelShape(program.configJson, "--init-from " + path));
  // Renaming, transposing and slicing work on bytes, whatever the dtype.
  if (shape.family == "gpt")
    convertGpt(shape, contents.tensors);
  else
    convertLlama(contents.tensors);
  for (TensorRecord &r : contents.tensors)
    FP8RT_RETURN_IF_ERROR(convertToF32(r, path));
  std::sort(contents.tensors.begin(), contents.tensors.end(),
            [](const TensorRecord &a, const TensorRecord &b) { return a.name < b.name; });
  return Status::success();
}

} // namespace trainer
} // namespace fp8rt
