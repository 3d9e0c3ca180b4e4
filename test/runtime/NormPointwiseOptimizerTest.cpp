//===- NormPointwiseOptimizerTest.cpp - CPU kernels: norms, pointwise, opt ===//
//
// The CPU backend's reference kernels of part B (fp8rt/cpu/NormKernels.h,
// PointwiseKernels.h, OptimizerKernels.h):
//  - every forward against a naive double implementation written here;
//  - every backward against central finite differences of the double forward
//    (loss L = Σ c·y for a random cotangent c, h = 1e-5; the kernel is handed
//    exactly the same f32 point). Tolerance |kernel - fd| ≤ 1e-6·(1 + |fd|):
//    the kernels round once to f32 (relative 6e-8), FD truncation and
//    cancellation in double are ~1e-10 here (observed worst: 5e-8); the worst
//    errors are printed ("max FD error");
//  - AdamW and SGD over 3 steps against numbers computed by hand from the
//    torch.optim formulas (and a double re-implementation in torch's order);
//  - lr_schedule at the warmup and decay boundaries, clip_coef, global_norm.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Numerics.h"
#include "fp8rt/cpu/NormKernels.h"
#include "fp8rt/cpu/OptimizerKernels.h"
#include "fp8rt/cpu/PointwiseKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace fp8rt;
using namespace fp8rt::cpu;

namespace {

using Vec = std::vector<double>;
using FVec = std::vector<float>;

FVec randomFloats(size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  FVec v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

Vec widen(const FVec &v) { return Vec(v.begin(), v.end()); }

/// Largest |a - r| / (1 + |r|), and an EXPECT that it is ≤ tol.
double expectClose(const FVec &actual, const Vec &ref, double tol, const std::string &what) {
  EXPECT_EQ(actual.size(), ref.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < std::min(actual.size(), ref.size()); ++i) {
    double err = std::fabs(double(actual[i]) - ref[i]) / (1.0 + std::fabs(ref[i]));
    worst = std::max(worst, err);
    EXPECT_LE(err, tol) << what << "[" << i << "]: " << actual[i] << " vs " << ref[i];
  }
  return worst;
}

constexpr double kForwardTol = 1e-6; // kernels round once to f32
constexpr double kFdTol = 1e-6;
constexpr double kFdStep = 1e-5;

/// Central differences of f at x, one coordinate at a time.
Vec fdGradient(const std::function<double(const Vec &)> &f, Vec x) {
  Vec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double x0 = x[i];
    x[i] = x0 + kFdStep;
    double fp = f(x);
    x[i] = x0 - kFdStep;
    double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * kFdStep);
  }
  return g;
}

