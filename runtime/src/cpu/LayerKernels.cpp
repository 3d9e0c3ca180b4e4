//===- LayerKernels.cpp - CPU reference kernels: GEMMs and layers ---------===//
//
// See fp8rt/cpu/LayerKernels.h and docs/runtime.md ("CPU kernels: layers").
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/LayerKernels.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace fp8rt::cpu {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

Status checkNonNegative(const char *what, int64_t v) {
  if (v < 0)
    return invalidArgumentError(std::string(what) + " is " + str(v) + ", expected >= 0");
  return Status::success();
}

} // namespace

using ops::checkBlasInt; // LP64 OpenBLAS takes int

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

Status gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
            const float *B, int64_t ldb, float *C, int64_t ldc, float alpha, float beta) {
  FP8RT_RETURN_IF_ERROR(checkNonNegative("gemm: M", M));
  FP8RT_RETURN_IF_ERROR(checkNonNegative("gemm: N", N));
  FP8RT_RETURN_IF_ERROR(checkNonNegative("gemm: K", K));
  // Row-major: A is [M, K] (or [K, M]), so its rows hold K (or M) elements.
  const int64_t aCols = transA ? M : K, bCols = transB ? K : N;
  if (lda < std::max<int64_t>(1, aCols) || ldb < std::max<int64_t>(1, bCols) ||
      ldc < std::max<int64_t>(1, N))
    return invalidArgumentError("gemm: leading dimensions lda " + str(lda) + ", ldb " + str(ldb) +
                                ", ldc " + str(ldc) + " are smaller than the rows they stride (" +
                                str(aCols) + ", " + str(bCols) + ", " + str(N) + ")");
  for (auto [what, v] : {std::pair<const char *, int64_t>{"gemm: M", M},
                         {"gemm: N", N},
                         {"gemm: K", K},
                         {"gemm: lda", lda},
                         {"gemm: ldb", ldb},
                         {"gemm: ldc", ldc}})
    FP8RT_RETURN_IF_ERROR(checkBlasInt(what, v));
  if (M == 0 || N == 0)
    return Status::success();
  if (K == 0) {
    // Reference BLAS scales C by beta; do it here so that beta == 0 never
    // reads C, whatever the BLAS build does.
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
    return Status::success();
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
  return Status::success();
}

StatusOr<int64_t> scaleCount(ScaleMode mode, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    return invalidArgumentError("operand shape [" + str(rows) + ", " + str(cols) + "] is negative");
  switch (mode) {
  case ScaleMode::Tensorwise:
    return int64_t(1);
  case ScaleMode::Rowwise:
    return rows;
  case ScaleMode::Block1x128:
  case ScaleMode::Block128x128: {
    const int64_t br = mode == ScaleMode::Block1x128 ? 1 : 128;
    if (rows % br != 0 || cols % 128 != 0)
      return invalidArgumentError("blockwise scaling with block [" + str(br) +
                                  ", 128] needs the operand shape [" + str(rows) + ", " +
                                  str(cols) + "] to be a multiple of the block");
    return (rows / br) * (cols / 128);
  }
  }
  return internalError("unknown scale mode");
}

namespace {

/// Dequantizes one [rows, cols] operand into out: fp8ToFloat(q) / scale.
Status dequantizeOperand(const char *name, const Fp8Operand &op, int64_t rows, int64_t cols,
                         float *out) {
  StatusOr<int64_t> count = scaleCount(op.mode, rows, cols);
  if (!count.ok())
    return count.status().withContext(std::string("scaledGemmTN: ") + name);
  if ((rows * cols > 0 && !op.data) || !op.scales)
    return invalidArgumentError(std::string("scaledGemmTN: ") + name + ": null data or scales");
  const size_t n = size_t(cols);
  switch (op.mode) {
  case ScaleMode::Tensorwise:
    dequantize(op.data, size_t(rows) * n, op.scales[0], op.format, out);
    break;
  case ScaleMode::Rowwise:
    for (int64_t r = 0; r < rows; ++r)
      dequantize(op.data + r * cols, n, op.scales[r], op.format, out + r * cols);
    break;
  case ScaleMode::Block1x128:
  case ScaleMode::Block128x128: {
    const int64_t br = op.mode == ScaleMode::Block1x128 ? 1 : 128;
    const int64_t nbc = cols / 128;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < nbc; ++c)
        dequantize(op.data + r * cols + c * 128, 128, op.scales[(r / br) * nbc + c], op.format,
                   out + r * cols + c * 128);
    break;
  }
  }
  return Status::success();
}

} // namespace

