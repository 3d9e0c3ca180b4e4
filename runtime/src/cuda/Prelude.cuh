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
// prelude" marker line to the end of this file is what
// detail::preludeSource() returns, byte for byte. This comment is not part of
// it. The marker line keeps its old file name (Prelude.cpp) so that the
// generated sources, and with them the kernel cache keys, stay the same.
//
//===----------------------------------------------------------------------===//

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
  if ((b & 0x7Fu) == 0x7Fu) return fromBits(sign | 0x7FC00000u);
  if (e == 0) return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-9f)));
  return fromBits(sign | ((e + 120u) << 23) | (m << 20));
}
__device__ __forceinline__ float e5m2ToFloat(u8 b) {
  const u32 sign = u32(b & 0x80u) << 24, e = (b >> 2) & 0x1Fu, m = b & 0x3u;
  if (e == 31) return fromBits(sign | (m == 0 ? 0x7F800000u : 0x7FC00000u));
  if (e == 0) return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-16f)));
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
  if (a >= 0x477FF000u) return u16(sign | 0x7C00u);
  if (a >= 0x38800000u) {
    const u32 rounded = a + 0xFFFu + ((a >> 13) & 1u);
    return u16(sign | ((rounded >> 13) - (112u << 10)));
  }
  const float sum = __fadd_rn(fromBits(a), 0.5f);
  return u16(sign | (bits(sum) - 0x3F000000u));
}
__device__ __forceinline__ float f16ToFloat(u16 h) {
  const u32 sign = u32(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31) return fromBits(sign | 0x7F800000u | (m << 13));
  if (e == 0) return fromBits(sign | bits(__fmul_rn(float(m), 0x1p-24f)));
  return fromBits(sign | ((e + 112u) << 23) | (m << 13));
}
// FP8 codes of exactly representable values (KernelOps.cpp encodeFp8Exact /
// decodeFp8Exact): E5M2 infinities and NaN payloads survive a round trip.
template <int FMT> __device__ __forceinline__ float decodeFp8(u8 code) {
  if (FMT == E4M3) return e4m3ToFloat(code);
  const float x = e5m2ToFloat(code);
  if (isNaN(x)) return fromBits((u32(code & 0x80u) << 24) | 0x7F800000u | (u32(code & 0x3u) << 21));
  return x;
}
template <int FMT> __device__ __forceinline__ u8 encodeFp8(float x) {
  const u32 b = bits(x);
  const u8 sign = u8((b >> 24) & 0x80u);
  if (isNaN(x)) {
    const u32 payload = (b >> 21) & 0x3u;
    return u8(sign | (FMT == E5M2 && payload ? 0x7Cu | payload : 0x7Fu));
  }
  if (FMT == E5M2 && (b & 0x7FFFFFFFu) == 0x7F800000u) return u8(sign | 0x7Cu);
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
  if (DT == BF16) return bf16ToFloat(floatToBf16(x));
  if (DT == F16) return f16ToFloat(floatToF16(x));
  if (DT == E4M3) return e4m3ToFloat(floatToE4M3(x));
  if (DT == E5M2) return e5m2ToFloat(floatToE5M2(x));
  return x;
}

// ---- loads and stores (KernelOps.cpp loadValue / storeValue) ----
template <int DT> __device__ __forceinline__ float ldf(const u8 *p, i64 i) {
  if (DT == F32) return reinterpret_cast<const float *>(p)[i];
  if (DT == BF16) return bf16ToFloat(reinterpret_cast<const u16 *>(p)[i]);
  if (DT == F16) return f16ToFloat(reinterpret_cast<const u16 *>(p)[i]);
  return decodeFp8<DT>(p[i]);
}
template <int DT> __device__ __forceinline__ u32 encodeBits(float x) {
  if (DT == F32) return bits(x);
  if (DT == BF16) return isNaN(x) ? (bits(x) >> 16) : floatToBf16(x);
  if (DT == F16) return floatToF16(x);
  return encodeFp8<DT>(x);
}
// Stores a value already rounded to DT.
template <int DT> __device__ __forceinline__ void stf(u8 *p, i64 i, float x) {
  if (DT == F32) reinterpret_cast<float *>(p)[i] = x;
  else if (DT == BF16 || DT == F16) reinterpret_cast<u16 *>(p)[i] = u16(encodeBits<DT>(x));
  else p[i] = u8(encodeBits<DT>(x));
}
// Rounds, then stores.
template <int DT> __device__ __forceinline__ void put(u8 *p, i64 i, float x) { stf<DT>(p, i, rnd<DT>(x)); }
template <int DT> __device__ __forceinline__ i64 ldi(const u8 *p, i64 i) {
  if (DT == I64) return reinterpret_cast<const i64 *>(p)[i];
  if (DT == I32) return reinterpret_cast<const int *>(p)[i];
  return i64((signed char)p[i]);
}
template <int DT> __device__ __forceinline__ void sti(u8 *p, i64 i, i64 v) {
  if (DT == I64) reinterpret_cast<i64 *>(p)[i] = v;
  else if (DT == I32) reinterpret_cast<int *>(p)[i] = int(u32(u64(v)));
  else p[i] = u8(v);
}
template <int DT> struct Size { enum { value = (DT == F32 || DT == I32) ? 4 : (DT == BF16 || DT == F16) ? 2 : DT == I64 ? 8 : 1 }; };

