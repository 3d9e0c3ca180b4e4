//===- PreludeLayers.cuh - Attention per row, casts, small GEMMs, integers -*- CUDA -*-===//
//
// Embedding, the per-row attention kernels, fp8.cast_transpose, the GEMMs
// inside a kernel and the arith integer ops.
// Part of the prelude every generated kernel starts with (Prelude.cuh says
// how it is embedded); the include below is for editors and linters only:
// it lies before the marker line, so it is not embedded.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "Prelude.cuh"

// ---- fp8rt CUDA prelude, continued (PreludeLayers.cuh) ----
// ---- embedding (LayerKernels.cpp) ----
// A row whose id is outside [0, vocab) is NaN (the CPU backend reports an error).
template <int DT, int DI, int DO>
__device__ void embeddingRows(const u8 *table, i64 vocab, i64 dim, const u8 *ids, i64 n, u8 *out) {
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n * dim;
       i += (i64)gridDim.x * blockDim.x) {
    const i64 id = ldi<DI>(ids, i / dim);
    put<DO>(out, i,
            id >= 0 && id < vocab ? ldf<DT>(table, id * dim + i % dim)
                                  : __int_as_float(0x7FC00000));
  }
}
// Gradient, phase 1 (one block): the positions sorted by id, stably, as
// buckets: start[v] .. start[v + 1] of `order`. Ids outside [0, vocab) are
// dropped. Integer counting only, so the result is deterministic.
template <int DI>
__device__ void embeddingGradSort(const u8 *ids, i64 n, i64 vocab, int *start, int *cursor,
                                  int *order) {
  for (i64 v = threadIdx.x; v <= vocab; v += blockDim.x)
    start[v] = 0;
  __syncthreads();
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
    const i64 id = ldi<DI>(ids, i);
    if (id >= 0 && id < vocab)
      atomicAdd(&start[id + 1], 1);
  }
  __syncthreads();
  if (threadIdx.x == 0)
    for (i64 v = 0; v < vocab; ++v)
      start[v + 1] += start[v];
  __syncthreads();
  for (i64 v = threadIdx.x; v < vocab; v += blockDim.x)
    cursor[v] = start[v];
  __syncthreads();
  // Chunks of blockDim.x positions in order; inside a chunk a position's rank
  // among equal ids is the number of earlier equal ids in the chunk.
  __shared__ i64 chunkIds[1024];
  for (i64 base = 0; base < n; base += blockDim.x) {
    const i64 i = base + threadIdx.x;
    const i64 id = i < n ? ldi<DI>(ids, i) : -1;
    chunkIds[threadIdx.x] = id;
    __syncthreads();
    int rank = 0, last = 1;
    for (int k = 0; k < (int)blockDim.x && base + k < n; ++k) {
      if (chunkIds[k] == id) {
        if (k < (int)threadIdx.x)
          ++rank;
        else if (k > (int)threadIdx.x)
          last = 0;
      }
    }
    const bool valid = i < n && id >= 0 && id < vocab;
    if (valid)
      order[cursor[id] + rank] = int(i);
    __syncthreads();
    if (valid && last)
      cursor[id] += rank + 1;
    __syncthreads();
  }
}
// Phase 2: one thread per (row, column) of the table gradient, adding the
// rows of its bucket in position order, in f32, as the CPU does.
template <int DG, int DO>
__device__ void embeddingGradRows(const u8 *grad, i64 vocab, i64 dim, const int *start,
                                  const int *order, u8 *out) {
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < vocab * dim;
       e += (i64)gridDim.x * blockDim.x) {
    const i64 v = e / dim, c = e % dim;
    float acc = 0.0f;
    for (int k = start[v]; k < start[v + 1]; ++k)
      acc = __fadd_rn(acc, ldf<DG>(grad, (i64)order[k] * dim + c));
    put<DO>(out, e, acc);
  }
}
// ---- attention (LayerKernels.cpp) ----
// q' and k' in f32 with RoPE applied (or plain copies): one thread per
// rotated pair (or element).
template <int DT>
__device__ void ropeCopy(const u8 *x, i64 batch, i64 seq, i64 heads, i64 headDim, bool rope,
                         double theta, float *out) {
  const i64 half = headDim / 2, width = heads * headDim;
  const i64 pairs = batch * seq * heads * (rope ? half : headDim);
  for (i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x; p < pairs;
       p += (i64)gridDim.x * blockDim.x) {
    if (!rope) {
      out[p] = ldf<DT>(x, p);
      continue;
    }
    const i64 i = p % half, h = (p / half) % heads, bt = p / (half * heads), t = bt % seq;
    const i64 o = bt * width + h * headDim;
    const float invFreq = float(1.0 / pow(theta, double(2 * i) / double(headDim)));
    const float angle = __fmul_rn(float(t), invFreq);
    const float c = float(cos(double(angle))), s = float(sin(double(angle)));
    const float x1 = ldf<DT>(x, o + i), x2 = ldf<DT>(x, o + i + half);
    out[o + i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
    out[o + i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
  }
}
// Inverse rotation of one head row held in shared memory (f32).
__device__ void ropeInverseRow(float *row, i64 t, i64 headDim, double theta) {
  const i64 half = headDim / 2;
  __syncthreads();
  for (i64 i = threadIdx.x; i < half; i += blockDim.x) {
    const float invFreq = float(1.0 / pow(theta, double(2 * i) / double(headDim)));
    const float angle = __fmul_rn(float(t), invFreq);
    const float c = float(cos(double(angle))), s = -float(sin(double(angle)));
    const float x1 = row[i], x2 = row[i + half];
    row[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
    row[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
  }
  __syncthreads();
}
struct AttentionShape {
  i64 batch, seq, heads, kvHeads, headDim;
  bool causal;
};
__device__ __forceinline__ float dotF(const float *a, const float *b, i64 n) {
  float s = 0.0f;
  for (i64 k = 0; k < n; ++k)
    s = __fadd_rn(s, __fmul_rn(a[k], b[k]));
  return s;
}
// Scores of query row `i` of head (b, h) against every key, softmaxed into
// p[0 .. seq) (masked entries 0); returns max and 1/sum through mx / inv.
__device__ void attentionProbabilities(const AttentionShape &a, const float *qr, const float *kr,
                                       i64 b, i64 h, i64 i, float *p, float &mx, float &inv) {
  const i64 D = a.headDim, T = a.seq, kvh = h / (a.heads / a.kvHeads);
  const i64 qw = a.heads * D, kw = a.kvHeads * D;
  const float scale = float(1.0 / sqrt(double(D)));
  const float *q = qr + (b * T + i) * qw + h * D;
  const i64 end = a.causal ? i + 1 : T;
  float m = -__int_as_float(0x7F800000);
  for (i64 j = threadIdx.x; j < end; j += blockDim.x) {
    const float s = __fmul_rn(scale, dotF(q, kr + (b * T + j) * kw + kvh * D, D));
    p[j] = s;
    m = fmaxf(m, s);
  }
  mx = blockMaxF(m);
  float sum = 0.0f;
  for (i64 j = threadIdx.x; j < end; j += blockDim.x) {
    p[j] = expf(__fsub_rn(p[j], mx));
    sum = __fadd_rn(sum, p[j]);
  }
  inv = __fdiv_rn(1.0f, blockSumF(sum));
  for (i64 j = threadIdx.x; j < T; j += blockDim.x)
    p[j] = j < end ? __fmul_rn(p[j], inv) : 0.0f;
  __syncthreads();
}
// Forward: one block per (b, h, query row); dynamic shared memory seq floats.
template <int DV, int DO>
__device__ void attentionForward(AttentionShape a, const float *qr, const float *kr, const u8 *v,
                                 u8 *out) {
  extern __shared__ float shared[];
  float *p = shared;
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D;
  for (i64 row = blockIdx.x; row < a.batch * a.heads * T; row += gridDim.x) {
    const i64 i = row % T, h = (row / T) % a.heads, b = row / (T * a.heads),
              kvh = h / (a.heads / a.kvHeads);
    float mx, inv;
    attentionProbabilities(a, qr, kr, b, h, i, p, mx, inv);
    const i64 end = a.causal ? i + 1 : T;
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < end; ++j)
        acc = __fadd_rn(acc, __fmul_rn(p[j], ldf<DV>(v, (b * T + j) * kw + kvh * D + d)));
      put<DO>(out, (b * T + i) * qw + h * D + d, acc);
    }
    __syncthreads();
  }
}
// Backward, phase 1: one block per (b, h, query row): dS row, dq (RoPE
// inverted), and the row's softmax statistics (max, 1/sum, rowsum(dP * P)).
// Shared memory: 2 * seq + headDim floats.
template <int DG, int DV, int DO>
__device__ void attentionBackwardQuery(AttentionShape a, const u8 *dout, const float *qr,
                                       const float *kr, const u8 *v, bool rope, double theta,
                                       u8 *dq, float *stats) {
  extern __shared__ float shared[];
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D;
  float *p = shared, *ds = shared + T, *dqRow = shared + 2 * T;
  const float scale = float(1.0 / sqrt(double(D)));
  for (i64 row = blockIdx.x; row < a.batch * a.heads * T; row += gridDim.x) {
    const i64 i = row % T, h = (row / T) % a.heads, b = row / (T * a.heads),
              kvh = h / (a.heads / a.kvHeads);
    float mx, inv;
    attentionProbabilities(a, qr, kr, b, h, i, p, mx, inv);
    const i64 go = (b * T + i) * qw + h * D;
    float dot = 0.0f;
    for (i64 j = threadIdx.x; j < T; j += blockDim.x) {
      float dp = 0.0f;
      for (i64 k = 0; k < D; ++k)
        dp = __fadd_rn(
            dp, __fmul_rn(ldf<DG>(dout, go + k), ldf<DV>(v, (b * T + j) * kw + kvh * D + k)));
      ds[j] = dp;
      dot = __fadd_rn(dot, __fmul_rn(dp, p[j]));
    }
    dot = blockSumF(dot);
    for (i64 j = threadIdx.x; j < T; j += blockDim.x)
      ds[j] = __fmul_rn(p[j], __fsub_rn(ds[j], dot));
    __syncthreads();
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < T; ++j)
        acc = __fadd_rn(acc, __fmul_rn(ds[j], kr[(b * T + j) * kw + kvh * D + d]));
      dqRow[d] = __fmul_rn(scale, acc);
    }
    if (rope)
      ropeInverseRow(dqRow, i, D, theta);
    else
      __syncthreads();
    for (i64 d = threadIdx.x; d < D; d += blockDim.x)
      put<DO>(dq, go + d, dqRow[d]);
    if (threadIdx.x == 0) {
      stats[3 * row] = mx;
      stats[3 * row + 1] = inv;
      stats[3 * row + 2] = dot;
    }
    __syncthreads();
  }
}
// Phase 2: one block per (b, kv head, key row j): dv_j and dk_j summed over
// the query heads of the group and every query row, in a fixed order.
// Shared memory: 2 * seq + 2 * headDim floats.
template <int DG, int DV, int DO>
__device__ void attentionBackwardKeyValue(AttentionShape a, const u8 *dout, const float *qr,
                                          const float *kr, const u8 *v, const float *stats,
                                          bool rope, double theta, u8 *dk, u8 *dv) {
  extern __shared__ float shared[];
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D,
            group = a.heads / a.kvHeads;
  float *pc = shared, *dsc = shared + T, *dkRow = shared + 2 * T, *dvRow = shared + 2 * T + D;
  const float scale = float(1.0 / sqrt(double(D)));
  for (i64 row = blockIdx.x; row < a.batch * a.kvHeads * T; row += gridDim.x) {
    const i64 j = row % T, kvh = (row / T) % a.kvHeads, b = row / (T * a.kvHeads);
    const i64 ko = (b * T + j) * kw + kvh * D;
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      dkRow[d] = 0.0f;
      dvRow[d] = 0.0f;
    }
    for (i64 hh = 0; hh < group; ++hh) {
      const i64 h = kvh * group + hh;
      // Column j of P and dS for this head, recomputed with the same
      // arithmetic as the row pass.
      for (i64 i = threadIdx.x; i < T; i += blockDim.x) {
        const i64 srow = (b * a.heads + h) * T + i;
        if (a.causal && j > i) {
          pc[i] = 0.0f;
          dsc[i] = 0.0f;
          continue;
        }
        const float s = __fmul_rn(scale, dotF(qr + (b * T + i) * qw + h * D, kr + ko, D));
        const float pij = __fmul_rn(expf(__fsub_rn(s, stats[3 * srow])), stats[3 * srow + 1]);
        float dp = 0.0f;
        for (i64 k = 0; k < D; ++k)
          dp = __fadd_rn(
              dp, __fmul_rn(ldf<DG>(dout, (b * T + i) * qw + h * D + k), ldf<DV>(v, ko + k)));
        pc[i] = pij;
        dsc[i] = __fmul_rn(pij, __fsub_rn(dp, stats[3 * srow + 2]));
      }
      __syncthreads();
      for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
        float accV = 0.0f, accK = 0.0f;
        for (i64 i = 0; i < T; ++i) {
          accV = __fadd_rn(accV, __fmul_rn(pc[i], ldf<DG>(dout, (b * T + i) * qw + h * D + d)));
          accK = __fadd_rn(accK, __fmul_rn(dsc[i], qr[(b * T + i) * qw + h * D + d]));
        }
        dvRow[d] = __fadd_rn(dvRow[d], accV);
        dkRow[d] = __fadd_rn(dkRow[d], __fmul_rn(scale, accK));
      }
      __syncthreads();
    }
    if (rope)
      ropeInverseRow(dkRow, j, D, theta);
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      put<DO>(dk, ko + d, dkRow[d]);
      put<DO>(dv, ko + d, dvRow[d]);
    }
    __syncthreads();
  }
}