double dot(const Vec &a, const Vec &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

/// The worst FD error of each backward, printed once at the end of the suite.
struct FdReport {
  std::vector<std::pair<std::string, double>> rows;
  ~FdReport() {
    for (auto &[name, err] : rows)
      std::printf("max FD error %-28s %.3e\n", name.c_str(), err);
  }
} fdReport;

void checkFd(const FVec &kernel, const Vec &fd, const std::string &what) {
  fdReport.rows.emplace_back(what, expectClose(kernel, fd, kFdTol, what + " vs FD"));
}

//===----------------------------------------------------------------------===//
// Naive double references
//===----------------------------------------------------------------------===//

Vec refLayerNorm(const Vec &x, const Vec &w, const Vec *b, size_t rows, size_t d, double eps) {
  Vec y(x.size());
  for (size_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (size_t j = 0; j < d; ++j)
      mean += x[i * d + j] / double(d);
    for (size_t j = 0; j < d; ++j)
      var += (x[i * d + j] - mean) * (x[i * d + j] - mean) / double(d);
    for (size_t j = 0; j < d; ++j)
      y[i * d + j] = (x[i * d + j] - mean) / std::sqrt(var + eps) * w[j] + (b ? (*b)[j] : 0.0);
  }
  return y;
}

Vec refRmsNorm(const Vec &x, const Vec &w, size_t rows, size_t d, double eps) {
  Vec y(x.size());
  for (size_t i = 0; i < rows; ++i) {
    double ms = 0;
    for (size_t j = 0; j < d; ++j)
      ms += x[i * d + j] * x[i * d + j] / double(d);
    for (size_t j = 0; j < d; ++j)
      y[i * d + j] = x[i * d + j] / std::sqrt(ms + eps) * w[j];
  }
  return y;
}

double refGelu(double x, bool tanhApprox) {
  if (tanhApprox)
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return x * 0.5 * std::erfc(-x / std::sqrt(2.0)); // Φ(x) = erfc(-x/√2)/2
}
double refSilu(double x) { return x / (1 + std::exp(-x)); }
double refRelu2(double x) { return x > 0 ? x * x : 0; }

Vec mapRef(const Vec &x, const std::function<double(double)> &f) {
  Vec y(x.size());
  std::transform(x.begin(), x.end(), y.begin(), f);
  return y;
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

TEST(NormKernels, LayerNormForward) {
  const size_t rows = 5, d = 24;
  FVec x = randomFloats(rows * d, -3, 3, 1), w = randomFloats(d, 0.5, 1.5, 2),
       b = randomFloats(d, -1, 1, 3);
  x[3] += 100; // an offset row mean: the two-pass variance must not cancel
  for (size_t j = 0; j < d; ++j)
    x[2 * d + j] = 1000.0f + 0.01f * float(j);
  Vec wd = widen(w), bd = widen(b);
  for (double eps : {1e-5, 1e-2}) {
    FVec y(rows * d);
    layerNorm(x.data(), w.data(), b.data(), rows, d, eps, y.data());
    expectClose(y, refLayerNorm(widen(x), wd, &bd, rows, d, eps), kForwardTol, "layer_norm");
    layerNorm(x.data(), w.data(), nullptr, rows, d, eps, y.data());
    expectClose(y, refLayerNorm(widen(x), wd, nullptr, rows, d, eps), kForwardTol,
                "layer_norm no bias");
  }
  // A constant row normalizes to 0 (var = 0, r = 1/sqrt(eps)), then + bias.
  FVec c(d, 7.0f), yc(d);
  layerNorm(c.data(), w.data(), b.data(), 1, d, 1e-5, yc.data());
  for (size_t j = 0; j < d; ++j)
    EXPECT_EQ(yc[j], b[j]);
}

TEST(NormKernels, RMSNormForward) {
  const size_t rows = 4, d = 32;
  FVec x = randomFloats(rows * d, -2, 2, 4), w = randomFloats(d, 0.5, 1.5, 5);
  for (double eps : {1e-6, 1e-5, 0.1}) {
    FVec y(rows * d);
    rmsNorm(x.data(), w.data(), rows, d, eps, y.data());
    expectClose(y, refRmsNorm(widen(x), widen(w), rows, d, eps), kForwardTol, "rms_norm");
  }
}

TEST(NormKernels, LayerNormGradMatchesFiniteDifferences) {
  const size_t rows = 3, d = 8;
  const double eps = 1e-5;
  FVec x = randomFloats(rows * d, -2, 2, 10), w = randomFloats(d, 0.5, 1.5, 11),
       b = randomFloats(d, -1, 1, 12), c = randomFloats(rows * d, -1, 1, 13);
  Vec xd = widen(x), wd = widen(w), bd = widen(b), cd = widen(c);
  FVec dx(rows * d), dw(d), db(d);
  layerNormGrad(c.data(), x.data(), w.data(), rows, d, eps, dx.data(), dw.data(), db.data());
  checkFd(dx, fdGradient([&](const Vec &v) { return dot(cd, refLayerNorm(v, wd, &bd, rows, d, eps)); }, xd),
          "layer_norm_grad dx");
  checkFd(dw, fdGradient([&](const Vec &v) { return dot(cd, refLayerNorm(xd, v, &bd, rows, d, eps)); }, wd),
          "layer_norm_grad dweight");
  checkFd(db, fdGradient([&](const Vec &v) { return dot(cd, refLayerNorm(xd, wd, &v, rows, d, eps)); }, bd),
          "layer_norm_grad dbias");
  // Null outputs are skipped; the others are unchanged.
  FVec dx2(rows * d);
  layerNormGrad(c.data(), x.data(), w.data(), rows, d, eps, dx2.data(), nullptr, nullptr);
  EXPECT_EQ(dx2, dx);
  FVec dw2(d);
  layerNormGrad(c.data(), x.data(), w.data(), rows, d, eps, nullptr, dw2.data(), nullptr);
  EXPECT_EQ(dw2, dw);
}

TEST(NormKernels, RMSNormGradMatchesFiniteDifferences) {
  const size_t rows = 3, d = 8;
  const double eps = 1e-5;
  FVec x = randomFloats(rows * d, -2, 2, 20), w = randomFloats(d, 0.5, 1.5, 21),
       c = randomFloats(rows * d, -1, 1, 22);
  Vec xd = widen(x), wd = widen(w), cd = widen(c);
  FVec dx(rows * d), dw(d);
  rmsNormGrad(c.data(), x.data(), w.data(), rows, d, eps, dx.data(), dw.data());
  checkFd(dx, fdGradient([&](const Vec &v) { return dot(cd, refRmsNorm(v, wd, rows, d, eps)); }, xd),
          "rms_norm_grad dx");
  checkFd(dw, fdGradient([&](const Vec &v) { return dot(cd, refRmsNorm(xd, v, rows, d, eps)); }, wd),
          "rms_norm_grad dweight");
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

/// Inputs covering both signs, the tails and the neighbourhood of 0.
FVec activationInputs() {
  FVec x = randomFloats(40, -6, 6, 30);
  for (float v : {0.0f, -0.0f, 1e-3f, -1e-3f, 0.5f, -0.5f, 10.0f, -10.0f, 30.0f, -30.0f})
    x.push_back(v);
  return x;
}

TEST(PointwiseKernels, ActivationForward) {
  FVec x = activationInputs();
  Vec xd = widen(x);
  FVec y(x.size());
  gelu(x.data(), x.size(), GeluApproximation::None, y.data());
  expectClose(y, mapRef(xd, [](double v) { return refGelu(v, false); }), kForwardTol, "gelu none");
  gelu(x.data(), x.size(), GeluApproximation::Tanh, y.data());
  expectClose(y, mapRef(xd, [](double v) { return refGelu(v, true); }), kForwardTol, "gelu tanh");
  silu(x.data(), x.size(), y.data());
  expectClose(y, mapRef(xd, refSilu), kForwardTol, "silu");
  relu2(x.data(), x.size(), y.data());
  expectClose(y, mapRef(xd, refRelu2), kForwardTol, "relu2");
  FVec up = randomFloats(x.size(), -2, 2, 31);
  swiglu(x.data(), up.data(), x.size(), y.data());
  Vec ref(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    ref[i] = refSilu(xd[i]) * up[i];
  expectClose(y, ref, kForwardTol, "swiglu");
  // In place.
  FVec z = x;
  silu(z.data(), z.size(), z.data());
  silu(x.data(), x.size(), y.data());
  EXPECT_EQ(z, y);
}

TEST(PointwiseKernels, ActivationSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  FVec x = {inf, -inf, nan, -0.0f};
  FVec y(4);
  relu2(x.data(), 4, y.data());
  EXPECT_EQ(y[0], inf);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], 0.0f);
  silu(x.data(), 4, y.data());
  EXPECT_EQ(y[0], inf);
  EXPECT_TRUE(std::isnan(y[1])); // -inf · σ(-inf) = -inf · 0, as torch
  EXPECT_TRUE(std::isnan(y[2]));
  gelu(x.data(), 4, GeluApproximation::Tanh, y.data());
  EXPECT_EQ(y[0], inf);
  EXPECT_TRUE(std::isnan(y[2]));
  gelu(x.data(), 4, GeluApproximation::None, y.data());
  EXPECT_EQ(y[0], inf);
  EXPECT_TRUE(std::isnan(y[2]));
}

TEST(PointwiseKernels, BinaryAndScalarForward) {
  FVec a = randomFloats(33, -4, 4, 40), b = randomFloats(33, -4, 4, 41), y(33);
  add(a.data(), b.data(), 33, y.data());
  for (size_t i = 0; i < 33; ++i)
    EXPECT_EQ(y[i], float(double(a[i]) + double(b[i])));
  mul(a.data(), b.data(), 33, y.data());
  for (size_t i = 0; i < 33; ++i)
    EXPECT_EQ(y[i], float(double(a[i]) * double(b[i])));
  mulScalar(a.data(), 33, 0.37f, y.data());
  for (size_t i = 0; i < 33; ++i)
    EXPECT_EQ(y[i], float(double(a[i]) * double(0.37f)));
}

TEST(PointwiseKernels, ConvertRoundsToNearestEven) {
  // 1 + 2^-8 is the tie between 1 and 1 + 2^-7: even is 1. 1 + 3·2^-8 ties to
  // 1 + 2^-6 (even). Slightly above a tie rounds up.
  FVec x = {1.0f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -2.5f,
            3.4028235e38f};
  std::vector<uint16_t> h(x.size());
  convertF32ToBf16(x.data(), x.size(), h.data());
  EXPECT_EQ(h[0], 0x3F80);
  EXPECT_EQ(h[1], 0x3F80);
  EXPECT_EQ(h[2], 0x3F82);
  EXPECT_EQ(h[3], 0x3F81);
  EXPECT_EQ(h[4], 0xC020);
  EXPECT_EQ(h[5], 0x7F80); // FLT_MAX rounds to +inf: bf16 conversion does not saturate
  FVec back(x.size());
  convertBf16ToF32(h.data(), h.size(), back.data());
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[2], 1.0f + 0x1p-6f);
  EXPECT_EQ(back[4], -2.5f);
}

Vec refReduceSum(const Vec &x, size_t outer, size_t inner) {
  Vec y(inner, 0.0);
  for (size_t i = 0; i < outer; ++i)
    for (size_t j = 0; j < inner; ++j)
      y[j] += x[i * inner + j];
  return y;
}

TEST(PointwiseKernels, ReduceSumForward) {
  const size_t outer = 200, inner = 7;
  FVec x = randomFloats(outer * inner, -1, 1, 50), y(inner);
  reduceSum(x.data(), outer, inner, y.data());
  expectClose(y, refReduceSum(widen(x), outer, inner), kForwardTol, "reduce_sum");
  // outer == 1 copies.
  reduceSum(x.data(), 1, inner, y.data());
  for (size_t j = 0; j < inner; ++j)
    EXPECT_EQ(y[j], x[j]);
  // Long sums stay accurate: 10^6 × 0.1f (f32 accumulation is off by ~1 %).
  FVec tenths(1000000, 0.1f);
  float s;
  reduceSum(tenths.data(), tenths.size(), 1, &s);
  EXPECT_EQ(s, float(1e6 * double(0.1f)));
}

TEST(PointwiseKernels, SliceForward) {
  // [2, 5, 3] f32, dim 1, offset 1, size 3.
  FVec x(30);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i);
  FVec y(18);
  slice(x.data(), 2, 5, 3, 1, 3, sizeof(float), y.data());
  for (size_t o = 0; o < 2; ++o)
    for (size_t i = 0; i < 3; ++i)
      for (size_t k = 0; k < 3; ++k)
        EXPECT_EQ(y[(o * 3 + i) * 3 + k], x[(o * 5 + 1 + i) * 3 + k]);
  // The last dimension of an integer tensor, and bf16 (2-byte) elements.
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<int32_t> last(4);
  slice(ids.data(), 2, 4, 1, 2, 2, sizeof(int32_t), last.data());
  EXPECT_EQ(last, (std::vector<int32_t>{3, 4, 7, 8}));
  std::vector<uint16_t> h = {10, 11, 12, 13, 14, 15};
  std::vector<uint16_t> hs(2);
  slice(h.data(), 1, 3, 2, 2, 1, 2, hs.data());
  EXPECT_EQ(hs, (std::vector<uint16_t>{14, 15}));
}

