//===- HfConfig.cpp - models from Hugging Face config.json ----------------===//
//
// llvm::json parses the file but keeps no positions, so each top-level key is
// located by a scan of the text (keyLocations) and every error points at the
// key at fault: `config.json:7:3: error: rope_scaling: ...`. Each family reads
// its honoured keys with HF's defaults, refuses the values fp8c would compute
// differently, and refuses keys it does not know (a key that changes nothing
// is on the ignored list of docs/hf-interop.md).
//
//===----------------------------------------------------------------------===//

#include "fp8c/Frontend/HfConfig.h"

#include "ConfigSection.h"

#include "fp8c/Frontend/BuildForwardGraph.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace fp8c;
using namespace fp8c::frontend;
namespace json = llvm::json;

namespace {

/// Keys of HF's PretrainedConfig and the families that change nothing fp8c
/// computes: bookkeeping, token ids, dropout (fp8c trains without), init.
constexpr StringRef ignoredKeys[] = {"architectures",
                                     "model_type",
                                     "torch_dtype",
                                     "transformers_version",
                                     "_name_or_path",
                                     "bos_token_id",
                                     "eos_token_id",
                                     "pad_token_id",
                                     "initializer_range",
                                     "use_cache",
                                     "resid_pdrop",
                                     "embd_pdrop",
                                     "attn_pdrop",
                                     "attention_dropout",
                                     "summary_type",
                                     "summary_use_proj",
                                     "summary_activation",
                                     "summary_proj_to_labels",
                                     "summary_first_dropout",
                                     "task_specific_params",
                                     "n_ctx",
                                     "reorder_and_upcast_attn",
                                     "pretraining_tp",
                                     "dtype"};

/// The position of every top-level key of a JSON object's text: a scan that
/// tracks strings and nesting, since llvm::json keeps no positions.
llvm::StringMap<SMLoc> keyLocations(StringRef text) {
  llvm::StringMap<SMLoc> locs;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    if (c != '"')
      continue;
    size_t start = i;
    for (++i; i < text.size() && text[i] != '"'; ++i)
      if (text[i] == '\\')
        ++i;
    size_t next = text.find_first_not_of(" \t\r\n", i + 1);
    if (depth == 1 && next != StringRef::npos && text[next] == ':')
      locs.try_emplace(text.slice(start + 1, i), SMLoc::getFromPointer(text.data() + start));
  }
  return locs;
}

/// "1024", "\"gelu_new\"", "null": a value as the file writes it.
std::string show(const json::Value &v) { return llvm::formatv("{0}", v).str(); }

/// One config object read key by key, with HF's defaults for absent keys.
class HfReader {
public:
  HfReader(Diagnostics &diags, const json::Object &object, StringRef text, SMLoc start)
      : diags(diags), object(object), locs(keyLocations(text)), start(start) {}

  SMLoc locOf(StringRef key) const {
    auto it = locs.find(key);
    return it == locs.end() ? start : it->second;
  }
  void error(StringRef key, const Twine &message) { diags.error(locOf(key), key, message); }
  const json::Value *get(StringRef key) const { return object.get(key); }
  bool isSet(StringRef key) const {
    const json::Value *v = get(key);
    return v && !v->getAsNull();
  }

  bool readInt(StringRef key, int64_t lo, int64_t hi, int64_t &out) {
    const json::Value *v = get(key);
    if (!v)
      return true;
    std::optional<int64_t> n = v->getAsInteger();
    if (!n || *n < lo || *n > hi) {
      error(key, "expected " + describeIntRange(lo, hi) + ", got " + show(*v));
      return false;
    }
    out = *n;
    return true;
  }

  bool readNumber(StringRef key, Range range, double &out) {
    const json::Value *v = get(key);
    if (!v)
      return true;
    std::optional<double> n = v->getAsNumber();
    if (!n || !range.contains(*n)) {
      error(key, "expected a number " + range.describe() + ", got " + show(*v));
      return false;
    }
    out = *n;
    return true;
  }

  /// A key whose value must be `expected` (its HF default when absent is `fallback`).
  bool require(StringRef key, const json::Value &expected, const json::Value &fallback,
               const Twine &why) {
    const json::Value *v = get(key);
    const json::Value &value = v ? *v : fallback;
    if (value == expected)
      return true;
    error(key, (v ? "got " + show(value) : "absent, so " + show(value) + " (HF's default)") +
                   "; fp8c needs " + show(expected) + ": " + why);
    return false;
  }

