//===- LayerKernelsTest.cpp - fp8rt CPU layer kernels ---------------------===//
//
// Every forward kernel is compared with a naive double-precision reference
// written here (plain loops, no code shared with the kernels); every backward
// kernel with central finite differences of that double reference (so the
// only error measured is the kernel's f32 arithmetic). The scaled FP8 GEMM is
// compared with dequantize-then-naive-GEMM for every scale mode.
//
// Gradient tolerance: err_i = |kernel_i − fd_i| / (|fd_i| + 0.01·max_j|fd_j|)
// must stay below 1e-3 for every element.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/LayerKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace fp8rt;
using namespace fp8rt::cpu;

namespace {

std::vector<float> randomVector(size_t n, uint32_t seed, float lo = -1.0f,
                                float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

/// The gradient metric of the file comment; returns the largest err_i.
double gradError(const std::vector<float> &got, const std::vector<double> &fd) {
  double norm = 0.0;
  for (double x : fd)
    norm = std::max(norm, std::fabs(x));
  double worst = 0.0;
  for (size_t i = 0; i < fd.size(); ++i)
    worst = std::max(worst, std::fabs(double(got[i]) - fd[i]) /
                                (std::fabs(fd[i]) + 0.01 * norm + 1e-30));
  return worst;
}

constexpr double kGradTol = 1e-3;

//===----------------------------------------------------------------------===//
// gemm
//===----------------------------------------------------------------------===//

TEST(LayerKernelsGemm, AllTransposesMatchNaiveLoops) {
  const int64_t M = 7, N = 5, K = 9;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // Stored shapes (row-major) with padded leading dimensions.
      const int64_t aRows = ta ? K : M, aCols = ta ? M : K;
      const int64_t bRows = tb ? N : K, bCols = tb ? K : N;
      const int64_t lda = aCols + 3, ldb = bCols + 2, ldc = N + 1;
      std::vector<float> A = randomVector(size_t(aRows * lda), 1);
      std::vector<float> B = randomVector(size_t(bRows * ldb), 2);
      std::vector<float> C = randomVector(size_t(M * ldc), 3);
      const std::vector<float> C0 = C;
      const float alpha = 0.75f, beta = -1.25f;
      ASSERT_TRUE(
          gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc,
               alpha, beta)
              .ok());
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double acc = 0.0, mag = 0.0;
          for (int64_t k = 0; k < K; ++k) {
            const double a = ta ? A[size_t(k * lda + m)] : A[size_t(m * lda + k)];
            const double b = tb ? B[size_t(n * ldb + k)] : B[size_t(k * ldb + n)];
            acc += a * b;
            mag += std::fabs(a * b);
          }
          const double want = alpha * acc + beta * double(C0[size_t(m * ldc + n)]);
          EXPECT_NEAR(C[size_t(m * ldc + n)], want, 1e-6 * (mag + 2.0))
              << "transA " << ta << " transB " << tb << " at " << m << "," << n;
        }
      // Padding columns of C are untouched.
      for (int64_t m = 0; m < M; ++m)
        EXPECT_EQ(C[size_t(m * ldc + N)], C0[size_t(m * ldc + N)]);
    }
}

TEST(LayerKernelsGemm, BetaZeroIgnoresCAndKZero) {
  std::vector<float> A = randomVector(6, 4), B = randomVector(6, 5);
  std::vector<float> C(4, NAN);
  ASSERT_TRUE(gemm(false, false, 2, 2, 3, A.data(), 3, B.data(), 2, C.data(), 2)
                  .ok());
  for (float c : C)
    EXPECT_TRUE(std::isfinite(c));
  std::vector<float> D = {1, 2, 3, 4};
  ASSERT_TRUE(gemm(false, false, 2, 2, 0, A.data(), 1, B.data(), 2, D.data(), 2,
                   1.0f, 2.0f)
                  .ok());
  EXPECT_EQ(D, (std::vector<float>{2, 4, 6, 8}));
  std::vector<float> E(4, NAN);
  ASSERT_TRUE(gemm(false, false, 2, 2, 0, A.data(), 1, B.data(), 2, E.data(), 2)
                  .ok());
  EXPECT_EQ(E, (std::vector<float>{0, 0, 0, 0}));
}