// V consecutive elements from element `base` (a multiple of V): 16-byte
// vector accesses where V elements span a multiple of 16 bytes (every buffer
// and scratch offset is 256-aligned), 8-byte ones for 8 FP8 codes.
template <int DT, int V> __device__ __forceinline__ void ldv(const u8 *p, i64 base, float (&out)[V]) {
  const int bytes = V * Size<DT>::value;
  if (bytes % 16 == 0) {
    u32 w[bytes / 4];
    const uint4 *src = reinterpret_cast<const uint4 *>(p + base * Size<DT>::value);
#pragma unroll
    for (int k = 0; k < bytes / 16; ++k) { uint4 t = src[k]; w[4 * k] = t.x; w[4 * k + 1] = t.y; w[4 * k + 2] = t.z; w[4 * k + 3] = t.w; }
    const u8 *b = reinterpret_cast<const u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e) out[e] = ldf<DT>(b, e);
  } else if (bytes == 8) {
    uint2 t = *reinterpret_cast<const uint2 *>(p + base * Size<DT>::value);
    u32 w[2] = {t.x, t.y};
    const u8 *b = reinterpret_cast<const u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e) out[e] = ldf<DT>(b, e);
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) out[e] = ldf<DT>(p, base + e);
  }
}
template <int DT, int V> __device__ __forceinline__ void stv(u8 *p, i64 base, const float (&in)[V]) {
  const int bytes = V * Size<DT>::value;
  if (bytes % 16 == 0 || bytes == 8) {
    u32 w[bytes / 4];
    u8 *b = reinterpret_cast<u8 *>(w);
#pragma unroll
    for (int e = 0; e < V; ++e) stf<DT>(b, e, in[e]);
    if (bytes == 8) {
      *reinterpret_cast<uint2 *>(p + base * Size<DT>::value) = make_uint2(w[0], w[1]);
    } else {
      uint4 *dst = reinterpret_cast<uint4 *>(p + base * Size<DT>::value);
#pragma unroll
      for (int k = 0; k < bytes / 16; ++k) dst[k] = make_uint4(w[4 * k], w[4 * k + 1], w[4 * k + 2], w[4 * k + 3]);
    }
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) stf<DT>(p, base + e, in[e]);
  }
}
template <int DT, int V> __device__ __forceinline__ void ldvi(const u8 *p, i64 base, i64 (&out)[V]) {
#pragma unroll
  for (int e = 0; e < V; ++e) out[e] = ldi<DT>(p, base + e);
}
template <int DT, int V> __device__ __forceinline__ void stvi(u8 *p, i64 base, const i64 (&in)[V]) {
#pragma unroll
  for (int e = 0; e < V; ++e) sti<DT>(p, base + e, in[e]);
}

// ---- block reductions (fixed shapes, so deterministic) ----
// Every thread of the block must call them, and every thread gets the result.
// blockDim.x a multiple of 32, <= 1024. One pattern for all: a warp reduction,
// the warps' partials through `partials` (32 entries, each caller's own
// __shared__ array), and a second reduction of those in every warp (not only
// the first). `op(v, other)` combines.
template <class T, class Op>
__device__ __forceinline__ T blockReduce(T v, T identity, T *partials, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
  __syncthreads();
  if ((threadIdx.x & 31) == 0) partials[threadIdx.x >> 5] = v;
  __syncthreads();
  v = (threadIdx.x & 31) < (blockDim.x >> 5) ? partials[threadIdx.x & 31] : identity;
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
  return v;
}
struct MaxU32Op { __device__ u32 operator()(u32 v, u32 w) const { return w > v ? w : v; } };
struct SumDOp { __device__ double operator()(double v, double w) const { return v + w; } };
struct SumFOp { __device__ float operator()(float v, float w) const { return __fadd_rn(v, w); } };
struct MaxFOp { __device__ float operator()(float v, float w) const { return fmaxf(v, w); } };
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
__device__ __forceinline__ float amaxFromBits(u32 m) { return m > 0x7F800000u ? fromBits(0x7FC00000u) : fromBits(m); }

