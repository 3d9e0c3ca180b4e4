//===- ModelConfig.cpp - parsing and validating model descriptions --------===//
//
// Two steps. The YAML stream is first copied into a small owned tree
// (YamlTree.h) that keeps every location. Validation then fills a ModelConfig
// section by section (ConfigSection.h; the root here, the model, train and fp8
// sections in their own files) and reports every problem it finds as
// `FILE:LINE:COL: error: <key path>: <what was expected>`.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Frontend/ModelConfig.h"

#include "ConfigSection.h"
#include "YamlTree.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <tuple>

using namespace fp8c;
using namespace fp8c::frontend;

//===----------------------------------------------------------------------===//
// Spellings
//===----------------------------------------------------------------------===//

namespace {

template <typename E> StringRef spell(Choices<E> choices, E value) {
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
StringRef fp8c::stringifyAutoFilter(AutoFilter v) {
  return spell<AutoFilter>(autoFilterChoices, v);
}
StringRef fp8c::stringifyDevice(Device v) { return spell<Device>(deviceChoices, v); }
StringRef fp8c::stringifyGemmPrecision(GemmPrecision v) {
  return spell<GemmPrecision>(gemmPrecisionChoices, v);
}
StringRef fp8c::stringifyDistributedStrategy(DistributedStrategy v) {
  return spell<DistributedStrategy>(strategyChoices, v);
}

//===----------------------------------------------------------------------===//
// The document
//===----------------------------------------------------------------------===//

constexpr StringRef rootKeys[] = {"model", "train", "fp8", "distributed"};

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
    diags.error(start, "model",
                "missing required section (family, vocab_size, seq_len, "
                "d_model, n_layers, ...)");
  if (const YNode *train = s.get("train"))
    parseTrain(*train, s.keyLocOf("train"));
  if (const YNode *fp8 = s.get("fp8"))
    parseFP8(*fp8, s.keyLocOf("fp8"));
  if (const YNode *distributed = s.get("distributed"))
    parseDistributed(*distributed, s.keyLocOf("distributed"));

  // The graph holds [batch_size, seq_len] tensors (token ids, positions).
  if (diags.getNumErrors() != 0)
    return;
  int64_t tokens = config.train.batchSize * config.model.seqLen;
  if (tokens > limits::maxTokensPerBatch) {
    // Blame batch_size when it was written, else seq_len.
    const YNode *train = s.get("train");
    const YNode::Entry *batch = train ? train->find("batch_size") : nullptr;
    const YNode::Entry *at = batch ? batch : s.get("model")->find("seq_len");
    // A model from hf_config may have no seq_len key: blame the model key.
    diags.error(at ? at->value->loc : s.keyLocOf("model"),
                batch ? "train.batch_size" : "model.seq_len",
                "batch_size * seq_len = " + Twine(tokens) + " tokens per micro-batch exceeds " +
                    Twine(limits::maxTokensPerBatch));
  }
}

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
    root = copyYamlTree(node, diags, start);
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