Status scaledGemmTN(int64_t M, int64_t N, int64_t K, const Fp8Operand &lhs, const Fp8Operand &rhs,
                    const float *bias, float *out, float *amaxOut) {
  FP8RT_RETURN_IF_ERROR(checkNonNegative("scaledGemmTN: M", M));
  FP8RT_RETURN_IF_ERROR(checkNonNegative("scaledGemmTN: N", N));
  FP8RT_RETURN_IF_ERROR(checkNonNegative("scaledGemmTN: K", K));
  std::vector<float> a(size_t(M * K)), b(size_t(N * K));
  FP8RT_RETURN_IF_ERROR(dequantizeOperand("lhs", lhs, M, K, a.data()));
  FP8RT_RETURN_IF_ERROR(dequantizeOperand("rhs", rhs, N, K, b.data()));
  FP8RT_RETURN_IF_ERROR(gemm(false, true, M, N, K, a.data(), std::max<int64_t>(1, K), b.data(),
                             std::max<int64_t>(1, K), out, std::max<int64_t>(1, N), 1.0f, 0.0f));
  if (bias)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        out[m * N + n] += bias[n];
  if (amaxOut)
    *amaxOut = amax(out, size_t(M * N));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

namespace {

template <typename Id> Status checkIds(const char *op, const Id *ids, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || int64_t(ids[i]) >= vocab)
      return invalidArgumentError(std::string(op) + ": id " + str(int64_t(ids[i])) +
                                  " at position " + str(i) + " is outside [0, " + str(vocab) + ")");
  return Status::success();
}

template <typename Id>
Status embeddingImpl(const float *table, int64_t vocab, int64_t dim, const Id *ids, int64_t n,
                     float *out) {
  FP8RT_RETURN_IF_ERROR(checkNonNegative("embedding: dim", dim));
  FP8RT_RETURN_IF_ERROR(checkIds("embedding", ids, n, vocab));
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * dim, table + int64_t(ids[i]) * dim, size_t(dim) * sizeof(float));
  return Status::success();
}

template <typename Id>
Status embeddingGradImpl(const float *grad, const Id *ids, int64_t n, int64_t vocab, int64_t dim,
                         float *out) {
  FP8RT_RETURN_IF_ERROR(checkNonNegative("embedding_grad: vocab", vocab));
  FP8RT_RETURN_IF_ERROR(checkNonNegative("embedding_grad: dim", dim));
  FP8RT_RETURN_IF_ERROR(checkIds("embedding_grad", ids, n, vocab));
  std::fill(out, out + vocab * dim, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    float *row = out + int64_t(ids[i]) * dim;
    const float *g = grad + i * dim;
    for (int64_t d = 0; d < dim; ++d)
      row[d] += g[d];
  }
  return Status::success();
}

} // namespace