// ---- pointwise math (PointwiseKernels.cpp, in double, rounded once) ----
__device__ __forceinline__ double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float gelu(float xf, bool tanhApprox) {
  const double x = xf;
  if (tanhApprox) return float(0.5 * x * (1.0 + tanh(0.79788456080286535587989211986876 * (x + 0.044715 * x * x * x))));
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
__device__ __forceinline__ float silu(float xf) { const double v = xf; return float(v * sigmoid(v)); }
__device__ __forceinline__ float siluGrad(float dy, float xf) {
  const double s = sigmoid(double(xf));
  return float(double(dy) * (s * (1.0 + double(xf) * (1.0 - s))));
}
__device__ __forceinline__ float relu2(float x) { const double r = x < 0.0f ? 0.0 : double(x); return float(r * r); }
__device__ __forceinline__ float relu2Grad(float dy, float x) {
  const double r = x < 0.0f ? 0.0 : double(x);
  return float(double(dy) * 2.0 * r);
}
__device__ __forceinline__ float swiglu(float gate, float up) { const double g = gate; return float(g * sigmoid(g) * double(up)); }
__device__ __forceinline__ void swigluGrad(float dyf, float gate, float upf, float &dgate, float &dup) {
  const double g = gate, d = dyf, u = upf, s = sigmoid(g);
  dgate = float(d * u * s * (1.0 + g * (1.0 - s)));
  dup = float(d * g * s);
}

// fp8.compute_scale (Numerics.cpp computeScale).
__device__ __forceinline__ float computeScale(float amax, float fp8Max, int margin, bool powerOf2, float previous) {
  if (!(amax >= 1.17549435e-38f) || !(bits(amax) < 0x7F800000u)) return previous;
  const double q = double(fp8Max) / ldexp(double(amax), margin > 4096 ? 4096 : margin);
  float scale;
  if (!(q <= 3.4028234663852886e38)) scale = 3.40282347e38f;
  else if (q < 0x1p-149) scale = 0x1p-149f;
  else scale = float(q);
  if (powerOf2) { int e = 0; (void)frexpf(scale, &e); scale = ldexpf(1.0f, e - 1); }
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
__device__ __forceinline__ void adamw(float param, float grad, float expAvg, float expAvgSq, float lr, i64 step,
                                      double beta1, double beta2, double eps, double weightDecay,
                                      float &newParam, float &newExpAvg, float &newExpAvgSq) {
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
__device__ __forceinline__ void sgd(float param, float grad, float buffer, float lr, double momentum, double weightDecay,
                                    float &newParam, float &newBuffer) {
  const double p = param;
  double g = double(grad) + weightDecay * p;
  if (momentum > 0) { const float b = float(momentum * double(buffer) + g); newBuffer = b; g = b; }
  newParam = float(p - double(lr) * g);
}
__device__ __forceinline__ float clipCoef(float norm, double maxNorm) {
  const double c = maxNorm / (double(norm) + 1e-6);
  if (c != c) return float(c);
  return c < 1.0 ? float(c) : 1.0f;
}
__device__ __forceinline__ float lrSchedule(i64 step, bool cosine, double lr, i64 warmupSteps, i64 totalSteps, double minLr) {
  const double it = double(step) - 1.0, warmup = double(warmupSteps);
  if (it < warmup) return float(lr * (it + 1.0) / (warmup + 1.0));
  if (!cosine) return float(lr);
  const double total = double(totalSteps);
  if (it > total) return float(minLr);
  const double ratio = (it - warmup) / (total - warmup);
  const double coeff = 0.5 * (1.0 + cos(3.14159265358979323846264338327950288 * ratio));
  return float(minLr + coeff * (lr - minLr));
}
// arith.sitofp into bf16 / f16: round to odd first (KernelOpsArith.cpp).
__device__ __forceinline__ float int64ToFloatRoundToOdd(i64 v) {
  const bool negative = v < 0;
  u64 magnitude = negative ? 0 - u64(v) : u64(v);
  int shift = 0;
  while ((magnitude >> shift) >= (u64(1) << 24)) ++shift;
  u64 significand = magnitude >> shift;
  if (shift > 0 && (magnitude & ((u64(1) << shift) - 1)) != 0) significand |= 1u;
  const float f = ldexpf(float(significand), shift);
  return negative ? -f : f;
}

// ---- reductions ----
// fp8.amax over groups: group g holds `segment` x `rowBlock` elements of a
// [rows, cols] grid (transposed: of the transpose of x, x being [cols, rows]).
// One block per group.
template <int DT>
__device__ void amaxGroups(const u8 *x, u8 *out, i64 groups, i64 rows, i64 cols, i64 segment, i64 rowBlock, bool transposed) {
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
    if (threadIdx.x == 0) reinterpret_cast<float *>(out)[g] = amaxFromBits(m);
  }
}
// Tensorwise amax of n elements: per-block maxima into partial[gridDim.x] ...
template <int DT> __device__ void amaxPartial(const u8 *x, i64 n, u32 *partial) {
  u32 m = 0;
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const u32 a = bits(ldf<DT>(x, i)) & 0x7FFFFFFFu;
    m = a > m ? a : m;
  }
  m = blockMaxU32(m);
  if (threadIdx.x == 0) partial[blockIdx.x] = m;
}
// ... then one block folds them.
__device__ void amaxFinal(const u32 *partial, int count, u8 *out) {
  u32 m = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) m = partial[i] > m ? partial[i] : m;
  m = blockMaxU32(m);
  if (threadIdx.x == 0) reinterpret_cast<float *>(out)[0] = amaxFromBits(m);
}
// train.reduce_sum: y[j] = sum_i x[i, j], one thread per column, in double in
// the CPU's order (PointwiseKernels.cpp reduceSum).
template <int DX, int DY> __device__ void reduceSumColumns(const u8 *x, i64 outer, i64 inner, u8 *y) {
  for (i64 j = blockIdx.x * (i64)blockDim.x + threadIdx.x; j < inner; j += (i64)gridDim.x * blockDim.x) {
    double acc = 0.0;
    for (i64 i = 0; i < outer; ++i) acc += ldf<DX>(x, i * inner + j);
    put<DY>(y, j, float(acc));
  }
}
// train.global_norm: per-block partial sums of squares (double) of one
// tensor, then one block adds all partials in a fixed order.
template <int DT> __device__ void sumSquaresPartial(const u8 *x, i64 n, int part, int parts, double *partial) {
  double s = 0.0;
  for (i64 i = part * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)parts * blockDim.x) {
    const double v = ldf<DT>(x, i);
    s += v * v;
  }
  s = blockSumD(s);
  if (threadIdx.x == 0) partial[0] = s;
}
__device__ void globalNormFinal(const double *partial, int count, u8 *out) {
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = blockSumD(s);
  if (threadIdx.x == 0) reinterpret_cast<float *>(out)[0] = float(sqrt(s));
}

