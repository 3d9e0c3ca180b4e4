//===- ModelConfig.cpp - parsing and validating model descriptions --------===//
//
// Two steps. The YAML stream is first copied into a small owned tree: LLVM's
// YAML nodes are streamed and can be visited only once, while validation needs
// to look at keys in an order of its own (the family before the keys it
// allows). The tree keeps every location, so each error points at the key or
// value at fault. Validation then fills a ModelConfig and reports every problem
// it finds as `FILE:LINE:COL: error: <key path>: <what was expected>`.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Frontend/ModelConfig.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <functional>
#include <memory>
#include <tuple>

using namespace fp8c;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

//===----------------------------------------------------------------------===//
// Spellings
//===----------------------------------------------------------------------===//

namespace {

template <typename E>
using Choices = llvm::ArrayRef<std::pair<StringRef, E>>;

const std::pair<StringRef, ModelFamily> familyChoices[] = {
    {"mlp", ModelFamily::MLP}, {"gpt", ModelFamily::GPT}, {"llama", ModelFamily::Llama}};
const std::pair<StringRef, Precision> precisionChoices[] = {{"bf16", Precision::BF16},
                                                            {"fp32", Precision::FP32}};
const std::pair<StringRef, OptimizerKind> optimizerChoices[] = {{"adamw", OptimizerKind::AdamW},
                                                                {"sgd", OptimizerKind::SGD}};
const std::pair<StringRef, LRScheduleKind> scheduleChoices[] = {
    {"constant", LRScheduleKind::Constant}, {"cosine", LRScheduleKind::Cosine}};
const std::pair<StringRef, FP8Recipe> recipeChoices[] = {{"tensorwise", FP8Recipe::Tensorwise},
                                                         {"delayed", FP8Recipe::Delayed},
                                                         {"rowwise", FP8Recipe::Rowwise},
                                                         {"blockwise", FP8Recipe::Blockwise}};
const std::pair<StringRef, FP8Format> formatChoices[] = {{"hybrid", FP8Format::Hybrid},
                                                         {"e4m3", FP8Format::E4M3}};
const std::pair<StringRef, AmaxComputeAlgo> amaxAlgoChoices[] = {
    {"max", AmaxComputeAlgo::Max}, {"most_recent", AmaxComputeAlgo::MostRecent}};
const std::pair<StringRef, AutoFilter> autoFilterChoices[] = {{"roofline", AutoFilter::Roofline},
                                                              {"none", AutoFilter::None}};
const std::pair<StringRef, Device> deviceChoices[] = {{"h100-sxm", Device::H100SXM},
                                                      {"h100-pcie", Device::H100PCIe},
                                                      {"h200", Device::H200},
                                                      {"l40s", Device::L40S},
                                                      {"b200", Device::B200}};
const std::pair<StringRef, GemmPrecision> gemmPrecisionChoices[] = {
    {"fp8", GemmPrecision::FP8}, {"bf16", GemmPrecision::BF16}};

template <typename E>
StringRef spell(Choices<E> choices, E value) {
  for (const auto &[name, v] : choices)
    if (v == value)
      return name;
  return "?";
}

} // namespace

StringRef fp8c::stringifyModelFamily(ModelFamily v) { return spell<ModelFamily>(familyChoices, v); }
StringRef fp8c::stringifyPrecision(Precision v) { return spell<Precision>(precisionChoices, v); }
StringRef fp8c::stringifyOptimizerKind(OptimizerKind v) {
  return spell<OptimizerKind>(optimizerChoices, v);
}
StringRef fp8c::stringifyLRScheduleKind(LRScheduleKind v) {
  return spell<LRScheduleKind>(scheduleChoices, v);
}
StringRef fp8c::stringifyFP8Recipe(FP8Recipe v) { return spell<FP8Recipe>(recipeChoices, v); }
StringRef fp8c::stringifyFP8Format(FP8Format v) { return spell<FP8Format>(formatChoices, v); }
StringRef fp8c::stringifyAmaxComputeAlgo(AmaxComputeAlgo v) {
  return spell<AmaxComputeAlgo>(amaxAlgoChoices, v);
}
StringRef fp8c::stringifyAutoFilter(AutoFilter v) { return spell<AutoFilter>(autoFilterChoices, v); }
StringRef fp8c::stringifyDevice(Device v) { return spell<Device>(deviceChoices, v); }
StringRef fp8c::stringifyGemmPrecision(GemmPrecision v) {
  return spell<GemmPrecision>(gemmPrecisionChoices, v);
}

namespace {

//===----------------------------------------------------------------------===//
// An owned copy of the YAML document
//===----------------------------------------------------------------------===//

struct YNode {
  enum class Kind { Null, Scalar, Mapping, Sequence };
  struct Entry {
    std::string key;
    SMLoc keyLoc;
    std::unique_ptr<YNode> value;
  };

