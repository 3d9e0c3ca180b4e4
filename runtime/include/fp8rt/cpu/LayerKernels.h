//===- LayerKernels.h - CPU reference kernels: GEMMs and layers -*- C++ -*-===//
//
// Part A of the CPU backend's reference kernels (docs/runtime.md, "CPU
// kernels: layers"): GEMMs (f32 through OpenBLAS, and the scaled FP8 GEMM of
// `fp8.scaled_matmul`), embedding and its gradient, attention and its
// gradient, softmax cross-entropy and its gradient. The semantics are those of
// the `train` ops (include/fp8c/Dialect/Train/IR/TrainOps.td).
//
// Kernels work on plain f32 arrays, row-major (C order), with explicit
// shapes; the caller converts bf16 storage with fp8rt's conversions. Math is
// f32. Arguments that depend on data (token ids, targets) or on shapes are
// checked and reported as a Status (kInvalidArgument), never by aborting.
// Output buffers must not alias inputs.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CPU_LAYERKERNELS_H
#define FP8RT_CPU_LAYERKERNELS_H

#include "fp8rt/Numerics.h"
#include "fp8rt/Status.h"
#include "fp8rt/ops/OpAttributes.h"

#include <cstdint>
#include <optional>

namespace fp8rt::cpu {

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

/// C = alpha · op(A) · op(B) + beta · C, row-major, through cblas_sgemm.
/// op(A) is [M, K] (A is [K, M] when transA), op(B) is [K, N] (B is [N, K]
/// when transB), C is [M, N]. Leading dimensions are row strides in elements.
/// With beta == 0, C is not read (NaNs in it do not propagate). M, N or K may
/// be 0 (K == 0 gives C = beta · C).
Status gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
            const float *B, int64_t ldb, float *C, int64_t ldc, float alpha = 1.0f,
            float beta = 0.0f);

/// The scale layouts of `fp8.scaled_matmul` (fp8::getScaleShape), for an
/// operand of shape [rows, cols]:
///   Tensorwise     one scale                      (also delayed scaling)
///   Rowwise        [rows, 1]
///   Block1x128     [rows, cols / 128]
///   Block128x128   [rows / 128, cols / 128]
enum class ScaleMode : uint8_t { Tensorwise, Rowwise, Block1x128, Block128x128 };

/// Number of scales an operand of shape [rows, cols] has in `mode`, or an
/// error when a blockwise mode does not divide the shape.
StatusOr<int64_t> scaleCount(ScaleMode mode, int64_t rows, int64_t cols);

/// One FP8 GEMM operand: `rows × cols` FP8 codes (row-major) and its scales
/// (`scaleCount(mode, rows, cols)` f32 values, row-major).
struct Fp8Operand {
  const uint8_t *data = nullptr;
  Fp8Format format = Fp8Format::E4M3FN;
  ScaleMode mode = ScaleMode::Tensorwise;
  const float *scales = nullptr;
};

/// Reference of `fp8.scaled_matmul` in the TN layout: lhs [M, K], rhs [N, K],
///   out[m, n] = Σ_k (lhs[m, k] / s_lhs(m, k)) · (rhs[n, k] / s_rhs(n, k))
///               + bias[n]
/// Each code is decoded exactly (fp8ToFloat) and divided by its scale in f32
/// (as fp8rt::dequantize does), then the product is accumulated in f32 by
/// sgemm; `bias` ([N], optional) is added in f32. When `amax` is given it
/// receives fp8rt::amax of the f32 result (bias included). The two operands
/// may use different scale modes; fp8 dialect rules (at most one E5M2, M/N/K
/// multiples of 16) are the compiler's business, not checked here.
Status scaledGemmTN(int64_t M, int64_t N, int64_t K, const Fp8Operand &lhs, const Fp8Operand &rhs,
                    const float *bias, float *out, float *amax = nullptr);

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

