//===- BatchSource.cpp - Token files and the synthetic corpus as batches --===//
//
// The descriptions are the run's second output line; e2e tests compare them.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/data/BatchSource.h"

#include <cstdio>

namespace fp8rt {

BatchSource::BatchSource(int64_t batchSize, int64_t seqLen, uint64_t seed)
    : batchSize_(batchSize), seqLen_(seqLen), rng_(seed) {}

BatchSource::~BatchSource() = default;

StatusOr<std::unique_ptr<BatchSource>> BatchSource::open(const DataOptions &options,
                                                         int64_t vocabSize, int64_t batchSize,
                                                         int64_t seqLen) {
  if (options.synthetic) {
    FP8RT_ASSIGN_OR_RETURN(std::unique_ptr<SyntheticSource> s,
                           SyntheticSource::open(options, vocabSize, batchSize, seqLen));
    return std::unique_ptr<BatchSource>(std::move(s));
  }
  FP8RT_ASSIGN_OR_RETURN(std::unique_ptr<TokenFileSource> s,
                         TokenFileSource::open(options, vocabSize, batchSize, seqLen));
  return std::unique_ptr<BatchSource>(std::move(s));
}

//===----------------------------------------------------------------------===//
// Token files
//===----------------------------------------------------------------------===//

TokenFileSource::TokenFileSource(TokenFile file, int64_t batchSize, int64_t seqLen, uint64_t seed)
    : BatchSource(batchSize, seqLen, seed), file_(std::move(file)), train_(file_.all()) {}

StatusOr<std::unique_ptr<TokenFileSource>> TokenFileSource::open(const DataOptions &options,
                                                                 int64_t vocabSize,
                                                                 int64_t batchSize,
                                                                 int64_t seqLen) {
  const TokenWidth width = defaultTokenWidth(vocabSize);
  FP8RT_ASSIGN_OR_RETURN(TokenFile file,
                         TokenFile::open(options.dataPath, width, vocabSize, seqLen));
  const int64_t n = file.numTokens();
  std::unique_ptr<TokenFileSource> s(
      new TokenFileSource(std::move(file), batchSize, seqLen, options.seed));
  std::string &description = s->description_;
  description = "data: " + options.dataPath + " (" + std::to_string(n) + " " +
                tokenWidthName(width) + " tokens)";
  if (!options.valDataPath.empty()) {
    FP8RT_ASSIGN_OR_RETURN(TokenFile val,
                           TokenFile::open(options.valDataPath, width, vocabSize, seqLen));
    description +=
        ", held-out: " + options.valDataPath + " (" + std::to_string(val.numTokens()) + " tokens)";
    s->valFile_ = std::move(val);
    return s;
  }
  // Hold out the last 10 % when both parts keep at least one sequence.
  const int64_t held = n / 10;
  if (held >= seqLen + 1 && n - held >= seqLen + 1) {
    s->train_ = {0, n - held};
    s->heldOut_ = TokenRange{n - held, n};
    description += ", training on the first " + std::to_string(n - held) + ", held out the last " +
                   std::to_string(held);
  } else {
    description += ", too short to hold out 10 % for evaluation";
  }
  return s;
}

Status TokenFileSource::trainBatch(Batch &out) {
  return file_.getBatch(rng_, train_, batchSize_, seqLen_, out);
}

int64_t TokenFileSource::numEvalBatches() const {
  if (valFile_)
    return valFile_->numSequentialBatches(batchSize_, seqLen_);
  if (!heldOut_)
    return 0;
  return file_.numSequentialBatches(*heldOut_, batchSize_, seqLen_);
}

Status TokenFileSource::evalBatch(int64_t i, Batch &out) {
  if (valFile_)
    return valFile_->getSequentialBatch(i, batchSize_, seqLen_, out);
  if (!heldOut_)
    return outOfRangeError("data file " + file_.path() + ": no held-out part");
  return file_.getSequentialBatch(*heldOut_, i, batchSize_, seqLen_, out);
}

//===----------------------------------------------------------------------===//
// The synthetic corpus
//===----------------------------------------------------------------------===//

SyntheticSource::SyntheticSource(MarkovSource markov, int64_t batchSize, int64_t seqLen,
                                 uint64_t seed)
    : BatchSource(batchSize, seqLen, seed), markov_(std::move(markov)), seed_(seed) {}

StatusOr<std::unique_ptr<SyntheticSource>> SyntheticSource::open(const DataOptions &options,
                                                                 int64_t vocabSize,
                                                                 int64_t batchSize,
                                                                 int64_t seqLen) {
  SyntheticConfig config;
  config.vocabSize = vocabSize;
  FP8RT_ASSIGN_OR_RETURN(MarkovSource m, MarkovSource::synthetic(config));
  char floor[64];
  std::snprintf(floor, sizeof floor, "%.6f", m.lossFloor(seqLen));
  std::unique_ptr<SyntheticSource> s(
      new SyntheticSource(std::move(m), batchSize, seqLen, options.seed));
  s->description_ = "synthetic: " + s->markov_.describe() + "; loss floor for seq_len " +
                    std::to_string(seqLen) + ": " + floor + " nats/token";
  return s;
}

Status SyntheticSource::trainBatch(Batch &out) {
  return markov_.getBatch(rng_, batchSize_, seqLen_, out);
}

int64_t SyntheticSource::numEvalBatches() const { return INT64_MAX; }

void SyntheticSource::beginEval() { evalRng_.reseed(~seed_); }

Status SyntheticSource::evalBatch(int64_t, Batch &out) {
  return markov_.getBatch(evalRng_, batchSize_, seqLen_, out);
}

double SyntheticSource::lossFloor() const { return markov_.lossFloor(seqLen_); }

} // namespace fp8rt
