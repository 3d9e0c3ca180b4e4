//===- PointwiseKernels.h - CPU reference kernels: pointwise and shape ----===//
//
// The CPU backend's reference for the pointwise ops of the train dialect, their
// backward ops, train.convert, train.reduce_sum, train.slice and
// train.slice_grad (docs/runtime.md, "CPU kernels: norms, pointwise,
// optimizer").
//
// Plain f32 arrays of `n` elements. Precision: add, mul and mul_scalar are one
// f32 operation (correctly rounded). The activations and their gradients are
// evaluated in double from the f32 inputs (std::exp, std::tanh, std::erf) and
// rounded once to f32. reduce_sum accumulates in double. Deterministic.
//
// Preconditions: arrays of the stated sizes. Pointwise outputs may alias an
// input exactly (in place), never partially; reduce_sum, slice and slice_grad
// outputs must not overlap their input.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_POINTWISEKERNELS_H
#define FP8RT_CPU_POINTWISEKERNELS_H

#include <cstddef>
#include <cstdint>

namespace fp8rt::cpu {

/// The `approximate` attribute of train.gelu / train.gelu_grad.
enum class GeluApproximation : uint8_t { None, Tanh };

/// none: x·Φ(x), Φ(x) = (1 + erf(x/√2))/2;
/// tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
void gelu(const float *x, size_t n, GeluApproximation approximate, float *y);
/// dx = dy·gelu'(x):
///   none: Φ(x) + x·φ(x)
///   tanh: 0.5·(1 + t) + 0.5·x·(1 - t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(u)
void geluGrad(const float *dy, const float *x, size_t n, GeluApproximation approximate, float *dx);

/// y = x·σ(x).
void silu(const float *x, size_t n, float *y);
/// dx = dy·σ(x)·(1 + x·(1 - σ(x))).
void siluGrad(const float *dy, const float *x, size_t n, float *dx);

/// y = max(x, 0)² (NaN propagates).
void relu2(const float *x, size_t n, float *y);
/// dx = dy·2·max(x, 0).
void relu2Grad(const float *dy, const float *x, size_t n, float *dx);

/// y = silu(gate)·up.
void swiglu(const float *gate, const float *up, size_t n, float *y);
/// dgate = dy·up·σ(gate)·(1 + gate·(1 - σ(gate))), dup = dy·gate·σ(gate).
/// Either output may be null.
void swigluGrad(const float *dy, const float *gate, const float *up, size_t n, float *dgate,
                float *dup);

/// y = a + b (train.add; its VJP passes dy to both operands).
void add(const float *a, const float *b, size_t n, float *y);
/// y = a·b (train.mul; its VJP is two more train.mul: da = dy·b, db = dy·a).
void mul(const float *a, const float *b, size_t n, float *y);
/// y = x·scale (train.mul_scalar; gradient clipping).
void mulScalar(const float *x, size_t n, float scale, float *y);

/// train.convert f32 → bf16 (round to nearest even, fp8rt::floatToBf16) and
/// bf16 → f32 (exact). A convert to the same type is a copy.
void convertF32ToBf16(const float *x, size_t n, uint16_t *y);
void convertBf16ToF32(const uint16_t *x, size_t n, float *y);

/// train.reduce_sum to a trailing shape: x is [outer, inner] (the leading
/// dimensions flattened into `outer`, the result's shape into `inner`);
/// y[j] = Σ_i x[i·inner + j], accumulated in double in order of i. outer == 1
/// copies. It is the VJP of a broadcast over leading dimensions (bias grads).
void reduceSum(const float *x, size_t outer, size_t inner, float *y);

/// train.slice along one dimension of any element type: the input is
/// [outer, dimIn, inner] (dimensions before / at / after `dim`, in elements of
/// `elemBytes` bytes); out[o, i, k] = in[o, offset + i, k] for i < size.
/// Requires offset + size ≤ dimIn.
void slice(const void *in, size_t outer, size_t dimIn, size_t inner, size_t offset, size_t size,
           size_t elemBytes, void *out);

/// train.slice_grad: out is [outer, dimIn, inner], zero (all-zero bytes, which
/// is +0 in f32 and bf16) except out[o, offset + i, k] = grad[o, i, k] for
/// i < size, grad being [outer, size, inner]. Requires offset + size ≤ dimIn.
void sliceGrad(const void *grad, size_t outer, size_t size, size_t inner, size_t dimIn,
               size_t offset, size_t elemBytes, void *out);

} // namespace fp8rt::cpu

#endif // FP8RT_CPU_POINTWISEKERNELS_H
