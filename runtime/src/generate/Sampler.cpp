//===- Sampler.cpp - Next-token sampling as nanoGPT's sample.py -----------===//

#include "fp8rt/generate/Sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fp8rt {

int64_t argmaxToken(const std::vector<float> &logits) {
  return std::max_element(logits.begin(), logits.end()) - logits.begin();
}

std::vector<double> nextTokenProbabilities(const std::vector<float> &logits,
                                           const SamplerSettings &settings) {
  const size_t vocab = logits.size();
  std::vector<double> probs(vocab, 0.0);
  if (vocab == 0)
    return probs;
  if (settings.temperature == 0.0) {
    probs[size_t(argmaxToken(logits))] = 1.0;
    return probs;
  }
  // The k-th largest logit: everything below it is masked out.
  float threshold = -std::numeric_limits<float>::infinity();
  if (settings.topK > 0 && size_t(settings.topK) < vocab) {
    std::vector<float> sorted(logits);
    std::nth_element(sorted.begin(), sorted.begin() + (settings.topK - 1), sorted.end(),
                     std::greater<float>());
    threshold = sorted[size_t(settings.topK - 1)];
  }
  // Softmax of logits / T in double, shifted by the maximum (which is never
  // masked) so that exp() cannot overflow.
  const double maxLogit = double(logits[size_t(argmaxToken(logits))]);
  double sum = 0.0;
  for (size_t i = 0; i < vocab; ++i) {
    if (logits[i] < threshold)
      continue;
    probs[i] = std::exp((double(logits[i]) - maxLogit) / settings.temperature);
    sum += probs[i];
  }
  for (double &p : probs)
    p /= sum;
  return probs;
}

int64_t sampleNextToken(const std::vector<float> &logits, const SamplerSettings &settings,
                        Rng &rng) {
  if (settings.temperature == 0.0)
    return argmaxToken(logits);
  const std::vector<double> probs = nextTokenProbabilities(logits, settings);
  const double u = rng.uniformDouble();
  double cumulative = 0.0;
  int64_t last = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0.0)
      continue;
    cumulative += probs[i];
    last = int64_t(i);
    if (u < cumulative)
      return last;
  }
  return last; // rounding left the sum a hair below u: the last possible token
}

} // namespace fp8rt
