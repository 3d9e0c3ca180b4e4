//===- Prelude.cuh - Device code shared by every generated kernel -*- CUDA -*-===//
//
// The CUDA C++ that every generated translation unit starts with: the dtype
// conversions of fp8rt/Numerics.h and runtime/src/cpu/KernelOps.cpp ported
// operation for operation (so that casts are bit-exact with the CPU backend),
// loads and stores of every dtype, block reductions, and the library-like ops
// (norms, attention, cross-entropy, embedding, cast-transpose, GEMM) as
// templates over the dtypes, which the generated entries instantiate.
//
// It includes no header: NVRTC declares the device math functions and the
// built-in variables itself, so a translation unit compiles without
// -I<cuda>/include. Floating-point code must be compiled with --fmad=false
// (compileWithNvrtc passes it): the CPU backend never contracts a*b+c.
//
// Embedded at build time (EmbedPrelude.cmake writes PreludeSource.inc, which
// Prelude.cpp includes): the text from the newline before the "fp8rt CUDA
// prelude" marker line to the end of this file, then the same of
// PreludeLayers.cuh and PreludeAttention.cuh (its parts, one file each so that
// none grows past the house's 800 lines), is what detail::preludeSource()
// returns. This comment is not part of it. The marker line keeps its old file name (Prelude.cpp) so
// that the generated sources, and with them the kernel cache keys, stay the same.
//
//===----------------------------------------------------------------------===//

#pragma once

// ---- fp8rt CUDA prelude (runtime/src/cuda/Prelude.cpp) ----
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

