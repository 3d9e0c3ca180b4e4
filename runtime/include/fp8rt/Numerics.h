//===- Numerics.h - FP8 / bf16 conversions and scaling ----------*- C++ -*-===//
//
// Bit-exact scalar conversions (inline, so interpreter loops can inline them)
// and buffer loops (Numerics.cpp) for the two OCP FP8 formats and bf16.
// Semantics, summarised (docs/runtime.md has the full contract):
//
//   float -> f8E4M3FN  round to nearest even; |x| > 464 (which would round
//                      past 448) and +-inf saturate to +-448 ("satfinite");
//                      NaN -> 0x7F.
//   float -> f8E5M2    round to nearest even; |x| >= 61440 (incl. +-inf)
//                      saturates to +-57344; NaN -> 0x7F.
//   float -> bf16      round to nearest even, no saturation (overflow gives
//                      +-inf, as IEEE); NaN -> 0x7FFF.
//   f8/bf16 -> float   exact; an f8 NaN becomes a quiet float NaN of the same
//                      sign.
//
// These are exactly the results of CUDA's `__nv_cvt_float_to_fp8(x,
// __NV_SATFINITE, ...)`, `__nv_cvt_fp8_to_halfraw` and `__float2bfloat16_rn`
// (tested against cuda_fp8.h / cuda_bf16.h in test/unit/NumericsTest.cpp).
// Signed zeros and values that round to zero keep their sign.
//
// The roundings are done on integer bit patterns, except that the FP8
// subnormal range is rounded by one f32 addition: like all of the runtime's
// f32 arithmetic, this assumes the default rounding mode (nearest even),
// which a program only leaves by calling fesetround.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_NUMERICS_H
#define FP8RT_NUMERICS_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fp8rt {

/// The two FP8 formats of the OCP FP8 spec (MLIR's f8E4M3FN and f8E5M2).
enum class Fp8Format : uint8_t { E4M3FN, E5M2 };

/// Largest finite values.
inline constexpr float kE4M3Max = 448.0f;
inline constexpr float kE5M2Max = 57344.0f;
/// Canonical NaN encodings produced by the float -> fp8 conversions.
inline constexpr uint8_t kE4M3NaN = 0x7F;
inline constexpr uint8_t kE5M2NaN = 0x7F;
/// Canonical bf16 NaN produced by float -> bf16.
inline constexpr uint16_t kBf16NaN = 0x7FFF;

/// 448 or 57344.
inline constexpr float fp8Max(Fp8Format f) { return f == Fp8Format::E4M3FN ? kE4M3Max : kE5M2Max; }
/// "e4m3fn" / "e5m2".
const char *fp8FormatName(Fp8Format f);

inline uint32_t floatBits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float floatFromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

namespace detail {

/// float -> 8-bit float with 1 sign bit, `kMan` mantissa bits, exponent bias
/// `kBias`, the largest finite code `kMaxCode` (sign excluded) and all NaNs
/// mapped to `kNaN`. Round to nearest even, saturating. Branch-free (masks
/// instead of conditions) so that buffer loops vectorize with plain SSE2.
template <int kMan, int kBias, uint32_t kMaxCode, uint32_t kNaN>
inline uint8_t floatToFp8(float x) {
  constexpr int kShift = 23 - kMan; // float mantissa bits dropped
  // Smallest normal of the target, 2^(1 - kBias), as float bits.
  constexpr uint32_t kMinNormalBits = uint32_t(127 + 1 - kBias) << 23;
  // 2^(23 + 1 - kBias - kMan): a float whose ulp is the target's subnormal
  // spacing 2^(1 - kBias - kMan).
  constexpr uint32_t kMagicBits = uint32_t(127 + 23 + 1 - kBias - kMan) << 23;
  const uint32_t u = floatBits(x);
  const uint32_t sign = (u >> 24) & 0x80u;
  const uint32_t a = u & 0x7FFFFFFFu;

  // Normal target: round the float mantissa to kMan bits (RNE on the integer
  // bits; a carry propagates into the exponent), then rebias the exponent.
  // Infinity and values rounding beyond the largest finite code saturate.
  const uint32_t rounded = a + ((1u << (kShift - 1)) - 1u) + ((a >> kShift) & 1u);
  uint32_t normal = (rounded >> kShift) - (uint32_t(127 - kBias) << kMan);
  normal = normal < kMaxCode ? normal : kMaxCode;

  // Subnormal target (or zero): |x| < 2^(1 - kBias), so |x| + magic lies in
  // [magic, 2 * magic) where the float spacing is exactly the target's
  // subnormal spacing; the addition rounds to nearest even (the default
  // rounding mode) and the low bits of the sum are the code. The largest
  // subnormals round up to code 1 << kMan, the smallest normal: correct.
  const uint32_t sub = floatBits(floatFromBits(a) + floatFromBits(kMagicBits)) - kMagicBits;

  const uint32_t isNormal = 0u - uint32_t(a >= kMinNormalBits);
  const uint32_t isNaN = 0u - uint32_t(a > 0x7F800000u);
  const uint32_t code = sign | (normal & isNormal) | (sub & ~isNormal);
  return uint8_t((code & ~isNaN) | (kNaN & isNaN));
}

} // namespace detail