// ---- norms (NormKernels.cpp): one block per row, statistics in double ----
template <int DX, int DW, int DB, int DY>
__device__ void layerNormRows(const u8 *x, const u8 *w, const u8 *b, bool hasBias, i64 rows, i64 d, double eps, u8 *y) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double s = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) s += ldf<DX>(x, o + j);
    const double mean = blockSumD(s) / double(d);
    double sq = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) { const double c = double(ldf<DX>(x, o + j)) - mean; sq += c * c; }
    const double rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      double v = (double(ldf<DX>(x, o + j)) - mean) * rstd * double(ldf<DW>(w, j));
      if (hasBias) v += double(ldf<DB>(b, j));
      put<DY>(y, o + j, float(v));
    }
  }
}
template <int DX, int DW, int DY>
__device__ void rmsNormRows(const u8 *x, const u8 *w, i64 rows, i64 d, double eps, u8 *y) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double sq = 0.0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) { const double v = ldf<DX>(x, o + j); sq += v * v; }
    const double rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      put<DY>(y, o + j, float(double(ldf<DX>(x, o + j)) * rstd * double(ldf<DW>(w, j))));
  }
}
// Backward, phase 1: input gradient per row; the row statistics go to
// `stats` (mean, rstd per row) for phase 2.
template <int DG, int DX, int DW, int DO>
__device__ void normGradRows(const u8 *dy, const u8 *x, const u8 *w, i64 rows, i64 d, double eps, bool layerNorm,
                             u8 *dx, double *stats) {
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 o = r * d;
    double mean = 0.0, rstd;
    if (layerNorm) {
      double s = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) s += ldf<DX>(x, o + j);
      mean = blockSumD(s) / double(d);
      double sq = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) { const double c = double(ldf<DX>(x, o + j)) - mean; sq += c * c; }
      rstd = 1.0 / sqrt(blockSumD(sq) / double(d) + eps);
    } else {
      double sq = 0.0;
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) { const double v = ldf<DX>(x, o + j); sq += v * v; }
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
    if (threadIdx.x == 0) { stats[2 * r] = mean; stats[2 * r + 1] = rstd; }
  }
}
// Phase 2: weight (and bias) gradients, one thread per column, rows in order.
template <int DG, int DX, int DO>
__device__ void normGradColumns(const u8 *dy, const u8 *x, const double *stats, i64 rows, i64 d, u8 *dw, u8 *db) {
  for (i64 j = blockIdx.x * (i64)blockDim.x + threadIdx.x; j < d; j += (i64)gridDim.x * blockDim.x) {
    double accW = 0.0, accB = 0.0;
    for (i64 r = 0; r < rows; ++r) {
      const double g = ldf<DG>(dy, r * d + j);
      accW += g * ((double(ldf<DX>(x, r * d + j)) - stats[2 * r]) * stats[2 * r + 1]);
      accB += g;
    }
    if (dw) put<DO>(dw, j, float(accW));
    if (db) put<DO>(db, j, float(accB));
  }
}

// ---- softmax cross-entropy (LayerKernels.cpp): one block per row ----
// The exponentials in f32, their sum in double, its log in f32 (rowLogSumExp).
// Row loss lse - (x_t - max) in f32, NaN for a target outside [0, vocab)
// (the CPU backend reports an error instead); 0 and not counted for an ignored row.
template <int DL, int DI>
__device__ void crossEntropyRows(const u8 *logits, const u8 *targets, i64 n, i64 vocab, bool hasIgnore, i64 ignore,
                                 float *rowLoss, int *rowCounted) {
  for (i64 r = blockIdx.x; r < n; r += gridDim.x) {
    const i64 t = ldi<DI>(targets, r), o = r * vocab;
    if (hasIgnore && t == ignore) {
      if (threadIdx.x == 0) { rowLoss[r] = 0.0f; rowCounted[r] = 0; }
      continue;
    }
    float mx = -__int_as_float(0x7F800000);
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) mx = fmaxf(mx, ldf<DL>(logits, o + j));
    mx = blockMaxF(mx);
    double s = 0.0;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) s += double(expf(__fsub_rn(ldf<DL>(logits, o + j), mx)));
    const float lse = logf(float(blockSumD(s)));
    if (threadIdx.x == 0) {
      const bool valid = t >= 0 && t < vocab;
      rowLoss[r] = valid ? __fsub_rn(lse, __fsub_rn(ldf<DL>(logits, o + t), mx)) : __int_as_float(0x7FC00000);
      rowCounted[r] = 1;
    }
  }
}
__device__ void crossEntropyFinal(const float *rowLoss, const int *rowCounted, i64 n, u8 *out) {
  double total = 0.0;
  double counted = 0.0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) { total += rowLoss[i]; counted += rowCounted[i]; }
  total = blockSumD(total);
  counted = blockSumD(counted);
  if (threadIdx.x == 0)
    reinterpret_cast<float *>(out)[0] = counted == 0.0 ? __int_as_float(0x7FC00000) : float(total / counted);
}
// Gradient, phase 1: coef = loss_grad / counted.
template <int DI>
__device__ void crossEntropyCoef(const u8 *targets, i64 n, bool hasIgnore, i64 ignore, const u8 *lossGrad, float *coef) {
  double counted = 0.0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) counted += (hasIgnore && ldi<DI>(targets, i) == ignore) ? 0.0 : 1.0;
  counted = blockSumD(counted);
  if (threadIdx.x == 0)
    coef[0] = counted == 0.0 ? 0.0f : __fdiv_rn(ldf<F32>(lossGrad, 0), float(counted));
}
template <int DL, int DI, int DO>
__device__ void crossEntropyGradRows(const u8 *logits, const u8 *targets, i64 n, i64 vocab, bool hasIgnore, i64 ignore,
                                     const float *coefPtr, u8 *dlogits) {
  const float coef = coefPtr[0];
  for (i64 r = blockIdx.x; r < n; r += gridDim.x) {
    const i64 t = ldi<DI>(targets, r), o = r * vocab;
    if (hasIgnore && t == ignore) {
      for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) put<DO>(dlogits, o + j, 0.0f);
      continue;
    }
    float mx = -__int_as_float(0x7F800000);
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) mx = fmaxf(mx, ldf<DL>(logits, o + j));
    mx = blockMaxF(mx);
    double s = 0.0;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) s += double(expf(__fsub_rn(ldf<DL>(logits, o + j), mx)));
    const float lse = logf(float(blockSumD(s)));
    const bool valid = t >= 0 && t < vocab;
    for (i64 j = threadIdx.x; j < vocab; j += blockDim.x) {
      float g = __fmul_rn(coef, expf(__fsub_rn(__fsub_rn(ldf<DL>(logits, o + j), mx), lse)));
      if (j == t) g = __fsub_rn(g, coef);
      put<DO>(dlogits, o + j, valid ? g : __int_as_float(0x7FC00000));
    }
  }
}

