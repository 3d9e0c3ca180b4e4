//===- HfExport.cpp - fp8c checkpoints as Hugging Face models --------------===//
//
// The checkpoint's parameters, checked against the model description, become
// HF's state dict: gpt's Conv1D weights transposed, biases a bias-free gpt
// lacks written as zeros (HF's GPT-2 always has them; zeros compute the same),
// a tied head left out as save_pretrained leaves it out. config.json names the
// class and every setting that differs from fp8c's computation otherwise.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/HfExport.h"

#include "fp8rt/support/AtomicFile.h"
#include "train/HfModel.h"

#include <filesystem>
#include <map>
#include <sstream>

namespace fp8rt {

using trainer::HfModelShape;
using trainer::TensorRecord;

namespace {

struct ParamSpec {
  std::string name;
  std::vector<uint64_t> shape;
  bool zeroFilled = false; ///< absent from fp8c (gpt without biases), zeros in HF
};

/// Every tensor of HF's state dict, under fp8c's names and shapes.
std::vector<ParamSpec> hfParams(const HfModelShape &s) {
  uint64_t V = s.vocabSize, T = s.seqLen, d = s.dModel, f = s.ffnDim;
  uint64_t kv = uint64_t(s.nKVHeads) * uint64_t(s.dModel / s.nHeads);
  std::vector<ParamSpec> p;
  auto add = [&](std::string name, std::vector<uint64_t> shape, bool zero = false) {
    p.push_back({std::move(name), std::move(shape), zero});
  };
  bool noBias = !s.bias;
  if (s.family == "gpt") {
    add("transformer.wte.weight", {V, d});
    add("transformer.wpe.weight", {T, d});
    for (int64_t i = 0; i < s.nLayers; ++i) {
      std::string h = "transformer.h." + std::to_string(i) + ".";
      add(h + "ln_1.weight", {d});
      add(h + "ln_1.bias", {d}, noBias);
      add(h + "attn.c_attn.weight", {3 * d, d});
      add(h + "attn.c_attn.bias", {3 * d}, noBias);
      add(h + "attn.c_proj.weight", {d, d});
      add(h + "attn.c_proj.bias", {d}, noBias);
      add(h + "ln_2.weight", {d});
      add(h + "ln_2.bias", {d}, noBias);
      add(h + "mlp.c_fc.weight", {f, d});
      add(h + "mlp.c_fc.bias", {f}, noBias);
      add(h + "mlp.c_proj.weight", {d, f});
      add(h + "mlp.c_proj.bias", {d}, noBias);
    }
    add("transformer.ln_f.weight", {d});
    add("transformer.ln_f.bias", {d}, noBias);
    if (!s.tieEmbeddings)
      add("lm_head.weight", {V, d});
    return p;
  }
  add("model.embed_tokens.weight", {V, d});
  for (int64_t i = 0; i < s.nLayers; ++i) {
    std::string l = "model.layers." + std::to_string(i) + ".";
    add(l + "input_layernorm.weight", {d});
    add(l + "self_attn.q_proj.weight", {d, d});
    add(l + "self_attn.k_proj.weight", {kv, d});
    add(l + "self_attn.v_proj.weight", {kv, d});
    add(l + "self_attn.o_proj.weight", {d, d});
    add(l + "post_attention_layernorm.weight", {d});
    add(l + "mlp.gate_proj.weight", {f, d});
    add(l + "mlp.up_proj.weight", {f, d});
    add(l + "mlp.down_proj.weight", {d, f});
  }
  add("model.norm.weight", {d});
  add("lm_head.weight", {V, d});
  return p;
}

std::string shapeText(const std::vector<uint64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool isTrainerState(const std::string &name) {
  for (const char *prefix : {"optimizer.", "fp8.", "grad_accum.", "trainer."})
    if (name.rfind(prefix, 0) == 0)
      return true;
  return false;
}

/// config.json: the class, and every field whose HF default differs from the
/// model (dropout off: fp8c trains without it).
std::string hfConfigJson(const HfModelShape &s) {
  std::ostringstream j;
  auto boolText = [](bool b) { return b ? "true" : "false"; };
  if (s.family == "gpt") {
    // HF's "gelu" is the exact erf form, nanoGPT's nn.GELU() and fp8c's default;
    // "gelu_new" is GPT-2's tanh approximation, fp8c's `gelu: tanh`.
    j << "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n"
      << "  \"vocab_size\": " << s.vocabSize << ",\n  \"n_positions\": " << s.seqLen
      << ",\n  \"n_embd\": " << s.dModel << ",\n  \"n_layer\": " << s.nLayers
      << ",\n  \"n_head\": " << s.nHeads << ",\n  \"n_inner\": " << s.ffnDim
      << ",\n  \"activation_function\": \"" << (s.geluTanh ? "gelu_new" : "gelu")
      << "\",\n  \"layer_norm_epsilon\": " << s.normEpsText
      << ",\n  \"resid_pdrop\": 0.0,\n  \"embd_pdrop\": 0.0,\n  \"attn_pdrop\": 0.0,\n"
      << "  \"scale_attn_weights\": true,\n  \"scale_attn_by_inverse_layer_idx\": false,\n"
      << "  \"reorder_and_upcast_attn\": false,\n  \"tie_word_embeddings\": "
      << boolText(s.tieEmbeddings) << ",\n  \"torch_dtype\": \"float32\"\n}\n";
    return j.str();
  }
  j << "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n"
    << "  \"vocab_size\": " << s.vocabSize << ",\n  \"hidden_size\": " << s.dModel
    << ",\n  \"intermediate_size\": " << s.ffnDim << ",\n  \"num_hidden_layers\": " << s.nLayers
    << ",\n  \"num_attention_heads\": " << s.nHeads
    << ",\n  \"num_key_value_heads\": " << s.nKVHeads
    << ",\n  \"head_dim\": " << s.dModel / s.nHeads
    << ",\n  \"hidden_act\": \"silu\",\n  \"max_position_embeddings\": " << s.seqLen
    << ",\n  \"rms_norm_eps\": " << s.normEpsText << ",\n  \"rope_theta\": " << s.ropeThetaText
    << ",\n  \"rope_scaling\": null,\n  \"attention_bias\": false,\n  \"attention_dropout\": "
       "0.0,\n  \"mlp_bias\": false,\n  \"tie_word_embeddings\": false,\n"
       "  \"torch_dtype\": \"float32\"\n}\n";
  return j.str();
}

Status writeTextFile(const std::string &path, const std::string &text) {
  AtomicFile file;
  FP8RT_RETURN_IF_ERROR(AtomicFile::open(path, file));
  FP8RT_RETURN_IF_ERROR(file.write(text.data(), text.size()));
  return file.commit();
}

/// The model description: the program's, else the checkpoint's copy.
StatusOr<HfModelShape> modelShapeFor(const std::string &path, const Program *program,
                                     const trainer::TensorFileContents &contents) {
  std::map<std::string, std::string> meta(contents.metadata.begin(), contents.metadata.end());
  if (meta["format"] != "fp8c-checkpoint")
    return invalidArgumentError(path + " is not an fp8c checkpoint (its metadata has no "
                                       "format = fp8c-checkpoint); --export-hf reads what "
                                       "fp8-run --save wrote");
  if (program) {
    if (!meta["family"].empty() && meta["family"] != program->info.family)
      return invalidArgumentError("checkpoint " + path + " is of family '" + meta["family"] +
                                  "', the program of family '" + program->info.family + "'");
    return trainer::parseHfModelShape(program->configJson, "program");
  }
  if (meta["config"].empty())
    return invalidArgumentError(
        "checkpoint " + path +
        " does not hold its model description (checkpoints written before --export-hf "
        "existed do not): give the program it was trained with: fp8-run PROGRAM --export-hf " +
        path + " -o DIR");
  return trainer::parseHfModelShape(meta["config"], "checkpoint " + path + " metadata");
}

/// The checkpoint's parameters in HF's layout, or the list of what does not match.
StatusOr<std::vector<TensorRecord>> toHfRecords(const std::string &path, const HfModelShape &s,
                                                trainer::TensorFileContents &contents) {
  std::map<std::string, TensorRecord *> params;
  for (TensorRecord &r : contents.tensors)
    if (!isTrainerState(r.name))
      params[r.name] = &r;
  std::vector<std::string> problems;
  std::vector<TensorRecord> out;
  for (const ParamSpec &p : hfParams(s)) {
    if (p.zeroFilled) {
      uint64_t n = 1;
      for (uint64_t e : p.shape)
        n *= e;
      out.push_back({p.name, "F32", p.shape, std::vector<uint8_t>(n * 4)});
      continue;
    }
    auto it = params.find(p.name);
    if (it == params.end()) {
      problems.push_back("missing " + p.name + " " + shapeText(p.shape));
      continue;
    }
    TensorRecord r = std::move(*it->second);
    params.erase(it);
    if (r.shape != p.shape || r.dtype != "F32") {
      problems.push_back(p.name + " is " + r.dtype + " " + shapeText(r.shape) + ", expected F32 " +
                         shapeText(p.shape));
      continue;
    }
    if (s.family == "gpt" && trainer::isConv1DWeight(r.name))
      trainer::transpose2D(r);
    out.push_back(std::move(r));
  }
  for (const auto &[name, r] : params)
    problems.push_back("unexpected " + name + " " + shapeText(r->shape));
  if (problems.empty())
    return out;
  std::string m =
      "checkpoint " + path + " does not hold the " + s.family + " model of the description:";
  for (size_t i = 0; i < problems.size() && i < 12; ++i)
    m += (i ? "; " : " ") + problems[i];
  if (problems.size() > 12)
    m += "; and " + std::to_string(problems.size() - 12) + " more";
  return invalidArgumentError(m);
}

} // namespace

Status exportHuggingFace(const std::string &checkpointPath, const Program *program,
                         const std::string &outDir, std::ostream &out) {
  FP8RT_ASSIGN_OR_RETURN(trainer::TensorFileContents contents,
                         trainer::readTensorFile(checkpointPath));
  FP8RT_ASSIGN_OR_RETURN(HfModelShape shape, modelShapeFor(checkpointPath, program, contents));
  FP8RT_ASSIGN_OR_RETURN(std::vector<TensorRecord> records,
                         toHfRecords(checkpointPath, shape, contents));
  std::error_code ec;
  std::filesystem::create_directories(outDir, ec);
  if (ec)
    return ioError(outDir + ": cannot create the directory: " + ec.message());
  std::string weights = (std::filesystem::path(outDir) / "model.safetensors").string();
  std::string config = (std::filesystem::path(outDir) / "config.json").string();
  // transformers refuses a safetensors file whose metadata lacks format = pt.
  FP8RT_RETURN_IF_ERROR(trainer::writeTensorFile(weights, records, {{"format", "pt"}}));
  FP8RT_RETURN_IF_ERROR(writeTextFile(config, hfConfigJson(shape)).withContext(config));
  uint64_t numbers = 0;
  for (const TensorRecord &r : records)
    numbers += r.bytes.size() / 4;
  out << "wrote " << config << " ("
      << (shape.family == "gpt" ? "GPT2LMHeadModel" : "LlamaForCausalLM") << ") and " << weights
      << " (" << records.size() << " tensors, " << numbers << " parameters, F32)\n";
  return Status::success();
}

} // namespace fp8rt