TEST(LayerKernelsGemm, BadLeadingDimensionIsAnError) {
  std::vector<float> A(16), B(16), C(16);
  Status s = gemm(false, false, 2, 4, 4, A.data(), 3, B.data(), 4, C.data(), 4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("lda 3"), std::string::npos) << s.message();
  EXPECT_FALSE(gemm(false, false, -1, 4, 4, A.data(), 4, B.data(), 4, C.data(), 4)
                   .ok());
}

//===----------------------------------------------------------------------===//
// scaled FP8 GEMM
//===----------------------------------------------------------------------===//

struct QuantizedOperand {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  Fp8Operand view() const { return {codes.data(), format, mode, scales.data()}; }
  Fp8Format format;
  ScaleMode mode;
};

/// Block extent (rows, cols) of a scale mode for an operand [rows, cols].
std::pair<int64_t, int64_t> blockOf(ScaleMode mode, int64_t rows, int64_t cols) {
  switch (mode) {
  case ScaleMode::Tensorwise:
    return {rows, cols};
  case ScaleMode::Rowwise:
    return {1, cols};
  case ScaleMode::Block1x128:
    return {1, 128};
  case ScaleMode::Block128x128:
    return {128, 128};
  }
  return {rows, cols};
}

/// Quantizes x [rows, cols] with one current scale per block (the test's own
/// grouping, written independently of the kernel's indexing).
QuantizedOperand quantizeOperand(const std::vector<float> &x, int64_t rows,
                                 int64_t cols, ScaleMode mode, Fp8Format format) {
  QuantizedOperand q;
  q.format = format;
  q.mode = mode;
  q.codes.resize(x.size());
  auto [br, bc] = blockOf(mode, rows, cols);
  const int64_t nbr = rows / br, nbc = cols / bc;
  q.scales.resize(size_t(nbr * nbc));
  for (int64_t i = 0; i < nbr; ++i)
    for (int64_t j = 0; j < nbc; ++j) {
      float a = 0.0f;
      for (int64_t r = i * br; r < (i + 1) * br; ++r)
        for (int64_t c = j * bc; c < (j + 1) * bc; ++c)
          a = std::max(a, std::fabs(x[size_t(r * cols + c)]));
      const float s = computeScale(a, fp8Max(format), 0, false);
      q.scales[size_t(i * nbc + j)] = s;
      for (int64_t r = i * br; r < (i + 1) * br; ++r)
        for (int64_t c = j * bc; c < (j + 1) * bc; ++c)
          q.codes[size_t(r * cols + c)] = floatToFp8(x[size_t(r * cols + c)] * s, format);
    }
  return q;
}

/// The operand's value at (r, c): decoded exactly, divided by its scale in f32.
float dequantized(const QuantizedOperand &q, int64_t rows, int64_t cols,
                  int64_t r, int64_t c) {
  auto [br, bc] = blockOf(q.mode, rows, cols);
  const float s = q.scales[size_t((r / br) * (cols / bc) + c / bc)];
  return fp8ToFloat(q.codes[size_t(r * cols + c)], q.format) / s;
}

