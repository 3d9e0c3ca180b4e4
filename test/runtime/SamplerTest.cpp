//===- SamplerTest.cpp - nanoGPT's next-token sampler ---------------------===//
//
// fp8rt/generate/Sampler.h against hand-computed softmaxes: greedy is the
// argmax, top-k masks all but the k largest logits (ties with the k-th kept),
// temperature divides the logits, and seeded draws follow the probabilities.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/generate/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace fp8rt {
namespace {

/// softmax(logits / t) over the ids in `kept`, 0 elsewhere: the reference.
std::vector<double> softmax(const std::vector<float> &logits, double t,
                            const std::vector<bool> &kept) {
  std::vector<double> p(logits.size(), 0.0);
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i)
    if (kept[i])
      sum += p[i] = std::exp(double(logits[i]) / t);
  for (double &x : p)
    x /= sum;
  return p;
}

const std::vector<float> kLogits = {1.0f, 3.0f, -2.0f, 2.5f, 0.0f, 3.0f, -1.0f, 0.5f};

TEST(Sampler, TemperatureZeroIsTheArgmax) {
  // 3.0 twice: the first (id 1) wins, for every seed and without a draw.
  EXPECT_EQ(argmaxToken(kLogits), 1);
  SamplerSettings greedy{0.0, 0};
  Rng rng(5);
  const Rng::State before = rng.state();
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(sampleNextToken(kLogits, greedy, rng), 1);
  EXPECT_EQ(rng.state(), before);
  std::vector<double> p = nextTokenProbabilities(kLogits, greedy);
  EXPECT_EQ(p, std::vector<double>({0, 1, 0, 0, 0, 0, 0, 0}));
  // Top-k changes nothing about the argmax.
  EXPECT_EQ(sampleNextToken(kLogits, SamplerSettings{0.0, 3}, rng), 1);
}

TEST(Sampler, ProbabilitiesAreTheSoftmaxOfLogitsOverTemperature) {
  for (double t : {1.0, 0.5, 2.0}) {
    std::vector<double> p = nextTokenProbabilities(kLogits, SamplerSettings{t, 0});
    std::vector<double> want = softmax(kLogits, t, std::vector<bool>(kLogits.size(), true));
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(p[i], want[i], 1e-12) << "t " << t << " id " << i;
  }
}

TEST(Sampler, TopKMasksAllButTheKLargest) {
  // k = 3: 3.0, 3.0, 2.5 (ids 1, 5, 3).
  std::vector<double> p = nextTokenProbabilities(kLogits, SamplerSettings{1.0, 3});
  std::vector<bool> kept = {false, true, false, true, false, true, false, false};
  std::vector<double> want = softmax(kLogits, 1.0, kept);
  for (size_t i = 0; i < p.size(); ++i)
    EXPECT_NEAR(p[i], want[i], 1e-12) << "id " << i;
  // k = 1 with a tie at the top: both 3.0s stay (nanoGPT's `logits < v[:, [-1]]`).
  p = nextTokenProbabilities(kLogits, SamplerSettings{1.0, 1});
  EXPECT_NEAR(p[1], 0.5, 1e-12);
  EXPECT_NEAR(p[5], 0.5, 1e-12);
  // k = vocabulary: nothing masked.
  p = nextTokenProbabilities(kLogits, SamplerSettings{1.0, int64_t(kLogits.size())});
  for (double x : p)
    EXPECT_GT(x, 0.0);
  // A masked token is never drawn.
  Rng rng(11);
  for (int i = 0; i < 2000; ++i) {
    int64_t id = sampleNextToken(kLogits, SamplerSettings{1.5, 3}, rng);
    EXPECT_TRUE(id == 1 || id == 3 || id == 5) << id;
  }
}

TEST(Sampler, DrawsFollowTheDistribution) {
  const int kDraws = 20000;
  for (SamplerSettings s : {SamplerSettings{1.0, 0}, SamplerSettings{0.7, 5}}) {
    std::vector<double> p = nextTokenProbabilities(kLogits, s);
    std::vector<int> counts(kLogits.size(), 0);
    Rng rng(1234);
    for (int i = 0; i < kDraws; ++i)
      ++counts[size_t(sampleNextToken(kLogits, s, rng))];
    // The standard deviation of a frequency is at most 0.5 / sqrt(20000) =
    // 0.0035: 0.01 is about three of them.
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(double(counts[i]) / kDraws, p[i], 0.01)
          << "t " << s.temperature << " k " << s.topK << " id " << i;
  }
}

TEST(Sampler, TheSameSeedGivesTheSameTokens) {
  SamplerSettings s{0.9, 4};
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(sampleNextToken(kLogits, s, a), sampleNextToken(kLogits, s, b));
}

TEST(Sampler, LargeLogitsDoNotOverflow) {
  std::vector<float> big = {1000.0f, 999.0f, -1000.0f};
  std::vector<double> p = nextTokenProbabilities(big, SamplerSettings{0.1, 0});
  EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(-10.0)), 1e-12);
  EXPECT_NEAR(p[1], std::exp(-10.0) / (1.0 + std::exp(-10.0)), 1e-12);
  EXPECT_EQ(p[2], 0.0);
}

} // namespace
} // namespace fp8rt