namespace fp8rt {

// Dtype codes: the order of fp8rt::DType.
enum { F32 = 0, BF16 = 1, F16 = 2, E4M3 = 3, E5M2 = 4, I32 = 5, I64 = 6, I8 = 7 };

__device__ __forceinline__ u32 bits(float x) { return __float_as_uint(x); }
__device__ __forceinline__ float fromBits(u32 u) { return __uint_as_float(u); }
__device__ __forceinline__ bool isNaN(float x) { return (bits(x) & 0x7FFFFFFFu) > 0x7F800000u; }

// ---- conversions: fp8rt/Numerics.h, operation for operation ----
template <int kMan, int kBias, u32 kMaxCode, u32 kNaN>
__device__ __forceinline__ u8 floatToFp8(float x) {
  const int kShift = 23 - kMan;
  const u32 kMinNormalBits = u32(127 + 1 - kBias) << 23;
  const u32 kMagicBits = u32(127 + 23 + 1 - kBias - kMan) << 23;
  const u32 u = bits(x);
  const u32 sign = (u >> 24) & 0x80u;
  const u32 a = u & 0x7FFFFFFFu;
  const u32 rounded = a + ((1u << (kShift - 1)) - 1u) + ((a >> kShift) & 1u);
  u32 normal = (rounded >> kShift) - (u32(127 - kBias) << kMan);
  normal = normal < kMaxCode ? normal : kMaxCode;
  const u32 sub = bits(__fadd_rn(fromBits(a), fromBits(kMagicBits))) - kMagicBits;
  const u32 isNormal = 0u - u32(a >= kMinNormalBits);
  const u32 isNan = 0u - u32(a > 0x7F800000u);
  const u32 code = sign | (normal & isNormal) | (sub & ~isNormal);
  return u8((code & ~isNan) | (kNaN & isNan));
}
__device__ __forceinline__ u8 floatToE4M3(float x) { return floatToFp8<3, 7, 0x7E, 0x7F>(x); }
__device__ __forceinline__ u8 floatToE5M2(float x) { return floatToFp8<2, 15, 0x7B, 0x7F>(x); }
__device__ __forceinline__ float e4m3ToFloat(u8 b) {
  const u32 sign = u32(b & 0x80u) << 24, e = (b >> 3) & 0xFu, m = b & 0x7u;
  if ((b & 0x7Fu) == 0x7Fu)
    return fromBits(sign | 0x7FC00000u);
  if (e == 0)
    return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-9f)));
  return fromBits(sign | ((e + 120u) << 23) | (m << 20));
}
__device__ __forceinline__ float e5m2ToFloat(u8 b) {
  const u32 sign = u32(b & 0x80u) << 24, e = (b >> 2) & 0x1Fu, m = b & 0x3u;
  if (e == 31)
    return fromBits(sign | (m == 0 ? 0x7F800000u : 0x7FC00000u));
  if (e == 0)
    return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-16f)));
  return fromBits(sign | ((e + 112u) << 23) | (m << 21));
}
__device__ __forceinline__ u16 floatToBf16(float x) {
  const u32 u = bits(x);
  const u32 r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return u16((u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FFFu : r);
}
__device__ __forceinline__ float bf16ToFloat(u16 b) { return fromBits(u32(b) << 16); }
// IEEE binary16 (runtime/src/cpu/KernelOps.cpp floatToF16 / f16ToFloat).
__device__ __forceinline__ u16 floatToF16(float x) {
  const u32 u = bits(x);
  const u16 sign = u16((u >> 16) & 0x8000u);
  const u32 a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {
    const u32 payload = (a >> 13) & 0x3FFu;
    return u16(sign | 0x7C00u | (payload ? payload : 0x200u));
  }
  if (a >= 0x477FF000u)
    return u16(sign | 0x7C00u);
  if (a >= 0x38800000u) {
    const u32 rounded = a + 0xFFFu + ((a >> 13) & 1u);
    return u16(sign | ((rounded >> 13) - (112u << 10)));
  }
  const float sum = __fadd_rn(fromBits(a), 0.5f);
  return u16(sign | (bits(sum) - 0x3F000000u));
}
__device__ __forceinline__ float f16ToFloat(u16 h) {
  const u32 sign = u32(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31)
    return fromBits(sign | 0x7F800000u | (m << 13));
  if (e == 0)
    return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-24f)));
  return fromBits(sign | ((e + 112u) << 23) | (m << 13));
}
// FP8 codes of exactly representable values (KernelOps.cpp encodeFp8Exact /
// decodeFp8Exact): E5M2 infinities and NaN payloads survive a round trip.
template <int FMT> __device__ __forceinline__ float decodeFp8(u8 code) {
  if (FMT == E4M3)
    return e4m3ToFloat(code);
  const float x = e5m2ToFloat(code);
  if (isNaN(x))
    return fromBits((u32(code & 0x80u) << 24) | 0x7F800000u | (u32(code & 0x3u) << 21));
  return x;
}
template <int FMT> __device__ __forceinline__ u8 encodeFp8(float x) {
  const u32 b = bits(x);
  const u8 sign = u8((b >> 24) & 0x80u);
  if (isNaN(x)) {
    const u32 payload = (b >> 21) & 0x3u;
    return u8(sign | (FMT == E5M2 && payload ? 0x7Cu | payload : 0x7Fu));
  }
  if (FMT == E5M2 && (b & 0x7FFFFFFFu) == 0x7F800000u)
    return u8(sign | 0x7Cu);
  return FMT == E4M3 ? floatToE4M3(x) : floatToE5M2(x);
}
template <int FMT> __device__ __forceinline__ u8 toFp8(float x) {
  return FMT == E4M3 ? floatToE4M3(x) : floatToE5M2(x);
}
template <int FMT> __device__ __forceinline__ float fp8ToFloat(u8 c) {
  return FMT == E4M3 ? e4m3ToFloat(c) : e5m2ToFloat(c);
}

// The number x rounds to in dtype DT (KernelOps.cpp roundToDType): applied to
// every float result of every op, as runKernelOp does.
template <int DT> __device__ __forceinline__ float rnd(float x) {
  if (DT == BF16)
    return bf16ToFloat(floatToBf16(x));
  if (DT == F16)
    return f16ToFloat(floatToF16(x));
  if (DT == E4M3)
    return e4m3ToFloat(floatToE4M3(x));
  if (DT == E5M2)
    return e5m2ToFloat(floatToE5M2(x));
  return x;
}

