//===- Sampler.h - Next-token sampling as nanoGPT's sample.py ---*- C++ -*-===//
//
// One row of logits to one token id, as nanoGPT's `generate`: logits / T, the
// top-k mask (every logit below the k-th largest becomes -inf, so ties with
// the k-th stay in), softmax, one multinomial draw. Temperature 0 is greedy
// decoding: the argmax (the lowest id among equal maxima), no draw.
//
// The draw: u = Rng::uniformDouble() (one 64-bit word of the generator), and
// the token is the first id whose cumulative probability exceeds u. The same
// seed therefore gives the same tokens on every backend that computes the
// same logits.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_GENERATE_SAMPLER_H
#define FP8RT_GENERATE_SAMPLER_H

#include "fp8rt/Rng.h"

#include <cstdint>
#include <vector>

namespace fp8rt {

struct SamplerSettings {
  double temperature = 1.0; ///< >= 0; 0 is greedy
  int64_t topK = 0;         ///< keep the k largest logits; 0 keeps all
};

/// The distribution a draw uses: softmax(logits / temperature) over the top-k
/// logits, 0 elsewhere. Temperature 0: probability 1 on the argmax. The
/// logits must be finite; topK must be in [0, logits.size()].
std::vector<double> nextTokenProbabilities(const std::vector<float> &logits,
                                           const SamplerSettings &settings);

/// The id of the largest logit (the first of equal ones).
int64_t argmaxToken(const std::vector<float> &logits);

/// One token from `logits` (see the file comment); draws from `rng` unless the
/// temperature is 0.
int64_t sampleNextToken(const std::vector<float> &logits, const SamplerSettings &settings,
                        Rng &rng);

} // namespace fp8rt

#endif // FP8RT_GENERATE_SAMPLER_H