//===----------------------------------------------------------------------===//
// Pointwise backward vs finite differences
//===----------------------------------------------------------------------===//

/// FD check of a unary activation's backward: L = Σ c·f(x).
void checkUnaryBackward(const std::string &name, const std::function<double(double)> &f,
                        const std::function<void(const float *, const float *, size_t, float *)> &grad,
                        bool avoidZero) {
  FVec x = randomFloats(48, -5, 5, 60);
  for (float v : {0.3f, -0.3f, 2.0f, -2.0f, 1e-2f})
    x.push_back(v);
  if (avoidZero) // relu2's kink at 0
    for (float &v : x)
      if (std::fabs(v) < 1e-3f)
        v = 0.5f;
  FVec c = randomFloats(x.size(), -1, 1, 61), dx(x.size());
  Vec cd = widen(c);
  grad(c.data(), x.data(), x.size(), dx.data());
  checkFd(dx, fdGradient([&](const Vec &v) { return dot(cd, mapRef(v, f)); }, widen(x)), name);
}

TEST(PointwiseKernels, GeluGradMatchesFiniteDifferences) {
  checkUnaryBackward("gelu_grad none", [](double v) { return refGelu(v, false); },
                     [](const float *dy, const float *x, size_t n, float *dx) {
                       geluGrad(dy, x, n, GeluApproximation::None, dx);
                     },
                     false);
  checkUnaryBackward("gelu_grad tanh", [](double v) { return refGelu(v, true); },
                     [](const float *dy, const float *x, size_t n, float *dx) {
                       geluGrad(dy, x, n, GeluApproximation::Tanh, dx);
                     },
                     false);
}