/// `train.embedding`: out[i, :] = table[ids[i], :] for i < n; table is
/// [vocab, dim], out [n, dim]. An id outside [0, vocab) is an error (nothing
/// is promised about `out` then).
Status embedding(const float *table, int64_t vocab, int64_t dim, const int32_t *ids, int64_t n,
                 float *out);
Status embedding(const float *table, int64_t vocab, int64_t dim, const int64_t *ids, int64_t n,
                 float *out);

/// `train.embedding_grad`: out = 0; out[ids[i], :] += grad[i, :] for
/// i = 0, 1, …, n-1 in that order (deterministic), f32 accumulation. grad is
/// [n, dim], out [vocab, dim]. Ids are all checked before anything is written.
Status embeddingGrad(const float *grad, const int32_t *ids, int64_t n, int64_t vocab, int64_t dim,
                     float *out);
Status embeddingGrad(const float *grad, const int64_t *ids, int64_t n, int64_t vocab, int64_t dim,
                     float *out);

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

using ops::AttentionConfig;
using ops::verifyAttentionConfig;

/// Applies RoPE in place to x [batch, seqLen, nHeads·headDim] (`inverse`:
/// rotates back by the same angles, the VJP of the rotation). For position t
/// and i < headDim/2, with inv_freq_i = (float)(1 / theta^(2i/headDim)),
/// a = (float)t · inv_freq_i (f32 product, as HF), c = cos a, s = sin a:
///   x'[i]     = x[i] · c − x[i + d/2] · s
///   x'[i+d/2] = x[i+d/2] · c + x[i] · s
void applyRope(float *x, int64_t batch, int64_t seqLen, int64_t nHeads, int64_t headDim,
               double theta, bool inverse);

/// `train.attention`: out = softmax(q'·k'ᵀ / sqrt(headDim), causal mask) · v
/// per batch and head, q', k' after RoPE. Max-subtracted softmax, f32.
Status attention(const AttentionConfig &config, const float *q, const float *k, const float *v,
                 float *out);

/// `train.attention_grad`: from dout (the output's shape) and the forward
/// operands, recomputes the probabilities and writes dq (q's shape) and dk,
/// dv (k's shape); see TrainOps.td for the formulas. Grouped heads' dk, dv
/// sum the query heads of the group in increasing head order.
Status attentionGrad(const AttentionConfig &config, const float *dout, const float *q,
                     const float *k, const float *v, float *dq, float *dk, float *dv);

//===----------------------------------------------------------------------===//
// Softmax cross-entropy
//===----------------------------------------------------------------------===//

/// `train.softmax_cross_entropy`: logits [n, vocab], targets [n]. Per row
/// nll = log Σ_j exp(x_j − max) − (x_target − max) (f32); the loss is the mean
/// over the rows whose target is not `ignoreIndex` (the sum accumulated in
/// double, divided once, rounded to f32). No counted row → NaN, as PyTorch.
/// A counted target outside [0, vocab) is an error.
Status softmaxCrossEntropy(const float *logits, const int32_t *targets, int64_t n, int64_t vocab,
                           std::optional<int64_t> ignoreIndex, float *loss);
Status softmaxCrossEntropy(const float *logits, const int64_t *targets, int64_t n, int64_t vocab,
                           std::optional<int64_t> ignoreIndex, float *loss);

/// `train.softmax_cross_entropy_grad`: dlogits[i, :] = lossGrad / N ·
/// (softmax(logits[i, :]) − onehot(targets[i])), N the number of counted
/// rows; ignored rows are zero (everything is zero when N == 0).
Status softmaxCrossEntropyGrad(const float *logits, const int32_t *targets, int64_t n,
                               int64_t vocab, float lossGrad, std::optional<int64_t> ignoreIndex,
                               float *dlogits);
Status softmaxCrossEntropyGrad(const float *logits, const int64_t *targets, int64_t n,
                               int64_t vocab, float lossGrad, std::optional<int64_t> ignoreIndex,
                               float *dlogits);

} // namespace fp8rt::cpu

#endif // FP8RT_CPU_LAYERKERNELS_H