// ---- embedding (LayerKernels.cpp) ----
// A row whose id is outside [0, vocab) is NaN (the CPU backend reports an error).
template <int DT, int DI, int DO>
__device__ void embeddingRows(const u8 *table, i64 vocab, i64 dim, const u8 *ids, i64 n, u8 *out) {
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n * dim; i += (i64)gridDim.x * blockDim.x) {
    const i64 id = ldi<DI>(ids, i / dim);
    put<DO>(out, i, id >= 0 && id < vocab ? ldf<DT>(table, id * dim + i % dim) : __int_as_float(0x7FC00000));
  }
}
// Gradient, phase 1 (one block): the positions sorted by id, stably, as
// buckets: start[v] .. start[v + 1] of `order`. Ids outside [0, vocab) are
// dropped. Integer counting only, so the result is deterministic.
template <int DI>
__device__ void embeddingGradSort(const u8 *ids, i64 n, i64 vocab, int *start, int *cursor, int *order) {
  for (i64 v = threadIdx.x; v <= vocab; v += blockDim.x) start[v] = 0;
  __syncthreads();
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
    const i64 id = ldi<DI>(ids, i);
    if (id >= 0 && id < vocab) atomicAdd(&start[id + 1], 1);
  }
  __syncthreads();
  if (threadIdx.x == 0)
    for (i64 v = 0; v < vocab; ++v) start[v + 1] += start[v];
  __syncthreads();
  for (i64 v = threadIdx.x; v < vocab; v += blockDim.x) cursor[v] = start[v];
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
      if (chunkIds[k] == id) { if (k < (int)threadIdx.x) ++rank; else if (k > (int)threadIdx.x) last = 0; }
    }
    const bool valid = i < n && id >= 0 && id < vocab;
    if (valid) order[cursor[id] + rank] = int(i);
    __syncthreads();
    if (valid && last) cursor[id] += rank + 1;
    __syncthreads();
  }
}
// Phase 2: one thread per (row, column) of the table gradient, adding the
// rows of its bucket in position order, in f32, as the CPU does.
template <int DG, int DO>
__device__ void embeddingGradRows(const u8 *grad, i64 vocab, i64 dim, const int *start, const int *order, u8 *out) {
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < vocab * dim; e += (i64)gridDim.x * blockDim.x) {
    const i64 v = e / dim, c = e % dim;
    float acc = 0.0f;
    for (int k = start[v]; k < start[v + 1]; ++k) acc = __fadd_rn(acc, ldf<DG>(grad, (i64)order[k] * dim + c));
    put<DO>(out, e, acc);
  }
}