TEST(LayerKernelsScaledGemm, EveryScaleModeMatchesDequantizedNaiveGemm) {
  const int64_t M = 128, N = 128, K = 256;
  // Rows of different magnitudes, so that rowwise / blockwise scales differ.
  std::vector<float> x = randomVector(size_t(M * K), 11);
  std::vector<float> w = randomVector(size_t(N * K), 12);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < K; ++c)
      x[size_t(r * K + c)] *= float(1 + r % 7) * (c < 128 ? 1.0f : 30.0f);
  for (int64_t r = 0; r < N; ++r)
    for (int64_t c = 0; c < K; ++c)
      w[size_t(r * K + c)] *= 0.01f * float(1 + r % 5);
  std::vector<float> bias = randomVector(size_t(N), 13);
  const ScaleMode modes[] = {ScaleMode::Tensorwise, ScaleMode::Rowwise,
                             ScaleMode::Block1x128, ScaleMode::Block128x128};
  int checked = 0;
  for (ScaleMode lm : modes)
    for (ScaleMode rm : modes)
      for (int fmt = 0; fmt < 3; ++fmt) {
        // e4m3 × e4m3, e4m3 × e5m2, e5m2 × e4m3 (the hybrid combinations).
        const Fp8Format lf = fmt == 2 ? Fp8Format::E5M2 : Fp8Format::E4M3FN;
        const Fp8Format rf = fmt == 1 ? Fp8Format::E5M2 : Fp8Format::E4M3FN;
        QuantizedOperand a = quantizeOperand(x, M, K, lm, lf);
        QuantizedOperand b = quantizeOperand(w, N, K, rm, rf);
        const bool withBias = (int(lm) + int(rm) + fmt) % 2 == 0;
        std::vector<float> out(size_t(M * N), NAN);
        float am = -1.0f;
        ASSERT_TRUE(scaledGemmTN(M, N, K, a.view(), b.view(),
                                 withBias ? bias.data() : nullptr, out.data(), &am)
                        .ok());
        std::vector<double> da(size_t(M * K)), db(size_t(N * K));
        for (int64_t r = 0; r < M; ++r)
          for (int64_t k = 0; k < K; ++k)
            da[size_t(r * K + k)] = dequantized(a, M, K, r, k);
        for (int64_t r = 0; r < N; ++r)
          for (int64_t k = 0; k < K; ++k)
            db[size_t(r * K + k)] = dequantized(b, N, K, r, k);
        double refAmax = 0.0, worst = 0.0;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double acc = withBias ? bias[size_t(n)] : 0.0, mag = std::fabs(acc);
            for (int64_t k = 0; k < K; ++k) {
              const double p = da[size_t(m * K + k)] * db[size_t(n * K + k)];
              acc += p;
              mag += std::fabs(p);
            }
            refAmax = std::max(refAmax, std::fabs(acc));
            worst = std::max(worst, std::fabs(out[size_t(m * N + n)] - acc) / mag);
          }
        // f32 accumulation of K = 256 products: well under 1e-5 of Σ|a·b|.
        EXPECT_LT(worst, 1e-5) << "modes " << int(lm) << "," << int(rm) << " fmt " << fmt;
        EXPECT_NEAR(am, refAmax, 1e-5 * refAmax);
        EXPECT_EQ(am, amax(out.data(), out.size()));
        ++checked;
      }
  EXPECT_EQ(checked, 48);
}

TEST(LayerKernelsScaledGemm, ScaleShapesAndErrors) {
  EXPECT_EQ(*scaleCount(ScaleMode::Tensorwise, 16, 32), 1);
  EXPECT_EQ(*scaleCount(ScaleMode::Rowwise, 16, 32), 16);
  EXPECT_EQ(*scaleCount(ScaleMode::Block1x128, 16, 256), 32);
  EXPECT_EQ(*scaleCount(ScaleMode::Block128x128, 256, 384), 6);
  EXPECT_FALSE(scaleCount(ScaleMode::Block1x128, 16, 200).ok());
  EXPECT_FALSE(scaleCount(ScaleMode::Block128x128, 64, 128).ok());
  std::vector<uint8_t> codes(16 * 64, 0x38);
  std::vector<float> scales(64, 1.0f), out(16 * 16);
  Fp8Operand op{codes.data(), Fp8Format::E4M3FN, ScaleMode::Block1x128, scales.data()};
  Status s = scaledGemmTN(16, 16, 64, op, op, nullptr, out.data());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("lhs"), std::string::npos) << s.message();
}

