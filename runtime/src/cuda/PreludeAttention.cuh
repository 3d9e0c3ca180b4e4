//===- PreludeAttention.cuh - Tensor cores and FlashAttention-2 -*- CUDA -*-===//
//
// mma.sync m16n8k16 and cp.async (inline PTX under NVRTC, warp-collective
// functions in the host emulator) and the tensor-core attention kernels.
// Part of the prelude every generated kernel starts with (Prelude.cuh says
// how it is embedded); the include below is for editors and linters only:
// it lies before the marker line, so it is not embedded.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "PreludeLayers.cuh"

// ---- fp8rt CUDA prelude, continued (PreludeAttention.cuh) ----
// ---- tensor cores: mma.sync m16n8k16, bf16 in, f32 accumulate ----
// d += A (16x16, row) * B (16x8, col), one warp, all 32 lanes together.
// Fragments as the PTX ISA lays them out (docs/cuda-backend.md has the
// lane -> element table): a[4] and b[2] hold bf16 pairs (lower index in the
// low half), d[4] the f32 accumulators. A CUDA compiler (NVRTC; nvcc when the
// file is checked) gets the instruction itself (__CUDACC__);
// the host emulator (HostShim.cpp) gathers the warp's fragments instead.
__device__ __forceinline__ u32 packBf16(float lo, float hi) {
  return u32(floatToBf16(lo)) | (u32(floatToBf16(hi)) << 16);
}
__device__ __forceinline__ void mmaBf16(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
#ifdef __CUDACC__
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, "
               "%7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  fp8emuMmaBf16(d, a, b, d);
#endif
}

// Asynchronous copies global -> shared, 16 bytes (cp.async.cg), in groups:
// cpAsyncCommit closes the group of the copies issued since the last one,
// cpAsyncWait<N> returns once at most N groups are still in flight (their
// data must not be read before). The emulator (HostShim.cpp) makes a copy at
// the wait that completes its group, so reading early shows unwritten bytes.
__device__ __forceinline__ void cpAsync16(void *shared, const void *global) {
#ifdef __CUDACC__
  u32 address;
  asm volatile("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }\n"
               : "=r"(address)
               : "l"(shared));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(address), "l"(global)
               : "memory");
#else
  fp8emuCpAsync(shared, global, 16);
#endif
}
__device__ __forceinline__ void cpAsyncCommit() {
#ifdef __CUDACC__
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#else
  fp8emuCpAsyncCommit();
#endif
}
template <int N> __device__ __forceinline__ void cpAsyncWait() {
#ifdef __CUDACC__
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#else
  fp8emuCpAsyncWait(N);
#endif
}