  void checkKeys(llvm::ArrayRef<StringRef> honoured, StringRef modelType) {
    for (const auto &member : object) {
      StringRef key = member.first;
      if (llvm::is_contained(honoured, key) || llvm::is_contained(ignoredKeys, key))
        continue;
      error(key, "not a " + modelType + " key fp8c knows; it honours " +
                     llvm::join(honoured, ", ") + " (docs/hf-interop.md lists the ignored ones)");
    }
  }

private:
  Diagnostics &diags;
  const json::Object &object;
  llvm::StringMap<SMLoc> locs;
  SMLoc start;
};

constexpr StringRef gpt2Keys[] = {"vocab_size",
                                  "n_positions",
                                  "n_embd",
                                  "n_layer",
                                  "n_head",
                                  "n_inner",
                                  "layer_norm_epsilon",
                                  "activation_function",
                                  "tie_word_embeddings",
                                  "scale_attn_weights",
                                  "scale_attn_by_inverse_layer_idx"};

/// GPT2Config → nanoGPT's gpt (biases everywhere, as HF's GPT-2 has them).
void readGpt2(HfReader &r, ModelSection &m) {
  r.checkKeys(gpt2Keys, "gpt2");
  m.family = ModelFamily::GPT;
  m.vocabSize = 50257, m.seqLen = 1024, m.dModel = 768, m.nLayers = 12, m.nHeads = 12;
  m.normEps = 1e-5, m.bias = true, m.tieEmbeddings = true;
  r.readInt("vocab_size", 1, limits::maxVocabSize, m.vocabSize);
  r.readInt("n_positions", 1, limits::maxSeqLen, m.seqLen);
  r.readInt("n_embd", 1, limits::maxDModel, m.dModel);
  r.readInt("n_layer", 1, limits::maxLayers, m.nLayers);
  r.readInt("n_head", 1, limits::maxDModel, m.nHeads);
  m.ffnDim = 4 * m.dModel;
  if (r.isSet("n_inner"))
    r.readInt("n_inner", 1, limits::maxFFNDim, m.ffnDim);
  r.readNumber("layer_norm_epsilon", Range::between(0, 1, true, true), m.normEps);
  // HF's "gelu" is the exact erf form; "gelu_new" (the default, GPT-2's own) and
  // "gelu_pytorch_tanh" are the tanh approximation.
  m.geluTanh = true;
  if (const json::Value *v = r.get("activation_function")) {
    std::optional<StringRef> name = v->getAsString();
    if (name && *name == "gelu")
      m.geluTanh = false;
    else if (!name || (*name != "gelu_new" && *name != "gelu_pytorch_tanh"))
      r.error("activation_function", "got " + show(*v) +
                                         "; fp8c's gpt computes \"gelu\" (exact) or "
                                         "\"gelu_new\" / \"gelu_pytorch_tanh\" (tanh)");
  }
  if (const json::Value *v = r.get("tie_word_embeddings")) {
    if (std::optional<bool> b = v->getAsBoolean())
      m.tieEmbeddings = *b;
    else
      r.error("tie_word_embeddings", "expected true or false, got " + show(*v));
  }
  r.require("scale_attn_weights", true, true, "attention scores are scaled by 1/sqrt(head_dim)");
  r.require("scale_attn_by_inverse_layer_idx", false, false,
            "fp8c does not scale attention by layer");
  m.nKVHeads = m.nHeads;
}

constexpr StringRef llamaKeys[] = {"vocab_size",
                                   "hidden_size",
                                   "intermediate_size",
                                   "num_hidden_layers",
                                   "num_attention_heads",
                                   "num_key_value_heads",
                                   "head_dim",
                                   "hidden_act",
                                   "max_position_embeddings",
                                   "rms_norm_eps",
                                   "rope_theta",
                                   "rope_scaling",
                                   "attention_bias",
                                   "mlp_bias",
                                   "tie_word_embeddings",
                                   "sliding_window"};

