//===- NormKernels.h - CPU reference kernels: layer_norm, rms_norm --------===//
//
// The CPU backend's reference for train.layer_norm, train.rms_norm and their
// backward ops (docs/runtime.md, "CPU kernels: norms, pointwise, optimizer").
//
// Tensors are plain row-major f32 arrays: `rows × d` for activations (every
// leading dimension flattened into `rows`), `d` for weight and bias. bf16
// tensors are widened by the caller (exactly) and the outputs rounded back
// with floatToBf16, so that each op computes in f32-or-better and rounds once.
//
// Precision: the row statistics, the per-element formulas and the sums over
// rows are evaluated in double from the f32 inputs, and every output element
// is rounded once to f32. The order of every sum is fixed (rows in order,
// elements in order), so results are deterministic.
//
// Preconditions (the program loader has checked the shapes): all pointers
// non-null unless said otherwise, arrays of the stated sizes, d > 0. Outputs
// must not overlap inputs. Weight/bias gradients are overwritten, not
// accumulated into.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_NORMKERNELS_H
#define FP8RT_CPU_NORMKERNELS_H

#include <cstddef>

namespace fp8rt::cpu {

/// train.layer_norm: y = (x - mean)·r·weight + bias per row, r = 1/sqrt(var + eps),
/// var the biased (÷ d) variance. `bias` may be null (no bias).
void layerNorm(const float *x, const float *weight, const float *bias, size_t rows, size_t d,
               double eps, float *y);

/// train.layer_norm_grad. With x̂ = (x - mean)·r and g = dy·weight (means over d):
///   dx = r·(g - mean(g) - x̂·mean(g·x̂))   dweight = Σ_rows dy·x̂   dbias = Σ_rows dy
/// Any of dx, dweight, dbias may be null (not computed).
void layerNormGrad(const float *dy, const float *x, const float *weight, size_t rows, size_t d,
                   double eps, float *dx, float *dweight, float *dbias);

/// train.rms_norm: y = x·r·weight per row, r = 1/sqrt(mean(x²) + eps).
void rmsNorm(const float *x, const float *weight, size_t rows, size_t d, double eps, float *y);

/// train.rms_norm_grad. With x̂ = x·r and g = dy·weight:
///   dx = r·(g - x̂·mean(g·x̂))   dweight = Σ_rows dy·x̂
/// dx or dweight may be null (not computed).
void rmsNormGrad(const float *dy, const float *x, const float *weight, size_t rows, size_t d,
                 double eps, float *dx, float *dweight);

} // namespace fp8rt::cpu

#endif // FP8RT_CPU_NORMKERNELS_H