Status embedding(const float *table, int64_t vocab, int64_t dim, const int32_t *ids, int64_t n,
                 float *out) {
  return embeddingImpl(table, vocab, dim, ids, n, out);
}
Status embedding(const float *table, int64_t vocab, int64_t dim, const int64_t *ids, int64_t n,
                 float *out) {
  return embeddingImpl(table, vocab, dim, ids, n, out);
}
Status embeddingGrad(const float *grad, const int32_t *ids, int64_t n, int64_t vocab, int64_t dim,
                     float *out) {
  return embeddingGradImpl(grad, ids, n, vocab, dim, out);
}
Status embeddingGrad(const float *grad, const int64_t *ids, int64_t n, int64_t vocab, int64_t dim,
                     float *out) {
  return embeddingGradImpl(grad, ids, n, vocab, dim, out);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

void applyRope(float *x, int64_t batch, int64_t seqLen, int64_t nHeads, int64_t headDim,
               double theta, bool inverse) {
  const int64_t half = headDim / 2, width = nHeads * headDim;
  std::vector<float> cosT(size_t(seqLen * half)), sinT(size_t(seqLen * half));
  for (int64_t i = 0; i < half; ++i) {
    const float invFreq = float(1.0 / std::pow(theta, double(2 * i) / double(headDim)));
    for (int64_t t = 0; t < seqLen; ++t) {
      const float angle = float(t) * invFreq;
      cosT[size_t(t * half + i)] = float(std::cos(double(angle)));
      sinT[size_t(t * half + i)] = float(std::sin(double(angle)));
    }
  }
  // The inverse rotation is the rotation by -angle: flip the sine.
  const float sign = inverse ? -1.0f : 1.0f;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seqLen; ++t) {
      const float *ct = cosT.data() + t * half, *st = sinT.data() + t * half;
      for (int64_t h = 0; h < nHeads; ++h) {
        float *p = x + (b * seqLen + t) * width + h * headDim;
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = p[i], x2 = p[i + half];
          const float s = sign * st[i];
          p[i] = x1 * ct[i] - x2 * s;
          p[i + half] = x2 * ct[i] + x1 * s;
        }
      }
    }
}

namespace {

/// q', k' (RoPE applied when configured) as fresh copies.
void ropeCopies(const AttentionConfig &c, const float *q, const float *k, std::vector<float> &qr,
                std::vector<float> &kr) {
  const size_t nq = size_t(c.batch * c.seqLen * c.nHeads * c.headDim);
  const size_t nk = size_t(c.batch * c.seqLen * c.nKvHeads * c.headDim);
  qr.assign(q, q + nq);
  kr.assign(k, k + nk);
  if (c.ropeTheta) {
    applyRope(qr.data(), c.batch, c.seqLen, c.nHeads, c.headDim, *c.ropeTheta, false);
    applyRope(kr.data(), c.batch, c.seqLen, c.nKvHeads, c.headDim, *c.ropeTheta, false);
  }
}

/// P[T, T] = softmax(scale · q_h · k_hᵀ) with the causal mask (masked entries
/// are exactly 0). qh / kh point at the head's first column; strides are the
/// row widths of q and k.
Status probabilities(const AttentionConfig &c, const float *qh, int64_t qStride, const float *kh,
                     int64_t kStride, float *P) {
  const int64_t T = c.seqLen, D = c.headDim;
  const float scale = float(1.0 / std::sqrt(double(D)));
  FP8RT_RETURN_IF_ERROR(gemm(false, true, T, T, D, qh, qStride, kh, kStride, P, T, scale, 0.0f));
  for (int64_t i = 0; i < T; ++i) {
    float *row = P + i * T;
    const int64_t end = c.causal ? i + 1 : T;
    float mx = -INFINITY;
    for (int64_t j = 0; j < end; ++j)
      mx = std::max(mx, row[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < end; ++j) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < end; ++j)
      row[j] *= inv;
    for (int64_t j = end; j < T; ++j)
      row[j] = 0.0f;
  }
  return Status::success();
}

} // namespace

Status attention(const AttentionConfig &c, const float *q, const float *k, const float *v,
                 float *out) {
  FP8RT_RETURN_IF_ERROR(verifyAttentionConfig(c));
  const int64_t T = c.seqLen, D = c.headDim;
  const int64_t qw = c.nHeads * D, kw = c.nKvHeads * D;
  const int64_t group = c.nHeads / c.nKvHeads;
  if (c.batch == 0 || T == 0)
    return Status::success();
  std::vector<float> qr, kr, P(size_t(T * T));
  ropeCopies(c, q, k, qr, kr);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.nHeads; ++h) {
      const int64_t kv = h / group;
      const float *qh = qr.data() + b * T * qw + h * D;
      const float *kh = kr.data() + b * T * kw + kv * D;
      const float *vh = v + b * T * kw + kv * D;
      FP8RT_RETURN_IF_ERROR(probabilities(c, qh, qw, kh, kw, P.data()));
      FP8RT_RETURN_IF_ERROR(gemm(false, false, T, D, T, P.data(), T, vh, kw,
                                 out + b * T * qw + h * D, qw, 1.0f, 0.0f));
    }
  return Status::success();
}

