//===- ModelConfig.h - the YAML model description ---------------*- C++ -*-===//
//
// A model description (docs/model-description.md) is parsed once into a
// ModelConfig with every default filled in and every derived value computed, so
// that the graph builder and later passes never re-validate or guess.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_FRONTEND_MODELCONFIG_H
#define FP8C_FRONTEND_MODELCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace fp8c {

enum class ModelFamily { MLP, GPT, Llama };
enum class Precision { BF16, FP32 };
enum class OptimizerKind { AdamW, SGD };
enum class LRScheduleKind { Constant, Cosine };
enum class FP8Recipe { Tensorwise, Delayed, Rowwise, Blockwise };
enum class FP8Format { Hybrid, E4M3 };
enum class AmaxComputeAlgo { Max, MostRecent };
enum class AutoFilter { Roofline, None };
enum class Device { H100SXM, H100PCIe, H200, L40S, B200 };
enum class GemmPrecision { FP8, BF16 };
enum class DistributedStrategy { DDP, Zero1, FSDP };

/// The spelling used in YAML and in the `train.config` attribute.
llvm::StringRef stringifyModelFamily(ModelFamily value);
llvm::StringRef stringifyPrecision(Precision value);
llvm::StringRef stringifyOptimizerKind(OptimizerKind value);
llvm::StringRef stringifyLRScheduleKind(LRScheduleKind value);
llvm::StringRef stringifyFP8Recipe(FP8Recipe value);
llvm::StringRef stringifyFP8Format(FP8Format value);
llvm::StringRef stringifyAmaxComputeAlgo(AmaxComputeAlgo value);
llvm::StringRef stringifyAutoFilter(AutoFilter value);
llvm::StringRef stringifyDevice(Device value);
llvm::StringRef stringifyGemmPrecision(GemmPrecision value);
llvm::StringRef stringifyDistributedStrategy(DistributedStrategy value);

/// `model:`. Keys that do not apply to the family keep their defaults and are
/// rejected in YAML.
struct ModelSection {
  ModelFamily family = ModelFamily::GPT;
  int64_t vocabSize = 0;
  int64_t seqLen = 0;
  int64_t dModel = 0;
  int64_t nLayers = 0;
  /// gpt, llama.
  int64_t nHeads = 0;
  /// llama; equals nHeads for gpt (multi-head attention).
  int64_t nKVHeads = 0;
  /// Hidden width of the MLP (from ffn_dim, mlp_ratio or the family default).
  int64_t ffnDim = 0;
  /// gpt, llama.
  double normEps = 1e-5;
  /// gpt, mlp: biases on linear layers (and LayerNorms for gpt).
  bool bias = true;
  /// gpt: lm_head shares the token embedding.
  bool tieEmbeddings = false;
  /// gpt: GELU's tanh approximation (GPT-2's own, HF's "gelu_new") instead of
  /// nanoGPT's exact erf form.
  bool geluTanh = false;
  /// llama: RoPE base.
  double ropeTheta = 10000.0;

  int64_t headDim() const { return nHeads ? dModel / nHeads : 0; }
};

struct OptimizerSection {
  OptimizerKind name = OptimizerKind::AdamW;
  double lr = 6e-4;
  /// adamw.
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weightDecay = 0.1;
  /// Global-norm clipping threshold; 0 disables clipping.
  double gradClip = 1.0;
  /// sgd.
  double momentum = 0.0;
};

struct LRScheduleSection {
  LRScheduleKind kind = LRScheduleKind::Constant;
  int64_t warmupSteps = 0;
  /// cosine: the step at which the rate reaches minLR; 0 for constant.
  int64_t totalSteps = 0;
  /// cosine.
  double minLR = 0.0;
};

struct InitSection {
  double std = 0.02;
  int64_t seed = 1337;
};

