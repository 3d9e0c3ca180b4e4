//===- Synthetic.h - seeded Markov corpus with a known entropy --*- C++ -*-===//
//
// A built-in training corpus whose entropy rate is known exactly, so a
// trained model's loss has a visible floor (fp8-run --synthetic).
//
// The source is an order-n Markov chain over a vocabulary of V tokens: its
// state is the last n tokens (V^n states, the oldest token most significant
// in the state index), and each state has a sparse row of successor tokens
// with probabilities. `MarkovSource::synthetic` builds the rows from a seed:
//
//   successors of state s whose last token is b:
//     (b + 1) mod V, then k - 1 further distinct tokens drawn with
//     Rng::uniform(V) (rejecting repeats)
//   probabilities: flat Dirichlet(1, ..., 1): e_j = -log(Rng::openDouble()),
//     p_j = e_j / sum(e)
//
// The (b + 1) successor makes the chain irreducible on the states it reaches
// (every state leads to the cycle 0 -> 1 -> ... -> V-1 -> 0), so the
// stationary distribution pi is unique. `entropyRate()` is then, in nats,
//
//   H = -sum_s pi(s) sum_t P(t | s) log P(t | s)
//
// with pi found by power iteration of the lazy chain (pi + pi P) / 2 (same
// fixed point, never periodic) until ||pi P - pi||_1 < 1e-12.
//
// Batches are [B, T] (tokens, targets) as from a token file: each row is an
// independent stationary sequence of T + 1 tokens (its first n tokens drawn
// from pi, the rest by the chain). For order 1 every prediction's best
// expected loss is H; for order n > 1 the first n - 1 positions see less than
// a full state, and `lossFloor(T)` gives the exact expected minimum of a
// batch's mean cross-entropy.
//
// The default (order 1, k = 2 over the model's vocabulary; for gpt-tiny
// H = 0.477141 nats/token) is chosen so that gpt-tiny can get within 0.1
// nats of the floor in a few hundred steps: docs/runtime.md ("Data").
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_DATA_SYNTHETIC_H
#define FP8RT_DATA_SYNTHETIC_H

#include "fp8rt/Rng.h"
#include "fp8rt/Status.h"
#include "fp8rt/data/TokenData.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt {

/// Parameters of the seeded synthetic corpus. `vocabSize` must equal the
/// model's vocab_size.
struct SyntheticConfig {
  int64_t vocabSize = 256;
  int order = 1;     ///< tokens of context that determine the next token
  int branching = 2; ///< k: successors per state (1 <= k <= vocabSize)
  uint64_t seed = 1; ///< seed of the chain itself (not of the batches)
};

/// Limits: order in [1, 4], vocabSize^order <= kMaxMarkovStates.
constexpr int64_t kMaxMarkovStates = int64_t(1) << 22;

/// A sparse order-n Markov source with its stationary distribution and exact
/// entropy rate. Immutable after creation; copyable.
class MarkovSource {
public:
  /// One state's successors: distinct tokens in [0, V) with positive
  /// probabilities summing to 1 (within 1e-9; renormalized exactly).
  struct Row {
    std::vector<int32_t> next;
    std::vector<double> prob;
  };

  /// The seeded synthetic chain of the file comment. Errors on a vocabulary,
  /// order or branching outside the limits.
  static StatusOr<MarkovSource> synthetic(const SyntheticConfig &config);

  /// A chain given explicitly: `rows[s]` for every state s < V^order.
  /// Errors name the first offending row.
  static StatusOr<MarkovSource> fromRows(int64_t vocabSize, int order, std::vector<Row> rows);

  int64_t vocabSize() const { return vocabSize_; }
  int order() const { return order_; }
  int64_t numStates() const { return numStates_; }
  /// The stationary distribution over states.
  const std::vector<double> &stationary() const { return stationary_; }
  /// Power-iteration steps it took, and the final ||pi P - pi||_1.
  int64_t powerIterations() const { return powerIterations_; }
  double stationaryResidual() const { return residual_; }

  /// H in nats per token (file comment).
  double entropyRate() const { return entropyRate_; }
  /// Expected minimum mean cross-entropy (nats) of a [B, seqLen] batch from
  /// getBatch: (1/T) sum_{j<T} H(x_{j+1} | x_0..x_j), which is H at every
  /// position j >= order - 1. Equals entropyRate() for order 1.
  double lossFloor(int64_t seqLen) const;

  /// The state after the `order()` tokens ending at `last` (last[-order+1..0]).
  int64_t stateOf(const int32_t *last) const;
  /// The state after appending `token` to `state`.
  int64_t nextState(int64_t state, int32_t token) const {
    return (state * vocabSize_ + token) % numStates_;
  }
  /// P(token | state); 0 when token is not a successor.
  double prob(int64_t state, int32_t token) const;
  /// Successors of `state`: [begin, end) into successorTokens/Probs.
  int64_t rowBegin(int64_t state) const { return rowStart_[size_t(state)]; }
  int64_t rowEnd(int64_t state) const { return rowStart_[size_t(state) + 1]; }
  const std::vector<int32_t> &successorTokens() const { return next_; }
  const std::vector<double> &successorProbs() const { return prob_; }

  /// `n` tokens of one stationary sequence (first order() tokens from pi).
  std::vector<int32_t> sample(Rng &rng, int64_t n) const;
  /// B independent stationary sequences of seqLen + 1 tokens, as
  /// x = seq[0:T], y = seq[1:T+1]. Errors on a non-positive size.
  Status getBatch(Rng &rng, int64_t batchSize, int64_t seqLen, Batch &out) const;
  StatusOr<Batch> getBatch(Rng &rng, int64_t batchSize, int64_t seqLen) const;

  /// One line for logs, e.g. "order-1 Markov source over 256 tokens, 2
  /// successors per state, seed 1: entropy rate 0.477141 nats/token".
  std::string describe() const;

private:
  MarkovSource() = default;
  Status computeStationary();
  void computeEntropy();
  int64_t sampleState(Rng &rng) const;
  int32_t sampleNext(Rng &rng, int64_t state) const;
  /// Writes n tokens of a stationary sequence to out.
  void sampleInto(Rng &rng, int64_t n, int32_t *out) const;

  int64_t vocabSize_ = 0;
  int order_ = 1;
  int64_t numStates_ = 0;         ///< vocabSize^order
  std::string origin_;            ///< for describe(): how the rows were made
  std::vector<int64_t> rowStart_; ///< numStates + 1 offsets
  std::vector<int32_t> next_;
  std::vector<double> prob_;
  std::vector<double> cdf_; ///< per-row cumulative probabilities
  std::vector<double> stationary_;
  std::vector<double> stationaryCdf_;
  int64_t powerIterations_ = 0;
  double residual_ = 0;
  double entropyRate_ = 0;
  std::vector<double> prefixEntropy_; ///< H(x_0..x_{m-1}) for m = 0..order
};

} // namespace fp8rt

#endif // FP8RT_DATA_SYNTHETIC_H