TEST(LayerKernelsScaledGemm, ExactOnRepresentableValues) {
  // 0x38 is 1.0 in E4M3 and 0x3C is 1.0 in E5M2: with scale 2 and 4 every
  // product is 1/8, so a 32-long dot product is exactly 4.
  std::vector<uint8_t> a(16 * 32, 0x38), b(16 * 32, 0x3C);
  float sa = 2.0f, sb = 4.0f;
  std::vector<float> out(16 * 16);
  ASSERT_TRUE(scaledGemmTN(16, 16, 32,
                           {a.data(), Fp8Format::E4M3FN, ScaleMode::Tensorwise, &sa},
                           {b.data(), Fp8Format::E5M2, ScaleMode::Tensorwise, &sb},
                           nullptr, out.data())
                  .ok());
  for (float v : out)
    EXPECT_EQ(v, 4.0f);
}

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

TEST(LayerKernelsEmbedding, ForwardGathersRows) {
  const int64_t V = 11, D = 6;
  std::vector<float> table = randomVector(size_t(V * D), 21);
  std::vector<int32_t> ids = {3, 0, 10, 3, 7};
  std::vector<int64_t> ids64(ids.begin(), ids.end());
  std::vector<float> out(ids.size() * D), out64(ids.size() * D);
  ASSERT_TRUE(embedding(table.data(), V, D, ids.data(), int64_t(ids.size()), out.data()).ok());
  ASSERT_TRUE(embedding(table.data(), V, D, ids64.data(), int64_t(ids.size()), out64.data()).ok());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t d = 0; d < D; ++d)
      EXPECT_EQ(out[i * D + size_t(d)], table[size_t(ids[i] * D + d)]);
  EXPECT_EQ(out, out64);
}

TEST(LayerKernelsEmbedding, GradMatchesFiniteDifferences) {
  const int64_t V = 9, D = 4, n = 12;
  std::vector<float> table = randomVector(size_t(V * D), 22);
  std::vector<float> R = randomVector(size_t(n * D), 23); // dL/dout
  std::vector<int32_t> ids = {1, 4, 1, 8, 0, 4, 4, 2, 1, 8, 5, 1}; // 3, 6, 7 unused
  std::vector<float> grad(size_t(V * D), NAN);
  ASSERT_TRUE(embeddingGrad(R.data(), ids.data(), n, V, D, grad.data()).ok());
  // L(table) = Σ R ∘ embedding(table), in double.
  auto loss = [&](const std::vector<double> &t) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < D; ++d)
        s += double(R[size_t(i * D + d)]) * t[size_t(ids[size_t(i)] * D + d)];
    return s;
  };
  std::vector<double> t(table.begin(), table.end()), fd(t.size());
  const double eps = 1e-4;
  for (size_t e = 0; e < t.size(); ++e) {
    const double keep = t[e];
    t[e] = keep + eps;
    const double up = loss(t);
    t[e] = keep - eps;
    const double down = loss(t);
    t[e] = keep;
    fd[e] = (up - down) / (2 * eps);
  }
  const double err = gradError(grad, fd);
  RecordProperty("max_fd_error", std::to_string(err));
  std::printf("[ embedding_grad ] max FD error %.3g\n", err);
  EXPECT_LT(err, kGradTol);
  for (int64_t row : {3, 6, 7})
    for (int64_t d = 0; d < D; ++d)
      EXPECT_EQ(grad[size_t(row * D + d)], 0.0f);
}