// ---- attention on tensor cores (FlashAttention-2) ----
// Tiles of 64 rows (queries or keys) by HD (64 or 128) in bf16 in shared
// memory, [64][HD + 8]: the 8 columns of padding spread a fragment's rows
// over the banks. A block is 4 warps; warp w owns rows 16w .. 16w + 15 of its
// block's tile. Products run on mmaBf16 (bf16 in, f32 accumulate); the
// softmax and every other step in f32. q' and k' are bf16 with RoPE applied
// (ropeCopyBf16); gradients of q' and k' are rotated back in registers (a
// thread holds dims d and d + HD/2 of its rows). GQA: query head h reads
// K/V head h / (heads / kvHeads), no copies. No atomics: each output
// element is written by one thread, sums over heads and tiles in order.
// q' and k' for these kernels: ropeCopy's rotation in f32, stored as bf16.
template <int DT>
__device__ void ropeCopyBf16(const u8 *x, i64 batch, i64 seq, i64 heads, i64 headDim, bool rope,
                             double theta, u8 *out) {
  const i64 half = headDim / 2, width = heads * headDim;
  const i64 pairs = batch * seq * heads * (rope ? half : headDim);
  for (i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x; p < pairs;
       p += (i64)gridDim.x * blockDim.x) {
    if (!rope) {
      put<BF16>(out, p, ldf<DT>(x, p));
      continue;
    }
    const i64 i = p % half, h = (p / half) % heads, bt = p / (half * heads), t = bt % seq;
    const i64 o = bt * width + h * headDim;
    const float invFreq = float(1.0 / pow(theta, double(2 * i) / double(headDim)));
    const float angle = __fmul_rn(float(t), invFreq);
    const float c = float(cos(double(angle))), s = float(sin(double(angle)));
    const float x1 = ldf<DT>(x, o + i), x2 = ldf<DT>(x, o + i + half);
    put<BF16>(out, o + i, __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s)));
    put<BF16>(out, o + i + half, __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s)));
  }
}
// A 64 x HD tile into shared memory (16-byte aligned), rows past `rows` 0:
// bf16 sources in 16-byte loads, others element by element.
template <int HD, int DT>
__device__ __forceinline__ void flashLoadTile(u16 *tile, const u8 *src, i64 row0, i64 rows,
                                              i64 base, i64 stride) {
  if (DT == BF16) {
    for (int e = threadIdx.x; e < 64 * HD / 8; e += blockDim.x) {
      const int j = e / (HD / 8), d = (e % (HD / 8)) * 8;
      uint4 w = make_uint4(0u, 0u, 0u, 0u);
      if (row0 + j < rows)
        w = *reinterpret_cast<const uint4 *>(src + (base + (row0 + j) * stride + d) * 2);
      *reinterpret_cast<uint4 *>(tile + j * (HD + 8) + d) = w;
    }
    return;
  }
  for (int e = threadIdx.x; e < 64 * HD; e += blockDim.x) {
    const int j = e / HD, d = e % HD;
    tile[j * (HD + 8) + d] =
        row0 + j < rows ? floatToBf16(ldf<DT>(src, base + (row0 + j) * stride + d)) : u16(0);
  }
}
// The same tile issued as cp.async copies where the source is bf16 (rows
// past `rows` stored as zeros, other dtypes converted, both synchronously);
// the caller commits and waits.
template <int HD, int DT>
__device__ __forceinline__ void flashIssueTile(u16 *tile, const u8 *src, i64 row0, i64 rows,
                                               i64 base, i64 stride) {
  if (DT != BF16) {
    flashLoadTile<HD, DT>(tile, src, row0, rows, base, stride);
    return;
  }
  for (int e = threadIdx.x; e < 64 * HD / 8; e += blockDim.x) {
    const int j = e / (HD / 8), d = (e % (HD / 8)) * 8;
    if (row0 + j < rows)
      cpAsync16(tile + j * (HD + 8) + d, src + (base + (row0 + j) * stride + d) * 2);
    else
      *reinterpret_cast<uint4 *>(tile + j * (HD + 8) + d) = make_uint4(0u, 0u, 0u, 0u);
  }
}
// A fragments (16 rows x HD) of this thread's rows r[0], r[1] of a row-major
// matrix (rows past `rows` are 0).
template <int HD, int DT>
__device__ __forceinline__ void flashLoadA(u32 (&fa)[HD / 16][4], const u8 *src, const i64 (&r)[2],
                                           i64 rows, i64 base, i64 stride) {
  const int t = (threadIdx.x & 31) & 3;
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk)
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const i64 i = r[q & 1], c = base + i * stride + kk * 16 + 2 * t + 8 * (q >> 1);
      fa[kk][q] = i < rows ? packBf16(ldf<DT>(src, c), ldf<DT>(src, c + 1)) : 0u;
    }
}
// s (16 x 64) = A (16 x HD) . tile^T: the tile's rows are the 64 columns.
template <int HD>
__device__ __forceinline__ void flashRowsTimesTileT(float (&s)[8][4], const u32 (&fa)[HD / 16][4],
                                                    const u16 *tile) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int n = 0; n < 8; ++n) {
    s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
    const u16 *row = tile + (n * 8 + g) * (HD + 8) + 2 * t;
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
      const u32 b[2] = {u32(row[kk * 16]) | (u32(row[kk * 16 + 1]) << 16),
                        u32(row[kk * 16 + 8]) | (u32(row[kk * 16 + 9]) << 16)};
      mmaBf16(s[n], fa[kk], b);
    }
  }
}
// acc (16 x HD) += p (16 x 64, accumulator layout, rounded to bf16) . tile
// (64 x HD): two accumulator tiles of p are, element for element, one A
// fragment; B is read column-wise from the tile.
template <int HD>
__device__ __forceinline__ void flashAccumulate(float (&acc)[HD / 8][4], const float (&p)[8][4],
                                                const u16 *tile) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, ld = HD + 8;