// ---- loads and stores (KernelOps.cpp loadValue / storeValue) ----
template <int DT> __device__ __forceinline__ float ldf(const u8 *p, i64 i) {
  if (DT == F32)
    return reinterpret_cast<const float *>(p)[i];
  if (DT == BF16)
    return bf16ToFloat(reinterpret_cast<const u16 *>(p)[i]);
  if (DT == F16)
    return f16ToFloat(reinterpret_cast<const u16 *>(p)[i]);
  return decodeFp8<DT>(p[i]);
}
template <int DT> __device__ __forceinline__ u32 encodeBits(float x) {
  if (DT == F32)
    return bits(x);
  if (DT == BF16)
    return isNaN(x) ? (bits(x) >> 16) : floatToBf16(x);
  if (DT == F16)
    return floatToF16(x);
  return encodeFp8<DT>(x);
}
// Stores a value already rounded to DT.
template <int DT> __device__ __forceinline__ void stf(u8 *p, i64 i, float x) {
  if (DT == F32)
    reinterpret_cast<float *>(p)[i] = x;
  else if (DT == BF16 || DT == F16)
    reinterpret_cast<u16 *>(p)[i] = u16(encodeBits<DT>(x));
  else
    p[i] = u8(encodeBits<DT>(x));
}
// Rounds, then stores.
template <int DT> __device__ __forceinline__ void put(u8 *p, i64 i, float x) {
  stf<DT>(p, i, rnd<DT>(x));
}
template <int DT> __device__ __forceinline__ i64 ldi(const u8 *p, i64 i) {
  if (DT == I64)
    return reinterpret_cast<const i64 *>(p)[i];
  if (DT == I32)
    return reinterpret_cast<const int *>(p)[i];
  return i64((signed char)p[i]);
}
template <int DT> __device__ __forceinline__ void sti(u8 *p, i64 i, i64 v) {
  if (DT == I64)
    reinterpret_cast<i64 *>(p)[i] = v;
  else if (DT == I32)
    reinterpret_cast<int *>(p)[i] = int(u32(u64(v)));
  else
    p[i] = u8(v);
}
template <int DT> struct Size {
  enum { value = (DT == F32 || DT == I32) ? 4 : (DT == BF16 || DT == F16) ? 2 : DT == I64 ? 8 : 1 };
};

// V consecutive elements from element `base` (a multiple of V): 16-byte
// vector accesses where V elements span a multiple of 16 bytes (every buffer
// and scratch offset is 256-aligned), 8-byte ones for 8 FP8 codes.
template <int DT, int V>
__device__ __forceinline__ void ldv(const u8 *p, i64 base, float (&out)[V]) {
  const int bytes = V * Size<DT>::value;
  if (bytes % 16 == 0) {
    u32 w[bytes / 4];
    const uint4 *src = reinterpret_cast<const uint4 *>(p + base * Size<DT>::value);
#pragma unroll
    for (int k = 0; k < bytes / 16; ++k) {
      uint4 t = src[k];
      w[4 * k] = t.x;
      w[4 * k + 1] = t.y;
      w[4 * k + 2] = t.z;
      w[4 * k + 3] = t.w;
    }
    const u8 *b = reinterpret_cast<const u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e)
      out[e] = ldf<DT>(b, e);
  } else if (bytes == 8) {
    uint2 t = *reinterpret_cast<const uint2 *>(p + base * Size<DT>::value);
    u32 w[2] = {t.x, t.y};
    const u8 *b = reinterpret_cast<const u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e)
      out[e] = ldf<DT>(b, e);
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e)
      out[e] = ldf<DT>(p, base + e);
  }
}
template <int DT, int V>
__device__ __forceinline__ void stv(u8 *p, i64 base, const float (&in)[V]) {
  const int bytes = V * Size<DT>::value;
  if (bytes % 16 == 0 || bytes == 8) {
    u32 w[bytes / 4];
    u8 *b = reinterpret_cast<u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e)
      stf<DT>(b, e, in[e]);
    if (bytes == 8) {
      *reinterpret_cast<uint2 *>(p + base * Size<DT>::value) = make_uint2(w[0], w[1]);
    } else {
      uint4 *dst = reinterpret_cast<uint4 *>(p + base * Size<DT>::value);
#pragma unroll
      for (int k = 0; k < bytes / 16; ++k)
        dst[k] = make_uint4(w[4 * k], w[4 * k + 1], w[4 * k + 2], w[4 * k + 3]);
    }
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e)
      stf<DT>(p, base + e, in[e]);
  }
}
template <int DT, int V>
__device__ __forceinline__ void ldvi(const u8 *p, i64 base, i64 (&out)[V]) {
#pragma unroll
  for (int e = 0; e < V; ++e)
    out[e] = ldi<DT>(p, base + e);
}
template <int DT, int V> __device__ __forceinline__ void stvi(u8 *p, i64 base, const i64 (&in)[V]) {
#pragma unroll
  for (int e = 0; e < V; ++e)
    sti<DT>(p, base + e, in[e]);
}

