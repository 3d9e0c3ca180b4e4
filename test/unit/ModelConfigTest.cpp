//===- ModelConfigTest.cpp - model description parser and graph builder ---===//

#include "fp8c/Frontend/BuildForwardGraph.h"
#include "fp8c/Frontend/ModelConfig.h"

#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

using namespace fp8c;

namespace {

/// Parses `yaml`, collecting the error messages (`LINE:COL: message`).
struct Parsed {
  std::optional<ModelConfig> config;
  std::vector<std::string> errors;
};

Parsed parse(llvm::StringRef yaml) {
  Parsed result;
  llvm::SourceMgr sourceMgr;
  sourceMgr.setDiagHandler(
      [](const llvm::SMDiagnostic &d, void *ctx) {
        static_cast<Parsed *>(ctx)->errors.push_back(std::to_string(d.getLineNo()) + ":" +
                                                     std::to_string(d.getColumnNo() + 1) + ": " +
                                                     d.getMessage().str());
      },
      &result);
  result.config = parseModelConfig(llvm::MemoryBufferRef(yaml, "test.yaml"), sourceMgr);
  return result;
}

ModelConfig parseOK(llvm::StringRef yaml) {
  Parsed p = parse(yaml);
  EXPECT_TRUE(p.errors.empty()) << (p.errors.empty() ? "" : p.errors.front());
  return p.config.value_or(ModelConfig());
}

constexpr llvm::StringLiteral gpt = R"(
model:
  family: gpt
  vocab_size: 50304
  seq_len: 1024
  d_model: 768
  n_layers: 12
  n_heads: 12
)";