struct TrainSection {
  int64_t batchSize = 8;
  int64_t gradAccumSteps = 1;
  /// Tokens per chunk of the loss (fp8-chunk-loss); absent: auto, 0: off.
  std::optional<int64_t> lossChunkTokens;
  Precision precision = Precision::BF16;
  OptimizerSection optimizer;
  LRScheduleSection lrSchedule;
  InitSection init;
  /// `memory_budget` in bytes (0: none) and `recompute` ("": not written, auto);
  /// docs/memory-plan.md, "Recompute under a budget".
  int64_t memoryBudget = 0;
  std::string recompute;
};

/// One `fp8.overrides` entry: GEMMs of layers whose name contains `match`.
struct FP8Override {
  std::string match;
  std::optional<GemmPrecision> forward, dgrad, wgrad;
};

/// `fp8:`, parsed and validated here; the FP8 passes consume it.
struct FP8Section {
  bool enabled = false;
  FP8Recipe recipe = FP8Recipe::Tensorwise;
  FP8Format format = FP8Format::Hybrid;
  int64_t margin = 0;
  /// delayed.
  int64_t amaxHistoryLen = 16;
  AmaxComputeAlgo amaxComputeAlgo = AmaxComputeAlgo::Max;
  int64_t interval = 1;
  bool powerOf2Scales = false;
  std::vector<std::string> filterFQNs;
  bool firstLayerBF16 = false;
  bool lastLayerBF16 = false;
  AutoFilter autoFilter = AutoFilter::Roofline;
  Device device = Device::H100SXM;
  /// roofline: minimum predicted speedup for choosing fp8.
  double threshold = 1.0;
  std::vector<FP8Override> overrides;
};

/// `distributed:`: data-parallel training over world_size ranks (docs/distributed.md).
struct DistributedSection {
  /// Only a written section is carried into train.config.
  bool present = false;
  DistributedStrategy strategy = DistributedStrategy::DDP;
  int64_t worldSize = 1;
  /// The keys below are carried only when written (absent: the defaults of
  /// docs/distributed.md), so programs of existing descriptions stay as they were.
  /// nodes x gpus_per_node = world_size, both resolved when either is written.
  std::optional<int64_t> nodes, gpusPerNode;
  /// ddp/zero1 gradient bucket size in MiB (default 25, as PyTorch DDP).
  std::optional<double> bucketMB;
  /// fsdp: "auto", "true" or "false" (default auto: the cost model decides).
  std::optional<std::string> fp8AllGather;
  /// fsdp: gather weights again for backward (default true, as FSDP2).
  std::optional<bool> reshardAfterForward;
};

struct ModelConfig {
  ModelSection model;
  TrainSection train;
  FP8Section fp8;
  DistributedSection distributed;
  /// Position of the `model:` key: the built graph is located there.
  unsigned modelLine = 1, modelColumn = 1;
};

/// Parses and validates a YAML model description. Every error is reported
/// through `sourceMgr` as `FILE:LINE:COL: error: <key path>: <expected>`; the
/// result is empty when there was any. Never crashes on malformed input.
std::optional<ModelConfig> parseModelConfig(llvm::MemoryBufferRef buffer,
                                            llvm::SourceMgr &sourceMgr);

/// The largest accepted values keep every tensor's element count far inside
/// int64_t (tokens per micro-batch × vocab < 2^47).
namespace limits {
constexpr int64_t maxVocabSize = int64_t(1) << 24;
constexpr int64_t maxSeqLen = int64_t(1) << 20;
constexpr int64_t maxDModel = int64_t(1) << 18; // so that 4 × d_model <= maxFFNDim
constexpr int64_t maxFFNDim = int64_t(1) << 20;
constexpr int64_t maxLayers = 4096;
constexpr int64_t maxBatchSize = int64_t(1) << 16;
constexpr int64_t maxTokensPerBatch = int64_t(1) << 22; // batch_size × seq_len
} // namespace limits

} // namespace fp8c

#endif // FP8C_FRONTEND_MODELCONFIG_H