// ---- fp8.cast_transpose: 32 x 32 tiles through shared memory ----
// Scale index of element (r, c) of a [rows, cols] operand: segment and
// rowBlock describe the recipe (tensorwise: segment = rows * cols).
__device__ __forceinline__ i64 scaleIndex(i64 r, i64 c, i64 cols, i64 segment, i64 rowBlock,
                                          bool single) {
  return single ? 0 : (r / rowBlock) * (cols / segment) + c / segment;
}
template <int DX, int FMT>
__device__ void castTranspose(const u8 *x, const u8 *scale, const u8 *tscale, i64 rows, i64 cols,
                              i64 segment, i64 rowBlock, i64 tSegment, i64 tRowBlock, bool single,
                              bool ownScale, u8 *out, u8 *outT) {
  __shared__ float tile[32][33];
  const i64 tilesC = (cols + 31) / 32, tiles = tilesC * ((rows + 31) / 32);
  for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
    const i64 r0 = (t / tilesC) * 32, c0 = (t % tilesC) * 32;
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
      const i64 r = r0 + k, c = c0 + threadIdx.x;
      if (r < rows && c < cols) {
        const float xv = ldf<DX>(x, r * cols + c);
        const float q =
            quantize<FMT>(xv, ldf<F32>(scale, scaleIndex(r, c, cols, segment, rowBlock, single)));
        stf<FMT>(out, r * cols + c, q);
        tile[k][threadIdx.x] = ownScale ? xv : q;
      }
    }
    __syncthreads();
    // Transposed: element (c, r) of the [cols, rows] result.
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
      const i64 c = c0 + k, r = r0 + threadIdx.x;
      if (r < rows && c < cols) {
        float v = tile[threadIdx.x][k];
        if (ownScale)
          v = quantize<FMT>(v,
                            ldf<F32>(tscale, scaleIndex(c, r, rows, tSegment, tRowBlock, false)));
        stf<FMT>(outT, c * rows + r, v);
      }
    }
    __syncthreads();
  }
}