Status attentionGrad(const AttentionConfig &c, const float *dout, const float *q, const float *k,
                     const float *v, float *dq, float *dk, float *dv) {
  FP8RT_RETURN_IF_ERROR(verifyAttentionConfig(c));
  const int64_t T = c.seqLen, D = c.headDim;
  const int64_t qw = c.nHeads * D, kw = c.nKvHeads * D;
  const int64_t group = c.nHeads / c.nKvHeads;
  const size_t nk = size_t(c.batch * T * kw);
  // dk and dv accumulate over the heads of a group (beta = 1 below).
  std::fill(dk, dk + nk, 0.0f);
  std::fill(dv, dv + nk, 0.0f);
  if (c.batch == 0 || T == 0)
    return Status::success();
  const float scale = float(1.0 / std::sqrt(double(D)));
  std::vector<float> qr, kr, P(size_t(T * T)), dS(size_t(T * T));
  ropeCopies(c, q, k, qr, kr);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.nHeads; ++h) {
      const int64_t kv = h / group;
      const int64_t qOff = b * T * qw + h * D, kOff = b * T * kw + kv * D;
      FP8RT_RETURN_IF_ERROR(probabilities(c, qr.data() + qOff, qw, kr.data() + kOff, kw, P.data()));
      // dV += Pᵀ · dO
      FP8RT_RETURN_IF_ERROR(
          gemm(true, false, T, D, T, P.data(), T, dout + qOff, qw, dv + kOff, kw, 1.0f, 1.0f));
      // dP = dO · Vᵀ, then dS = P ∘ (dP − rowsum(dP ∘ P)).
      FP8RT_RETURN_IF_ERROR(
          gemm(false, true, T, T, D, dout + qOff, qw, v + kOff, kw, dS.data(), T, 1.0f, 0.0f));
      for (int64_t i = 0; i < T; ++i) {
        float *ds = dS.data() + i * T;
        const float *p = P.data() + i * T;
        float dot = 0.0f;
        for (int64_t j = 0; j < T; ++j)
          dot += ds[j] * p[j];
        for (int64_t j = 0; j < T; ++j)
          ds[j] = p[j] * (ds[j] - dot);
      }
      // dq' = s · dS · k'      dk' += s · dSᵀ · q'
      FP8RT_RETURN_IF_ERROR(gemm(false, false, T, D, T, dS.data(), T, kr.data() + kOff, kw,
                                 dq + qOff, qw, scale, 0.0f));
      FP8RT_RETURN_IF_ERROR(gemm(true, false, T, D, T, dS.data(), T, qr.data() + qOff, qw,
                                 dk + kOff, kw, scale, 1.0f));
    }
  if (c.ropeTheta) {
    applyRope(dq, c.batch, T, c.nHeads, D, *c.ropeTheta, true);
    applyRope(dk, c.batch, T, c.nKvHeads, D, *c.ropeTheta, true);
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Softmax cross-entropy
//===----------------------------------------------------------------------===//

namespace {

template <typename Id>
Status checkTargets(const char *op, const Id *targets, int64_t n, int64_t vocab,
                    std::optional<int64_t> ignoreIndex, int64_t &counted) {
  if (vocab <= 0 && n > 0)
    return invalidArgumentError(std::string(op) + ": vocabulary size " + str(vocab) +
                                " must be positive");
  counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = int64_t(targets[i]);
    if (ignoreIndex && t == *ignoreIndex)
      continue;
    if (t < 0 || t >= vocab)
      return invalidArgumentError(std::string(op) + ": target " + str(t) + " at position " +
                                  str(i) + " is outside [0, " + str(vocab) + ")");
    ++counted;
  }
  return Status::success();
}

/// max and log Σ exp(x − max) of one row: the exponentials in f32, their sum
/// in double (a row of 50304 logits summed in f32 is only good to about 1e-6,
/// and any other summation order, the GPU's, would differ by as much), the
/// log of the sum rounded to f32.
void rowLogSumExp(const float *x, int64_t vocab, float &mx, float &lse) {
  mx = -INFINITY;
  for (int64_t j = 0; j < vocab; ++j)
    mx = std::max(mx, x[j]);
  double sum = 0.0;
  for (int64_t j = 0; j < vocab; ++j)
    sum += double(std::exp(x[j] - mx));
  lse = std::log(float(sum));
}

template <typename Id>
Status crossEntropyImpl(const float *logits, const Id *targets, int64_t n, int64_t vocab,
                        std::optional<int64_t> ignoreIndex, float *loss) {
  int64_t counted = 0;
  FP8RT_RETURN_IF_ERROR(
      checkTargets("softmax_cross_entropy", targets, n, vocab, ignoreIndex, counted));
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = int64_t(targets[i]);
    if (ignoreIndex && t == *ignoreIndex)
      continue;
    const float *x = logits + i * vocab;
    float mx, lse;
    rowLogSumExp(x, vocab, mx, lse);
    // lse − (x_t − max): both terms are small, unlike lse + max.
    total += double(lse - (x[t] - mx));
  }
  *loss = counted == 0 ? NAN : float(total / double(counted));
  return Status::success();
}