TEST(PointwiseKernels, SiluGradMatchesFiniteDifferences) {
  checkUnaryBackward("silu_grad", refSilu, siluGrad, false);
}

TEST(PointwiseKernels, Relu2GradMatchesFiniteDifferences) {
  checkUnaryBackward("relu2_grad", refRelu2, relu2Grad, true);
  // At exactly 0 the gradient is 0 (2·max(0, 0)).
  float z = 0.0f, one = 1.0f, d;
  relu2Grad(&one, &z, 1, &d);
  EXPECT_EQ(d, 0.0f);
}

TEST(PointwiseKernels, SwigluGradMatchesFiniteDifferences) {
  const size_t n = 40;
  FVec g = randomFloats(n, -5, 5, 70), u = randomFloats(n, -2, 2, 71),
       c = randomFloats(n, -1, 1, 72), dg(n), du(n);
  Vec gd = widen(g), ud = widen(u), cd = widen(c);
  swigluGrad(c.data(), g.data(), u.data(), n, dg.data(), du.data());
  auto loss = [&](const Vec &gate, const Vec &up) {
    double s = 0;
    for (size_t i = 0; i < n; ++i)
      s += cd[i] * refSilu(gate[i]) * up[i];
    return s;
  };
  checkFd(dg, fdGradient([&](const Vec &v) { return loss(v, ud); }, gd), "swiglu_grad gate");
  checkFd(du, fdGradient([&](const Vec &v) { return loss(gd, v); }, ud), "swiglu_grad up");
  // Either output may be null; in place over gate and up.
  FVec g2 = g, u2 = u;
  swigluGrad(c.data(), g2.data(), u2.data(), n, g2.data(), u2.data());
  EXPECT_EQ(g2, dg);
  EXPECT_EQ(u2, du);
  FVec du3(n);
  swigluGrad(c.data(), g.data(), u.data(), n, nullptr, du3.data());
  EXPECT_EQ(du3, du);
}