// ---- small GEMMs inside a kernel (train.matmul / batch_matmul / linear,
// fp8.scaled_matmul): one thread per output element, f32 accumulation ----
template <int DA, int DB>
__device__ float dotRowCol(const u8 *A, const u8 *B, i64 m, i64 n, i64 M, i64 N, i64 K, bool tA,
                           bool tB) {
  float acc = 0.0f;
  for (i64 k = 0; k < K; ++k) {
    const float a = ldf<DA>(A, tA ? k * M + m : m * K + k);
    const float b = ldf<DB>(B, tB ? n * K + k : k * N + n);
    acc = __fadd_rn(acc, __fmul_rn(a, b));
  }
  return acc;
}
template <int DA, int DB, int DBias, int DC>
__device__ void gemmSimple(const u8 *A, const u8 *B, const u8 *bias, u8 *C, i64 batch, i64 M, i64 N,
                           i64 K, bool tA, bool tB) {
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < batch * M * N;
       e += (i64)gridDim.x * blockDim.x) {
    const i64 bi = e / (M * N), m = (e / N) % M, n = e % N;
    float acc = dotRowCol<DA, DB>(A + bi * M * K * Size<DA>::value,
                                  B + bi * K * N * Size<DB>::value, m, n, M, N, K, tA, tB);
    if (bias)
      acc = __fadd_rn(acc, ldf<DBias>(bias, n));
    put<DC>(C, e, acc);
  }
}