  Kind kind = Kind::Null;
  SMLoc loc;
  std::string value;
  /// Quoted or block scalars are strings, never numbers or booleans.
  bool quoted = false;
  std::vector<Entry> entries;
  std::vector<std::unique_ptr<YNode>> items;

  const Entry *find(StringRef key) const {
    for (const Entry &e : entries)
      if (e.key == key)
        return &e;
    return nullptr;
  }

  /// What the user wrote, for "got ..." in messages.
  std::string describe() const {
    switch (kind) {
    case Kind::Null:
      return "nothing";
    case Kind::Mapping:
      return "a mapping";
    case Kind::Sequence:
      return "a sequence";
    case Kind::Scalar:
      return (quoted ? "the string \"" : "'") + value + (quoted ? "\"" : "'");
    }
    return "?";
  }
};

std::string childPath(StringRef path, StringRef key) {
  return path.empty() ? key.str() : (path + "." + key).str();
}

std::string itemPath(StringRef path, size_t index) {
  return (path + "[" + Twine(index) + "]").str();
}

/// Formats a number the way a user would write it in YAML.
std::string formatNumber(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%g", v);
  return s;
}

/// Shared error sink: every message is `<key path>: <text>` at a location.
/// Validation visits keys in its own order; errors are printed in file order.
class Diagnostics {
public:
  explicit Diagnostics(llvm::SourceMgr &sourceMgr) : sourceMgr(sourceMgr) {}
  ~Diagnostics() { flush(); }

  void error(SMLoc loc, StringRef path, const Twine &message) {
    pending.push_back({loc, path.empty() ? message.str() : (path + ": " + message).str()});
  }

  void flush() {
    llvm::stable_sort(pending, [](const Pending &a, const Pending &b) {
      return a.loc.getPointer() < b.loc.getPointer();
    });
    for (const Pending &p : pending)
      sourceMgr.PrintMessage(p.loc, llvm::SourceMgr::DK_Error, p.message);
    numFlushed += pending.size();
    pending.clear();
  }

  unsigned getNumErrors() const { return numFlushed + pending.size(); }

  std::pair<unsigned, unsigned> lineAndColumn(SMLoc loc) const {
    return sourceMgr.getLineAndColumn(loc);
  }

private:
  struct Pending {
    SMLoc loc;
    std::string message;
  };
  llvm::SourceMgr &sourceMgr;
  std::vector<Pending> pending;
  unsigned numFlushed = 0;
};

/// Copies a streamed YAML node into a YNode. Depth is bounded so that
/// pathological nesting cannot exhaust the stack.
class TreeBuilder {
public:
  explicit TreeBuilder(Diagnostics &diags) : diags(diags) {}

  /// `keyLoc` locates nodes that have no position of their own (aliases, nulls).
  std::unique_ptr<YNode> build(llvm::yaml::Node *node, StringRef path, unsigned depth,
                               SMLoc keyLoc) {
    auto result = std::make_unique<YNode>();
    result->loc = node->getSourceRange().Start;
    if (depth > maxDepth) {
      diags.error(result->loc, path, "nested more than " + Twine(maxDepth) + " levels deep");
      return nullptr;
    }
    if (auto *scalar = llvm::dyn_cast<llvm::yaml::ScalarNode>(node)) {
      llvm::SmallString<64> storage;
      StringRef raw = scalar->getRawValue();
      result->quoted = raw.starts_with("\"") || raw.starts_with("'");
      result->value = scalar->getValue(storage).str();
      if (!result->quoted && llvm::is_contained({"~", "null", "Null", "NULL"}, result->value))
        return result; // kind stays Null
      result->kind = YNode::Kind::Scalar;
      return result;
    }
    if (auto *block = llvm::dyn_cast<llvm::yaml::BlockScalarNode>(node)) {
      result->kind = YNode::Kind::Scalar;
      result->quoted = true;
      result->value = block->getValue().str();
      return result;
    }
    if (llvm::isa<llvm::yaml::NullNode>(node)) {
      result->loc = keyLoc;
      return result;
    }
    if (llvm::isa<llvm::yaml::AliasNode>(node)) {
      diags.error(keyLoc, path, "YAML aliases ('*name') are not supported; write the value");
      return nullptr;
    }
    if (auto *sequence = llvm::dyn_cast<llvm::yaml::SequenceNode>(node)) {
      result->kind = YNode::Kind::Sequence;
      for (llvm::yaml::Node &item : *sequence) {
        std::unique_ptr<YNode> child =
            build(&item, itemPath(path, result->items.size()), depth + 1, result->loc);
        if (!child)
          return nullptr;
        result->items.push_back(std::move(child));
      }
      return result;
    }
    if (auto *mapping = llvm::dyn_cast<llvm::yaml::MappingNode>(node)) {
      result->kind = YNode::Kind::Mapping;
      for (llvm::yaml::KeyValueNode &kv : *mapping) {
        llvm::yaml::Node *keyNode = kv.getKey();
        if (!keyNode)
          return nullptr; // a syntax error, already reported by the scanner
        auto *keyScalar = llvm::dyn_cast<llvm::yaml::ScalarNode>(keyNode);
        if (!keyScalar) {
          SMLoc loc = keyNode->getSourceRange().Start;
          diags.error(loc.isValid() ? loc : result->loc, path,
                      "expected a plain key (a name such as 'd_model')");
          return nullptr;
        }
        llvm::SmallString<32> storage;
        std::string key = keyScalar->getValue(storage).str();
        SMLoc keyLoc = keyNode->getSourceRange().Start;
        std::string keyPath = childPath(path, key);
        if (const YNode::Entry *first = result->find(key)) {
          unsigned line = diags.lineAndColumn(first->keyLoc).first;
          diags.error(keyLoc, keyPath,
                      "duplicate key (first set on line " + Twine(line) + ")");
          return nullptr;
        }
        llvm::yaml::Node *valueNode = kv.getValue();
        if (!valueNode)
          return nullptr; // a syntax error, already reported by the scanner
        std::unique_ptr<YNode> value = build(valueNode, keyPath, depth + 1, keyLoc);
        if (!value)
          return nullptr;
        // `key: null` too: point at the key.
        if (value->kind == YNode::Kind::Null)
          value->loc = keyLoc;
        result->entries.push_back({std::move(key), keyLoc, std::move(value)});
      }
      return result;
    }
    diags.error(result->loc, path, "unsupported YAML node");
    return nullptr;
  }

private:
  static constexpr unsigned maxDepth = 16;
  Diagnostics &diags;
};

} // namespace