// train.mul's VJP is da = mul(dy, b), db = mul(dy, a); train.add's passes dy.
TEST(PointwiseKernels, MulAndAddGradsMatchFiniteDifferences) {
  const size_t n = 24;
  FVec a = randomFloats(n, -3, 3, 80), b = randomFloats(n, -3, 3, 81),
       c = randomFloats(n, -1, 1, 82), da(n), db(n);
  Vec ad = widen(a), bd = widen(b), cd = widen(c);
  auto mulLoss = [&](const Vec &x, const Vec &y) {
    double s = 0;
    for (size_t i = 0; i < n; ++i)
      s += cd[i] * x[i] * y[i];
    return s;
  };
  mul(c.data(), b.data(), n, da.data());
  mul(c.data(), a.data(), n, db.data());
  checkFd(da, fdGradient([&](const Vec &v) { return mulLoss(v, bd); }, ad), "mul grad lhs");
  checkFd(db, fdGradient([&](const Vec &v) { return mulLoss(ad, v); }, bd), "mul grad rhs");
  auto addLoss = [&](const Vec &x, const Vec &y) {
    double s = 0;
    for (size_t i = 0; i < n; ++i)
      s += cd[i] * (x[i] + y[i]);
    return s;
  };
  checkFd(c, fdGradient([&](const Vec &v) { return addLoss(v, bd); }, ad), "add grad");
}

// mul_scalar by a constant (clipping): dx = mul_scalar(dy, s).
TEST(PointwiseKernels, MulScalarGradMatchesFiniteDifferences) {
  const size_t n = 24;
  const float s = -0.73f;
  FVec x = randomFloats(n, -3, 3, 90), c = randomFloats(n, -1, 1, 91), dx(n);
  Vec cd = widen(c);
  mulScalar(c.data(), n, s, dx.data());
  checkFd(dx,
          fdGradient(
              [&](const Vec &v) {
                double l = 0;
                for (size_t i = 0; i < n; ++i)
                  l += cd[i] * v[i] * double(s);
                return l;
              },
              widen(x)),
          "mul_scalar grad");
}

// reduce_sum is the VJP of a broadcast over leading dimensions (bias grads):
// y[i, j] = b[j]  ⇒  db = reduce_sum(dy).
TEST(PointwiseKernels, ReduceSumIsTheVJPOfBroadcast) {
  const size_t outer = 6, inner = 5;
  FVec b = randomFloats(inner, -1, 1, 100), c = randomFloats(outer * inner, -1, 1, 101),
       db(inner);
  Vec cd = widen(c);
  reduceSum(c.data(), outer, inner, db.data());
  checkFd(db,
          fdGradient(
              [&](const Vec &v) {
                double l = 0;
                for (size_t i = 0; i < outer; ++i)
                  for (size_t j = 0; j < inner; ++j)
                    l += cd[i * inner + j] * v[j];
                return l;
              },
              widen(b)),
          "reduce_sum (broadcast VJP)");
}

