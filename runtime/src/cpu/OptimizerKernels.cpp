//===- OptimizerKernels.cpp - CPU reference kernels: the optimizer step ---===//
//
// Formulas in double from the f32 operands, each result rounded once to f32
// (OptimizerKernels.h). The updated moments / momentum buffer are rounded to
// f32 before the parameter update uses them, as torch uses its stored state.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/OptimizerKernels.h"

#include <cmath>
#include <string>

namespace fp8rt::cpu {
namespace {
constexpr double kPi = 3.14159265358979323846264338327950288;
} // namespace

double sumOfSquares(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i)
    s += double(x[i]) * double(x[i]);
  return s;
}

float globalNorm(const ConstTensorView *tensors, size_t count) {
  double s = 0;
  for (size_t t = 0; t < count; ++t)
    s += sumOfSquares(tensors[t].data, tensors[t].size);
  return float(std::sqrt(s));
}

float clipCoef(float norm, double maxNorm) {
  double c = maxNorm / (double(norm) + 1e-6);
  if (std::isnan(c))
    return float(c);
  return c < 1.0 ? float(c) : 1.0f;
}

float lrSchedule(const LRSchedule &s, int64_t step) {
  // nanoGPT's get_lr(it) with it = step - 1.
  double it = double(step) - 1.0;
  double warmup = double(s.warmupSteps);
  if (it < warmup)
    return float(s.lr * (it + 1.0) / (warmup + 1.0));
  if (s.kind == LRScheduleKind::Constant)
    return float(s.lr);
  double total = double(s.totalSteps);
  if (it > total)
    return float(s.minLr);
  double ratio = (it - warmup) / (total - warmup);
  double coeff = 0.5 * (1.0 + std::cos(kPi * ratio));
  return float(s.minLr + coeff * (s.lr - s.minLr));
}

void adamwUpdate(const float *param, const float *grad, const float *expAvg, const float *expAvgSq,
                 size_t n, float lr, int64_t step, const AdamWConfig &c, float *newParam,
                 float *newExpAvg, float *newExpAvgSq) {
  double t = double(step);
  double lrd = double(lr);
  double bc1 = 1.0 - std::pow(c.beta1, t);
  double bc2 = 1.0 - std::pow(c.beta2, t);
  double decay = 1.0 - lrd * c.weightDecay;
  for (size_t i = 0; i < n; ++i) {
    double g = grad[i];
    float m = float(c.beta1 * double(expAvg[i]) + (1.0 - c.beta1) * g);
    float v = float(c.beta2 * double(expAvgSq[i]) + (1.0 - c.beta2) * g * g);
    double denom = std::sqrt(double(v) / bc2) + c.eps;
    double p = double(param[i]) * decay - lrd * (double(m) / bc1) / denom;
    newExpAvg[i] = m;
    newExpAvgSq[i] = v;
    newParam[i] = float(p);
  }
}

void sgdUpdate(const float *param, const float *grad, const float *momentumBuffer, size_t n,
               float lr, const SGDConfig &c, float *newParam, float *newMomentumBuffer) {
  double lrd = double(lr);
  bool momentum = c.momentum > 0;
  for (size_t i = 0; i < n; ++i) {
    double p = param[i];
    double g = double(grad[i]) + c.weightDecay * p;
    if (momentum) {
      float b = float(c.momentum * double(momentumBuffer[i]) + g);
      newMomentumBuffer[i] = b;
      g = b;
    }
    newParam[i] = float(p - lrd * g);
  }
}

} // namespace fp8rt::cpu
