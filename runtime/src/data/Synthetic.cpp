//===- Synthetic.cpp - seeded Markov corpus with a known entropy ---------===//
//
// Rows are stored flat (CSR): rowStart_[s] .. rowStart_[s+1] index next_,
// prob_ and cdf_ (the running sum of prob_ within the row, its last entry
// exactly 1). See Synthetic.h for the construction and the formulas.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/data/Synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace fp8rt {

namespace {

constexpr int kMaxOrder = 4;
constexpr double kStationaryTolerance = 1e-12;
constexpr int64_t kMaxPowerIterations = 1000000;

std::string fmt(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// V^order when it is at most kMaxMarkovStates, else -1.
int64_t statesFor(int64_t vocabSize, int order) {
  int64_t n = 1;
  for (int i = 0; i < order; ++i) {
    if (n > kMaxMarkovStates / vocabSize)
      return -1;
    n *= vocabSize;
  }
  return n;
}

Status checkShape(int64_t vocabSize, int order, int64_t &numStates) {
  if (vocabSize <= 0 || vocabSize > int64_t(INT32_MAX))
    return invalidArgumentError("vocab_size must be in [1, 2147483647], got " +
                                std::to_string(vocabSize));
  if (order < 1 || order > kMaxOrder)
    return invalidArgumentError("Markov order must be in [1, " + std::to_string(kMaxOrder) +
                                "], got " + std::to_string(order));
  numStates = statesFor(vocabSize, order);
  if (numStates < 0)
    return invalidArgumentError("an order-" + std::to_string(order) +
                                " Markov source over vocab_size " + std::to_string(vocabSize) +
                                " has more than " + std::to_string(kMaxMarkovStates) + " states");
  return Status::success();
}

double entropyOf(const std::vector<double> &p) {
  double h = 0;
  for (double x : p)
    if (x > 0)
      h -= x * std::log(x);
  return h;
}

} // namespace

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

StatusOr<MarkovSource> MarkovSource::fromRows(int64_t vocabSize, int order, std::vector<Row> rows) {
  int64_t numStates = 0;
  FP8RT_RETURN_IF_ERROR(checkShape(vocabSize, order, numStates));
  if (int64_t(rows.size()) != numStates)
    return invalidArgumentError("an order-" + std::to_string(order) +
                                " Markov source over vocab_size " + std::to_string(vocabSize) +
                                " needs " + std::to_string(numStates) + " transition rows, got " +
                                std::to_string(rows.size()));

  MarkovSource m;
  m.vocabSize_ = vocabSize;
  m.order_ = order;
  m.numStates_ = numStates;
  m.origin_ = "explicit rows";
  m.rowStart_.reserve(size_t(numStates) + 1);
  m.rowStart_.push_back(0);
  std::vector<int64_t> seenInRow(size_t(vocabSize), -1);
  for (int64_t s = 0; s < numStates; ++s) {
    const Row &row = rows[size_t(s)];
    const std::string where = "transition row " + std::to_string(s);
    if (row.next.empty())
      return invalidArgumentError(where + " has no successors");
    if (row.next.size() != row.prob.size())
      return invalidArgumentError(where + " has " + std::to_string(row.next.size()) +
                                  " successors but " + std::to_string(row.prob.size()) +
                                  " probabilities");
    double sum = 0;
    for (size_t j = 0; j < row.next.size(); ++j) {
      const int32_t t = row.next[j];
      if (t < 0 || t >= vocabSize)
        return invalidArgumentError(where + ": successor " + std::to_string(t) +
                                    " is outside [0, " + std::to_string(vocabSize) + ")");
      if (seenInRow[size_t(t)] == s)
        return invalidArgumentError(where + ": successor " + std::to_string(t) + " appears twice");
      seenInRow[size_t(t)] = s;
      const double p = row.prob[j];
      if (!std::isfinite(p) || !(p > 0))
        return invalidArgumentError(where + ": probability of successor " + std::to_string(t) +
                                    " is " + fmt(p) + ", not positive");
      sum += p;
    }
    if (std::fabs(sum - 1) > 1e-9)
      return invalidArgumentError(where + ": probabilities sum to " + fmt(sum) + ", not 1");
    double running = 0;
    for (size_t j = 0; j < row.next.size(); ++j) {
      const double p = row.prob[j] / sum;
      running += p;
      m.next_.push_back(row.next[j]);
      m.prob_.push_back(p);
      m.cdf_.push_back(j + 1 == row.next.size() ? 1.0 : running);
    }
    m.rowStart_.push_back(int64_t(m.next_.size()));
  }
  rows.clear();
  FP8RT_RETURN_IF_ERROR(m.computeStationary());
  m.computeEntropy();
  return m;
}

StatusOr<MarkovSource> MarkovSource::synthetic(const SyntheticConfig &config) {
  int64_t numStates = 0;
  FP8RT_RETURN_IF_ERROR(checkShape(config.vocabSize, config.order, numStates));
  const int64_t v = config.vocabSize;
  const int k = config.branching;
  if (k < 1 || k > v)
    return invalidArgumentError("branching must be in [1, vocab_size = " + std::to_string(v) +
                                "], got " + std::to_string(k));

  Rng rng(config.seed);
  std::vector<Row> rows(static_cast<size_t>(numStates));
  std::vector<int64_t> taken(size_t(v), -1);
  for (int64_t s = 0; s < numStates; ++s) {
    Row &row = rows[size_t(s)];
    row.next.reserve(size_t(k));
    row.prob.reserve(size_t(k));
    const int32_t last = int32_t(s % v);
    const int32_t first = int32_t((last + 1) % v);
    row.next.push_back(first);
    taken[size_t(first)] = s;
    while (int(row.next.size()) < k) {
      const int32_t t = int32_t(rng.uniform(uint64_t(v)));
      if (taken[size_t(t)] == s)
        continue;
      taken[size_t(t)] = s;
      row.next.push_back(t);
    }
    // Flat Dirichlet: normalized standard exponentials.
    double sum = 0;
    for (int j = 0; j < k; ++j) {
      const double e = -std::log(rng.openDouble());
      row.prob.push_back(e);
      sum += e;
    }
    for (double &p : row.prob)
      p /= sum;
  }
  FP8RT_ASSIGN_OR_RETURN(MarkovSource m, fromRows(v, config.order, std::move(rows)));
  m.origin_ = std::to_string(k) + " successor" + (k == 1 ? "" : "s") + " per state, seed " +
              std::to_string(config.seed);
  return m;
}

Status MarkovSource::computeStationary() {
  const int64_t n = numStates_;
  std::vector<double> pi(static_cast<size_t>(n), 1.0 / double(n));
  std::vector<double> next(static_cast<size_t>(n));
  double residual = 0;
  int64_t it = 0;
  for (;; ++it) {
    // next = pi P
    std::fill(next.begin(), next.end(), 0.0);
    for (int64_t s = 0; s < n; ++s) {
      const double w = pi[size_t(s)];
      if (w == 0)
        continue;
      for (int64_t j = rowStart_[size_t(s)]; j < rowStart_[size_t(s) + 1]; ++j)
        next[size_t(nextState(s, next_[size_t(j)]))] += w * prob_[size_t(j)];
    }
    residual = 0;
    for (int64_t s = 0; s < n; ++s)
      residual += std::fabs(next[size_t(s)] - pi[size_t(s)]);
    if (residual < kStationaryTolerance)
      break;
    if (it == kMaxPowerIterations)
      return internalError("the Markov source's stationary distribution did not converge in " +
                           std::to_string(kMaxPowerIterations) + " power iterations (residual " +
                           fmt(residual) + ")");
    // Lazy step (pi + pi P) / 2: the same fixed point, never periodic.
    double sum = 0;
    for (int64_t s = 0; s < n; ++s) {
      pi[size_t(s)] = 0.5 * (pi[size_t(s)] + next[size_t(s)]);
      sum += pi[size_t(s)];
    }
    for (double &x : pi)
      x /= sum;
  }
  stationary_ = std::move(pi);
  powerIterations_ = it;
  residual_ = residual;
  stationaryCdf_.resize(size_t(n));
  double running = 0;
  for (int64_t s = 0; s < n; ++s) {
    running += stationary_[size_t(s)];
    stationaryCdf_[size_t(s)] = running;
  }
  return Status::success();
}

void MarkovSource::computeEntropy() {
  double h = 0;
  for (int64_t s = 0; s < numStates(); ++s) {
    const double w = stationary_[size_t(s)];
    if (w == 0)
      continue;
    double hs = 0;
    for (int64_t j = rowBegin(s); j < rowEnd(s); ++j)
      hs -= prob_[size_t(j)] * std::log(prob_[size_t(j)]);
    h += w * hs;
  }
  entropyRate_ = h;

  // H(x_0 .. x_{m-1}) of a stationary sequence, m = 0..order: the entropy of
  // pi's marginal over the m oldest tokens of the state.
  prefixEntropy_.assign(size_t(order_) + 1, 0.0);
  int64_t block = numStates();
  for (int m = 1; m <= order_; ++m) {
    block /= vocabSize_;
    std::vector<double> marginal(size_t(numStates() / block), 0.0);
    for (int64_t s = 0; s < numStates(); ++s)
      marginal[size_t(s / block)] += stationary_[size_t(s)];
    prefixEntropy_[size_t(m)] = entropyOf(marginal);
  }
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

double MarkovSource::lossFloor(int64_t seqLen) const {
  if (seqLen <= 0)
    return entropyRate_;
  // Positions j < order - 1 see j + 1 tokens: H(x_0..x_{j+1}) - H(x_0..x_j).
  const int64_t partial = std::min<int64_t>(seqLen, order_ - 1);
  double sum = 0;
  for (int64_t j = 0; j < partial; ++j)
    sum += prefixEntropy_[size_t(j) + 2] - prefixEntropy_[size_t(j) + 1];
  sum += double(seqLen - partial) * entropyRate_;
  return sum / double(seqLen);
}

int64_t MarkovSource::stateOf(const int32_t *last) const {
  int64_t s = 0;
  for (int j = -(order_ - 1); j <= 0; ++j)
    s = s * vocabSize_ + last[j];
  return s;
}

double MarkovSource::prob(int64_t state, int32_t token) const {
  for (int64_t j = rowBegin(state); j < rowEnd(state); ++j)
    if (next_[size_t(j)] == token)
      return prob_[size_t(j)];
  return 0;
}

std::string MarkovSource::describe() const {
  char h[64];
  std::snprintf(h, sizeof h, "%.6f", entropyRate_);
  return "order-" + std::to_string(order_) + " Markov source over " + std::to_string(vocabSize_) +
         " tokens, " + origin_ + ": entropy rate " + h + " nats/token";
}

//===----------------------------------------------------------------------===//
// Sampling
//===----------------------------------------------------------------------===//

int64_t MarkovSource::sampleState(Rng &rng) const {
  const double u = rng.uniformDouble();
  auto it = std::upper_bound(stationaryCdf_.begin(), stationaryCdf_.end(), u);
  if (it != stationaryCdf_.end())
    return int64_t(it - stationaryCdf_.begin());
  // u above the rounded total: the last state with positive mass.
  int64_t s = numStates() - 1;
  while (s > 0 && stationary_[size_t(s)] == 0)
    --s;
  return s;
}

int32_t MarkovSource::sampleNext(Rng &rng, int64_t state) const {
  const double u = rng.uniformDouble();
  const int64_t end = rowEnd(state);
  for (int64_t j = rowBegin(state); j < end - 1; ++j)
    if (u < cdf_[size_t(j)])
      return next_[size_t(j)];
  return next_[size_t(end - 1)];
}

void MarkovSource::sampleInto(Rng &rng, int64_t n, int32_t *out) const {
  if (n <= 0)
    return;
  int64_t s = sampleState(rng);
  // The state's tokens, oldest first.
  int64_t place = numStates() / vocabSize_;
  for (int j = 0; j < order_; ++j, place /= vocabSize_)
    if (j < n)
      out[j] = int32_t((s / place) % vocabSize_);
  for (int64_t i = order_; i < n; ++i) {
    const int32_t t = sampleNext(rng, s);
    out[i] = t;
    s = nextState(s, t);
  }
}

std::vector<int32_t> MarkovSource::sample(Rng &rng, int64_t n) const {
  std::vector<int32_t> seq(size_t(std::max<int64_t>(n, 0)));
  sampleInto(rng, n, seq.data());
  return seq;
}

Status MarkovSource::getBatch(Rng &rng, int64_t batchSize, int64_t seqLen, Batch &out) const {
  FP8RT_RETURN_IF_ERROR(checkBatchShape(batchSize, seqLen));
  out.resize(batchSize, seqLen);
  std::vector<int32_t> seq(size_t(seqLen) + 1);
  for (int64_t row = 0; row < batchSize; ++row) {
    sampleInto(rng, seqLen + 1, seq.data());
    std::copy(seq.begin(), seq.end() - 1, out.tokens.begin() + row * seqLen);
    std::copy(seq.begin() + 1, seq.end(), out.targets.begin() + row * seqLen);
  }
  return Status::success();
}

StatusOr<Batch> MarkovSource::getBatch(Rng &rng, int64_t batchSize, int64_t seqLen) const {
  Batch batch;
  FP8RT_RETURN_IF_ERROR(getBatch(rng, batchSize, seqLen, batch));
  return batch;
}

} // namespace fp8rt