#pragma unroll
  for (int kk = 0; kk < 4; ++kk) {
    const u32 a[4] = {packBf16(p[2 * kk][0], p[2 * kk][1]), packBf16(p[2 * kk][2], p[2 * kk][3]),
                      packBf16(p[2 * kk + 1][0], p[2 * kk + 1][1]),
                      packBf16(p[2 * kk + 1][2], p[2 * kk + 1][3])};
    const u16 *col = tile + (kk * 16 + 2 * t) * ld + g;
#pragma unroll
    for (int n = 0; n < HD / 8; ++n) {
      const u32 b[2] = {u32(col[n * 8]) | (u32(col[ld + n * 8]) << 16),
                        u32(col[8 * ld + n * 8]) | (u32(col[9 * ld + n * 8]) << 16)};
      mmaBf16(acc[n], a, b);
    }
  }
}
template <int HD> __device__ __forceinline__ void flashZero(float (&acc)[HD / 8][4]) {
#pragma unroll
  for (int n = 0; n < HD / 8; ++n)
    acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
}
// The inverse RoPE rotation of this thread's accumulator rows r[0], r[1]
// (positions t0, t1), as ropeInverseRow: dims d and d + HD/2 are tiles n and
// n + HD/16 of the same thread.
template <int HD>
__device__ __forceinline__ void flashRopeInverse(float (&acc)[HD / 8][4], const i64 (&pos)[2],
                                                 double theta) {
  const int t = (threadIdx.x & 31) & 3;
#pragma unroll
  for (int n = 0; n < HD / 16; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int d = n * 8 + 2 * t + (i & 1);
      const float invFreq = float(1.0 / pow(theta, double(2 * d) / double(HD)));
      const float angle = __fmul_rn(float(pos[i >> 1]), invFreq);
      const float c = float(cos(double(angle))), s = -float(sin(double(angle)));
      const float x1 = acc[n][i], x2 = acc[n + HD / 16][i];
      acc[n][i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
      acc[n + HD / 16][i] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
    }
}
// A gradient accumulator of dK or dQ made final: times the softmax scale,
// then (with RoPE) rotated back to the unrotated inputs' frame.
template <int HD>
__device__ __forceinline__ void flashFinishGrad(float (&acc)[HD / 8][4], const i64 (&pos)[2],
                                                float scale, bool rope, double theta) {
#pragma unroll
  for (int n = 0; n < HD / 8; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i)
      acc[n][i] = __fmul_rn(scale, acc[n][i]);
  if (rope)
    flashRopeInverse<HD>(acc, pos, theta);
}
// Sum of the 4 lanes of a row group (they hold one row's columns).
__device__ __forceinline__ float flashRowSum(float x) {
  x = __fadd_rn(x, __shfl_xor_sync(0xFFFFFFFFu, x, 1));
  return __fadd_rn(x, __shfl_xor_sync(0xFFFFFFFFu, x, 2));
}
__device__ __forceinline__ float flashRowMax(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xFFFFFFFFu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xFFFFFFFFu, x, 2));
}
__device__ __forceinline__ bool flashMasked(const AttentionShape &a, i64 query, i64 key) {
  return key >= a.seq || (a.causal && key > query);
}
// The forward pass of one 64-row query tile (b, h, qt): o (unnormalised),
// row max m and sum l of this thread's rows, online softmax over the key
// tiles (those after the diagonal skipped when causal). K and V tiles come
// in by cp.async, double-buffered at HD 64 (the next tile's copies run
// during this tile's products; kTile and vTile hold FP8RT_FLASH_STAGES(HD)
// buffers), single-buffered at 128 (two would pass the 48 KiB of static
// shared memory).
#define FP8RT_FLASH_STAGES(HD) ((HD) == 64 ? 2 : 1)
template <int HD, int DV>
__device__ void flashForwardTile(const AttentionShape &a, const u8 *qr, const u8 *kr, const u8 *v,
                                 i64 b, i64 h, i64 qt, u16 *kTile, u16 *vTile,
                                 float (&o)[HD / 8][4], float (&m)[2], float (&l)[2]) {
  const i64 T = a.seq, qw = a.heads * HD, kw = a.kvHeads * HD, kvh = h / (a.heads / a.kvHeads);
  const float scale = float(1.0 / sqrt(double(HD))), minusInf = -__int_as_float(0x7F800000);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  const i64 row[2] = {qt * 64 + warp * 16 + g, qt * 64 + warp * 16 + g + 8};
  u32 qa[HD / 16][4];
  flashLoadA<HD, BF16>(qa, qr, row, T, b * T * qw + h * HD, qw);
  m[0] = m[1] = minusInf;
  l[0] = l[1] = 0.0f;
  flashZero<HD>(o);
  const i64 keyEnd = a.causal && qt * 64 + 64 < T ? qt * 64 + 64 : T,
            kvBase = b * T * kw + kvh * HD;
  const int tileElems = 64 * (HD + 8);
  int stage = 0;
  __syncthreads();
  flashIssueTile<HD, BF16>(kTile, kr, 0, T, kvBase, kw);
  flashIssueTile<HD, DV>(vTile, v, 0, T, kvBase, kw);
  cpAsyncCommit();
  for (i64 k0 = 0; k0 < keyEnd; k0 += 64) {
    const bool next = k0 + 64 < keyEnd;
    if (FP8RT_FLASH_STAGES(HD) == 2 && next) {
      // The other buffer's last readers passed the barrier that ended the previous tile.
      flashIssueTile<HD, BF16>(kTile + (stage ^ 1) * tileElems, kr, k0 + 64, T, kvBase, kw);
      flashIssueTile<HD, DV>(vTile + (stage ^ 1) * tileElems, v, k0 + 64, T, kvBase, kw);
      cpAsyncCommit();
      cpAsyncWait<1>();
    } else {
      cpAsyncWait<0>();
    }
    __syncthreads();
    const u16 *kt = kTile + stage * tileElems, *vt = vTile + stage * tileElems;
    float s[8][4], mx[2] = {minusInf, minusInf}, sum[2] = {0.0f, 0.0f}, corr[2];
    flashRowsTimesTileT<HD>(s, qa, kt);
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        s[n][i] = flashMasked(a, row[i >> 1], k0 + n * 8 + 2 * t + (i & 1))
                      ? minusInf
                      : __fmul_rn(scale, s[n][i]);
        mx[i >> 1] = fmaxf(mx[i >> 1], s[n][i]);
      }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float mNew = fmaxf(m[r], flashRowMax(mx[r]));
      // A row with every key masked so far keeps max -inf: exponents of 0.
      mx[r] = mNew == minusInf ? 0.0f : mNew;
      corr[r] = expf(__fsub_rn(m[r], mx[r]));
      m[r] = mNew;
    }
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        s[n][i] = expf(__fsub_rn(s[n][i], mx[i >> 1]));
        sum[i >> 1] = __fadd_rn(sum[i >> 1], s[n][i]);
      }
