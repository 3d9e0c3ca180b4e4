//===- TrainSection.cpp - the `train` section: batch, optimizer, schedule --===//

#include "ConfigSection.h"

#include "fp8c/Analysis/ByteSize.h"
#include "fp8c/Dialect/Train/Transforms/ChunkLoss.h"

using namespace fp8c;
using namespace fp8c::frontend;

/// `loss_chunk_tokens: auto | 0 | N` (fp8-chunk-loss): N must divide the
/// micro-batch's tokens, batch_size is read and the model parsed before.
static void readLossChunkTokens(Section &s, int64_t seqLen, TrainSection &t) {
  const YNode *v = s.get("loss_chunk_tokens");
  if (!v || (v->kind == YNode::Kind::Scalar && v->value == "auto"))
    return;
  int64_t tokens = t.batchSize * seqLen, chunk = 0;
  if (v->kind != YNode::Kind::Scalar || !llvm::all_of(v->value, llvm::isDigit)) {
    s.error("loss_chunk_tokens", "expected auto, 0 (off) or a number of tokens dividing the " +
                                     llvm::Twine(tokens) + " of a micro-batch; got " +
                                     v->describe());
    return;
  }
  if (!s.readInt("loss_chunk_tokens", 0, tokens, chunk))
    return;
  if (chunk != 0 && tokens % chunk != 0) {
    s.error("loss_chunk_tokens",
            llvm::Twine(chunk) + " does not divide the " + llvm::Twine(tokens) +
                " tokens of a micro-batch (batch_size " + llvm::Twine(t.batchSize) + " x seq_len " +
                llvm::Twine(seqLen) + "); expected one of: " + train::describeDivisors(tokens) +
                ", 0 (off) or auto");
    return;
  }
  t.lossChunkTokens = chunk;
}

void ConfigParser::parseTrain(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "train", keyLoc);
  if (!s.isMapping())
    return;
  TrainSection &t = config.train;
  s.checkKeys({"batch_size", "grad_accum_steps", "precision", "optimizer", "lr_schedule", "init",
               "loss_chunk_tokens", "memory_budget", "recompute"});
  s.readInt("batch_size", 1, limits::maxBatchSize, t.batchSize);
  s.readInt("grad_accum_steps", 1, int64_t(1) << 20, t.gradAccumSteps);
  readLossChunkTokens(s, config.model.seqLen, t);
  s.readEnum<Precision>("precision", precisionChoices, t.precision);
  unsigned errorsBefore = diags.getNumErrors();
  if (const YNode *optimizer = s.get("optimizer"))
    parseOptimizer(*optimizer, s.keyLocOf("optimizer"));
  bool optimizerValid = diags.getNumErrors() == errorsBefore;
  if (const YNode *schedule = s.get("lr_schedule"))
    parseSchedule(*schedule, s.keyLocOf("lr_schedule"), optimizerValid);
  if (const YNode *init = s.get("init"))
    parseInit(*init, s.keyLocOf("init"));
  static const std::pair<StringRef, StringRef> recomputeChoices[] = {
      {"none", "none"}, {"selective", "selective"}, {"full", "full"}, {"auto", "auto"}};
  StringRef recompute;
  if (s.readEnum<StringRef>("recompute", recomputeChoices, recompute))
    t.recompute = recompute.str();
  if (const YNode *budget = s.get("memory_budget")) {
    std::optional<int64_t> bytes =
        budget->kind == YNode::Kind::Scalar ? parseByteSize(budget->value) : std::nullopt;
    if (bytes)
      t.memoryBudget = *bytes;
    else
      s.error("memory_budget", "expected " + kByteSizeSyntax + "; got " + budget->describe());
  }
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