// ---- attention (LayerKernels.cpp) ----
// q' and k' in f32 with RoPE applied (or plain copies): one thread per
// rotated pair (or element).
template <int DT>
__device__ void ropeCopy(const u8 *x, i64 batch, i64 seq, i64 heads, i64 headDim, bool rope, double theta, float *out) {
  const i64 half = headDim / 2, width = heads * headDim;
  const i64 pairs = batch * seq * heads * (rope ? half : headDim);
  for (i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x; p < pairs; p += (i64)gridDim.x * blockDim.x) {
    if (!rope) { out[p] = ldf<DT>(x, p); continue; }
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
struct AttentionShape { i64 batch, seq, heads, kvHeads, headDim; bool causal; };
__device__ __forceinline__ float dotF(const float *a, const float *b, i64 n) {
  float s = 0.0f;
  for (i64 k = 0; k < n; ++k) s = __fadd_rn(s, __fmul_rn(a[k], b[k]));
  return s;
}
// Scores of query row `i` of head (b, h) against every key, softmaxed into
// p[0 .. seq) (masked entries 0); returns max and 1/sum through mx / inv.
__device__ void attentionProbabilities(const AttentionShape &a, const float *qr, const float *kr, i64 b, i64 h, i64 i,
                                       float *p, float &mx, float &inv) {
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
  for (i64 j = threadIdx.x; j < end; j += blockDim.x) { p[j] = expf(__fsub_rn(p[j], mx)); sum = __fadd_rn(sum, p[j]); }
  inv = __fdiv_rn(1.0f, blockSumF(sum));
  for (i64 j = threadIdx.x; j < T; j += blockDim.x) p[j] = j < end ? __fmul_rn(p[j], inv) : 0.0f;
  __syncthreads();
}
// Forward: one block per (b, h, query row); dynamic shared memory seq floats.
template <int DV, int DO>
__device__ void attentionForward(AttentionShape a, const float *qr, const float *kr, const u8 *v, u8 *out) {
  extern __shared__ float shared[];
  float *p = shared;
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D;
  for (i64 row = blockIdx.x; row < a.batch * a.heads * T; row += gridDim.x) {
    const i64 i = row % T, h = (row / T) % a.heads, b = row / (T * a.heads), kvh = h / (a.heads / a.kvHeads);
    float mx, inv;
    attentionProbabilities(a, qr, kr, b, h, i, p, mx, inv);
    const i64 end = a.causal ? i + 1 : T;
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < end; ++j) acc = __fadd_rn(acc, __fmul_rn(p[j], ldf<DV>(v, (b * T + j) * kw + kvh * D + d)));
      put<DO>(out, (b * T + i) * qw + h * D + d, acc);
    }
    __syncthreads();
  }
}
// Backward, phase 1: one block per (b, h, query row): dS row, dq (RoPE
// inverted), and the row's softmax statistics (max, 1/sum, rowsum(dP * P)).
// Shared memory: 2 * seq + headDim floats.
template <int DG, int DV, int DO>
__device__ void attentionBackwardQuery(AttentionShape a, const u8 *dout, const float *qr, const float *kr, const u8 *v,
                                       bool rope, double theta, u8 *dq, float *stats) {
  extern __shared__ float shared[];
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D;
  float *p = shared, *ds = shared + T, *dqRow = shared + 2 * T;
  const float scale = float(1.0 / sqrt(double(D)));
  for (i64 row = blockIdx.x; row < a.batch * a.heads * T; row += gridDim.x) {
    const i64 i = row % T, h = (row / T) % a.heads, b = row / (T * a.heads), kvh = h / (a.heads / a.kvHeads);
    float mx, inv;
    attentionProbabilities(a, qr, kr, b, h, i, p, mx, inv);
    const i64 go = (b * T + i) * qw + h * D;
    float dot = 0.0f;
    for (i64 j = threadIdx.x; j < T; j += blockDim.x) {
      float dp = 0.0f;
      for (i64 k = 0; k < D; ++k) dp = __fadd_rn(dp, __fmul_rn(ldf<DG>(dout, go + k), ldf<DV>(v, (b * T + j) * kw + kvh * D + k)));
      ds[j] = dp;
      dot = __fadd_rn(dot, __fmul_rn(dp, p[j]));
    }
    dot = blockSumF(dot);
    for (i64 j = threadIdx.x; j < T; j += blockDim.x) ds[j] = __fmul_rn(p[j], __fsub_rn(ds[j], dot));
    __syncthreads();
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.0f;
      for (i64 j = 0; j < T; ++j) acc = __fadd_rn(acc, __fmul_rn(ds[j], kr[(b * T + j) * kw + kvh * D + d]));
      dqRow[d] = __fmul_rn(scale, acc);
    }
    if (rope) ropeInverseRow(dqRow, i, D, theta);
    else __syncthreads();
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) put<DO>(dq, go + d, dqRow[d]);
    if (threadIdx.x == 0) { stats[3 * row] = mx; stats[3 * row + 1] = inv; stats[3 * row + 2] = dot; }
    __syncthreads();
  }
}
// Phase 2: one block per (b, kv head, key row j): dv_j and dk_j summed over
// the query heads of the group and every query row, in a fixed order.
// Shared memory: 2 * seq + 2 * headDim floats.
template <int DG, int DV, int DO>
__device__ void attentionBackwardKeyValue(AttentionShape a, const u8 *dout, const float *qr, const float *kr, const u8 *v,
                                          const float *stats, bool rope, double theta, u8 *dk, u8 *dv) {
  extern __shared__ float shared[];
  const i64 D = a.headDim, T = a.seq, qw = a.heads * D, kw = a.kvHeads * D, group = a.heads / a.kvHeads;
  float *pc = shared, *dsc = shared + T, *dkRow = shared + 2 * T, *dvRow = shared + 2 * T + D;
  const float scale = float(1.0 / sqrt(double(D)));
  for (i64 row = blockIdx.x; row < a.batch * a.kvHeads * T; row += gridDim.x) {
    const i64 j = row % T, kvh = (row / T) % a.kvHeads, b = row / (T * a.kvHeads);
    const i64 ko = (b * T + j) * kw + kvh * D;
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) { dkRow[d] = 0.0f; dvRow[d] = 0.0f; }
    for (i64 hh = 0; hh < group; ++hh) {
      const i64 h = kvh * group + hh;
      // Column j of P and dS for this head, recomputed with the same
      // arithmetic as the row pass.
      for (i64 i = threadIdx.x; i < T; i += blockDim.x) {
        const i64 srow = (b * a.heads + h) * T + i;
        if (a.causal && j > i) { pc[i] = 0.0f; dsc[i] = 0.0f; continue; }
        const float s = __fmul_rn(scale, dotF(qr + (b * T + i) * qw + h * D, kr + ko, D));
        const float pij = __fmul_rn(expf(__fsub_rn(s, stats[3 * srow])), stats[3 * srow + 1]);
        float dp = 0.0f;
        for (i64 k = 0; k < D; ++k) dp = __fadd_rn(dp, __fmul_rn(ldf<DG>(dout, (b * T + i) * qw + h * D + k), ldf<DV>(v, ko + k)));
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
    if (rope) ropeInverseRow(dkRow, j, D, theta);
    for (i64 d = threadIdx.x; d < D; d += blockDim.x) { put<DO>(dk, ko + d, dkRow[d]); put<DO>(dv, ko + d, dvRow[d]); }
    __syncthreads();
  }
}

// ---- fp8.cast_transpose: 32 x 32 tiles through shared memory ----
// Scale index of element (r, c) of a [rows, cols] operand: segment and
// rowBlock describe the recipe (tensorwise: segment = rows * cols).
__device__ __forceinline__ i64 scaleIndex(i64 r, i64 c, i64 cols, i64 segment, i64 rowBlock, bool single) {
  return single ? 0 : (r / rowBlock) * (cols / segment) + c / segment;
}
template <int DX, int FMT>
__device__ void castTranspose(const u8 *x, const u8 *scale, const u8 *tscale, i64 rows, i64 cols, i64 segment, i64 rowBlock,
                              i64 tSegment, i64 tRowBlock, bool single, bool ownScale, u8 *out, u8 *outT) {
  __shared__ float tile[32][33];
  const i64 tilesC = (cols + 31) / 32, tiles = tilesC * ((rows + 31) / 32);
  for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
    const i64 r0 = (t / tilesC) * 32, c0 = (t % tilesC) * 32;
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
      const i64 r = r0 + k, c = c0 + threadIdx.x;
      if (r < rows && c < cols) {
        const float xv = ldf<DX>(x, r * cols + c);
        const float q = quantize<FMT>(xv, ldf<F32>(scale, scaleIndex(r, c, cols, segment, rowBlock, single)));
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
        if (ownScale) v = quantize<FMT>(v, ldf<F32>(tscale, scaleIndex(c, r, rows, tSegment, tRowBlock, false)));
        stf<FMT>(outT, c * rows + r, v);
      }
    }
    __syncthreads();
  }
}