// ---- block reductions (fixed shapes, so deterministic) ----
// Every thread of the block must call them, and every thread gets the result.
// blockDim.x a multiple of 32, <= 1024. One pattern for all: a warp reduction,
// the warps' partials through `partials` (32 entries, each caller's own
// __shared__ array), and a second reduction of those in every warp (not only
// the first). `op(v, other)` combines.
template <class T, class Op>
__device__ __forceinline__ T blockReduce(T v, T identity, T *partials, Op op) {
  for (int o = 16; o > 0; o >>= 1)
    v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
  __syncthreads();
  if ((threadIdx.x & 31) == 0)
    partials[threadIdx.x >> 5] = v;
  __syncthreads();
  v = (threadIdx.x & 31) < (blockDim.x >> 5) ? partials[threadIdx.x & 31] : identity;
  for (int o = 16; o > 0; o >>= 1)
    v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
  return v;
}
struct MaxU32Op {
  __device__ u32 operator()(u32 v, u32 w) const { return w > v ? w : v; }
};
struct SumDOp {
  __device__ double operator()(double v, double w) const { return v + w; }
};
struct SumFOp {
  __device__ float operator()(float v, float w) const { return __fadd_rn(v, w); }
};
struct MaxFOp {
  __device__ float operator()(float v, float w) const { return fmaxf(v, w); }
};
__device__ __forceinline__ u32 blockMaxU32(u32 v) {
  __shared__ u32 warpMax[32];
  return blockReduce(v, 0u, warpMax, MaxU32Op());
}
__device__ __forceinline__ double blockSumD(double v) {
  __shared__ double warpSum[32];
  return blockReduce(v, 0.0, warpSum, SumDOp());
}
__device__ __forceinline__ float blockSumF(float v) {
  __shared__ float warpSumF[32];
  return blockReduce(v, 0.0f, warpSumF, SumFOp());
}
__device__ __forceinline__ float blockMaxF(float v) {
  __shared__ float warpMaxF[32];
  return blockReduce(v, -__int_as_float(0x7F800000), warpMaxF, MaxFOp());
}
// max |x| as bits: every NaN is above +inf (Numerics.cpp maxAbsBits).
__device__ __forceinline__ float amaxFromBits(u32 m) {
  return m > 0x7F800000u ? fromBits(0x7FC00000u) : fromBits(m);
}