/// LlamaConfig (and MistralConfig) → fp8c's llama. `window`: Mistral's
/// sliding window (0: none), checked once seq_len is final.
void readLlama(HfReader &r, ModelSection &m, StringRef modelType, int64_t &window) {
  r.checkKeys(llamaKeys, modelType);
  bool mistral = modelType == "mistral";
  m.family = ModelFamily::Llama;
  m.vocabSize = 32000, m.dModel = 4096, m.ffnDim = 11008, m.nLayers = 32, m.nHeads = 32;
  m.seqLen = mistral ? 32768 : 2048, m.normEps = 1e-6, m.ropeTheta = 10000.0;
  m.bias = false, m.tieEmbeddings = false;
  window = 0;
  if (mistral)
    m.ffnDim = 14336, m.nKVHeads = 8, m.seqLen = 131072, window = 4096;
  if (const json::Value *v = r.get("sliding_window"); v && !v->getAsNull())
    r.readInt("sliding_window", 1, int64_t(1) << 40, window);
  else if (v)
    window = 0;
  r.readInt("vocab_size", 1, limits::maxVocabSize, m.vocabSize);
  r.readInt("hidden_size", 1, limits::maxDModel, m.dModel);
  r.readInt("intermediate_size", 1, limits::maxFFNDim, m.ffnDim);
  r.readInt("num_hidden_layers", 1, limits::maxLayers, m.nLayers);
  r.readInt("num_attention_heads", 1, limits::maxDModel, m.nHeads);
  if (!mistral)
    m.nKVHeads = m.nHeads;
  if (r.isSet("num_key_value_heads"))
    r.readInt("num_key_value_heads", 1, limits::maxDModel, m.nKVHeads);
  r.readInt("max_position_embeddings", 1, limits::maxSeqLen, m.seqLen);
  r.readNumber("rms_norm_eps", Range::between(0, 1, true, true), m.normEps);
  r.readNumber("rope_theta", Range::above(0), m.ropeTheta);
  r.require("hidden_act", "silu", "silu", "the MLP is SwiGLU (silu(gate) * up)");
  r.require("rope_scaling", nullptr, nullptr,
            "fp8c's RoPE has no scaling (linear, dynamic, yarn, llama3)");
  r.require("attention_bias", false, false, "fp8c's llama has no biases on q/k/v/o_proj");
  r.require("mlp_bias", false, false, "fp8c's llama has no biases in the MLP");
  r.require("tie_word_embeddings", false, false,
            "fp8c's llama has its own lm_head (--init-from starts it from the embedding)");
  if (r.isSet("head_dim") && m.nHeads > 0) {
    int64_t headDim = 0;
    if (r.readInt("head_dim", 1, limits::maxDModel, headDim) && headDim * m.nHeads != m.dModel)
      r.error("head_dim", "got " + Twine(headDim) +
                              "; fp8c needs hidden_size / "
                              "num_attention_heads = " +
                              Twine(m.dModel / m.nHeads));
  }
}

} // namespace

/// Checks every derived constraint of ModelSection.cpp at the HF keys.
static void checkShape(HfReader &r, const ModelSection &m, bool llama) {
  StringRef heads = llama ? "num_attention_heads" : "n_head";
  if (m.dModel % m.nHeads != 0) {
    r.error(heads, "must divide the width (" + Twine(m.dModel) + "), got " + Twine(m.nHeads));
    return;
  }
  if (m.nHeads % m.nKVHeads != 0)
    r.error("num_key_value_heads",
            "must divide num_attention_heads (" + Twine(m.nHeads) + "), got " + Twine(m.nKVHeads));
  else if (llama && m.headDim() % 2 != 0)
    r.error(heads, "head dimension " + Twine(m.headDim()) + " must be even for rotary embeddings");
}

/// Where seq_len comes from when not from the config's position count: the
/// YAML beside hf_config.
struct SeqLenOverride {
  int64_t value = 0; ///< 0: none
  SMLoc loc;
};