// ---- small GEMMs inside a kernel (train.matmul / batch_matmul / linear,
// fp8.scaled_matmul): one thread per output element, f32 accumulation ----
template <int DA, int DB>
__device__ float dotRowCol(const u8 *A, const u8 *B, i64 m, i64 n, i64 M, i64 N, i64 K, bool tA, bool tB) {
  float acc = 0.0f;
  for (i64 k = 0; k < K; ++k) {
    const float a = ldf<DA>(A, tA ? k * M + m : m * K + k);
    const float b = ldf<DB>(B, tB ? n * K + k : k * N + n);
    acc = __fadd_rn(acc, __fmul_rn(a, b));
  }
  return acc;
}
template <int DA, int DB, int DBias, int DC>
__device__ void gemmSimple(const u8 *A, const u8 *B, const u8 *bias, u8 *C, i64 batch, i64 M, i64 N, i64 K, bool tA, bool tB) {
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < batch * M * N; e += (i64)gridDim.x * blockDim.x) {
    const i64 bi = e / (M * N), m = (e / N) % M, n = e % N;
    float acc = dotRowCol<DA, DB>(A + bi * M * K * Size<DA>::value, B + bi * K * N * Size<DB>::value, m, n, M, N, K, tA, tB);
    if (bias) acc = __fadd_rn(acc, ldf<DBias>(bias, n));
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
  if (b == 0) return 0;
  if (a == minValue && b == -1) return rem ? 0 : wrapTo<DT>(u64(a));
  return wrapTo<DT>(u64(rem ? a % b : a / b));
}
// fp8.amax_from_history's max: NaN wins (KernelOpsFP8.cpp maxAmax).
__device__ __forceinline__ float maxAmax(float a, float b) { if (isNaN(a)) return a; if (isNaN(b)) return b; return a > b ? a : b; }

// ---- tensor cores: mma.sync m16n8k16, bf16 in, f32 accumulate ----
// d += A (16x16, row) * B (16x8, col), one warp, all 32 lanes together.
// Fragments as the PTX ISA lays them out (docs/cuda-backend.md has the
// lane -> element table): a[4] and b[2] hold bf16 pairs (lower index in the
// low half), d[4] the f32 accumulators. NVRTC gets the instruction itself;
// the host emulator (HostShim.cpp) gathers the warp's fragments instead.
__device__ __forceinline__ u32 packBf16(float lo, float hi) { return u32(floatToBf16(lo)) | (u32(floatToBf16(hi)) << 16); }
__device__ __forceinline__ void mmaBf16(float (&d)[4], const u32 (&a)[4], const u32 (&b)[2]) {
#ifdef __CUDACC_RTC__
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
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
#ifdef __CUDACC_RTC__
  u32 address;
  asm volatile("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }\n" : "=r"(address) : "l"(shared));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(address), "l"(global) : "memory");
#else
  fp8emuCpAsync(shared, global, 16);