#pragma unroll
    for (int r = 0; r < 2; ++r)
      l[r] = __fadd_rn(__fmul_rn(l[r], corr[r]), flashRowSum(sum[r]));
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        o[n][i] = __fmul_rn(o[n][i], corr[i >> 1]);
    flashAccumulate<HD>(o, s, vt);
    __syncthreads(); // this buffer is read: it may be refilled
    if (FP8RT_FLASH_STAGES(HD) == 2) {
      stage ^= 1;
    } else if (next) {
      flashIssueTile<HD, BF16>(kTile, kr, k0 + 64, T, kvBase, kw);
      flashIssueTile<HD, DV>(vTile, v, k0 + 64, T, kvBase, kw);
      cpAsyncCommit();
    }
  }
  cpAsyncWait<0>(); // nothing in flight when there was no key tile
}
// Forward: one block per (b, h, 64 query rows); O = o / l.
template <int HD, int DV, int DO>
__device__ void flashAttentionForward(AttentionShape a, const u8 *qr, const u8 *kr, const u8 *v,
                                      u8 *out) {
  __shared__ uint4 kStore[FP8RT_FLASH_STAGES(HD) * 8 * (HD + 8)]; // 64 x (HD + 8) bf16 per stage
  __shared__ uint4 vStore[FP8RT_FLASH_STAGES(HD) * 8 * (HD + 8)];
  u16 *kTile = reinterpret_cast<u16 *>(kStore), *vTile = reinterpret_cast<u16 *>(vStore);
  const i64 T = a.seq, qw = a.heads * HD, tiles = (T + 63) / 64;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  for (i64 work = blockIdx.x; work < a.batch * a.heads * tiles; work += gridDim.x) {
    const i64 qt = work % tiles, h = (work / tiles) % a.heads, b = work / (tiles * a.heads);
    float o[HD / 8][4], m[2], l[2];
    flashForwardTile<HD, DV>(a, qr, kr, v, b, h, qt, kTile, vTile, o, m, l);
    const i64 row[2] = {qt * 64 + warp * 16 + g, qt * 64 + warp * 16 + g + 8};
    const float inv[2] = {__fdiv_rn(1.0f, l[0]), __fdiv_rn(1.0f, l[1])};
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (row[i >> 1] < T)
          put<DO>(out, (b * T + row[i >> 1]) * qw + h * HD + n * 8 + 2 * t + (i & 1),
                  __fmul_rn(o[n][i], inv[i >> 1]));
  }
}
// Backward, phase 1: the forward again per (b, h, 64 query rows), keeping
// each row's max, 1/sum and D = rowsum(dO * O) (O in f32) in stats
// (3 floats per row, the layout of attentionBackwardQuery's).
template <int HD, int DG, int DV>
__device__ void flashAttentionBackwardStats(AttentionShape a, const u8 *dout, const u8 *qr,
                                            const u8 *kr, const u8 *v, float *stats) {
  __shared__ uint4 kStore[FP8RT_FLASH_STAGES(HD) * 8 * (HD + 8)]; // 64 x (HD + 8) bf16 per stage
  __shared__ uint4 vStore[FP8RT_FLASH_STAGES(HD) * 8 * (HD + 8)];
  u16 *kTile = reinterpret_cast<u16 *>(kStore), *vTile = reinterpret_cast<u16 *>(vStore);
  const i64 T = a.seq, qw = a.heads * HD, tiles = (T + 63) / 64;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  for (i64 work = blockIdx.x; work < a.batch * a.heads * tiles; work += gridDim.x) {
    const i64 qt = work % tiles, h = (work / tiles) % a.heads, b = work / (tiles * a.heads);
    float o[HD / 8][4], m[2], l[2];
    flashForwardTile<HD, DV>(a, qr, kr, v, b, h, qt, kTile, vTile, o, m, l);
    const i64 row[2] = {qt * 64 + warp * 16 + g, qt * 64 + warp * 16 + g + 8};
    const float inv[2] = {__fdiv_rn(1.0f, l[0]), __fdiv_rn(1.0f, l[1])};
    float dot[2] = {0.0f, 0.0f};
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (row[i >> 1] < T)
          dot[i >> 1] =
              __fadd_rn(dot[i >> 1], __fmul_rn(ldf<DG>(dout, (b * T + row[i >> 1]) * qw + h * HD +
                                                                 n * 8 + 2 * t + (i & 1)),
                                               __fmul_rn(o[n][i], inv[i >> 1])));
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      dot[r] = flashRowSum(dot[r]);
      if (t == 0 && row[r] < T) {
        float *st = stats + 3 * ((b * a.heads + h) * T + row[r]);
        st[0] = m[r];
        st[1] = inv[r];
        st[2] = dot[r];
      }
    }
  }
}
// P and dS of one 16 x 64 block of scores (rows `row`, columns `col0 + ...`,
// or transposed: `transposed` puts the query in the columns): p = exp(scale s
// - max) / sum, ds = p (dp - D), as attentionBackwardKeyValue.
__device__ __forceinline__ void flashGradScores(const AttentionShape &a, float (&s)[8][4],
                                                float (&dp)[8][4], const i64 (&row)[2], i64 col0,
                                                bool transposed, const float *rowStats,
                                                const float *colStats, float scale) {
  const int t = (threadIdx.x & 31) & 3;
#pragma unroll
  for (int n = 0; n < 8; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int c = n * 8 + 2 * t + (i & 1);
      const i64 query = transposed ? col0 + c : row[i >> 1],
                key = transposed ? row[i >> 1] : col0 + c;
      const float *st = transposed ? colStats + 3 * c : rowStats + 3 * (i >> 1);
      if (flashMasked(a, query, key) || query >= a.seq) {
        s[n][i] = 0.0f;
        dp[n][i] = 0.0f;
        continue;
      }
      const float p = __fmul_rn(expf(__fsub_rn(__fmul_rn(scale, s[n][i]), st[0])), st[1]);
      s[n][i] = p;
      dp[n][i] = __fmul_rn(p, __fsub_rn(dp[n][i], st[2]));
    }
}
// Backward, phase 2: dK and dV, one block per (b, kv head, 64 key rows);
// warp w owns 16 keys. For each query head of the group and each query tile
// (from the diagonal on when causal), in order: S^T = K Q^T, dP^T = V dO^T,
// P^T and dS^T from the stats, dV += P^T dO, dK += dS^T Q.
template <int HD, int DG, int DV, int DO>
__device__ void flashAttentionBackwardKeyValue(AttentionShape a, const u8 *dout, const u8 *qr,
                                               const u8 *kr, const u8 *v, const float *stats,
                                               bool rope, double theta, u8 *dk, u8 *dv) {
  __shared__ uint4 qStore[8 * (HD + 8)]; // 64 x (HD + 8) bf16, 16-byte aligned
  __shared__ uint4 gStore[8 * (HD + 8)];
  u16 *qTile = reinterpret_cast<u16 *>(qStore), *gTile = reinterpret_cast<u16 *>(gStore);
  __shared__ float tileStats[64 * 3];
  const i64 T = a.seq, qw = a.heads * HD, kw = a.kvHeads * HD, tiles = (T + 63) / 64,
            group = a.heads / a.kvHeads;
  const float scale = float(1.0 / sqrt(double(HD)));
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  for (i64 work = blockIdx.x; work < a.batch * a.kvHeads * tiles; work += gridDim.x) {
    const i64 kt = work % tiles, kvh = (work / tiles) % a.kvHeads, b = work / (tiles * a.kvHeads);
    const i64 key[2] = {kt * 64 + warp * 16 + g, kt * 64 + warp * 16 + g + 8};
    u32 ka[HD / 16][4], va[HD / 16][4];
    flashLoadA<HD, BF16>(ka, kr, key, T, b * T * kw + kvh * HD, kw);
    flashLoadA<HD, DV>(va, v, key, T, b * T * kw + kvh * HD, kw);
    float dkAcc[HD / 8][4], dvAcc[HD / 8][4];
    flashZero<HD>(dkAcc);
    flashZero<HD>(dvAcc);
    for (i64 hh = 0; hh < group; ++hh) {
      const i64 h = kvh * group + hh;
      for (i64 q0 = a.causal ? kt * 64 : 0; q0 < T; q0 += 64) {
        __syncthreads();
        flashLoadTile<HD, BF16>(qTile, qr, q0, T, b * T * qw + h * HD, qw);
        flashLoadTile<HD, DG>(gTile, dout, q0, T, b * T * qw + h * HD, qw);
        for (int e = threadIdx.x; e < 64 * 3; e += blockDim.x)
          tileStats[e] = q0 + e / 3 < T ? stats[3 * ((b * a.heads + h) * T + q0) + e] : 0.0f;
        __syncthreads();
        float s[8][4], dp[8][4];
        flashRowsTimesTileT<HD>(s, ka, qTile);
        flashRowsTimesTileT<HD>(dp, va, gTile);
        flashGradScores(a, s, dp, key, q0, true, nullptr, tileStats, scale);
        flashAccumulate<HD>(dvAcc, s, gTile);
        flashAccumulate<HD>(dkAcc, dp, qTile);
      }
    }
    flashFinishGrad<HD>(dkAcc, key, scale, rope, theta);
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (key[i >> 1] < T) {
          const i64 at = (b * T + key[i >> 1]) * kw + kvh * HD + n * 8 + 2 * t + (i & 1);
          put<DO>(dk, at, dkAcc[n][i]);
          put<DO>(dv, at, dvAcc[n][i]);
        }
  }
}
// Backward, phase 3: dQ, one block per (b, h, 64 query rows): for each key
// tile (up to the diagonal when causal) S = Q K^T, dP = dO V^T, P and dS from
// the stats, dQ += dS K; then scale and the inverse RoPE.
template <int HD, int DG, int DV, int DO>
__device__ void flashAttentionBackwardQuery(AttentionShape a, const u8 *dout, const u8 *qr,
                                            const u8 *kr, const u8 *v, const float *stats,
                                            bool rope, double theta, u8 *dq) {
  __shared__ uint4 kStore[8 * (HD + 8)]; // 64 x (HD + 8) bf16, 16-byte aligned
  __shared__ uint4 vStore[8 * (HD + 8)];
  u16 *kTile = reinterpret_cast<u16 *>(kStore), *vTile = reinterpret_cast<u16 *>(vStore);
  const i64 T = a.seq, qw = a.heads * HD, kw = a.kvHeads * HD, tiles = (T + 63) / 64;
  const float scale = float(1.0 / sqrt(double(HD)));
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  for (i64 work = blockIdx.x; work < a.batch * a.heads * tiles; work += gridDim.x) {
    const i64 qt = work % tiles, h = (work / tiles) % a.heads, b = work / (tiles * a.heads);
    const i64 kvh = h / (a.heads / a.kvHeads);
    const i64 row[2] = {qt * 64 + warp * 16 + g, qt * 64 + warp * 16 + g + 8};
    u32 qa[HD / 16][4], ga[HD / 16][4];
    flashLoadA<HD, BF16>(qa, qr, row, T, b * T * qw + h * HD, qw);
    flashLoadA<HD, DG>(ga, dout, row, T, b * T * qw + h * HD, qw);
    float rowStats[6];
#pragma unroll
    for (int e = 0; e < 6; ++e)
      rowStats[e] = row[e / 3] < T ? stats[3 * ((b * a.heads + h) * T + row[e / 3]) + e % 3] : 0.0f;
    float dqAcc[HD / 8][4];
    flashZero<HD>(dqAcc);
    const i64 keyEnd = a.causal && qt * 64 + 64 < T ? qt * 64 + 64 : T;
    for (i64 k0 = 0; k0 < keyEnd; k0 += 64) {
      __syncthreads();
      flashLoadTile<HD, BF16>(kTile, kr, k0, T, b * T * kw + kvh * HD, kw);
      flashLoadTile<HD, DV>(vTile, v, k0, T, b * T * kw + kvh * HD, kw);
      __syncthreads();
      float s[8][4], dp[8][4];
      flashRowsTimesTileT<HD>(s, qa, kTile);
      flashRowsTimesTileT<HD>(dp, ga, vTile);
      flashGradScores(a, s, dp, row, k0, false, rowStats, nullptr, scale);
      flashAccumulate<HD>(dqAcc, dp, kTile);
    }
    flashFinishGrad<HD>(dqAcc, row, scale, rope, theta);
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (row[i >> 1] < T)
          put<DO>(dq, (b * T + row[i >> 1]) * qw + h * HD + n * 8 + 2 * t + (i & 1), dqAcc[n][i]);
  }
}

} // namespace fp8rt
// ---- end of prelude ----