/// Reads a config.json buffer into `model`.
static bool readHfConfig(Diagnostics &diags, llvm::MemoryBufferRef buffer, ModelSection &model,
                         SeqLenOverride seqLen, int64_t batchSize) {
  StringRef text = buffer.getBuffer();
  SMLoc start = SMLoc::getFromPointer(text.data());
  unsigned errorsBefore = diags.getNumErrors();
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    llvm::handleAllErrors(parsed.takeError(), [&](const json::ParseError &e) {
      std::string message;
      llvm::raw_string_ostream os(message);
      e.log(os);
      // "[line:col, byte=N]: what": locate the byte, keep the what.
      size_t byte = 0;
      StringRef(message).split("byte=").second.consumeInteger(10, byte);
      byte = byte ? byte - 1 : 0; // the offset is just past the offending character
      diags.error(SMLoc::getFromPointer(text.data() + std::min(byte, text.size())), "",
                  "invalid JSON: " + StringRef(message).split("]: ").second);
    });
    return false;
  }
  const json::Object *object = parsed->getAsObject();
  if (!object) {
    diags.error(start, "", "expected a Hugging Face config.json: a JSON object");
    return false;
  }
  HfReader r(diags, *object, text, start);
  std::optional<StringRef> modelType =
      object->get("model_type") ? object->get("model_type")->getAsString() : std::nullopt;
  if (!modelType) {
    r.error("model_type", "expected one of: gpt2, llama, mistral (a Hugging Face config.json "
                          "names its model_type)");
    return false;
  }
  int64_t window = 0;
  if (*modelType == "gpt2")
    readGpt2(r, model);
  else if (*modelType == "llama" || *modelType == "mistral")
    readLlama(r, model, *modelType, window);
  else {
    r.error("model_type",
            "got \"" + *modelType + "\"; fp8c reads gpt2, llama and mistral" +
                (*modelType == "qwen2" ? " (Qwen2 has biases on q_proj, k_proj and v_proj, which "
                                         "fp8c's llama family does not have)"
                                       : ""));
    return false;
  }
  if (diags.getNumErrors() != errorsBefore)
    return false;
  bool llama = model.family == ModelFamily::Llama;
  checkShape(r, model, llama);
  StringRef positions = llama ? "max_position_embeddings" : "n_positions";
  if (seqLen.value && !llama && seqLen.value > model.seqLen)
    diags.error(seqLen.loc, "model.seq_len",
                "the config's n_positions is " + Twine(model.seqLen) +
                    ": seq_len must not exceed it (the position table)");
  else if (seqLen.value)
    model.seqLen = seqLen.value;
  // A window that covers the whole sequence changes nothing.
  if (window && window < model.seqLen)
    r.error("sliding_window", "got " + Twine(window) + ", shorter than seq_len " +
                                  Twine(model.seqLen) +
                                  ": fp8c has no sliding-window attention "
                                  "(set it to null, or seq_len to at most the window)");
  int64_t tokens = batchSize * model.seqLen;
  if (diags.getNumErrors() == errorsBefore && tokens > limits::maxTokensPerBatch)
    diags.error(
        seqLen.value ? seqLen.loc : r.locOf(positions), seqLen.value ? "model.seq_len" : positions,
        "batch_size " + Twine(batchSize) + " * seq_len " + Twine(model.seqLen) + " = " +
            Twine(tokens) + " tokens per micro-batch exceeds " + Twine(limits::maxTokensPerBatch) +
            (seqLen.value ? ""
                          : ": describe the model in YAML with a shorter seq_len "
                            "beside hf_config"));
  return diags.getNumErrors() == errorsBefore;
}

void ConfigParser::parseHfModel(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "model", keyLoc);
  s.checkKeys({"hf_config", "seq_len"}, [](StringRef key) -> std::string {
    return ("with hf_config the model comes from the Hugging Face config, not '" + key +
            "'; only seq_len may be set beside it")
        .str();
  });
  std::optional<std::string> path = parseName(diags, *s.get("hf_config"), "model.hf_config");
  int64_t seqLen = 0;
  bool hasSeqLen = s.readInt("seq_len", 1, limits::maxSeqLen, seqLen);
  if (!path || diags.getNumErrors() != 0)
    return;
  // Relative to the YAML file.
  llvm::SourceMgr &sourceMgr = diags.getSourceMgr();
  SMLoc valueLoc = s.valueLocOf("hf_config");
  llvm::SmallString<256> full(*path);
  if (llvm::sys::path::is_relative(full)) {
    StringRef yaml = sourceMgr.getMemoryBuffer(sourceMgr.FindBufferContainingLoc(valueLoc))
                         ->getBufferIdentifier();
    full = llvm::sys::path::parent_path(yaml);
    llvm::sys::path::append(full, *path);
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file = llvm::MemoryBuffer::getFile(full);
  if (!file) {
    s.error("hf_config", "cannot read '" + full + "': " + file.getError().message());
    return;
  }
  llvm::MemoryBufferRef ref = (*file)->getMemBufferRef();
  sourceMgr.AddNewSourceBuffer(std::move(*file), valueLoc);
  // The root checks batch_size * seq_len against the train section once it is read.
  readHfConfig(diags, ref, config.model,
               SeqLenOverride{hasSeqLen ? seqLen : 0, s.valueLocOf("seq_len")}, 1);
}

mlir::OwningOpRef<mlir::ModuleOp> fp8c::importHfConfig(llvm::SourceMgr &sourceMgr,
                                                       mlir::MLIRContext *context) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  ModelConfig config;
  {
    Diagnostics diags(sourceMgr);
    if (!readHfConfig(diags, buffer->getMemBufferRef(), config.model, SeqLenOverride(),
                      config.train.batchSize))
      return nullptr;
  }
  mlir::Location loc = mlir::FileLineColLoc::get(context, buffer->getBufferIdentifier(), 1, 1);
  return buildForwardGraph(context, config, loc);
}