#endif
}
__device__ __forceinline__ void cpAsyncCommit() {
#ifdef __CUDACC_RTC__
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#else
  fp8emuCpAsyncCommit();
#endif
}
template <int N> __device__ __forceinline__ void cpAsyncWait() {
#ifdef __CUDACC_RTC__
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
__device__ void ropeCopyBf16(const u8 *x, i64 batch, i64 seq, i64 heads, i64 headDim, bool rope, double theta, u8 *out) {
  const i64 half = headDim / 2, width = heads * headDim;
  const i64 pairs = batch * seq * heads * (rope ? half : headDim);
  for (i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x; p < pairs; p += (i64)gridDim.x * blockDim.x) {
    if (!rope) { put<BF16>(out, p, ldf<DT>(x, p)); continue; }
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
__device__ __forceinline__ void flashLoadTile(u16 *tile, const u8 *src, i64 row0, i64 rows, i64 base, i64 stride) {
  if (DT == BF16) {
    for (int e = threadIdx.x; e < 64 * HD / 8; e += blockDim.x) {
      const int j = e / (HD / 8), d = (e % (HD / 8)) * 8;
      uint4 w = make_uint4(0u, 0u, 0u, 0u);
      if (row0 + j < rows) w = *reinterpret_cast<const uint4 *>(src + (base + (row0 + j) * stride + d) * 2);
      *reinterpret_cast<uint4 *>(tile + j * (HD + 8) + d) = w;
    }
    return;
  }
  for (int e = threadIdx.x; e < 64 * HD; e += blockDim.x) {
    const int j = e / HD, d = e % HD;
    tile[j * (HD + 8) + d] = row0 + j < rows ? floatToBf16(ldf<DT>(src, base + (row0 + j) * stride + d)) : u16(0);
  }
}
// The same tile issued as cp.async copies where the source is bf16 (rows
// past `rows` stored as zeros, other dtypes converted, both synchronously);
// the caller commits and waits.
template <int HD, int DT>
__device__ __forceinline__ void flashIssueTile(u16 *tile, const u8 *src, i64 row0, i64 rows, i64 base, i64 stride) {
  if (DT != BF16) {
    flashLoadTile<HD, DT>(tile, src, row0, rows, base, stride);
    return;
  }
  for (int e = threadIdx.x; e < 64 * HD / 8; e += blockDim.x) {
    const int j = e / (HD / 8), d = (e % (HD / 8)) * 8;
    if (row0 + j < rows) cpAsync16(tile + j * (HD + 8) + d, src + (base + (row0 + j) * stride + d) * 2);
    else *reinterpret_cast<uint4 *>(tile + j * (HD + 8) + d) = make_uint4(0u, 0u, 0u, 0u);
  }
}
// A fragments (16 rows x HD) of this thread's rows r[0], r[1] of a row-major
// matrix (rows past `rows` are 0).
template <int HD, int DT>
__device__ __forceinline__ void flashLoadA(u32 (&fa)[HD / 16][4], const u8 *src, const i64 (&r)[2], i64 rows, i64 base, i64 stride) {
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
__device__ __forceinline__ void flashRowsTimesTileT(float (&s)[8][4], const u32 (&fa)[HD / 16][4], const u16 *tile) {
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
__device__ __forceinline__ void flashAccumulate(float (&acc)[HD / 8][4], const float (&p)[8][4], const u16 *tile) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, ld = HD + 8;
#pragma unroll
  for (int kk = 0; kk < 4; ++kk) {
    const u32 a[4] = {packBf16(p[2 * kk][0], p[2 * kk][1]), packBf16(p[2 * kk][2], p[2 * kk][3]),
                      packBf16(p[2 * kk + 1][0], p[2 * kk + 1][1]), packBf16(p[2 * kk + 1][2], p[2 * kk + 1][3])};
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
  for (int n = 0; n < HD / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
}
// The inverse RoPE rotation of this thread's accumulator rows r[0], r[1]
// (positions t0, t1), as ropeInverseRow: dims d and d + HD/2 are tiles n and
// n + HD/16 of the same thread.
template <int HD>
__device__ __forceinline__ void flashRopeInverse(float (&acc)[HD / 8][4], const i64 (&pos)[2], double theta) {
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
__device__ void flashForwardTile(const AttentionShape &a, const u8 *qr, const u8 *kr, const u8 *v, i64 b, i64 h, i64 qt,
                                 u16 *kTile, u16 *vTile, float (&o)[HD / 8][4], float (&m)[2], float (&l)[2]) {
  const i64 T = a.seq, qw = a.heads * HD, kw = a.kvHeads * HD, kvh = h / (a.heads / a.kvHeads);
  const float scale = float(1.0 / sqrt(double(HD))), minusInf = -__int_as_float(0x7F800000);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, warp = threadIdx.x >> 5;
  const i64 row[2] = {qt * 64 + warp * 16 + g, qt * 64 + warp * 16 + g + 8};
  u32 qa[HD / 16][4];
  flashLoadA<HD, BF16>(qa, qr, row, T, b * T * qw + h * HD, qw);
  m[0] = m[1] = minusInf;
  l[0] = l[1] = 0.0f;
  flashZero<HD>(o);
  const i64 keyEnd = a.causal && qt * 64 + 64 < T ? qt * 64 + 64 : T, kvBase = b * T * kw + kvh * HD;
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
        s[n][i] = flashMasked(a, row[i >> 1], k0 + n * 8 + 2 * t + (i & 1)) ? minusInf : __fmul_rn(scale, s[n][i]);
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
    for (int r = 0; r < 2; ++r) l[r] = __fadd_rn(__fmul_rn(l[r], corr[r]), flashRowSum(sum[r]));
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) o[n][i] = __fmul_rn(o[n][i], corr[i >> 1]);
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
__device__ void flashAttentionForward(AttentionShape a, const u8 *qr, const u8 *kr, const u8 *v, u8 *out) {
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
          put<DO>(out, (b * T + row[i >> 1]) * qw + h * HD + n * 8 + 2 * t + (i & 1), __fmul_rn(o[n][i], inv[i >> 1]));
  }
}
// Backward, phase 1: the forward again per (b, h, 64 query rows), keeping
// each row's max, 1/sum and D = rowsum(dO * O) (O in f32) in stats
// (3 floats per row, the layout of attentionBackwardQuery's).
template <int HD, int DG, int DV>
__device__ void flashAttentionBackwardStats(AttentionShape a, const u8 *dout, const u8 *qr, const u8 *kr, const u8 *v,
                                            float *stats) {
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
          dot[i >> 1] = __fadd_rn(dot[i >> 1], __fmul_rn(ldf<DG>(dout, (b * T + row[i >> 1]) * qw + h * HD + n * 8 + 2 * t + (i & 1)),
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
__device__ __forceinline__ void flashGradScores(const AttentionShape &a, float (&s)[8][4], float (&dp)[8][4], const i64 (&row)[2],
                                                i64 col0, bool transposed, const float *rowStats, const float *colStats, float scale) {
  const int t = (threadIdx.x & 31) & 3;
#pragma unroll
  for (int n = 0; n < 8; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int c = n * 8 + 2 * t + (i & 1);
      const i64 query = transposed ? col0 + c : row[i >> 1], key = transposed ? row[i >> 1] : col0 + c;
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
__device__ void flashAttentionBackwardKeyValue(AttentionShape a, const u8 *dout, const u8 *qr, const u8 *kr, const u8 *v,
                                               const float *stats, bool rope, double theta, u8 *dk, u8 *dv) {
  __shared__ uint4 qStore[8 * (HD + 8)]; // 64 x (HD + 8) bf16, 16-byte aligned
  __shared__ uint4 gStore[8 * (HD + 8)];
  u16 *qTile = reinterpret_cast<u16 *>(qStore), *gTile = reinterpret_cast<u16 *>(gStore);
  __shared__ float tileStats[64 * 3];
  const i64 T = a.seq, qw = a.heads * HD, kw = a.kvHeads * HD, tiles = (T + 63) / 64, group = a.heads / a.kvHeads;
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
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) dkAcc[n][i] = __fmul_rn(scale, dkAcc[n][i]);
    if (rope) flashRopeInverse<HD>(dkAcc, key, theta);
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
__device__ void flashAttentionBackwardQuery(AttentionShape a, const u8 *dout, const u8 *qr, const u8 *kr, const u8 *v,
                                            const float *stats, bool rope, double theta, u8 *dq) {
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
    for (int e = 0; e < 6; ++e) rowStats[e] = row[e / 3] < T ? stats[3 * ((b * a.heads + h) * T + row[e / 3]) + e % 3] : 0.0f;
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
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) dqAcc[n][i] = __fmul_rn(scale, dqAcc[n][i]);
    if (rope) flashRopeInverse<HD>(dqAcc, row, theta);
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (row[i >> 1] < T) put<DO>(dq, (b * T + row[i >> 1]) * qw + h * HD + n * 8 + 2 * t + (i & 1), dqAcc[n][i]);
  }
}

} // namespace fp8rt
// ---- end of prelude ----