TEST(LayerKernelsEmbedding, BadIdsAreErrors) {
  std::vector<float> table(4 * 2), out(2 * 2);
  std::vector<int32_t> ids = {1, 4};
  Status s = embedding(table.data(), 4, 2, ids.data(), 2, out.data());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "embedding: id 4 at position 1 is outside [0, 4)");
  std::vector<int64_t> neg = {-1, 0};
  std::vector<float> g(4 * 2, 7.0f);
  EXPECT_FALSE(embeddingGrad(out.data(), neg.data(), 2, 4, 2, g.data()).ok());
  EXPECT_EQ(g, std::vector<float>(8, 7.0f)); // nothing written
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

/// Naive double reference of train.attention, written from the op
/// description: RoPE (rotate-half, angle t · theta^(-2i/D)), scores / sqrt(D),
/// causal mask, softmax, weighted sum of values.
std::vector<double> attentionReference(const AttentionConfig &c,
                                       const std::vector<double> &q,
                                       const std::vector<double> &k,
                                       const std::vector<double> &v) {
  const int64_t B = c.batch, T = c.seqLen, H = c.nHeads, KH = c.nKvHeads,
                D = c.headDim;
  auto rope = [&](std::vector<double> x, int64_t heads) {
    if (!c.ropeTheta)
      return x;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < heads; ++h) {
          double *p = &x[size_t(((b * T + t) * heads + h) * D)];
          std::vector<double> y(static_cast<size_t>(D));
          for (int64_t i = 0; i < D; ++i) {
            const int64_t f = i % (D / 2);
            const double angle = double(t) * std::pow(*c.ropeTheta, -2.0 * double(f) / double(D));
            // rotate_half(x) = cat(-x[D/2:], x[:D/2])
            const double rot = i < D / 2 ? -p[i + D / 2] : p[i - D / 2];
            y[size_t(i)] = p[i] * std::cos(angle) + rot * std::sin(angle);
          }
          std::copy(y.begin(), y.end(), p);
        }
    return x;
  };
  const std::vector<double> qr = rope(q, H), kr = rope(k, KH);
  std::vector<double> out(q.size(), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t kh = h / (H / KH);
      for (int64_t i = 0; i < T; ++i) {
        std::vector<double> s(size_t(T), -INFINITY);
        double mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          if (c.causal && j > i)
            continue;
          double dot = 0.0;
          for (int64_t d = 0; d < D; ++d)
            dot += qr[size_t(((b * T + i) * H + h) * D + d)] *
                   kr[size_t(((b * T + j) * KH + kh) * D + d)];
          s[size_t(j)] = dot / std::sqrt(double(D));
          mx = std::max(mx, s[size_t(j)]);
        }
        double z = 0.0;
        for (double &x : s)
          z += (x = std::exp(x - mx));
        for (int64_t j = 0; j < T; ++j)
          for (int64_t d = 0; d < D; ++d)
            out[size_t(((b * T + i) * H + h) * D + d)] +=
                s[size_t(j)] / z * v[size_t(((b * T + j) * KH + kh) * D + d)];
      }
    }
  return out;
}

std::vector<double> toDouble(const std::vector<float> &x) {
  return std::vector<double>(x.begin(), x.end());
}

struct AttentionCase {
  const char *name;
  int64_t nHeads, nKvHeads;
  bool causal;
  std::optional<double> rope;
};

void PrintTo(const AttentionCase &c, std::ostream *os) { *os << c.name; }

class LayerKernelsAttention : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(LayerKernelsAttention, ForwardMatchesReference) {
  const AttentionCase &p = GetParam();
  AttentionConfig c{2, 5, p.nHeads, p.nKvHeads, 6, p.causal, p.rope};
  const size_t nq = size_t(2 * 5 * p.nHeads * 6), nk = size_t(2 * 5 * p.nKvHeads * 6);
  std::vector<float> q = randomVector(nq, 31, -2, 2), k = randomVector(nk, 32, -2, 2),
                     v = randomVector(nk, 33);
  std::vector<float> out(nq, NAN);
  ASSERT_TRUE(attention(c, q.data(), k.data(), v.data(), out.data()).ok());
  const std::vector<double> ref = attentionReference(c, toDouble(q), toDouble(k), toDouble(v));
  for (size_t i = 0; i < nq; ++i)
    EXPECT_NEAR(out[i], ref[i], 2e-6) << i;
}