// ---- pointwise math (PointwiseKernels.cpp, in double, rounded once) ----
__device__ __forceinline__ double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float gelu(float xf, bool tanhApprox) {
  const double x = xf;
  if (tanhApprox)
    return float(0.5 * x *
                 (1.0 + tanh(0.79788456080286535587989211986876 * (x + 0.044715 * x * x * x))));
  return float(0.5 * x * (1.0 + erf(x * 0.70710678118654752440084436210485)));
}
__device__ __forceinline__ float geluGrad(float dy, float xf, bool tanhApprox) {
  const double x = xf;
  double d;
  if (tanhApprox) {
    const double k = 0.79788456080286535587989211986876;
    const double t = tanh(k * (x + 0.044715 * x * x * x));
    d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x);
  } else {
    const double cdf = 0.5 * (1.0 + erf(x * 0.70710678118654752440084436210485));
    const double pdf = 0.39894228040143267793994605993438 * exp(-0.5 * x * x);
    d = cdf + x * pdf;
  }
  return float(double(dy) * d);
}
__device__ __forceinline__ float silu(float xf) {
  const double v = xf;
  return float(v * sigmoid(v));
}
__device__ __forceinline__ float siluGrad(float dy, float xf) {
  const double s = sigmoid(double(xf));
  return float(double(dy) * (s * (1.0 + double(xf) * (1.0 - s))));
}
__device__ __forceinline__ float relu2(float x) {
  const double r = x < 0.0f ? 0.0 : double(x);
  return float(r * r);
}
__device__ __forceinline__ float relu2Grad(float dy, float x) {
  const double r = x < 0.0f ? 0.0 : double(x);
  return float(double(dy) * 2.0 * r);
}
__device__ __forceinline__ float swiglu(float gate, float up) {
  const double g = gate;
  return float(g * sigmoid(g) * double(up));
}
__device__ __forceinline__ void swigluGrad(float dyf, float gate, float upf, float &dgate,
                                           float &dup) {
  const double g = gate, d = dyf, u = upf, s = sigmoid(g);
  dgate = float(d * u * s * (1.0 + g * (1.0 - s)));
  dup = float(d * g * s);
}

// fp8.compute_scale (Numerics.cpp computeScale).
__device__ __forceinline__ float computeScale(float amax, float fp8Max, int margin, bool powerOf2,
                                              float previous) {
  if (!(amax >= 1.17549435e-38f) || !(bits(amax) < 0x7F800000u))
    return previous;
  const double q = double(fp8Max) / ldexp(double(amax), margin > 4096 ? 4096 : margin);
  float scale;
  if (!(q <= 3.4028234663852886e38))
    scale = 3.40282347e38f;
  else if (q < 0x1p-149)
    scale = 0x1p-149f;
  else
    scale = float(q);
  if (powerOf2) {
    int e = 0;
    (void)frexpf(scale, &e);
    scale = ldexpf(1.0f, e - 1);
  }
  return scale;
}
// fp8.quantize of one element: the value an FP8 result holds (KernelOpsFP8.cpp
// quantizeGrid, then runKernelOp's rounding).
template <int FMT> __device__ __forceinline__ float quantize(float x, float scale) {
  return rnd<FMT>(fp8ToFloat<FMT>(toFp8<FMT>(__fmul_rn(x, scale))));
}
template <int FMT> __device__ __forceinline__ float dequantize(float x, float scale) {
  return __fdiv_rn(fp8ToFloat<FMT>(encodeFp8<FMT>(x)), scale);
}

// AdamW / SGD (OptimizerKernels.cpp).
__device__ __forceinline__ void adamw(float param, float grad, float expAvg, float expAvgSq,
                                      float lr, i64 step, double beta1, double beta2, double eps,
                                      double weightDecay, float &newParam, float &newExpAvg,
                                      float &newExpAvgSq) {
  const double t = double(step), lrd = double(lr);
  const double bc1 = 1.0 - pow(beta1, t), bc2 = 1.0 - pow(beta2, t);
  const double decay = 1.0 - lrd * weightDecay;
  const double g = grad;
  const float m = float(beta1 * double(expAvg) + (1.0 - beta1) * g);
  const float v = float(beta2 * double(expAvgSq) + (1.0 - beta2) * g * g);
  const double denom = sqrt(double(v) / bc2) + eps;
  newParam = float(double(param) * decay - lrd * (double(m) / bc1) / denom);
  newExpAvg = m;
  newExpAvgSq = v;
}
__device__ __forceinline__ void sgd(float param, float grad, float buffer, float lr,
                                    double momentum, double weightDecay, float &newParam,
                                    float &newBuffer) {
  const double p = param;
  double g = double(grad) + weightDecay * p;
  if (momentum > 0) {
    const float b = float(momentum * double(buffer) + g);
    newBuffer = b;
    g = b;
  }
  newParam = float(p - double(lr) * g);
}
__device__ __forceinline__ float clipCoef(float norm, double maxNorm) {
  const double c = maxNorm / (double(norm) + 1e-6);
  if (c != c)
    return float(c);
  return c < 1.0 ? float(c) : 1.0f;
}
__device__ __forceinline__ float lrSchedule(i64 step, bool cosine, double lr, i64 warmupSteps,
                                            i64 totalSteps, double minLr) {
  const double it = double(step) - 1.0, warmup = double(warmupSteps);
  if (it < warmup)
    return float(lr * (it + 1.0) / (warmup + 1.0));
  if (!cosine)
    return float(lr);
  const double total = double(totalSteps);
  if (it > total)
    return float(minLr);
  const double ratio = (it - warmup) / (total - warmup);
  const double coeff = 0.5 * (1.0 + cos(3.14159265358979323846264338327950288 * ratio));
  return float(minLr + coeff * (lr - minLr));
}
// arith.sitofp into bf16 / f16: round to odd first (KernelOpsArith.cpp).
__device__ __forceinline__ float int64ToFloatRoundToOdd(i64 v) {
  const bool negative = v < 0;
  u64 magnitude = negative ? 0 - u64(v) : u64(v);
  int shift = 0;
  while ((magnitude >> shift) >= (u64(1) << 24))
    ++shift;
  u64 significand = magnitude >> shift;
  if (shift > 0 && (magnitude & ((u64(1) << shift) - 1)) != 0)
    significand |= 1u;
  const float f = ldexpf(float(significand), shift);
  return negative ? -f : f;
}