TEST(ModelConfig, GPTDefaults) {
  ModelConfig c = parseOK(gpt);
  EXPECT_EQ(c.model.family, ModelFamily::GPT);
  EXPECT_EQ(c.model.ffnDim, 4 * 768);
  EXPECT_EQ(c.model.nKVHeads, 12);
  EXPECT_EQ(c.model.headDim(), 64);
  EXPECT_TRUE(c.model.bias);
  EXPECT_TRUE(c.model.tieEmbeddings);
  EXPECT_DOUBLE_EQ(c.model.normEps, 1e-5);
  // nanoGPT's training defaults.
  EXPECT_EQ(c.train.batchSize, 8);
  EXPECT_EQ(c.train.gradAccumSteps, 1);
  EXPECT_EQ(c.train.precision, Precision::BF16);
  EXPECT_EQ(c.train.optimizer.name, OptimizerKind::AdamW);
  EXPECT_DOUBLE_EQ(c.train.optimizer.lr, 6e-4);
  EXPECT_DOUBLE_EQ(c.train.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(c.train.optimizer.beta2, 0.95);
  EXPECT_DOUBLE_EQ(c.train.optimizer.weightDecay, 0.1);
  EXPECT_DOUBLE_EQ(c.train.optimizer.gradClip, 1.0);
  EXPECT_EQ(c.train.lrSchedule.kind, LRScheduleKind::Constant);
  EXPECT_DOUBLE_EQ(c.train.init.std, 0.02);
  EXPECT_EQ(c.train.init.seed, 1337);
  // No fp8 section: FP8 off.
  EXPECT_FALSE(c.fp8.enabled);
  EXPECT_EQ(c.modelLine, 2u);
  EXPECT_EQ(c.modelColumn, 1u);
}

TEST(ModelConfig, LlamaDerivedValues) {
  auto llama = [](int dModel) {
    return "model: {family: llama, vocab_size: 32000, seq_len: 2048, d_model: " +
           std::to_string(dModel) + ", n_layers: 2, n_heads: 32}\n";
  };
  // Meta's rule: 2/3 of 4·d, rounded up to a multiple of 256 (Llama-2-7B: 11008).
  ModelConfig c = parseOK(llama(4096));
  EXPECT_EQ(c.model.ffnDim, 11008);
  EXPECT_EQ(c.model.nKVHeads, 32);
  EXPECT_DOUBLE_EQ(c.model.ropeTheta, 10000.0);
  EXPECT_FALSE(c.model.bias);
  EXPECT_FALSE(c.model.tieEmbeddings);
  EXPECT_EQ(parseOK(llama(2048)).model.ffnDim, 5632);
}

TEST(ModelConfig, MlpRatio) {
  ModelConfig c = parseOK("model: {family: mlp, vocab_size: 64, seq_len: 8, d_model: 100, "
                          "n_layers: 1, mlp_ratio: 2.5}\n");
  EXPECT_EQ(c.model.ffnDim, 250);
  EXPECT_TRUE(c.model.bias);
}

TEST(ModelConfig, VariantDefaults) {
  // SGD decays nothing unless asked; an fp8 section turns FP8 on.
  ModelConfig c = parseOK(gpt.str() + "train: {optimizer: {name: sgd, momentum: 0.9}}\n"
                                      "fp8: {recipe: delayed}\n");
  EXPECT_EQ(c.train.optimizer.name, OptimizerKind::SGD);
  EXPECT_DOUBLE_EQ(c.train.optimizer.weightDecay, 0.0);
  EXPECT_DOUBLE_EQ(c.train.optimizer.momentum, 0.9);
  EXPECT_TRUE(c.fp8.enabled);
  EXPECT_EQ(c.fp8.recipe, FP8Recipe::Delayed);
  EXPECT_EQ(c.fp8.amaxHistoryLen, 16);
  EXPECT_EQ(c.fp8.autoFilter, AutoFilter::Roofline);
  EXPECT_FALSE(parseOK(gpt.str() + "fp8: {enabled: false}\n").fp8.enabled);
}

TEST(ModelConfig, FP8Overrides) {
  ModelConfig c = parseOK(gpt.str() + R"(fp8:
  filter_fqns: [lm_head, "h.0."]
  overrides:
    - {match: c_fc, wgrad: bf16}
    - {match: c_proj, forward: fp8, dgrad: bf16}
)");
  ASSERT_EQ(c.fp8.filterFQNs.size(), 2u);
  EXPECT_EQ(c.fp8.filterFQNs[1], "h.0.");
  ASSERT_EQ(c.fp8.overrides.size(), 2u);
  EXPECT_EQ(c.fp8.overrides[0].match, "c_fc");
  EXPECT_FALSE(c.fp8.overrides[0].forward.has_value());
  EXPECT_EQ(c.fp8.overrides[0].wgrad, GemmPrecision::BF16);
  EXPECT_EQ(c.fp8.overrides[1].forward, GemmPrecision::FP8);
  EXPECT_EQ(c.fp8.overrides[1].dgrad, GemmPrecision::BF16);
}

TEST(ModelConfig, ErrorsAreLocatedAndNamed) {
  Parsed p = parse("model:\n  family: mlp\n  vocab_size: \"64\"\n  seq_len: 8\n"
                   "  d_model: 8\n  n_layers: 1\n");
  EXPECT_FALSE(p.config.has_value());
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors.front(),
            "3:15: model.vocab_size: expected an integer in [1, 16777216], got the string \"64\"");

  p = parse("model: {family: gpt, family: gpt}\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors.front(), "1:22: model.family: duplicate key (first set on line 1)");
}

TEST(ModelConfig, MalformedInputNeverCrashes) {
  for (llvm::StringRef input :
       {llvm::StringRef(""), llvm::StringRef("\0\1\2", 3), llvm::StringRef("{{{{"),
        llvm::StringRef("]"), llvm::StringRef("model: [1, {a: ]"), llvm::StringRef("- - - -"),
        llvm::StringRef("model: !!binary AAAA"), llvm::StringRef("? [a]\n: b\n"),
        llvm::StringRef("model: &x {family: *x}"), llvm::StringRef("%YAML 9.9\n---\n")}) {
    Parsed p = parse(input);
    EXPECT_FALSE(p.config.has_value()) << input.str();
    EXPECT_FALSE(p.errors.empty()) << input.str();
  }
}

TEST(ModelConfig, Spellings) {
  EXPECT_EQ(stringifyModelFamily(ModelFamily::Llama), "llama");
  EXPECT_EQ(stringifyDevice(Device::H100PCIe), "h100-pcie");
  EXPECT_EQ(stringifyAmaxComputeAlgo(AmaxComputeAlgo::MostRecent), "most_recent");
  EXPECT_EQ(stringifyGemmPrecision(GemmPrecision::BF16), "bf16");
}

/// Total element count of the `train.param`s of @forward.
int64_t countParameters(mlir::ModuleOp module) {
  int64_t total = 0;
  module.walk([&](train::ParamOp op) { total += op.getType().getNumElements(); });
  return total;
}

TEST(BuildForwardGraph, GPT2SmallHas124MParameters) {
  mlir::MLIRContext context;
  ModelConfig c = parseOK(gpt.str() + "train: {batch_size: 1}\n");
  auto module = buildForwardGraph(&context, c, mlir::UnknownLoc::get(&context));
  ASSERT_TRUE(module);
  // nanoGPT prints 123.69M: the same count without the position table.
  EXPECT_EQ(countParameters(*module), 124475904);
  EXPECT_EQ(countParameters(*module) - 1024 * 768, 123689472);
}

TEST(BuildForwardGraph, Llama32OneBParameters) {
  mlir::MLIRContext context;
  ModelConfig c = parseOK(R"(model:
  family: llama
  vocab_size: 128256
  seq_len: 16
  d_model: 2048
  n_layers: 16
  n_heads: 32
  n_kv_heads: 8
  ffn_dim: 8192
train: {batch_size: 1, precision: fp32}
)");
  auto module = buildForwardGraph(&context, c, mlir::UnknownLoc::get(&context));
  ASSERT_TRUE(module);
  // Llama-3.2-1B has 1,235,814,400 parameters with its head tied; ours is untied.
  EXPECT_EQ(countParameters(*module), 1235814400 + 128256 * 2048);
}

TEST(BuildForwardGraph, TrainConfigAttr) {
  mlir::MLIRContext context;
  ModelConfig c = parseOK(gpt.str() + "train: {optimizer: {betas: [0.8, 0.99]}}\n");
  mlir::DictionaryAttr attr = buildTrainConfigAttr(&context, c);
  auto optimizer = attr.getAs<mlir::DictionaryAttr>("optimizer");
  ASSERT_TRUE(optimizer);
  EXPECT_EQ(optimizer.getAs<mlir::StringAttr>("name").getValue(), "adamw");
  EXPECT_DOUBLE_EQ(optimizer.getAs<mlir::FloatAttr>("beta1").getValueAsDouble(), 0.8);
  EXPECT_DOUBLE_EQ(optimizer.getAs<mlir::FloatAttr>("beta2").getValueAsDouble(), 0.99);
  EXPECT_FALSE(optimizer.get("momentum"));
  auto model = attr.getAs<mlir::DictionaryAttr>("model");
  EXPECT_EQ(model.getAs<mlir::IntegerAttr>("ffn_dim").getInt(), 3072);
  EXPECT_FALSE(model.get("rope_theta"));
  EXPECT_FALSE(attr.getAs<mlir::DictionaryAttr>("lr_schedule").get("total_steps"));
}

} // namespace