//===----------------------------------------------------------------------===//
// Scalar values
//===----------------------------------------------------------------------===//

namespace {

/// A numeric interval and its wording in messages.
struct Range {
  double lo, hi;
  bool loOpen, hiOpen;

  static Range atLeast(double lo) { return {lo, INFINITY, false, true}; }
  static Range above(double lo) { return {lo, INFINITY, true, true}; }
  static Range between(double lo, double hi, bool loOpen, bool hiOpen) {
    return {lo, hi, loOpen, hiOpen};
  }

  bool contains(double v) const {
    return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  }

  std::string describe() const {
    if (std::isinf(hi))
      return (loOpen ? "> " : ">= ") + formatNumber(lo);
    return "in " + std::string(loOpen ? "(" : "[") + formatNumber(lo) + ", " + formatNumber(hi) +
           (hiOpen ? ")" : "]");
  }
};

std::string describeIntRange(int64_t lo, int64_t hi) {
  if (hi >= (int64_t(1) << 40)) // step counts, seeds: the bound is not worth reading
    return "an integer >= " + std::to_string(lo);
  return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

bool isIntegerSyntax(StringRef s) {
  if (s.starts_with("+") || s.starts_with("-"))
    s = s.drop_front();
  return !s.empty() && llvm::all_of(s, llvm::isDigit);
}

/// Decimal numbers as YAML and Python write them: 3, -1.5, 6e-4, .5; no inf/nan/hex.
bool isNumberSyntax(StringRef s) {
  if (s.starts_with("+") || s.starts_with("-"))
    s = s.drop_front();
  StringRef mantissa = s, exponent;
  size_t e = s.find_first_of("eE");
  if (e != StringRef::npos) {
    mantissa = s.take_front(e);
    exponent = s.drop_front(e + 1);
    if (exponent.starts_with("+") || exponent.starts_with("-"))
      exponent = exponent.drop_front();
    if (exponent.empty() || !llvm::all_of(exponent, llvm::isDigit))
      return false;
  }
  auto [whole, fraction] = mantissa.split('.');
  bool hasDot = mantissa.contains('.');
  if (whole.empty() && fraction.empty())
    return false;
  if (hasDot && fraction.contains('.'))
    return false;
  return llvm::all_of(whole, llvm::isDigit) && llvm::all_of(fraction, llvm::isDigit);
}

std::optional<int64_t> parseInt(Diagnostics &diags, const YNode &node, StringRef path,
                                int64_t lo, int64_t hi) {
  std::string expected = describeIntRange(lo, hi);
  int64_t value = 0;
  StringRef text = node.value;
  text.consume_front("+");
  if (node.kind != YNode::Kind::Scalar || node.quoted || !isIntegerSyntax(node.value) ||
      text.getAsInteger(10, value) || value < lo || value > hi) {
    diags.error(node.loc, path, "expected " + expected + ", got " + node.describe());
    return std::nullopt;
  }
  return value;
}

std::optional<double> parseNumber(Diagnostics &diags, const YNode &node, StringRef path,
                                  Range range) {
  double value = 0;
  if (node.kind != YNode::Kind::Scalar || node.quoted || !isNumberSyntax(node.value) ||
      StringRef(node.value).getAsDouble(value) || !std::isfinite(value) ||
      !range.contains(value)) {
    diags.error(node.loc, path, "expected a number " + range.describe() + ", got " +
                                    node.describe());
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parseBool(Diagnostics &diags, const YNode &node, StringRef path) {
  if (node.kind == YNode::Kind::Scalar && !node.quoted) {
    if (llvm::is_contained({"true", "True", "TRUE"}, node.value))
      return true;
    if (llvm::is_contained({"false", "False", "FALSE"}, node.value))
      return false;
  }
  diags.error(node.loc, path, "expected true or false, got " + node.describe());
  return std::nullopt;
}

std::optional<std::string> parseName(Diagnostics &diags, const YNode &node, StringRef path) {
  if (node.kind != YNode::Kind::Scalar || node.value.empty()) {
    diags.error(node.loc, path, "expected a non-empty string, got " + node.describe());
    return std::nullopt;
  }
  return node.value;
}

template <typename E>
std::string listChoices(Choices<E> choices) {
  return llvm::join(llvm::map_range(choices, [](const auto &c) { return c.first; }), ", ");
}

template <typename E>
std::optional<E> parseEnum(Diagnostics &diags, const YNode &node, StringRef path,
                           Choices<E> choices) {
  if (node.kind == YNode::Kind::Scalar)
    for (const auto &[name, value] : choices)
      if (node.value == name)
        return value;
  diags.error(node.loc, path,
              "expected one of: " + listChoices(choices) + "; got " + node.describe());
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

/// One YAML mapping being validated: typed reads of its keys, with defaults
/// left untouched when a key is absent.
class Section {
public:
  Section(Diagnostics &diags, const YNode &node, std::string path, SMLoc keyLoc)
      : diags(diags), node(node), path(std::move(path)), keyLoc(keyLoc) {
    if (node.kind != YNode::Kind::Mapping)
      diags.error(node.loc, this->path, "expected a mapping, got " + node.describe());
  }

  bool isMapping() const { return node.kind == YNode::Kind::Mapping; }
  bool has(StringRef key) const { return node.find(key) != nullptr; }
  const YNode *get(StringRef key) const {
    const YNode::Entry *e = node.find(key);
    return e ? e->value.get() : nullptr;
  }
  SMLoc keyLocOf(StringRef key) const {
    const YNode::Entry *e = node.find(key);
    return e ? e->keyLoc : keyLoc;
  }
  SMLoc valueLocOf(StringRef key) const {
    const YNode *v = get(key);
    return v ? v->loc : keyLoc;
  }
  std::string pathOf(StringRef key) const { return childPath(path, key); }
  SMLoc getLoc() const { return keyLoc; }

  void error(StringRef key, const Twine &message) {
    diags.error(valueLocOf(key), pathOf(key), message);
  }

  /// Reports every key not in `valid`; `whyNot` may explain a key that belongs
  /// to another variant (another family, optimizer or recipe).
  void checkKeys(llvm::ArrayRef<StringRef> valid,
                 std::function<std::string(StringRef)> whyNot = nullptr) {
    for (const YNode::Entry &e : node.entries) {
      if (llvm::is_contained(valid, StringRef(e.key)))
        continue;
      std::string reason = whyNot ? whyNot(e.key) : std::string();
      diags.error(e.keyLoc, pathOf(e.key),
                  (reason.empty() ? std::string("unknown key") : reason) +
                      "; valid keys: " + llvm::join(valid, ", "));
    }
  }

  void missing(StringRef key, const Twine &expected) {
    diags.error(keyLoc, pathOf(key), "missing required key (" + expected + ")");
  }

  bool readInt(StringRef key, int64_t lo, int64_t hi, int64_t &out, bool required = false) {
    const YNode *v = get(key);
    if (!v) {
      if (required)
        missing(key, describeIntRange(lo, hi));
      return false;
    }
    std::optional<int64_t> value = parseInt(diags, *v, pathOf(key), lo, hi);
    if (value)
      out = *value;
    return value.has_value();
  }

  bool readNumber(StringRef key, Range range, double &out) {
    const YNode *v = get(key);
    if (!v)
      return false;
    std::optional<double> value = parseNumber(diags, *v, pathOf(key), range);
    if (value)
      out = *value;
    return value.has_value();
  }

  bool readBool(StringRef key, bool &out) {
    const YNode *v = get(key);
    if (!v)
      return false;
    std::optional<bool> value = parseBool(diags, *v, pathOf(key));
    if (value)
      out = *value;
    return value.has_value();
  }

  template <typename E>
  bool readEnum(StringRef key, Choices<E> choices, E &out, bool required = false) {
    const YNode *v = get(key);
    if (!v) {
      if (required)
        missing(key, "one of: " + listChoices(choices));
      return false;
    }
    std::optional<E> value = parseEnum(diags, *v, pathOf(key), choices);
    if (value)
      out = *value;
    return value.has_value();
  }

private:
  Diagnostics &diags;
  const YNode &node;
  std::string path;
  SMLoc keyLoc;
};

class ConfigParser {
public:
  explicit ConfigParser(Diagnostics &diags) : diags(diags) {}

  void parseRoot(const YNode &root, SMLoc start);
  ModelConfig takeConfig() { return std::move(config); }

private:
  void parseModel(const YNode &node, SMLoc keyLoc);
  void parseTrain(const YNode &node, SMLoc keyLoc);
  void parseOptimizer(const YNode &node, SMLoc keyLoc);
  void parseSchedule(const YNode &node, SMLoc keyLoc, bool optimizerValid);
  void parseInit(const YNode &node, SMLoc keyLoc);
  void parseFP8(const YNode &node, SMLoc keyLoc);
  void parseOverride(const YNode &node, StringRef path);

  Diagnostics &diags;
  ModelConfig config;
};

constexpr StringRef rootKeys[] = {"model", "train", "fp8"};

void ConfigParser::parseRoot(const YNode &root, SMLoc start) {
  if (root.kind != YNode::Kind::Mapping) {
    std::string got =
        root.kind == YNode::Kind::Null ? "the document is empty" : "got " + root.describe();
    diags.error(root.kind == YNode::Kind::Null ? start : root.loc, "",
                "expected a mapping with the sections model (required), train and fp8; " + got);
    return;
  }
  Section s(diags, root, "", start);
  s.checkKeys(rootKeys);
  if (const YNode *model = s.get("model")) {
    std::tie(config.modelLine, config.modelColumn) = diags.lineAndColumn(s.keyLocOf("model"));
    parseModel(*model, s.keyLocOf("model"));
  } else
    diags.error(start, "model", "missing required section (family, vocab_size, seq_len, "
                                "d_model, n_layers, ...)");
  if (const YNode *train = s.get("train"))
    parseTrain(*train, s.keyLocOf("train"));
  if (const YNode *fp8 = s.get("fp8"))
    parseFP8(*fp8, s.keyLocOf("fp8"));

  // The graph holds [batch_size, seq_len] tensors (token ids, positions).
  if (diags.getNumErrors() != 0)
    return;
  int64_t tokens = config.train.batchSize * config.model.seqLen;
  if (tokens > limits::maxTokensPerBatch) {
    // Blame batch_size when it was written, else seq_len.
    const YNode *train = s.get("train");
    const YNode::Entry *batch = train ? train->find("batch_size") : nullptr;
    const YNode::Entry *at = batch ? batch : s.get("model")->find("seq_len");
    diags.error(at->value->loc, batch ? "train.batch_size" : "model.seq_len",
                "batch_size * seq_len = " + Twine(tokens) + " tokens per micro-batch exceeds " +
                    Twine(limits::maxTokensPerBatch));
  }
}

void ConfigParser::parseModel(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "model", keyLoc);
  if (!s.isMapping())
    return;
  ModelSection &m = config.model;
  // Which keys are valid depends on the family: without one, stop here.
  if (!s.readEnum<ModelFamily>("family", familyChoices, m.family, /*required=*/true))
    return;
  bool gpt = m.family == ModelFamily::GPT, llama = m.family == ModelFamily::Llama,
       mlp = m.family == ModelFamily::MLP;
  llvm::SmallVector<StringRef> keys = {"family", "vocab_size", "seq_len", "d_model", "n_layers"};
  if (!mlp)
    keys.push_back("n_heads");
  if (llama)
    keys.push_back("n_kv_heads");
  keys.append({"ffn_dim", "mlp_ratio"});
  if (!mlp)
    keys.push_back("norm_eps");
  if (!llama)
    keys.push_back("bias");
  if (gpt)
    keys.push_back("tie_embeddings");
  if (llama)
    keys.push_back("rope_theta");
  StringRef familyName = stringifyModelFamily(m.family);
  s.checkKeys(keys, [&](StringRef key) -> std::string {
    static const std::pair<StringRef, StringRef> owners[] = {
        {"n_heads", "gpt and llama"},   {"n_kv_heads", "llama"}, {"norm_eps", "gpt and llama"},
        {"bias", "gpt and mlp"},        {"tie_embeddings", "gpt"}, {"rope_theta", "llama"}};
    for (const auto &[k, families] : owners)
      if (k == key)
        return ("only used by family " + families + ", not '" + familyName + "'").str();
    return "";
  });

  unsigned errorsBefore = diags.getNumErrors();
  s.readInt("vocab_size", 1, limits::maxVocabSize, m.vocabSize, /*required=*/true);
  s.readInt("seq_len", 1, limits::maxSeqLen, m.seqLen, /*required=*/true);
  s.readInt("d_model", 1, limits::maxDModel, m.dModel, /*required=*/true);
  s.readInt("n_layers", 1, limits::maxLayers, m.nLayers, /*required=*/true);
  if (!mlp)
    s.readInt("n_heads", 1, limits::maxDModel, m.nHeads, /*required=*/true);
  bool hasKVHeads = llama && s.readInt("n_kv_heads", 1, limits::maxDModel, m.nKVHeads);
  bool hasFFN = s.readInt("ffn_dim", 1, limits::maxFFNDim, m.ffnDim);
  double ratio = 0;
  bool hasRatio = s.readNumber("mlp_ratio", Range::between(0, 1024, true, false), ratio);
  if (!mlp)
    s.readNumber("norm_eps", Range::between(0, 1, true, true), m.normEps);
  m.bias = !llama;
  if (!llama)
    s.readBool("bias", m.bias);
  m.tieEmbeddings = gpt;
  if (gpt)
    s.readBool("tie_embeddings", m.tieEmbeddings);
  if (llama)
    s.readNumber("rope_theta", Range::above(0), m.ropeTheta);
  if (diags.getNumErrors() != errorsBefore)
    return;

  // Derived values and consistency, each reported at the key to change.
  if (s.has("ffn_dim") && s.has("mlp_ratio")) {
    s.error("mlp_ratio", "set either ffn_dim or mlp_ratio, not both");
    return;
  }
  if (hasRatio) {
    double ffn = ratio * static_cast<double>(m.dModel);
    if (std::abs(ffn - std::round(ffn)) > 1e-6 * ffn) {
      s.error("mlp_ratio", "mlp_ratio * d_model = " + formatNumber(ffn) +
                               " must be a whole number (or set ffn_dim)");
      return;
    }
    m.ffnDim = static_cast<int64_t>(std::round(ffn));
    if (m.ffnDim < 1 || m.ffnDim > limits::maxFFNDim) {
      s.error("mlp_ratio", "mlp_ratio * d_model = " + Twine(m.ffnDim) + " must be in [1, " +
                               Twine(limits::maxFFNDim) + "]");
      return;
    }
  } else if (!hasFFN) {
    // GPT-2: 4·d. Llama (Meta's reference): 2/3 of 4·d, rounded up to a multiple of 256.
    m.ffnDim = llama ? (8 * m.dModel / 3 + 255) / 256 * 256 : 4 * m.dModel;
  }
  if (mlp)
    return;
  if (m.dModel % m.nHeads != 0) {
    s.error("n_heads", "must divide d_model (" + Twine(m.dModel) + "), got " + Twine(m.nHeads));
    return;
  }
  if (!hasKVHeads)
    m.nKVHeads = m.nHeads;
  if (m.nHeads % m.nKVHeads != 0) {
    s.error("n_kv_heads",
            "must divide n_heads (" + Twine(m.nHeads) + "), got " + Twine(m.nKVHeads));
    return;
  }
  if (llama && m.headDim() % 2 != 0)
    s.error("n_heads", "head dimension d_model / n_heads = " + Twine(m.headDim()) +
                           " must be even for rotary embeddings");
}

void ConfigParser::parseTrain(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "train", keyLoc);
  if (!s.isMapping())
    return;
  TrainSection &t = config.train;
  s.checkKeys({"batch_size", "grad_accum_steps", "precision", "optimizer", "lr_schedule", "init"});
  s.readInt("batch_size", 1, limits::maxBatchSize, t.batchSize);
  s.readInt("grad_accum_steps", 1, int64_t(1) << 20, t.gradAccumSteps);
  s.readEnum<Precision>("precision", precisionChoices, t.precision);
  unsigned errorsBefore = diags.getNumErrors();
  if (const YNode *optimizer = s.get("optimizer"))
    parseOptimizer(*optimizer, s.keyLocOf("optimizer"));
  bool optimizerValid = diags.getNumErrors() == errorsBefore;
  if (const YNode *schedule = s.get("lr_schedule"))
    parseSchedule(*schedule, s.keyLocOf("lr_schedule"), optimizerValid);
  if (const YNode *init = s.get("init"))
    parseInit(*init, s.keyLocOf("init"));
}

void ConfigParser::parseOptimizer(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "train.optimizer", keyLoc);
  if (!s.isMapping())
    return;
  OptimizerSection &o = config.train.optimizer;
  if (s.has("name") && !s.readEnum<OptimizerKind>("name", optimizerChoices, o.name))
    return;
  bool adamw = o.name == OptimizerKind::AdamW;
  llvm::SmallVector<StringRef> keys = {"name", "lr"};
  if (adamw)
    keys.append({"betas", "eps"});
  else
    keys.push_back("momentum");
  keys.append({"weight_decay", "grad_clip"});
  StringRef name = stringifyOptimizerKind(o.name);
  s.checkKeys(keys, [&](StringRef key) -> std::string {
    if (key == "betas" || key == "eps")
      return ("only used by optimizer adamw, not '" + name + "'").str();
    if (key == "momentum")
      return ("only used by optimizer sgd, not '" + name + "'").str();
    return "";
  });
  if (!adamw)
    o.weightDecay = 0.0; // torch.optim.SGD's default
  s.readNumber("lr", Range::above(0), o.lr);
  s.readNumber("weight_decay", Range::atLeast(0), o.weightDecay);
  s.readNumber("grad_clip", Range::atLeast(0), o.gradClip);
  if (!adamw) {
    s.readNumber("momentum", Range::between(0, 1, false, true), o.momentum);
    return;
  }
  s.readNumber("eps", Range::above(0), o.eps);
  if (const YNode *betas = s.get("betas")) {
    std::string path = s.pathOf("betas");
    if (betas->kind != YNode::Kind::Sequence || betas->items.size() != 2) {
      diags.error(betas->loc, path,
                  "expected a sequence of two numbers [beta1, beta2], got " + betas->describe() +
                      (betas->kind == YNode::Kind::Sequence
                           ? " of " + std::to_string(betas->items.size())
                           : ""));
      return;
    }
    Range unit = Range::between(0, 1, false, true);
    if (auto b1 = parseNumber(diags, *betas->items[0], itemPath(path, 0), unit))
      o.beta1 = *b1;
    if (auto b2 = parseNumber(diags, *betas->items[1], itemPath(path, 1), unit))
      o.beta2 = *b2;
  }
}

void ConfigParser::parseSchedule(const YNode &node, SMLoc keyLoc, bool optimizerValid) {
  Section s(diags, node, "train.lr_schedule", keyLoc);
  if (!s.isMapping())
    return;
  LRScheduleSection &l = config.train.lrSchedule;
  if (s.has("kind") && !s.readEnum<LRScheduleKind>("kind", scheduleChoices, l.kind))
    return;
  bool cosine = l.kind == LRScheduleKind::Cosine;
  llvm::SmallVector<StringRef> keys = {"kind", "warmup_steps"};
  if (cosine)
    keys.append({"total_steps", "min_lr"});
  s.checkKeys(keys, [](StringRef key) -> std::string {
    return key == "total_steps" || key == "min_lr" ? "only used by kind cosine, not 'constant'"
                                                   : "";
  });
  unsigned errorsBefore = diags.getNumErrors();
  constexpr int64_t maxSteps = int64_t(1) << 40;
  s.readInt("warmup_steps", 0, maxSteps, l.warmupSteps);
  if (!cosine)
    return;
  s.readInt("total_steps", 1, maxSteps, l.totalSteps, /*required=*/true);
  s.readNumber("min_lr", Range::atLeast(0), l.minLR);
  if (diags.getNumErrors() != errorsBefore)
    return;
  if (l.warmupSteps >= l.totalSteps)
    s.error("warmup_steps", "must be less than total_steps (" + Twine(l.totalSteps) +
                                ") with the cosine schedule, got " + Twine(l.warmupSteps));
  double lr = config.train.optimizer.lr;
  if (optimizerValid && l.minLR > lr)
    s.error("min_lr", "must not exceed train.optimizer.lr (" + formatNumber(lr) + "), got " +
                          formatNumber(l.minLR));
}

void ConfigParser::parseInit(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "train.init", keyLoc);
  if (!s.isMapping())
    return;
  s.checkKeys({"std", "seed"});
  s.readNumber("std", Range::above(0), config.train.init.std);
  s.readInt("seed", 0, INT64_MAX, config.train.init.seed);
}

void ConfigParser::parseFP8(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "fp8", keyLoc);
  if (!s.isMapping())
    return;
  FP8Section &f = config.fp8;
  // Writing an fp8 section asks for FP8; `enabled: false` keeps it for later.
  f.enabled = true;
  bool recipeValid = !s.has("recipe") || s.readEnum<FP8Recipe>("recipe", recipeChoices, f.recipe);
  bool filterValid =
      !s.has("auto_filter") || s.readEnum<AutoFilter>("auto_filter", autoFilterChoices, f.autoFilter);
  if (!recipeValid || !filterValid)
    return;
  bool delayed = f.recipe == FP8Recipe::Delayed;
  bool roofline = f.autoFilter == AutoFilter::Roofline;
  llvm::SmallVector<StringRef> keys = {"enabled", "recipe", "format", "margin"};
  if (delayed)
    keys.append({"amax_history_len", "amax_compute_algo", "interval"});
  keys.append({"power_of_2_scales", "filter_fqns", "first_layer_bf16", "last_layer_bf16",
               "auto_filter", "device"});
  if (roofline)
    keys.push_back("threshold");
  keys.push_back("overrides");
  StringRef recipe = stringifyFP8Recipe(f.recipe);
  s.checkKeys(keys, [&](StringRef key) -> std::string {
    if (llvm::is_contained({"amax_history_len", "amax_compute_algo", "interval"}, key))
      return ("only used by recipe delayed, not '" + recipe + "'").str();
    if (key == "threshold")
      return "only used with auto_filter roofline, not 'none'";
    return "";
  });
  s.readBool("enabled", f.enabled);
  s.readEnum<FP8Format>("format", formatChoices, f.format);
  s.readInt("margin", 0, 32, f.margin);
  if (delayed) {
    s.readInt("amax_history_len", 1, 65536, f.amaxHistoryLen);
    s.readEnum<AmaxComputeAlgo>("amax_compute_algo", amaxAlgoChoices, f.amaxComputeAlgo);
    s.readInt("interval", 1, 1000000, f.interval);
  }
  s.readBool("power_of_2_scales", f.powerOf2Scales);
  if (const YNode *filters = s.get("filter_fqns")) {
    std::string path = s.pathOf("filter_fqns");
    if (filters->kind != YNode::Kind::Sequence)
      diags.error(filters->loc, path,
                  "expected a sequence of name substrings, got " + filters->describe());
    else
      for (auto [i, item] : llvm::enumerate(filters->items))
        if (auto name = parseName(diags, *item, itemPath(path, i)))
          f.filterFQNs.push_back(*name);
  }
  s.readBool("first_layer_bf16", f.firstLayerBF16);
  s.readBool("last_layer_bf16", f.lastLayerBF16);
  s.readEnum<Device>("device", deviceChoices, f.device);
  if (roofline)
    s.readNumber("threshold", Range::between(0, 100, true, false), f.threshold);
  if (const YNode *overrides = s.get("overrides")) {
    std::string path = s.pathOf("overrides");
    if (overrides->kind != YNode::Kind::Sequence)
      diags.error(overrides->loc, path,
                  "expected a sequence of {match, forward, dgrad, wgrad} mappings, got " +
                      overrides->describe());
    else
      for (auto [i, item] : llvm::enumerate(overrides->items))
        parseOverride(*item, itemPath(path, i));
  }
}

