//===- OptimizerKernels.h - CPU reference kernels: the optimizer step -----===//
//
// train.global_norm, train.clip_coef, train.lr_schedule, train.adamw_update and
// train.sgd_update on the CPU (docs/runtime.md, "CPU kernels: norms,
// pointwise, optimizer").
//
// Precision: every formula is evaluated in double from the f32 operands (lr is
// the f32 scalar the schedule produced) and each result is rounded once to
// f32; global_norm accumulates its squares in double. Only +, ·, /, sqrt (and
// pow / cos for the step-dependent scalars) are used, so results are
// deterministic and do not depend on vectorization.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_OPTIMIZERKERNELS_H
#define FP8RT_CPU_OPTIMIZERKERNELS_H

#include "fp8rt/Status.h"
#include "fp8rt/ops/OpAttributes.h"

#include <cstddef>
#include <cstdint>

namespace fp8rt::cpu {

/// One operand of global_norm: `size` f32 elements.
struct ConstTensorView {
  const float *data = nullptr;
  size_t size = 0;
};

/// Σ x[i]², accumulated in double in order (for global_norm over tensors
/// visited one at a time).
double sumOfSquares(const float *x, size_t n);

/// train.global_norm: sqrt(Σ over tensors Σ t²), squares summed in double in
/// operand order, the root rounded once to f32. NaN if any element is NaN,
/// +inf if any is ±inf (and none NaN).
float globalNorm(const ConstTensorView *tensors, size_t count);

/// train.clip_coef: min(1, maxNorm / (norm + 1e-6)) (torch's clip_grad_norm_).
/// A NaN norm gives NaN (as torch.clamp), an infinite one 0.
float clipCoef(float norm, double maxNorm);

using ops::LRSchedule;
using ops::LRScheduleKind;
using ops::validateLRSchedule;

/// train.lr_schedule for the 1-based `step`, as nanoGPT's get_lr(it) with
/// it = step - 1 (see docs/runtime.md), evaluated in double, rounded to f32.
float lrSchedule(const LRSchedule &schedule, int64_t step);

using ops::AdamWConfig;

/// train.adamw_update (torch.optim.AdamW), for the 1-based step t:
///   m' = beta1·m + (1-beta1)·g
///   v' = beta2·v + (1-beta2)·g²
///   p' = p·(1 - lr·wd) - lr·(m'/(1-beta1^t)) / (sqrt(v'/(1-beta2^t)) + eps)
/// Outputs may alias their own input exactly (in-place update).
void adamwUpdate(const float *param, const float *grad, const float *expAvg, const float *expAvgSq,
                 size_t n, float lr, int64_t step, const AdamWConfig &config, float *newParam,
                 float *newExpAvg, float *newExpAvgSq);

using ops::SGDConfig;

/// train.sgd_update (torch.optim.SGD, no dampening, no Nesterov):
///   g' = g + wd·p;  momentum > 0: buf' = momentum·buf + g', step = buf';
///   otherwise step = g';  p' = p - lr·step
/// With momentum > 0, momentumBuffer and newMomentumBuffer are required (the
/// buffer starts at zeros, so the first step gives buf' = g' as torch's
/// clone does); otherwise both are ignored. Outputs may alias their input.
void sgdUpdate(const float *param, const float *grad, const float *momentumBuffer, size_t n,
               float lr, const SGDConfig &config, float *newParam, float *newMomentumBuffer);

} // namespace fp8rt::cpu

#endif // FP8RT_CPU_OPTIMIZERKERNELS_H