TEST_P(LayerKernelsAttention, GradMatchesFiniteDifferences) {
  const AttentionCase &p = GetParam();
  AttentionConfig c{2, 5, p.nHeads, p.nKvHeads, 6, p.causal, p.rope};
  const size_t nq = size_t(2 * 5 * p.nHeads * 6), nk = size_t(2 * 5 * p.nKvHeads * 6);
  std::vector<float> q = randomVector(nq, 41, -2, 2), k = randomVector(nk, 42, -2, 2),
                     v = randomVector(nk, 43), dout = randomVector(nq, 44);
  std::vector<float> dq(nq, NAN), dk(nk, NAN), dv(nk, NAN);
  ASSERT_TRUE(attentionGrad(c, dout.data(), q.data(), k.data(), v.data(),
                            dq.data(), dk.data(), dv.data())
                  .ok());
  // L = Σ dout ∘ attention(q, k, v), differentiated in double.
  std::vector<double> qd = toDouble(q), kd = toDouble(k), vd = toDouble(v);
  auto loss = [&] {
    const std::vector<double> o = attentionReference(c, qd, kd, vd);
    double s = 0.0;
    for (size_t i = 0; i < o.size(); ++i)
      s += double(dout[i]) * o[i];
    return s;
  };
  auto fdOf = [&](std::vector<double> &x) {
    std::vector<double> g(x.size());
    const double eps = 1e-5;
    for (size_t e = 0; e < x.size(); ++e) {
      const double keep = x[e];
      x[e] = keep + eps;
      const double up = loss();
      x[e] = keep - eps;
      const double down = loss();
      x[e] = keep;
      g[e] = (up - down) / (2 * eps);
    }
    return g;
  };
  const double eq = gradError(dq, fdOf(qd)), ek = gradError(dk, fdOf(kd)),
               ev = gradError(dv, fdOf(vd));
  RecordProperty("max_fd_error_dq", std::to_string(eq));
  RecordProperty("max_fd_error_dk", std::to_string(ek));
  RecordProperty("max_fd_error_dv", std::to_string(ev));
  std::printf("[ attention %s ] max FD error dq %.3g dk %.3g dv %.3g\n", p.name, eq, ek, ev);
  EXPECT_LT(eq, kGradTol);
  EXPECT_LT(ek, kGradTol);
  EXPECT_LT(ev, kGradTol);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, LayerKernelsAttention,
    ::testing::Values(AttentionCase{"GqaCausalRope", 4, 2, true, 10000.0},
                      AttentionCase{"GqaCausal", 4, 2, true, std::nullopt},
                      AttentionCase{"MhaCausalRope", 4, 4, true, 500000.0},
                      AttentionCase{"MqaNoncausalRope", 4, 1, false, 10.0},
                      AttentionCase{"MhaNoncausal", 2, 2, false, std::nullopt}),
    [](const ::testing::TestParamInfo<AttentionCase> &info) {
      return std::string(info.param.name);
    });

