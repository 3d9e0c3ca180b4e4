//===- PointwiseKernels.cpp - CPU reference kernels: pointwise and shape --===//
//
// Activations in double, rounded once to f32; add / mul / mul_scalar as one
// f32 operation; reduce_sum in double (PointwiseKernels.h).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/PointwiseKernels.h"

#include "fp8rt/Numerics.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace fp8rt::cpu {
namespace {

constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876; // √(2/π)
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;    // 1/√2
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;  // 1/√(2π)
constexpr double kGeluCoef = 0.044715;

/// σ(x) = 1/(1 + e^-x); 0 for x → -inf, 1 for x → +inf, NaN for NaN.
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

inline double geluNone(double x) { return 0.5 * x * (1.0 + std::erf(x * kInvSqrt2)); }
inline double geluTanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x)));
}
inline double geluNoneDeriv(double x) {
  double cdf = 0.5 * (1.0 + std::erf(x * kInvSqrt2));
  double pdf = kInvSqrt2Pi * std::exp(-0.5 * x * x);
  return cdf + x * pdf;
}
inline double geluTanhDeriv(double x) {
  double t = std::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluCoef * x * x);
}
/// d silu / dx = σ(x)·(1 + x·(1 - σ(x))).
inline double siluDeriv(double x) {
  double s = sigmoid(x);
  return s * (1.0 + x * (1.0 - s));
}

} // namespace

void gelu(const float *x, size_t n, GeluApproximation approximate, float *y) {
  if (approximate == GeluApproximation::Tanh) {
    for (size_t i = 0; i < n; ++i)
      y[i] = float(geluTanh(x[i]));
  } else {
    for (size_t i = 0; i < n; ++i)
      y[i] = float(geluNone(x[i]));
  }
}

void geluGrad(const float *dy, const float *x, size_t n, GeluApproximation approximate, float *dx) {
  if (approximate == GeluApproximation::Tanh) {
    for (size_t i = 0; i < n; ++i)
      dx[i] = float(double(dy[i]) * geluTanhDeriv(x[i]));
  } else {
    for (size_t i = 0; i < n; ++i)
      dx[i] = float(double(dy[i]) * geluNoneDeriv(x[i]));
  }
}

void silu(const float *x, size_t n, float *y) {
  for (size_t i = 0; i < n; ++i) {
    double v = x[i];
    y[i] = float(v * sigmoid(v));
  }
}

void siluGrad(const float *dy, const float *x, size_t n, float *dx) {
  for (size_t i = 0; i < n; ++i)
    dx[i] = float(double(dy[i]) * siluDeriv(x[i]));
}

void relu2(const float *x, size_t n, float *y) {
  for (size_t i = 0; i < n; ++i) {
    double r = x[i] < 0.0f ? 0.0 : double(x[i]); // NaN < 0 is false: NaN propagates
    y[i] = float(r * r);
  }
}

void relu2Grad(const float *dy, const float *x, size_t n, float *dx) {
  for (size_t i = 0; i < n; ++i) {
    double r = x[i] < 0.0f ? 0.0 : double(x[i]);
    dx[i] = float(double(dy[i]) * 2.0 * r);
  }
}

void swiglu(const float *gate, const float *up, size_t n, float *y) {
  for (size_t i = 0; i < n; ++i) {
    double g = gate[i];
    y[i] = float(g * sigmoid(g) * double(up[i]));
  }
}

void swigluGrad(const float *dy, const float *gate, const float *up, size_t n, float *dgate,
                float *dup) {
  for (size_t i = 0; i < n; ++i) {
    double g = gate[i], d = dy[i], u = up[i];
    double s = sigmoid(g);
    // Both outputs are computed before either is stored: dgate or dup may
    // alias dy, gate or up exactly.
    double dg = d * u * s * (1.0 + g * (1.0 - s));
    double du = d * g * s;
    if (dgate)
      dgate[i] = float(dg);
    if (dup)
      dup[i] = float(du);
  }
}

void add(const float *a, const float *b, size_t n, float *y) {
  for (size_t i = 0; i < n; ++i)
    y[i] = a[i] + b[i];
}

void mul(const float *a, const float *b, size_t n, float *y) {
  for (size_t i = 0; i < n; ++i)
    y[i] = a[i] * b[i];
}

void mulScalar(const float *x, size_t n, float scale, float *y) {
  for (size_t i = 0; i < n; ++i)
    y[i] = x[i] * scale;
}

void convertF32ToBf16(const float *x, size_t n, uint16_t *y) { floatToBf16(x, n, y); }

void convertBf16ToF32(const uint16_t *x, size_t n, float *y) { bf16ToFloat(x, n, y); }

void reduceSum(const float *x, size_t outer, size_t inner, float *y) {
  std::vector<double> acc(inner, 0.0);
  for (size_t i = 0; i < outer; ++i) {
    const float *row = x + i * inner;
    for (size_t j = 0; j < inner; ++j)
      acc[j] += row[j];
  }
  for (size_t j = 0; j < inner; ++j)
    y[j] = float(acc[j]);
}

void slice(const void *in, size_t outer, size_t dimIn, size_t inner, size_t offset, size_t size,
           size_t elemBytes, void *out) {
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  size_t chunk = size * inner * elemBytes;
  if (chunk == 0)
    return;
  for (size_t o = 0; o < outer; ++o)
    std::memcpy(dst + o * chunk, src + (o * dimIn + offset) * inner * elemBytes, chunk);
}

void sliceGrad(const void *grad, size_t outer, size_t size, size_t inner, size_t dimIn,
               size_t offset, size_t elemBytes, void *out) {
  const char *src = static_cast<const char *>(grad);
  char *dst = static_cast<char *>(out);
  size_t total = outer * dimIn * inner * elemBytes;
  if (total == 0)
    return;
  std::memset(dst, 0, total);
  size_t chunk = size * inner * elemBytes;
  if (chunk == 0)
    return;
  for (size_t o = 0; o < outer; ++o)
    std::memcpy(dst + (o * dimIn + offset) * inner * elemBytes, src + o * chunk, chunk);
}

} // namespace fp8rt::cpu