void ConfigParser::parseOverride(const YNode &node, StringRef path) {
  Section s(diags, node, path.str(), node.loc);
  if (!s.isMapping())
    return;
  s.checkKeys({"match", "forward", "dgrad", "wgrad"});
  FP8Override o;
  if (const YNode *match = s.get("match")) {
    if (auto name = parseName(diags, *match, s.pathOf("match")))
      o.match = *name;
  } else {
    s.missing("match", "a substring of the layer names it applies to");
  }
  std::optional<GemmPrecision> *fields[] = {&o.forward, &o.dgrad, &o.wgrad};
  StringRef names[] = {"forward", "dgrad", "wgrad"};
  bool any = false;
  for (auto [field, name] : llvm::zip(fields, names)) {
    GemmPrecision value;
    if (s.readEnum<GemmPrecision>(name, gemmPrecisionChoices, value))
      *field = value;
    any |= s.has(name);
  }
  if (!any)
    diags.error(node.loc, path, "expected at least one of forward, dgrad, wgrad (fp8 or bf16)");
  config.fp8.overrides.push_back(std::move(o));
}

} // namespace

std::optional<ModelConfig> fp8c::parseModelConfig(llvm::MemoryBufferRef buffer,
                                                  llvm::SourceMgr &sourceMgr) {
  Diagnostics diags(sourceMgr);
  // The stream registers the buffer with `sourceMgr` and reports syntax errors there.
  llvm::yaml::Stream stream(buffer, sourceMgr);
  SMLoc start = SMLoc::getFromPointer(buffer.getBufferStart());
  std::unique_ptr<YNode> root;
  unsigned documents = 0;
  for (llvm::yaml::Document &document : stream) {
    llvm::yaml::Node *node = document.getRoot();
    if (stream.failed() || !node)
      break;
    if (++documents > 1) {
      diags.error(node->getSourceRange().Start, "",
                  "expected one YAML document, found a second one");
      break;
    }
    root = TreeBuilder(diags).build(node, "", 0, start);
    if (!root)
      break;
  }
  if (stream.failed() || diags.getNumErrors() != 0)
    return std::nullopt;
  if (!root)
    root = std::make_unique<YNode>();
  ConfigParser parser(diags);
  parser.parseRoot(*root, start);
  if (diags.getNumErrors() != 0)
    return std::nullopt;
  return parser.takeConfig();
}