TEST(LayerKernelsRope, RotateHalfConventionAndInverse) {
  // head_dim 4, theta 100: inv_freq = [1, 0.1]. At t = 2 the pairs (0, 2)
  // and (1, 3) rotate by 2 and 0.2 radians.
  std::vector<float> x = {1, 0, 0, 0, /*t=1*/ 0, 0, 0, 0, /*t=2*/ 1, 2, 3, 4};
  applyRope(x.data(), 1, 3, 1, 4, 100.0, false);
  EXPECT_EQ(x[0], 1.0f); // t = 0: identity
  const double c0 = std::cos(2.0), s0 = std::sin(2.0), c1 = std::cos(0.2), s1 = std::sin(0.2);
  EXPECT_NEAR(x[8], 1 * c0 - 3 * s0, 1e-6);
  EXPECT_NEAR(x[10], 3 * c0 + 1 * s0, 1e-6);
  EXPECT_NEAR(x[9], 2 * c1 - 4 * s1, 1e-6);
  EXPECT_NEAR(x[11], 4 * c1 + 2 * s1, 1e-6);
  applyRope(x.data(), 1, 3, 1, 4, 100.0, true);
  const float back[] = {1, 2, 3, 4};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(x[size_t(8 + i)], back[i], 1e-6);
}

TEST(LayerKernelsRope, GroupedQueryEqualsRepeatedKeys) {
  // GQA with 2 kv heads equals MHA with each kv head repeated for its group.
  AttentionConfig g{1, 4, 4, 2, 4, true, 10000.0}, m = g;
  m.nKvHeads = 4;
  std::vector<float> q = randomVector(16 * 4, 51), k = randomVector(8 * 4, 52),
                     v = randomVector(8 * 4, 53);
  std::vector<float> k4(16 * 4), v4(16 * 4);
  for (int t = 0; t < 4; ++t)
    for (int h = 0; h < 4; ++h)
      for (int d = 0; d < 4; ++d) {
        k4[size_t((t * 4 + h) * 4 + d)] = k[size_t((t * 2 + h / 2) * 4 + d)];
        v4[size_t((t * 4 + h) * 4 + d)] = v[size_t((t * 2 + h / 2) * 4 + d)];
      }
  std::vector<float> og(16 * 4), om(16 * 4);
  ASSERT_TRUE(attention(g, q.data(), k.data(), v.data(), og.data()).ok());
  ASSERT_TRUE(attention(m, q.data(), k4.data(), v4.data(), om.data()).ok());
  for (size_t i = 0; i < og.size(); ++i)
    EXPECT_NEAR(og[i], om[i], 1e-6);
}

TEST(LayerKernelsAttention, BadConfigsAreErrors) {
  std::vector<float> buf(1024);
  AttentionConfig c{1, 2, 4, 3, 4, true, std::nullopt};
  EXPECT_EQ(attention(c, buf.data(), buf.data(), buf.data(), buf.data()).message(),
            "attention: n_kv_heads 3 does not divide n_heads 4");
  c = {1, 2, 2, 2, 5, true, 10000.0};
  EXPECT_FALSE(attention(c, buf.data(), buf.data(), buf.data(), buf.data()).ok());
  c = {1, 2, 2, 2, 4, true, -1.0};
  EXPECT_FALSE(verifyAttentionConfig(c).ok());
}

//===----------------------------------------------------------------------===//
// softmax cross-entropy
//===----------------------------------------------------------------------===//

/// Mean NLL in double; nullopt targets equal to `ignore` are skipped.
double crossEntropyReference(const std::vector<double> &logits,
                             const std::vector<int32_t> &targets, int64_t V,
                             std::optional<int64_t> ignore) {
  double total = 0.0;
  int64_t count = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (ignore && targets[i] == *ignore)
      continue;
    double z = 0.0;
    for (int64_t j = 0; j < V; ++j)
      z += std::exp(logits[i * size_t(V) + size_t(j)]);
    total += std::log(z) - logits[i * size_t(V) + size_t(targets[i])];
    ++count;
  }
  return total / double(count);
}

