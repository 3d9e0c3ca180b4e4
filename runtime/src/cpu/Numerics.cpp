//===- Numerics.cpp - FP8 / bf16 buffer loops and scale computation -------===//
//
// The scalar conversions are inline in Numerics.h; the loops here are
// specialised per format outside the loop (no per-element dispatch) and
// written so that the compiler can vectorize them.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Numerics.h"

#include <cfloat>
#include <cmath>

namespace fp8rt {

const char *fp8FormatName(Fp8Format f) { return f == Fp8Format::E4M3FN ? "e4m3fn" : "e5m2"; }

float computeScale(float amax, float fp8Max, int64_t margin, bool powerOf2, float previous) {
  // "Tiny": zero, subnormal, negative, inf or NaN. Keep the previous scale so
  // an all-zero tensor or a NaN never turns the scale into inf or NaN.
  if (!std::isfinite(amax) || !(amax >= FLT_MIN))
    return previous;
  // ldexp's exponent is an int; beyond +-4096 the result is clamped anyway.
  const int m = margin > 4096 ? 4096 : (margin < -4096 ? -4096 : int(margin));
  // In double, amax * 2^margin is exact for any sensible margin (< 890), and
  // the quotient rounded to double then to float equals the correctly rounded
  // f32 quotient (53 >= 2 * 24 + 2: double rounding is innocuous for
  // division). Out-of-range quotients are clamped below.
  const double q = double(fp8Max) / std::ldexp(double(amax), m);
  float scale;
  if (!(q <= double(FLT_MAX)))
    scale = FLT_MAX; // +inf (or NaN from a NaN fp8Max)
  else if (q < 0x1p-149)
    scale = 0x1p-149f;
  else
    scale = float(q);
  if (powerOf2) {
    int e = 0;
    (void)std::frexp(scale, &e); // scale = f * 2^e, f in [0.5, 1)
    scale = std::ldexp(1.0f, e - 1);
  }
  return scale;
}

namespace {

// max over |bits|: as unsigned integers, every NaN (exponent all ones,
// mantissa != 0) compares above +inf, which compares above every finite value.
// An integer max is associative, so the loop vectorizes without -ffast-math.
uint32_t maxAbsBits(const float *x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = floatBits(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
  }
  return m;
}

uint32_t maxAbsBits(const uint16_t *x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = x[i] & 0x7FFFu;
    m = a > m ? a : m;
  }
  return m << 16;
}

float amaxFromBits(uint32_t m) {
  return m > 0x7F800000u ? floatFromBits(0x7FC00000u) : floatFromBits(m);
}

template <uint8_t (*Convert)(float)>
void quantizeLoop(const float *x, size_t n, float scale, uint8_t *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = Convert(x[i] * scale);
}

template <uint8_t (*Convert)(float)>
void quantizeBf16Loop(const uint16_t *x, size_t n, float scale, uint8_t *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = Convert(bf16ToFloat(x[i]) * scale);
}

} // namespace

float amax(const float *x, size_t n) { return amaxFromBits(maxAbsBits(x, n)); }

float amaxBf16(const uint16_t *x, size_t n) { return amaxFromBits(maxAbsBits(x, n)); }

void quantize(const float *x, size_t n, float scale, Fp8Format format, uint8_t *out) {
  // Template arguments are resolved at compile time: the conversion inlines.
  if (format == Fp8Format::E4M3FN)
    quantizeLoop<floatToE4M3>(x, n, scale, out);
  else
    quantizeLoop<floatToE5M2>(x, n, scale, out);
}

void quantizeBf16(const uint16_t *x, size_t n, float scale, Fp8Format format, uint8_t *out) {
  if (format == Fp8Format::E4M3FN)
    quantizeBf16Loop<floatToE4M3>(x, n, scale, out);
  else
    quantizeBf16Loop<floatToE5M2>(x, n, scale, out);
}

void dequantize(const uint8_t *q, size_t n, float scale, Fp8Format format, float *out) {
  // 256 divisions once, then a table lookup per element: the same values as
  // dividing every element, since each is the same f32 operation.
  float table[256];
  for (unsigned b = 0; b < 256; ++b)
    table[b] = fp8ToFloat(uint8_t(b), format) / scale;
  for (size_t i = 0; i < n; ++i)
    out[i] = table[q[i]];
}

void floatToBf16(const float *x, size_t n, uint16_t *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = floatToBf16(x[i]);
}

void bf16ToFloat(const uint16_t *x, size_t n, float *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = bf16ToFloat(x[i]);
}

uint16_t floatToF16(float x) {
  const uint32_t u = floatBits(x);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) { // NaN: sign and the top payload bits kept
    const uint32_t payload = (a >> 13) & 0x3FFu;
    return uint16_t(sign | 0x7C00u | (payload ? payload : 0x200u));
  }
  // 65520 = 0x477FF000 lies halfway between 65504 (the largest half, odd
  // significand) and 65536: it and everything above round to infinity.
  if (a >= 0x477FF000u)
    return uint16_t(sign | 0x7C00u);
  if (a >= 0x38800000u) { // >= 2^-14: a normal half
    const uint32_t rounded = a + 0xFFFu + ((a >> 13) & 1u);
    return uint16_t(sign | ((rounded >> 13) - (112u << 10)));
  }
  // Subnormal (or zero): 0.5 has an ulp of 2^-24, the subnormal spacing, so
  // the f32 addition rounds to nearest even and leaves the code in the low
  // bits; the largest subnormals round up to 0x400, the smallest normal.
  const float sum = floatFromBits(a) + 0.5f;
  return uint16_t(sign | (floatBits(sum) - 0x3F000000u));
}

float f16ToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31)
    return floatFromBits(sign | 0x7F800000u | (m << 13));
  if (e == 0) // zero or subnormal: m * 2^-24, exact in f32
    return floatFromBits(sign | floatBits(float(m) * 0x1p-24f));
  return floatFromBits(sign | ((e + 112u) << 23) | (m << 13));
}

} // namespace fp8rt
