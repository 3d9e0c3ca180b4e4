//===- BatchSource.h - Where the trainer's batches come from ----*- C++ -*-===//
//
// The trainer draws training batches and held-out evaluation batches through
// one interface, whatever the data is:
//
//   TokenFileSource   a token file (TokenData.h): training batches are
//                     nanoGPT's get_batch over its training part; evaluation
//                     batches tile a --val-data file, or else the last 10 %
//                     of the file when both parts keep a whole sequence
//   SyntheticSource   the seeded Markov corpus (Synthetic.h) over the model's
//                     vocabulary; evaluation batches come from a second
//                     stream seeded with ~seed, restarted at every evaluation
//
// Training draws advance rng(), which a checkpoint saves and a resumed run
// restores. docs/runtime.md ("Data") gives the split and every message.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_DATA_BATCHSOURCE_H
#define FP8RT_DATA_BATCHSOURCE_H

#include "fp8rt/Rng.h"
#include "fp8rt/Status.h"
#include "fp8rt/data/Batch.h"
#include "fp8rt/data/Synthetic.h"
#include "fp8rt/data/TokenData.h"

#include <memory>
#include <optional>
#include <string>

namespace fp8rt {

/// What to read: exactly one of a token file and the synthetic corpus.
struct DataOptions {
  std::string dataPath;    ///< a token file
  std::string valDataPath; ///< held-out token file; empty: a tail of dataPath
  bool synthetic = false;  ///< the seeded Markov corpus instead of a file
  uint64_t seed = 1;       ///< seed of the batch draws
};

/// Batches of a fixed shape [batchSize, seqLen] for training and evaluation.
class BatchSource {
public:
  /// Opens the source `options` names for a model of `vocabSize` tokens.
  static StatusOr<std::unique_ptr<BatchSource>> open(const DataOptions &options, int64_t vocabSize,
                                                     int64_t batchSize, int64_t seqLen);

  virtual ~BatchSource();

  /// The next training batch (advances rng()).
  virtual Status trainBatch(Batch &out) = 0;
  /// How many held-out batches exist (a large number for synthetic data).
  virtual int64_t numEvalBatches() const = 0;
  /// Starts an evaluation pass: batch i is the same at every evaluation.
  virtual void beginEval() {}
  /// Held-out batch `i` of the current evaluation pass.
  virtual Status evalBatch(int64_t i, Batch &out) = 0;
  /// The best mean loss a model can reach on this data (nats/token), -1 when
  /// it is not known.
  virtual double lossFloor() const { return -1.0; }

  /// The generator of the training draws.
  Rng &rng() { return rng_; }
  /// One line for the run's log: what the data is and how it is split.
  const std::string &description() const { return description_; }

protected:
  BatchSource(int64_t batchSize, int64_t seqLen, uint64_t seed);

  int64_t batchSize_, seqLen_;
  Rng rng_;
  std::string description_;
};

/// A token file, with its held-out part (see the file comment).
class TokenFileSource : public BatchSource {
public:
  static StatusOr<std::unique_ptr<TokenFileSource>>
  open(const DataOptions &options, int64_t vocabSize, int64_t batchSize, int64_t seqLen);

  Status trainBatch(Batch &out) override;
  int64_t numEvalBatches() const override;
  Status evalBatch(int64_t i, Batch &out) override;

private:
  TokenFileSource(TokenFile file, int64_t batchSize, int64_t seqLen, uint64_t seed);

  TokenFile file_;
  std::optional<TokenFile> valFile_;
  TokenRange train_;                  // training windows lie in it
  std::optional<TokenRange> heldOut_; // without valFile_: the tail of file_
};

/// The seeded synthetic corpus (Synthetic.h).
class SyntheticSource : public BatchSource {
public:
  static StatusOr<std::unique_ptr<SyntheticSource>>
  open(const DataOptions &options, int64_t vocabSize, int64_t batchSize, int64_t seqLen);

  Status trainBatch(Batch &out) override;
  int64_t numEvalBatches() const override;
  void beginEval() override;
  Status evalBatch(int64_t i, Batch &out) override;
  double lossFloor() const override;

private:
  SyntheticSource(MarkovSource markov, int64_t batchSize, int64_t seqLen, uint64_t seed);

  MarkovSource markov_;
  uint64_t seed_;
  Rng evalRng_;
};

} // namespace fp8rt

#endif // FP8RT_DATA_BATCHSOURCE_H
