//===- NormKernels.cpp - CPU reference kernels: layer_norm, rms_norm ------===//
//
// Statistics and formulas in double, each output rounded once to f32; sums in
// a fixed order (NormKernels.h).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/NormKernels.h"

#include <cmath>
#include <vector>

namespace fp8rt::cpu {
namespace {

struct RowStats {
  double mean;
  double rstd; // 1/sqrt(var + eps)
};

/// Mean and 1/sqrt(biased variance + eps) of one row, two passes in double.
RowStats layerNormStats(const float *x, size_t d, double eps) {
  double sum = 0;
  for (size_t j = 0; j < d; ++j)
    sum += x[j];
  double mean = sum / double(d);
  double sq = 0;
  for (size_t j = 0; j < d; ++j) {
    double c = double(x[j]) - mean;
    sq += c * c;
  }
  return {mean, 1.0 / std::sqrt(sq / double(d) + eps)};
}

/// 1/sqrt(mean(x²) + eps) of one row, in double.
double rmsNormRstd(const float *x, size_t d, double eps) {
  double sq = 0;
  for (size_t j = 0; j < d; ++j)
    sq += double(x[j]) * double(x[j]);
  return 1.0 / std::sqrt(sq / double(d) + eps);
}

} // namespace

void layerNorm(const float *x, const float *weight, const float *bias, size_t rows, size_t d,
               double eps, float *y) {
  for (size_t i = 0; i < rows; ++i) {
    const float *xr = x + i * d;
    float *yr = y + i * d;
    RowStats s = layerNormStats(xr, d, eps);
    for (size_t j = 0; j < d; ++j) {
      double v = (double(xr[j]) - s.mean) * s.rstd * double(weight[j]);
      if (bias)
        v += double(bias[j]);
      yr[j] = float(v);
    }
  }
}

void layerNormGrad(const float *dy, const float *x, const float *weight, size_t rows, size_t d,
                   double eps, float *dx, float *dweight, float *dbias) {
  std::vector<double> dw(dweight ? d : 0, 0.0), db(dbias ? d : 0, 0.0);
  for (size_t i = 0; i < rows; ++i) {
    const float *xr = x + i * d, *dyr = dy + i * d;
    RowStats s = layerNormStats(xr, d, eps);
    if (dweight || dbias) {
      for (size_t j = 0; j < d; ++j) {
        double xhat = (double(xr[j]) - s.mean) * s.rstd;
        if (dweight)
          dw[j] += double(dyr[j]) * xhat;
        if (dbias)
          db[j] += double(dyr[j]);
      }
    }
    if (!dx)
      continue;
    // mean(g) and mean(g·x̂) with g = dy·weight.
    double sumG = 0, sumGX = 0;
    for (size_t j = 0; j < d; ++j) {
      double g = double(dyr[j]) * double(weight[j]);
      double xhat = (double(xr[j]) - s.mean) * s.rstd;
      sumG += g;
      sumGX += g * xhat;
    }
    double meanG = sumG / double(d), meanGX = sumGX / double(d);
    float *dxr = dx + i * d;
    for (size_t j = 0; j < d; ++j) {
      double g = double(dyr[j]) * double(weight[j]);
      double xhat = (double(xr[j]) - s.mean) * s.rstd;
      dxr[j] = float(s.rstd * (g - meanG - xhat * meanGX));
    }
  }
  for (size_t j = 0; dweight && j < d; ++j)
    dweight[j] = float(dw[j]);
  for (size_t j = 0; dbias && j < d; ++j)
    dbias[j] = float(db[j]);
}

void rmsNorm(const float *x, const float *weight, size_t rows, size_t d, double eps, float *y) {
  for (size_t i = 0; i < rows; ++i) {
    const float *xr = x + i * d;
    float *yr = y + i * d;
    double r = rmsNormRstd(xr, d, eps);
    for (size_t j = 0; j < d; ++j)
      yr[j] = float(double(xr[j]) * r * double(weight[j]));
  }
}

void rmsNormGrad(const float *dy, const float *x, const float *weight, size_t rows, size_t d,
                 double eps, float *dx, float *dweight) {
  std::vector<double> dw(dweight ? d : 0, 0.0);
  for (size_t i = 0; i < rows; ++i) {
    const float *xr = x + i * d, *dyr = dy + i * d;
    double r = rmsNormRstd(xr, d, eps);
    double sumGX = 0;
    for (size_t j = 0; j < d; ++j) {
      double xhat = double(xr[j]) * r;
      if (dweight)
        dw[j] += double(dyr[j]) * xhat;
      sumGX += double(dyr[j]) * double(weight[j]) * xhat;
    }
    if (!dx)
      continue;
    double meanGX = sumGX / double(d);
    float *dxr = dx + i * d;
    for (size_t j = 0; j < d; ++j) {
      double g = double(dyr[j]) * double(weight[j]);
      double xhat = double(xr[j]) * r;
      dxr[j] = float(r * (g - xhat * meanGX));
    }
  }
  for (size_t j = 0; dweight && j < d; ++j)
    dweight[j] = float(dw[j]);
}

} // namespace fp8rt::cpu