// ---- reductions ----
// fp8.amax over groups: group g holds `segment` x `rowBlock` elements of a
// [rows, cols] grid (transposed: of the transpose of x, x being [cols, rows]).
// One block per group.
template <int DT>
__device__ void amaxGroups(const u8 *x, u8 *out, i64 groups, i64 rows, i64 cols, i64 segment,
                           i64 rowBlock, bool transposed) {
  const i64 segsPerRow = cols / segment, groupSize = segment * rowBlock;
  for (i64 g = blockIdx.x; g < groups; g += gridDim.x) {
    const i64 gr = g / segsPerRow, gs = g % segsPerRow;
    u32 m = 0;
    for (i64 k = threadIdx.x; k < groupSize; k += blockDim.x) {
      const i64 r = gr * rowBlock + k / segment, c = gs * segment + k % segment;
      const i64 index = transposed ? c * rows + r : r * cols + c;
      const u32 a = bits(ldf<DT>(x, index)) & 0x7FFFFFFFu;
      m = a > m ? a : m;
    }
    m = blockMaxU32(m);
    if (threadIdx.x == 0)
      reinterpret_cast<float *>(out)[g] = amaxFromBits(m);
  }
}
// Tensorwise amax of n elements: per-block maxima into partial[gridDim.x] ...
template <int DT> __device__ void amaxPartial(const u8 *x, i64 n, u32 *partial) {
  u32 m = 0;
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n;
       i += (i64)gridDim.x * blockDim.x) {
    const u32 a = bits(ldf<DT>(x, i)) & 0x7FFFFFFFu;
    m = a > m ? a : m;
  }
  m = blockMaxU32(m);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = m;
}
// ... then one block folds them.
__device__ void amaxFinal(const u32 *partial, int count, u8 *out) {
  u32 m = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x)
    m = partial[i] > m ? partial[i] : m;
  m = blockMaxU32(m);
  if (threadIdx.x == 0)
    reinterpret_cast<float *>(out)[0] = amaxFromBits(m);
}
// train.reduce_sum: y[j] = sum_i x[i, j], one thread per column, in double in
// the CPU's order (PointwiseKernels.cpp reduceSum).
template <int DX, int DY>
__device__ void reduceSumColumns(const u8 *x, i64 outer, i64 inner, u8 *y) {
  for (i64 j = blockIdx.x * (i64)blockDim.x + threadIdx.x; j < inner;
       j += (i64)gridDim.x * blockDim.x) {
    double acc = 0.0;
    for (i64 i = 0; i < outer; ++i)
      acc += ldf<DX>(x, i * inner + j);
    put<DY>(y, j, float(acc));
  }
}
// train.global_norm: per-block partial sums of squares (double) of one
// tensor, then one block adds all partials in a fixed order.
template <int DT>
__device__ void sumSquaresPartial(const u8 *x, i64 n, int part, int parts, double *partial) {
  double s = 0.0;
  for (i64 i = part * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)parts * blockDim.x) {
    const double v = ldf<DT>(x, i);
    s += v * v;
  }
  s = blockSumD(s);
  if (threadIdx.x == 0)
    partial[0] = s;
}
__device__ void globalNormFinal(const double *partial, int count, u8 *out) {
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x)
    s += partial[i];
  s = blockSumD(s);
  if (threadIdx.x == 0)
    reinterpret_cast<float *>(out)[0] = float(sqrt(s));
}