TEST(PointwiseKernels, SliceGradMatchesFiniteDifferences) {
  // x [2, 6, 3], slice dim 1 offset 2 size 3.
  const size_t outer = 2, dimIn = 6, inner = 3, offset = 2, size = 3;
  FVec x = randomFloats(outer * dimIn * inner, -1, 1, 110),
       c = randomFloats(outer * size * inner, -1, 1, 111);
  FVec dx(x.size(), 42.0f); // overwritten entirely
  sliceGrad(c.data(), outer, size, inner, dimIn, offset, sizeof(float), dx.data());
  Vec cd = widen(c);
  checkFd(dx,
          fdGradient(
              [&](const Vec &v) {
                double l = 0;
                for (size_t o = 0; o < outer; ++o)
                  for (size_t i = 0; i < size; ++i)
                    for (size_t k = 0; k < inner; ++k)
                      l += cd[(o * size + i) * inner + k] * v[(o * dimIn + offset + i) * inner + k];
                return l;
              },
              widen(x)),
          "slice_grad");
  // slice(slice_grad(g)) == g.
  FVec back(c.size());
  slice(dx.data(), outer, dimIn, inner, offset, size, sizeof(float), back.data());
  EXPECT_EQ(back, c);
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

TEST(OptimizerKernels, GlobalNorm) {
  FVec a = randomFloats(100, -1, 1, 120), b = randomFloats(7, -3, 3, 121), e;
  double s = 0;
  for (float v : a)
    s += double(v) * v;
  for (float v : b)
    s += double(v) * v;
  ConstTensorView views[] = {{a.data(), a.size()}, {e.data(), 0}, {b.data(), b.size()}};
  EXPECT_EQ(globalNorm(views, 3), float(std::sqrt(s)));
  EXPECT_EQ(globalNorm(views, 0), 0.0f);
  FVec three = {3.0f}, four = {-4.0f};
  ConstTensorView pythagoras[] = {{three.data(), 1}, {four.data(), 1}};
  EXPECT_EQ(globalNorm(pythagoras, 2), 5.0f);
  // Many small terms: 4·10^6 × 0.01f, where f32 accumulation drifts.
  FVec many(4000000, 0.01f);
  ConstTensorView manyView[] = {{many.data(), many.size()}};
  EXPECT_EQ(globalNorm(manyView, 1), float(std::sqrt(4e6 * double(0.01f) * double(0.01f))));
  // Non-finite gradients show in the norm.
  FVec bad = {1.0f, std::numeric_limits<float>::infinity()};
  ConstTensorView badView[] = {{bad.data(), 2}};
  EXPECT_EQ(globalNorm(badView, 1), std::numeric_limits<float>::infinity());
  bad[0] = std::nanf("");
  EXPECT_TRUE(std::isnan(globalNorm(badView, 1)));
}

TEST(OptimizerKernels, ClipCoef) {
  EXPECT_EQ(clipCoef(0.5f, 1.0), 1.0f);
  EXPECT_EQ(clipCoef(0.0f, 1.0), 1.0f);
  EXPECT_EQ(clipCoef(2.0f, 1.0), float(1.0 / (2.0 + 1e-6)));
  EXPECT_EQ(clipCoef(10.0f, 0.5), float(0.5 / (10.0 + 1e-6)));
  // norm == max_norm: just below 1, as torch (max_norm / (norm + 1e-6)).
  EXPECT_EQ(clipCoef(1.0f, 1.0), float(1.0 / (1.0 + 1e-6)));
  EXPECT_LT(clipCoef(1.0f, 1.0), 1.0f);
  EXPECT_EQ(clipCoef(std::numeric_limits<float>::infinity(), 1.0), 0.0f);
  EXPECT_TRUE(std::isnan(clipCoef(std::nanf(""), 1.0)));
}

TEST(OptimizerKernels, LRScheduleConstant) {
  LRSchedule s;
  s.kind = LRScheduleKind::Constant;
  s.lr = 1e-3;
  EXPECT_TRUE(validateLRSchedule(s).ok());
  for (int64_t step : {1, 2, 1000})
    EXPECT_EQ(lrSchedule(s, step), float(1e-3));
  s.warmupSteps = 4; // warmup applies to the constant schedule too
  EXPECT_EQ(lrSchedule(s, 1), float(1e-3 * 1 / 5));
  EXPECT_EQ(lrSchedule(s, 4), float(1e-3 * 4 / 5));
  EXPECT_EQ(lrSchedule(s, 5), float(1e-3));
  s.minLr = 1e-4;
  EXPECT_FALSE(validateLRSchedule(s).ok());
}

TEST(OptimizerKernels, LRScheduleCosine) {
  LRSchedule s;
  s.kind = LRScheduleKind::Cosine;
  s.lr = 6e-4;
  s.minLr = 6e-5;
  s.warmupSteps = 10;
  s.totalSteps = 110;
  ASSERT_TRUE(validateLRSchedule(s).ok());
  // nanoGPT get_lr(it), it = step - 1.
  EXPECT_EQ(lrSchedule(s, 1), float(6e-4 * 1 / 11));   // it 0
  EXPECT_EQ(lrSchedule(s, 10), float(6e-4 * 10 / 11)); // it 9, last warmup step
  EXPECT_EQ(lrSchedule(s, 11), float(6e-4));           // it 10: ratio 0, cos = 1
  // it 60: ratio 0.5, coefficient exactly 0.5 (cos(π/2) ≈ 6e-17).
  EXPECT_NEAR(lrSchedule(s, 61), float(6e-5 + 0.5 * (6e-4 - 6e-5)), 1e-12);
  // it 35: ratio 0.25, coefficient (1 + √2/2)/2.
  EXPECT_EQ(lrSchedule(s, 36), float(6e-5 + 0.5 * (1 + std::sqrt(0.5)) * (6e-4 - 6e-5)));
  EXPECT_NEAR(lrSchedule(s, 111), float(6e-5), 1e-12); // it 110 = total: ratio 1
  EXPECT_EQ(lrSchedule(s, 112), float(6e-5));          // it > total: min_lr
  EXPECT_EQ(lrSchedule(s, 100000), float(6e-5));
  // Monotone non-increasing after warmup.
  for (int64_t step = 11; step < 115; ++step)
    EXPECT_LE(lrSchedule(s, step + 1), lrSchedule(s, step)) << step;
  // No warmup: the first step is the peak.
  s.warmupSteps = 0;
  EXPECT_EQ(lrSchedule(s, 1), float(6e-4));
  // The verifier's rules.
  s.totalSteps = 0;
  EXPECT_FALSE(validateLRSchedule(s).ok());
  s.totalSteps = 10;
  s.minLr = 1e-3;
  EXPECT_FALSE(validateLRSchedule(s).ok());
  s.minLr = 0;
  s.lr = 0;
  EXPECT_FALSE(validateLRSchedule(s).ok());
  s.lr = 1e-3;
  s.warmupSteps = -1;
  EXPECT_FALSE(validateLRSchedule(s).ok());
}

/// torch.optim.AdamW's single-tensor step, written in torch's order in double.
void torchAdamW(Vec &p, const Vec &g, Vec &m, Vec &v, double lr, int t, double beta1,
                double beta2, double eps, double wd) {
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] *= 1 - lr * wd;
    m[i] += (g[i] - m[i]) * (1 - beta1); // lerp
    v[i] = v[i] * beta2 + (1 - beta2) * g[i] * g[i];
    double bias1 = 1 - std::pow(beta1, t), bias2 = 1 - std::pow(beta2, t);
    double stepSize = lr / bias1;
    double denom = std::sqrt(v[i]) / std::sqrt(bias2) + eps;
    p[i] += -stepSize * m[i] / denom;
  }
}