/// float -> f8E4M3FN, round to nearest even, saturating to +-448, NaN -> 0x7F.
inline uint8_t floatToE4M3(float x) {
  return detail::floatToFp8</*kMan=*/3, /*kBias=*/7, /*kMaxCode=*/0x7E, kE4M3NaN>(x);
}
/// float -> f8E5M2, round to nearest even, saturating to +-57344 (+-inf
/// included), NaN -> 0x7F.
inline uint8_t floatToE5M2(float x) {
  return detail::floatToFp8</*kMan=*/2, /*kBias=*/15, /*kMaxCode=*/0x7B, kE5M2NaN>(x);
}

/// f8E4M3FN -> float, exact. 0x7F / 0xFF are NaN (quiet, sign kept).
inline float e4m3ToFloat(uint8_t b) {
  const uint32_t sign = uint32_t(b & 0x80u) << 24;
  const uint32_t e = (b >> 3) & 0xFu, m = b & 0x7u;
  if ((b & 0x7Fu) == 0x7Fu)
    return floatFromBits(sign | 0x7FC00000u);
  if (e == 0) // zero or subnormal: m * 2^-9, exact in float
    return floatFromBits(sign | floatBits(float(m) * 0x1p-9f));
  return floatFromBits(sign | ((e + 120u) << 23) | (m << 20));
}

/// f8E5M2 -> float, exact. Exponent 31: +-inf (mantissa 0) or NaN (quiet,
/// sign kept).
inline float e5m2ToFloat(uint8_t b) {
  const uint32_t sign = uint32_t(b & 0x80u) << 24;
  const uint32_t e = (b >> 2) & 0x1Fu, m = b & 0x3u;
  if (e == 31)
    return floatFromBits(sign | (m == 0 ? 0x7F800000u : 0x7FC00000u));
  if (e == 0) // zero or subnormal: m * 2^-16
    return floatFromBits(sign | floatBits(float(m) * 0x1p-16f));
  return floatFromBits(sign | ((e + 112u) << 23) | (m << 21));
}

inline uint8_t floatToFp8(float x, Fp8Format f) {
  return f == Fp8Format::E4M3FN ? floatToE4M3(x) : floatToE5M2(x);
}
inline float fp8ToFloat(uint8_t b, Fp8Format f) {
  return f == Fp8Format::E4M3FN ? e4m3ToFloat(b) : e5m2ToFloat(b);
}

/// float -> bf16 bits, round to nearest even; overflow rounds to +-inf as in
/// IEEE arithmetic; every NaN becomes 0x7FFF (CUDA's canonical bf16 NaN).
inline uint16_t floatToBf16(float x) {
  const uint32_t u = floatBits(x);
  const uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return uint16_t((u & 0x7FFFFFFFu) > 0x7F800000u ? kBf16NaN : r);
}
/// bf16 bits -> float, exact (a NaN keeps its payload).
inline float bf16ToFloat(uint16_t b) { return floatFromBits(uint32_t(b) << 16); }

/// IEEE binary16: round to nearest even, overflow to +-inf; a NaN keeps its
/// sign and the top 10 bits of its payload (so that f16 NaNs round-trip
/// through f32 exactly).
uint16_t floatToF16(float x);
float f16ToFloat(uint16_t h);

//===----------------------------------------------------------------------===//
// Scaling. Convention (docs/dialects/RationaleFP8.md): quantize multiplies by
// the scale, dequantize divides by it.
//===----------------------------------------------------------------------===//

/// scale = fp8Max / (amax * 2^margin), the value of `fp8.compute_scale`:
///  - if amax is "tiny" -- not finite (inf, NaN) or below FLT_MIN (zero,
///    subnormal, negative) -- the result is `previous` unchanged (1 when the
///    op has no previous scale);
///  - otherwise the quotient is rounded once to f32 (identical to f32
///    arithmetic whenever amax * 2^margin is finite in f32), clamped to
///    [2^-149, FLT_MAX] so it is never 0 or inf;
///  - with `powerOf2`, the result is then rounded down to a power of two.
/// `margin` is >= 0 in valid programs (the verifier checks it).
float computeScale(float amax, float fp8Max, int64_t margin, bool powerOf2, float previous = 1.0f);

/// max |x[i]|; NaN if any element is NaN (whatever its position), +inf if
/// any is infinite and none is NaN; 0 for n == 0.
float amax(const float *x, size_t n);
/// The same over bf16 bits.
float amaxBf16(const uint16_t *x, size_t n);

/// out[i] = floatToFp8(x[i] * scale) (the product rounded to f32 first, as a
/// cast kernel does). `out` may not alias `x`.
void quantize(const float *x, size_t n, float scale, Fp8Format format, uint8_t *out);
/// The same from bf16 inputs: out[i] = floatToFp8(bf16ToFloat(x[i]) * scale).
void quantizeBf16(const uint16_t *x, size_t n, float scale, Fp8Format format, uint8_t *out);
/// out[i] = fp8ToFloat(q[i]) / scale (a true f32 division, not a multiply by
/// a rounded reciprocal).
void dequantize(const uint8_t *q, size_t n, float scale, Fp8Format format, float *out);

/// out[i] = floatToBf16(x[i]).
void floatToBf16(const float *x, size_t n, uint16_t *out);
/// out[i] = bf16ToFloat(x[i]).
void bf16ToFloat(const uint16_t *x, size_t n, float *out);

} // namespace fp8rt

#endif // FP8RT_NUMERICS_H