// ---- norms (NormKernels.cpp): one block per row, statistics in double ----
template <int DX, int DW, int DB, int DY>
__device__ void layerNormRows(const u8 *x, const u8 *w, const u8 *b, bool hasBias, i64 rows, i64 d,
                              double eps, u8 *y) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double s = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      s += ldf<DX>(x, o + j);
    const double mean = blockSumD(s) / double(d);
    double sq = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double c = double(ldf<DX>(x, o + j)) - mean;
      sq += c * c;
    }
    const double rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      double v = (double(ldf<DX>(x, o + j)) - mean) * rstd * double(ldf<DW>(w, j));
      if (hasBias)
        v += double(ldf<DB>(b, j));
      put<DY>(y, o + j, float(v));
    }
  }
}
template <int DX, int DW, int DY>
__device__ void rmsNormRows(const u8 *x, const u8 *w, i64 rows, i64 d, double eps, u8 *y) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double sq = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double v = ldf<DX>(x, o + j);
      sq += v * v;
    }
    const double rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      put<DY>(y, o + j, float(double(ldf<DX>(x, o + j)) * rstd * double(ldf<DW>(w, j))));
  }
}
// Backward, phase 1: input gradient per row; the row statistics go to
// `stats` (mean, rstd per row) for phase 2.
template <int DG, int DX, int DW, int DO>
__device__ void normGradRows(const u8 *dy, const u8 *x, const u8 *w, i64 rows, i64 d, double eps,
                             bool layerNorm, u8 *dx, double *stats) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double mean = 0.0, rstd;
    if (layerNorm) {
      double s = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x)
        s += ldf<DX>(x, o + j);
      mean = blockSumD(s) / double(d);
      double sq = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        const double c = double(ldf<DX>(x, o + j)) - mean;
        sq += c * c;
      }
      rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    } else {
      double sq = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        const double v = ldf<DX>(x, o + j);
        sq += v * v;
      }
      rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    }
    double sumG = 0.0, sumGX = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double g = double(ldf<DG>(dy, o + j)) * double(ldf<DW>(w, j));
      const double xhat = (double(ldf<DX>(x, o + j)) - mean) * rstd;
      sumG += g;
      sumGX += g * xhat;
    }
    const double meanG = layerNorm ? blockSumD(sumG) / double(d) : 0.0;
    const double meanGX = blockSumD(sumGX) / double(d);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double g = double(ldf<DG>(dy, o + j)) * double(ldf<DW>(w, j));
      const double xhat = (double(ldf<DX>(x, o + j)) - mean) * rstd;
      put<DO>(dx, o + j, float(rstd * (g - meanG - xhat * meanGX)));
    }
    if (threadIdx.x == 0) {
      stats[2 * r] = mean;
      stats[2 * r + 1] = rstd;
    }
  }
}
// Phase 2: weight (and bias) gradients, one thread per column, rows in order.
template <int DG, int DX, int DO>
__device__ void normGradColumns(const u8 *dy, const u8 *x, const double *stats, i64 rows, i64 d,
                                u8 *dw, u8 *db) {
  for (i64 j = blockIdx.x * (i64)blockDim.x + threadIdx.x; j < d;
       j += (i64)gridDim.x * blockDim.x) {
    double accW = 0.0, accB = 0.0;
    for (i64 r = 0; r < rows; ++r) {
      const double g = ldf<DG>(dy, r * d + j);
      accW += g * ((double(ldf<DX>(x, r * d + j)) - stats[2 * r]) * stats[2 * r + 1]);
      accB += g;
    }
    if (dw)
      put<DO>(dw, j, float(accW));
    if (db)
      put<DO>(db, j, float(accB));
  }
}