TEST(OptimizerKernels, AdamWThreeStepsByHand) {
  // p = 1, g = 0.5, -0.25, 1.0; lr = 0.01f, betas (0.9, 0.95), eps 1e-8, wd 0.1.
  // Step 1: p·(1 - 1e-3) = 0.999; m = 0.05, v = 0.0125; m̂ = 0.5, v̂ = 0.25:
  //         p = 0.999 - 0.01·0.5/(0.5 + 1e-8) = 0.989000000...
  // (the rest by the same formulas, evaluated in double; lr is the f32 0.01f)
  const double expectP[3] = {0.9890000004458692, 0.9853273061150973, 0.9778545297379556};
  const double expectM[3] = {0.05, 0.02, 0.118};
  const double expectV[3] = {0.0125, 0.015, 0.06425};
  const float grads[3] = {0.5f, -0.25f, 1.0f};
  AdamWConfig cfg{0.9, 0.95, 1e-8, 0.1};
  float p = 1.0f, m = 0.0f, v = 0.0f;
  for (int t = 1; t <= 3; ++t) {
    adamwUpdate(&p, &grads[t - 1], &m, &v, 1, 0.01f, t, cfg, &p, &m, &v);
    EXPECT_NEAR(p, expectP[t - 1], 2e-7) << "step " << t;
    EXPECT_NEAR(m, expectM[t - 1], 1e-8) << "step " << t;
    EXPECT_NEAR(v, expectV[t - 1], 1e-8) << "step " << t;
  }
}