template <typename Id>
Status crossEntropyGradImpl(const float *logits, const Id *targets, int64_t n, int64_t vocab,
                            float lossGrad, std::optional<int64_t> ignoreIndex, float *dlogits) {
  int64_t counted = 0;
  FP8RT_RETURN_IF_ERROR(
      checkTargets("softmax_cross_entropy_grad", targets, n, vocab, ignoreIndex, counted));
  const float coef = counted == 0 ? 0.0f : lossGrad / float(counted);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = int64_t(targets[i]);
    const float *x = logits + i * vocab;
    float *g = dlogits + i * vocab;
    if (ignoreIndex && t == *ignoreIndex) {
      std::fill(g, g + vocab, 0.0f);
      continue;
    }
    float mx, lse;
    rowLogSumExp(x, vocab, mx, lse);
    for (int64_t j = 0; j < vocab; ++j)
      g[j] = coef * std::exp(x[j] - mx - lse);
    g[t] -= coef;
  }
  return Status::success();
}

} // namespace

Status softmaxCrossEntropy(const float *logits, const int32_t *targets, int64_t n, int64_t vocab,
                           std::optional<int64_t> ignoreIndex, float *loss) {
  return crossEntropyImpl(logits, targets, n, vocab, ignoreIndex, loss);
}
Status softmaxCrossEntropy(const float *logits, const int64_t *targets, int64_t n, int64_t vocab,
                           std::optional<int64_t> ignoreIndex, float *loss) {
  return crossEntropyImpl(logits, targets, n, vocab, ignoreIndex, loss);
}
Status softmaxCrossEntropyGrad(const float *logits, const int32_t *targets, int64_t n,
                               int64_t vocab, float lossGrad, std::optional<int64_t> ignoreIndex,
                               float *dlogits) {
  return crossEntropyGradImpl(logits, targets, n, vocab, lossGrad, ignoreIndex, dlogits);
}
Status softmaxCrossEntropyGrad(const float *logits, const int64_t *targets, int64_t n,
                               int64_t vocab, float lossGrad, std::optional<int64_t> ignoreIndex,
                               float *dlogits) {
  return crossEntropyGradImpl(logits, targets, n, vocab, lossGrad, ignoreIndex, dlogits);
}

} // namespace fp8rt::cpu