// ---- softmax cross-entropy (LayerKernels.cpp): one block per row ----
// The exponentials in f32, their sum in double, its log in f32 (rowLogSumExp).
// Row loss lse - (x_t - max) in f32, NaN for a target outside [0, vocab)
// (the CPU backend reports an error instead); 0 and not counted for an ignored row.
template <int DL, int DI>
__device__ void crossEntropyRows(const u8 *logits, const u8 *targets, i64 n, i64 vocab,
                                 bool hasIgnore, i64 ignore, float *rowLoss, int *rowCounted) {
  for (i64 r = blockIdx.x; r < n; r += gridDim.x) {
    const i64 t = ldi<DI>(targets, r), o = r * vocab;
    if (hasIgnore && t == ignore) {
      if (threadIdx.x == 0) {
        rowLoss[r] = 0.0f;
        rowCounted[r] = 0;
      }
      continue;
    }
    float mx = -__int_as_float(0x7F800000);
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x)
      mx = fmaxf(mx, ldf<DL>(logits, o + j));
    mx = blockMaxF(mx);
    double s = 0.0;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x)
      s += double(expf(__fsub_rn(ldf<DL>(logits, o + j), mx)));
    const float lse = logf(float(blockSumD(s)));
    if (threadIdx.x == 0) {
      const bool valid = t >= 0 && t < vocab;
      rowLoss[r] = valid ? __fsub_rn(lse, __fsub_rn(ldf<DL>(logits, o + t), mx))
                         : __int_as_float(0x7FC00000);
      rowCounted[r] = 1;
    }
  }
}
__device__ void crossEntropyFinal(const float *rowLoss, const int *rowCounted, i64 n, u8 *out) {
  double total = 0.0;
  double counted = 0.0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
    total += rowLoss[i];
    counted += rowCounted[i];
  }
  total = blockSumD(total);
  counted = blockSumD(counted);
  if (threadIdx.x == 0)
    reinterpret_cast<float *>(out)[0] =
        counted == 0.0 ? __int_as_float(0x7FC00000) : float(total / counted);
}
// Gradient, phase 1: coef = loss_grad / counted.
template <int DI>
__device__ void crossEntropyCoef(const u8 *targets, i64 n, bool hasIgnore, i64 ignore,
                                 const u8 *lossGrad, float *coef) {
  double counted = 0.0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x)
    counted += (hasIgnore && ldi<DI>(targets, i) == ignore) ? 0.0 : 1.0;
  counted = blockSumD(counted);
  if (threadIdx.x == 0)
    coef[0] = counted == 0.0 ? 0.0f : __fdiv_rn(ldf<F32>(lossGrad, 0), float(counted));
}
template <int DL, int DI, int DO>
__device__ void crossEntropyGradRows(const u8 *logits, const u8 *targets, i64 n, i64 vocab,
                                     bool hasIgnore, i64 ignore, const float *coefPtr,
                                     u8 *dlogits) {
  const float coef = coefPtr[0];
  for (i64 r = blockIdx.x; r < n; r += gridDim.x) {
    const i64 t = ldi<DI>(targets, r), o = r * vocab;
    if (hasIgnore && t == ignore) {
      for (i64 j = threadIdx.x; j < vocab; j += blockDim.x)
        put<DO>(dlogits, o + j, 0.0f);
      continue;
    }
    float mx = -__int_as_float(0x7F800000);
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x)
      mx = fmaxf(mx, ldf<DL>(logits, o + j));
    mx = blockMaxF(mx);
    double s = 0.0;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x)
      s += double(expf(__fsub_rn(ldf<DL>(logits, o + j), mx)));
    const float lse = logf(float(blockSumD(s)));
    const bool valid = t >= 0 && t < vocab;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) {
      float g = __fmul_rn(coef, expf(__fsub_rn(__fsub_rn(ldf<DL>(logits, o + j), mx), lse)));
      if (j == t)
        g = __fsub_rn(g, coef);
      put<DO>(dlogits, o + j, valid ? g : __int_as_float(0x7FC00000));
    }
  }
}