// ---- arith integers (KernelOpsArith.cpp): i8 stands for i1 ----
template <int DT> __device__ __forceinline__ i64 asSigned(i64 v) { return DT == I8 ? -(v & 1) : v; }
template <int DT> __device__ __forceinline__ u64 asUnsigned(i64 v) {
  return DT == I8 ? u64(v & 1) : DT == I32 ? u64(u32(v)) : u64(v);
}
template <int DT> __device__ __forceinline__ i64 wrapTo(u64 b) {
  return DT == I8 ? i64(b & 1u) : DT == I32 ? i64(int(u32(b))) : i64(b);
}
// arith.divsi / remsi; division by zero gives 0 (the CPU backend reports an error).
template <int DT> __device__ __forceinline__ i64 divsi(i64 a, i64 b, bool rem) {
  const i64 minValue = DT == I8 ? -1 : DT == I32 ? -2147483648LL : (i64)0x8000000000000000ULL;
  if (b == 0)
    return 0;
  if (a == minValue && b == -1)
    return rem ? 0 : wrapTo<DT>(u64(a));
  return wrapTo<DT>(u64(rem ? a % b : a / b));
}
// fp8.amax_from_history's max: NaN wins (KernelOpsFP8.cpp maxAmax).
__device__ __forceinline__ float maxAmax(float a, float b) {
  if (isNaN(a))
    return a;
  if (isNaN(b))
    return b;
  return a > b ? a : b;
}