TEST(LayerKernelsCrossEntropy, LossAndGradMatchReferenceAndFiniteDifferences) {
  const int64_t V = 7;
  const std::vector<int32_t> targets = {2, -100, 6, 0, 3, -100, 3, 1};
  const int64_t n = int64_t(targets.size());
  std::vector<float> logits = randomVector(size_t(n * V), 61, -3, 3);
  for (std::optional<int64_t> ignore : {std::optional<int64_t>(-100), std::optional<int64_t>()}) {
    std::vector<int32_t> t = targets;
    if (!ignore)
      for (int32_t &x : t)
        x = x < 0 ? 5 : x;
    float loss = NAN;
    ASSERT_TRUE(softmaxCrossEntropy(logits.data(), t.data(), n, V, ignore, &loss).ok());
    std::vector<double> ld = toDouble(logits);
    EXPECT_NEAR(loss, crossEntropyReference(ld, t, V, ignore), 1e-6);
    const float dloss = 1.7f;
    std::vector<float> grad(logits.size(), NAN);
    ASSERT_TRUE(softmaxCrossEntropyGrad(logits.data(), t.data(), n, V, dloss,
                                        ignore, grad.data())
                    .ok());
    std::vector<double> fd(ld.size());
    const double eps = 1e-5;
    for (size_t e = 0; e < ld.size(); ++e) {
      const double keep = ld[e];
      ld[e] = keep + eps;
      const double up = crossEntropyReference(ld, t, V, ignore);
      ld[e] = keep - eps;
      const double down = crossEntropyReference(ld, t, V, ignore);
      ld[e] = keep;
      fd[e] = double(dloss) * (up - down) / (2 * eps);
    }
    const double err = gradError(grad, fd);
    std::printf("[ cross entropy ignore=%d ] max FD error %.3g\n", int(bool(ignore)), err);
    EXPECT_LT(err, kGradTol);
    if (ignore) {
      for (int64_t j = 0; j < V; ++j)
        EXPECT_EQ(grad[size_t(1 * V + j)], 0.0f);
    }
  }
}

TEST(LayerKernelsCrossEntropy, StableForLargeLogitsAndInt64Targets) {
  const int64_t V = 5;
  std::vector<float> logits = {1e4f, 1e4f + 1, 1e4f - 2, 1e4f, 1e4f,
                               -3e4f, -3e4f, -3e4f, -3e4f, -3e4f + 4};
  std::vector<int64_t> targets = {1, 4};
  float loss = NAN;
  ASSERT_TRUE(softmaxCrossEntropy(logits.data(), targets.data(), 2, V, std::nullopt, &loss).ok());
  const double l0 = std::log(3 + std::exp(1.0) + std::exp(-2.0)) - 1.0;
  const double l1 = std::log(4 + std::exp(4.0)) - 4.0;
  EXPECT_NEAR(loss, (l0 + l1) / 2, 1e-6);
  std::vector<float> grad(10);
  ASSERT_TRUE(softmaxCrossEntropyGrad(logits.data(), targets.data(), 2, V, 1.0f,
                                      std::nullopt, grad.data())
                  .ok());
  for (float g : grad)
    EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(grad[4 + 5], 0.5 * (std::exp(4.0) / (4 + std::exp(4.0)) - 1), 1e-6);
}

TEST(LayerKernelsCrossEntropy, AllIgnoredAndBadTargets) {
  std::vector<float> logits(2 * 3, 0.5f), grad(6, NAN);
  std::vector<int32_t> t = {-1, -1};
  float loss = 0.0f;
  ASSERT_TRUE(softmaxCrossEntropy(logits.data(), t.data(), 2, 3, -1, &loss).ok());
  EXPECT_TRUE(std::isnan(loss)); // 0 / 0, as PyTorch
  ASSERT_TRUE(softmaxCrossEntropyGrad(logits.data(), t.data(), 2, 3, 1.0f, -1, grad.data()).ok());
  EXPECT_EQ(grad, std::vector<float>(6, 0.0f));
  std::vector<int32_t> bad = {0, 3};
  Status s = softmaxCrossEntropy(logits.data(), bad.data(), 2, 3, std::nullopt, &loss);
  EXPECT_EQ(s.message(), "softmax_cross_entropy: target 3 at position 1 is outside [0, 3)");
}

} // namespace