TEST(OptimizerKernels, AdamWMatchesTorchFormulas) {
  const size_t n = 64;
  AdamWConfig cfg{0.9, 0.999, 1e-8, 0.01};
  FVec p = randomFloats(n, -1, 1, 130), m(n, 0.0f), v(n, 0.0f);
  Vec pd = widen(p), md(n, 0.0), vd(n, 0.0);
  const float lrs[3] = {1e-3f, 5e-4f, 2e-4f};
  for (int t = 1; t <= 3; ++t) {
    FVec g = randomFloats(n, -2, 2, 140 + t);
    // Out of place this time; the result must not depend on it.
    FVec p2(n), m2(n), v2(n);
    adamwUpdate(p.data(), g.data(), m.data(), v.data(), n, lrs[t - 1], t, cfg, p2.data(),
                m2.data(), v2.data());
    p = p2, m = m2, v = v2;
    torchAdamW(pd, widen(g), md, vd, double(lrs[t - 1]), t, cfg.beta1, cfg.beta2, cfg.eps,
               cfg.weightDecay);
    expectClose(p, pd, 2e-7, "adamw param step " + std::to_string(t));
    expectClose(m, md, 2e-7, "adamw exp_avg step " + std::to_string(t));
    expectClose(v, vd, 2e-7, "adamw exp_avg_sq step " + std::to_string(t));
  }
  // A zero gradient with zero state leaves only the decoupled decay.
  float q = 2.0f, z = 0.0f, mm = 0.0f, vv = 0.0f;
  adamwUpdate(&q, &z, &mm, &vv, 1, 0.5f, 1, cfg, &q, &mm, &vv);
  EXPECT_EQ(q, float(2.0 * (1 - 0.5 * 0.01)));
}

TEST(OptimizerKernels, SGDThreeStepsByHand) {
  // p = 1, g = 0.5, -0.25, 1.0, lr = 0.1f, weight decay 0.01.
  const float grads[3] = {0.5f, -0.25f, 1.0f};
  {
    // Momentum 0.9: step 1: g' = 0.5 + 0.01 = 0.51, buf = 0.51, p = 1 - 0.1·0.51 = 0.949.
    const double expectP[3] = {0.9489999992400407, 0.9271509989152252, 0.8065597461200443};
    const double expectBuf[3] = {0.51, 0.21848999999240043, 1.2059125099823127};
    SGDConfig cfg{0.9, 0.01};
    float p = 1.0f, buf = 0.0f;
    for (int t = 1; t <= 3; ++t) {
      sgdUpdate(&p, &grads[t - 1], &buf, 1, 0.1f, cfg, &p, &buf);
      EXPECT_NEAR(p, expectP[t - 1], 2e-7) << "step " << t;
      EXPECT_NEAR(buf, expectBuf[t - 1], 2e-7) << "step " << t;
    }
  }
  {
    // No momentum: p -= lr·(g + wd·p); the buffers are not touched (null).
    const double expectP[3] = {0.9489999992400407, 0.9730509995991885, 0.8720779470949735};
    SGDConfig cfg{0.0, 0.01};
    float p = 1.0f;
    for (int t = 1; t <= 3; ++t) {
      sgdUpdate(&p, &grads[t - 1], nullptr, 1, 0.1f, cfg, &p, nullptr);
      EXPECT_NEAR(p, expectP[t - 1], 2e-7) << "step " << t;
    }
  }
  {
    // Plain SGD without decay is p - lr·g exactly rounded.
    SGDConfig cfg{0.0, 0.0};
    float p = 1.0f, g = 0.3f;
    sgdUpdate(&p, &g, nullptr, 1, 0.1f, cfg, &p, nullptr);
    EXPECT_EQ(p, float(1.0 - double(0.1f) * double(0.3f)));
  }
}

} // namespace
