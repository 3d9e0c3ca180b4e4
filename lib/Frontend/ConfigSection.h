//===- ConfigSection.h - validating model-description sections -*- C++ -*-===//
//
// The pieces every section of the YAML model description is validated with:
// the spellings of each choice, typed reads of scalar values, and Section, one
// mapping being read key by key. ConfigParser walks the sections; its parts
// live in ModelConfig.cpp (the root), ModelSection.cpp, TrainSection.cpp,
// FP8Section.cpp and DistributedSection.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_FRONTEND_CONFIGSECTION_H
#define FP8C_LIB_FRONTEND_CONFIGSECTION_H

#include "YamlTree.h"

#include "fp8c/Frontend/ModelConfig.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <functional>
#include <optional>

namespace fp8c::frontend {

//===----------------------------------------------------------------------===//
// Spellings
//===----------------------------------------------------------------------===//

template <typename E> using Choices = llvm::ArrayRef<std::pair<StringRef, E>>;

inline const std::pair<StringRef, ModelFamily> familyChoices[] = {
    {"mlp", ModelFamily::MLP}, {"gpt", ModelFamily::GPT}, {"llama", ModelFamily::Llama}};
/// gpt's `gelu`: whether the tanh approximation is used.
inline const std::pair<StringRef, bool> geluChoices[] = {{"exact", false}, {"tanh", true}};
inline const std::pair<StringRef, Precision> precisionChoices[] = {{"bf16", Precision::BF16},
                                                                   {"fp32", Precision::FP32}};
inline const std::pair<StringRef, OptimizerKind> optimizerChoices[] = {
    {"adamw", OptimizerKind::AdamW}, {"sgd", OptimizerKind::SGD}};
inline const std::pair<StringRef, LRScheduleKind> scheduleChoices[] = {
    {"constant", LRScheduleKind::Constant}, {"cosine", LRScheduleKind::Cosine}};
inline const std::pair<StringRef, FP8Recipe> recipeChoices[] = {
    {"tensorwise", FP8Recipe::Tensorwise},
    {"delayed", FP8Recipe::Delayed},
    {"rowwise", FP8Recipe::Rowwise},
    {"blockwise", FP8Recipe::Blockwise}};
inline const std::pair<StringRef, FP8Format> formatChoices[] = {{"hybrid", FP8Format::Hybrid},
                                                                {"e4m3", FP8Format::E4M3}};
inline const std::pair<StringRef, AmaxComputeAlgo> amaxAlgoChoices[] = {
    {"max", AmaxComputeAlgo::Max}, {"most_recent", AmaxComputeAlgo::MostRecent}};
inline const std::pair<StringRef, AutoFilter> autoFilterChoices[] = {
    {"roofline", AutoFilter::Roofline}, {"none", AutoFilter::None}};
inline const std::pair<StringRef, Device> deviceChoices[] = {{"h100-sxm", Device::H100SXM},
                                                             {"h100-pcie", Device::H100PCIe},
                                                             {"h200", Device::H200},
                                                             {"l40s", Device::L40S},
                                                             {"b200", Device::B200}};
inline const std::pair<StringRef, GemmPrecision> gemmPrecisionChoices[] = {
    {"fp8", GemmPrecision::FP8}, {"bf16", GemmPrecision::BF16}};
inline const std::pair<StringRef, DistributedStrategy> strategyChoices[] = {
    {"ddp", DistributedStrategy::DDP},
    {"zero1", DistributedStrategy::Zero1},
    {"fsdp", DistributedStrategy::FSDP}};

//===----------------------------------------------------------------------===//
// Scalar values
//===----------------------------------------------------------------------===//

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

  std::string describe() const;
};

/// "an integer in [lo, hi]" (or ">= lo" for huge bounds).
std::string describeIntRange(int64_t lo, int64_t hi);

std::optional<int64_t> parseInt(Diagnostics &diags, const YNode &node, StringRef path, int64_t lo,
                                int64_t hi);
std::optional<double> parseNumber(Diagnostics &diags, const YNode &node, StringRef path,
                                  Range range);
std::optional<bool> parseBool(Diagnostics &diags, const YNode &node, StringRef path);
/// A non-empty string.
std::optional<std::string> parseName(Diagnostics &diags, const YNode &node, StringRef path);

template <typename E> std::string listChoices(Choices<E> choices) {
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

/// Validates a whole document into a ModelConfig, section by section.
class ConfigParser {
public:
  explicit ConfigParser(Diagnostics &diags) : diags(diags) {}

  void parseRoot(const YNode &root, SMLoc start);
  ModelConfig takeConfig() { return std::move(config); }

private:
  void parseModel(const YNode &node, SMLoc keyLoc);
  /// `model: {hf_config: PATH, seq_len: N}` (HfConfig.cpp).
  void parseHfModel(const YNode &node, SMLoc keyLoc);
  void parseTrain(const YNode &node, SMLoc keyLoc);
  void parseOptimizer(const YNode &node, SMLoc keyLoc);
  void parseSchedule(const YNode &node, SMLoc keyLoc, bool optimizerValid);
  void parseInit(const YNode &node, SMLoc keyLoc);
  void parseFP8(const YNode &node, SMLoc keyLoc);
  void parseOverride(const YNode &node, StringRef path);
  void parseDistributed(const YNode &node, SMLoc keyLoc);

  Diagnostics &diags;
  ModelConfig config;
};

} // namespace fp8c::frontend

#endif // FP8C_LIB_FRONTEND_CONFIGSECTION_H
