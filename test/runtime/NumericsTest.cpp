//===- NumericsTest.cpp - fp8rt conversions vs. CUDA's host functions -----===//
//
// Two groups:
//  - Numerics.*: hand-written expectations (known encodings, scale rules,
//    amax, buffer loops) that need nothing but fp8rt;
//  - NumericsVsCuda.*: every FP8 / bf16 conversion compared bit for bit with
//    the host implementations in CUDA's cuda_fp8.h / cuda_bf16.h, an
//    independent reference. Without the CUDA headers these SKIP (reported as
//    skipped by GoogleTest and ctest), they never pass silently.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Numerics.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(FP8C_HAVE_CUDA_FP8) && __has_include(<cuda_fp8.h>)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#define FP8C_CUDA_REFERENCE 1
#else
#define FP8C_CUDA_REFERENCE 0
#endif

using namespace fp8rt;

namespace {

constexpr Fp8Format kE4M3 = Fp8Format::E4M3FN;
constexpr Fp8Format kE5M2 = Fp8Format::E5M2;

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string describe(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g (bits %s)", double(x),
                hex(floatBits(x)).c_str());
  return buf;
}

//===----------------------------------------------------------------------===//
// Hand-written expectations
//===----------------------------------------------------------------------===//

struct Case {
  float x;
  uint8_t code;
};

TEST(Numerics, E4M3KnownEncodings) {
  const float inf = std::numeric_limits<float>::infinity();
  const Case cases[] = {
      {0.0f, 0x00},           {-0.0f, 0x80},
      {1.0f, 0x38},           {-1.0f, 0xB8},
      {448.0f, 0x7E},         {-448.0f, 0xFE},
      {416.0f, 0x7D},         {432.0f, 0x7E}, // tie 416|448 -> even 448
      {463.99997f, 0x7E},     {464.0f, 0x7E}, // tie 448|480: 448 is even
      {464.00003f, 0x7E},     {480.0f, 0x7E}, // 480 would be NaN: saturate
      {1e10f, 0x7E},          {FLT_MAX, 0x7E},
      {inf, 0x7E},            {-inf, 0xFE},
      {0x1p-9f, 0x01},        {-0x1p-9f, 0x81}, // smallest subnormal
      {0x1p-10f, 0x00},       {-0x1p-10f, 0x80}, // tie with 0 -> +-0
      {0x1.000002p-10f, 0x01}, {0x3p-10f, 0x02}, // 1.5 ulp -> 2 (even)
      {0x5p-10f, 0x02},       {0x7p-9f, 0x07},   // 2.5 ulp -> 2; largest sub
      {0xFp-10f, 0x08},       {0x1p-6f, 0x08},   // tie 7|8 -> 8 = min normal
      {1.0625f, 0x38},        {1.1875f, 0x3A},   // ties to even mantissa
      {FLT_TRUE_MIN, 0x00},   {-FLT_MIN, 0x80},
  };
  for (const Case &c : cases)
    EXPECT_EQ(floatToE4M3(c.x), c.code) << describe(c.x);
  EXPECT_EQ(floatToE4M3(std::numeric_limits<float>::quiet_NaN()), kE4M3NaN);
  EXPECT_EQ(floatToE4M3(-std::numeric_limits<float>::quiet_NaN()), kE4M3NaN);
  EXPECT_EQ(floatToE4M3(floatFromBits(0x7F800001u)), kE4M3NaN);
}

TEST(Numerics, E5M2KnownEncodings) {
  const float inf = std::numeric_limits<float>::infinity();
  const Case cases[] = {
      {0.0f, 0x00},      {-0.0f, 0x80},         {1.0f, 0x3C},
      {-2.0f, 0xC0},     {57344.0f, 0x7B},      {-57344.0f, 0xFB},
      {61439.996f, 0x7B}, {61440.0f, 0x7B}, // tie 57344|65536(inf): saturate
      {65536.0f, 0x7B},  {FLT_MAX, 0x7B},       {inf, 0x7B},
      {-inf, 0xFB},      {0x1p-16f, 0x01},      {0x1p-17f, 0x00},
      {0x3p-17f, 0x02},  {0x1p-14f, 0x04},      {1.125f, 0x3C},
      {1.375f, 0x3E},
  };
  for (const Case &c : cases)
    EXPECT_EQ(floatToE5M2(c.x), c.code) << describe(c.x);
  EXPECT_EQ(floatToE5M2(std::numeric_limits<float>::quiet_NaN()), kE5M2NaN);
  EXPECT_EQ(floatToE5M2(floatFromBits(0xFF800001u)), kE5M2NaN);
}

TEST(Numerics, DecodeKnownValues) {
  EXPECT_EQ(e4m3ToFloat(0x7E), 448.0f);
  EXPECT_EQ(e4m3ToFloat(0xFE), -448.0f);
  EXPECT_EQ(e4m3ToFloat(0x01), 0x1p-9f);
  EXPECT_EQ(e4m3ToFloat(0x08), 0x1p-6f);
  EXPECT_EQ(e4m3ToFloat(0x38), 1.0f);
  EXPECT_TRUE(std::signbit(e4m3ToFloat(0x80)) && e4m3ToFloat(0x80) == 0.0f);
  EXPECT_TRUE(std::isnan(e4m3ToFloat(0x7F)));
  EXPECT_TRUE(std::isnan(e4m3ToFloat(0xFF)));
  EXPECT_TRUE(std::signbit(e4m3ToFloat(0xFF)));
  EXPECT_EQ(e5m2ToFloat(0x7B), 57344.0f);
  EXPECT_EQ(e5m2ToFloat(0x01), 0x1p-16f);
  EXPECT_EQ(e5m2ToFloat(0x7C), std::numeric_limits<float>::infinity());
  EXPECT_EQ(e5m2ToFloat(0xFC), -std::numeric_limits<float>::infinity());
  for (uint8_t b : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF})
    EXPECT_TRUE(std::isnan(e5m2ToFloat(b))) << int(b);
  EXPECT_EQ(fp8Max(kE4M3), 448.0f);
  EXPECT_EQ(fp8Max(kE5M2), 57344.0f);
}

TEST(Numerics, EveryCodeRoundTrips) {
  for (unsigned c = 0; c < 256; ++c) {
    const uint8_t b = uint8_t(c);
    if ((b & 0x7F) != 0x7F) { // not NaN
      EXPECT_EQ(floatToE4M3(e4m3ToFloat(b)), b) << c;
    }
    if ((b & 0x7F) < 0x7C) { // finite
      EXPECT_EQ(floatToE5M2(e5m2ToFloat(b)), b) << c;
    }
  }
  // E5M2 infinities are values too: they saturate.
  EXPECT_EQ(floatToE5M2(e5m2ToFloat(0x7C)), 0x7B);
  EXPECT_EQ(floatToE5M2(e5m2ToFloat(0xFC)), 0xFB);
}

TEST(Numerics, Bf16KnownValues) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(floatToBf16(1.00390625f), 0x3F80); // tie -> even
  EXPECT_EQ(floatToBf16(1.01171875f), 0x3F82); // tie -> even (up)
  EXPECT_EQ(floatToBf16(floatFromBits(0x3F808001u)), 0x3F81); // above a tie
  EXPECT_EQ(floatToBf16(-0.0f), 0x8000);
  EXPECT_EQ(floatToBf16(FLT_MAX), 0x7F80); // rounds to inf (no saturation)
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::quiet_NaN()), kBf16NaN);
  EXPECT_EQ(floatToBf16(floatFromBits(0xFF800001u)), kBf16NaN);
  EXPECT_EQ(floatToBf16(floatFromBits(0x7F80FFFFu)), kBf16NaN); // not 0x7F81
  EXPECT_EQ(bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0xC040), -3.0f);
  EXPECT_EQ(bf16ToFloat(0x0001), 0x1p-133f);
}

TEST(Numerics, ComputeScale) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(computeScale(448.0f, 448.0f, 0, false), 1.0f);
  EXPECT_EQ(computeScale(1.0f, 448.0f, 0, false), 448.0f);
  EXPECT_EQ(computeScale(1.0f, 448.0f, 1, false), 224.0f);
  EXPECT_EQ(computeScale(1.0f, 448.0f, 0, true), 256.0f);
  EXPECT_EQ(computeScale(1.0f, 57344.0f, 2, false), 14336.0f);
  EXPECT_EQ(computeScale(3.0f, 448.0f, 0, false), 448.0f / 3.0f);
  EXPECT_EQ(computeScale(3.0f, 448.0f, 0, true), 128.0f); // 149.33 -> 128
  EXPECT_EQ(computeScale(0.25f, 448.0f, 0, true), 1024.0f); // 1792 -> 1024
  EXPECT_EQ(computeScale(1e6f, 448.0f, 0, true), 0x1p-12f); // 4.48e-4
  // Tiny amax keeps the previous scale (1 by default), power_of_2 or not.
  for (float tiny : {0.0f, -0.0f, 1e-40f, FLT_TRUE_MIN, -1.0f, nan, inf, -inf}) {
    EXPECT_EQ(computeScale(tiny, 448.0f, 0, false, 2.5f), 2.5f) << tiny;
    EXPECT_EQ(computeScale(tiny, 448.0f, 3, true, 3.0f), 3.0f) << tiny;
    EXPECT_EQ(computeScale(tiny, 448.0f, 0, false), 1.0f) << tiny;
  }
  // FLT_MIN is not tiny; 448 / FLT_MIN overflows f32 and is clamped.
  EXPECT_EQ(computeScale(FLT_MIN, 448.0f, 0, false), FLT_MAX);
  EXPECT_EQ(computeScale(FLT_MIN, 448.0f, 0, true), 0x1p127f);
  // amax * 2^margin beyond f32 range: the quotient is tiny but never 0.
  EXPECT_EQ(computeScale(FLT_MAX, 448.0f, 100, false), 0x1p-149f);
  EXPECT_GT(computeScale(FLT_MAX, 448.0f, 20, false), 0.0f);
  // Equal to plain f32 arithmetic wherever that does not overflow.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> expo(-120, 100), marg(0, 4);
  for (int i = 0; i < 200000; ++i) {
    const float a = std::ldexp(mant(rng), expo(rng));
    const int m = marg(rng);
    const float fp8max = (i & 1) ? 448.0f : 57344.0f;
    const float expect = fp8max / (a * std::ldexp(1.0f, m));
    if (!std::isfinite(expect))
      continue;
    ASSERT_EQ(computeScale(a, fp8max, m, false), expect) << describe(a) << " m=" << m;
    const float p2 = computeScale(a, fp8max, m, true);
    ASSERT_TRUE(p2 <= expect && p2 * 2 > expect) << describe(a);
    int e;
    ASSERT_EQ(std::frexp(p2, &e), 0.5f) << describe(p2);
  }
}

TEST(Numerics, Amax) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(amax(nullptr, 0), 0.0f);
  std::vector<float> v = {1.0f, -3.0f, 2.0f, -0.0f};
  EXPECT_EQ(amax(v.data(), v.size()), 3.0f);
  v.push_back(-inf);
  EXPECT_EQ(amax(v.data(), v.size()), inf);
  // NaN wins wherever it is, even behind an inf and in a long vector.
  std::vector<float> big(1001, 1.0f);
  big[500] = -inf;
  for (size_t at : {size_t(0), size_t(3), size_t(777), size_t(1000)}) {
    std::vector<float> w = big;
    w[at] = (at & 1) ? -nan : nan;
    EXPECT_TRUE(std::isnan(amax(w.data(), w.size()))) << at;
  }
  std::vector<uint16_t> b = {floatToBf16(1.5f), floatToBf16(-7.0f), 0x8000};
  EXPECT_EQ(amaxBf16(b.data(), b.size()), 7.0f);
  b.push_back(0xFFC1); // a negative bf16 NaN
  EXPECT_TRUE(std::isnan(amaxBf16(b.data(), b.size())));
}

TEST(Numerics, BufferLoopsMatchScalar) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 30.0f);
  const size_t n = 1037; // not a multiple of any vector width
  std::vector<float> x(n);
  for (float &v : x)
    v = dist(rng);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[4] = std::numeric_limits<float>::infinity();
  x[5] = 1e-30f;
  std::vector<uint16_t> xb(n);
  floatToBf16(x.data(), n, xb.data());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(xb[i], floatToBf16(x[i])) << i;
  std::vector<float> back(n);
  bf16ToFloat(xb.data(), n, back.data());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(floatBits(back[i]), uint32_t(xb[i]) << 16) << i;

  for (Fp8Format f : {kE4M3, kE5M2}) {
    const float scale = computeScale(amax(x.data(), 3), fp8Max(f), 0, false);
    std::vector<uint8_t> q(n), qb(n);
    quantize(x.data(), n, scale, f, q.data());
    quantizeBf16(xb.data(), n, scale, f, qb.data());
    std::vector<float> d(n);
    dequantize(q.data(), n, scale, f, d.data());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(q[i], floatToFp8(x[i] * scale, f)) << i;
      ASSERT_EQ(qb[i], floatToFp8(bf16ToFloat(xb[i]) * scale, f)) << i;
      const float expect = fp8ToFloat(q[i], f) / scale;
      ASSERT_TRUE(floatBits(d[i]) == floatBits(expect) ||
                  (std::isnan(d[i]) && std::isnan(expect)))
          << i;
    }
  }
}

//===----------------------------------------------------------------------===//
// Against CUDA's host conversion functions
//===----------------------------------------------------------------------===//

#if FP8C_CUDA_REFERENCE
constexpr bool kHaveCuda = true;
uint8_t refToFp8(float x, Fp8Format f) {
  return __nv_cvt_float_to_fp8(x, __NV_SATFINITE,
                               f == kE4M3 ? __NV_E4M3 : __NV_E5M2);
}
float refFp8ToFloat(uint8_t b, Fp8Format f) {
  const __half_raw h =
      __nv_cvt_fp8_to_halfraw(b, f == kE4M3 ? __NV_E4M3 : __NV_E5M2);
  return __half2float(__half(h));
}
uint16_t refToBf16(float x) {
  const __nv_bfloat16_raw r = __float2bfloat16_rn(x);
  return r.x;
}
float refBf16ToFloat(uint16_t b) {
  __nv_bfloat16_raw r;
  r.x = b;
  return __bfloat162float(__nv_bfloat16(r));
}
#else
constexpr bool kHaveCuda = false;
uint8_t refToFp8(float, Fp8Format) { return 0; }
float refFp8ToFloat(uint8_t, Fp8Format) { return 0; }
uint16_t refToBf16(float) { return 0; }
float refBf16ToFloat(uint16_t) { return 0; }
#endif

class NumericsVsCuda : public ::testing::Test {
protected:
  void SetUp() override {
    if (!kHaveCuda)
      GTEST_SKIP() << "cuda_fp8.h not found (CUDA Toolkit absent at configure "
                      "time): the independent reference is unavailable";
  }

  /// Compares floatToFp8 with CUDA on every value; reports up to 10
  /// mismatches and returns how many there were.
  static size_t compareFp8(const std::vector<float> &xs, Fp8Format f) {
    size_t bad = 0;
    for (float x : xs) {
      const uint8_t ours = floatToFp8(x, f), ref = refToFp8(x, f);
      if (ours != ref && ++bad <= 10)
        ADD_FAILURE() << fp8FormatName(f) << ": " << describe(x) << " -> ours "
                      << int(ours) << ", cuda_fp8.h " << int(ref);
    }
    return bad;
  }
};

/// Floats around every rounding boundary of a format: each finite value, the
/// midpoints between consecutive values (subnormals and zero included), one
/// float ulp either side of both, the overflow region, tiny values, NaNs and
/// infinities; with both signs.
std::vector<float> boundaryValues(Fp8Format f) {
  std::vector<float> pos;
  std::vector<float> values;
  for (unsigned c = 0; c < 0x80; ++c) {
    const float v = fp8ToFloat(uint8_t(c), f);
    if (std::isfinite(v))
      values.push_back(v);
  }
  const float inf = std::numeric_limits<float>::infinity();
  auto around = [&](float v) {
    pos.push_back(v);
    pos.push_back(std::nextafter(v, inf));
    if (v > 0)
      pos.push_back(std::nextafter(v, 0.0f));
  };
  for (size_t i = 0; i < values.size(); ++i) {
    around(values[i]);
    if (i + 1 < values.size()) {
      around((values[i] + values[i + 1]) / 2); // exact in f32
      around(values[i] + (values[i + 1] - values[i]) / 4);
      around(values[i] + 3 * (values[i + 1] - values[i]) / 4);
    }
  }
  const float max = fp8Max(f);
  const float ulpAtMax = f == kE4M3 ? 32.0f : 8192.0f;
  const float minSub = f == kE4M3 ? 0x1p-9f : 0x1p-16f;
  for (float v : {max + ulpAtMax / 2, max + ulpAtMax, max + 1.5f * ulpAtMax,
                  2 * max, 1e6f, 1e30f, FLT_MAX, minSub / 2, minSub / 4,
                  minSub * 0.75f, FLT_MIN, FLT_TRUE_MIN, 1e-30f})
    around(v);
  pos.push_back(inf);
  std::vector<float> all;
  for (float v : pos) {
    all.push_back(v);
    all.push_back(-v);
  }
  for (uint32_t nanBits : {0x7FC00000u, 0x7F800001u, 0x7FBFFFFFu, 0x7FFFFFFFu,
                           0xFFC00000u, 0xFF800001u, 0xFFFFFFFFu})
    all.push_back(floatFromBits(nanBits));
  return all;
}

/// ~1e6 floats spread over the exponents that matter for FP8 (2^-30 .. 2^20,
/// where subnormals, normals and saturation all happen) with random mantissas
/// and signs, plus 2^18 uniformly random bit patterns (every exponent).
std::vector<float> randomValues(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> bits;
  std::uniform_int_distribution<int> expo(127 - 30, 127 + 20);
  std::vector<float> xs;
  xs.reserve((1u << 20) + (1u << 18));
  for (int i = 0; i < (1 << 20); ++i) {
    const uint32_t b = bits(rng);
    xs.push_back(floatFromBits((b & 0x807FFFFFu) | (uint32_t(expo(rng)) << 23)));
  }
  for (int i = 0; i < (1 << 18); ++i)
    xs.push_back(floatFromBits(bits(rng)));
  return xs;
}

TEST_F(NumericsVsCuda, DecodeAll256) {
  for (Fp8Format f : {kE4M3, kE5M2}) {
    for (unsigned c = 0; c < 256; ++c) {
      const float ours = fp8ToFloat(uint8_t(c), f);
      const float ref = refFp8ToFloat(uint8_t(c), f);
      if (std::isnan(ref)) {
        EXPECT_TRUE(std::isnan(ours)) << fp8FormatName(f) << " code " << c;
      } else {
        EXPECT_EQ(floatBits(ours), floatBits(ref))
            << fp8FormatName(f) << " code " << c << ": ours " << describe(ours)
            << ", cuda " << describe(ref);
      }
    }
  }
}

TEST_F(NumericsVsCuda, EncodeBoundaries) {
  for (Fp8Format f : {kE4M3, kE5M2}) {
    const std::vector<float> xs = boundaryValues(f);
    EXPECT_GT(xs.size(), 1000u);
    EXPECT_EQ(compareFp8(xs, f), 0u) << fp8FormatName(f);
  }
}

TEST_F(NumericsVsCuda, EncodeRandom) {
  const std::vector<float> xs = randomValues(20240601);
  for (Fp8Format f : {kE4M3, kE5M2})
    EXPECT_EQ(compareFp8(xs, f), 0u) << fp8FormatName(f);
}

TEST_F(NumericsVsCuda, MaxAndNaNEncodings) {
  // The saturation values and the NaN codes CUDA produces are ours.
  EXPECT_EQ(refFp8ToFloat(refToFp8(1e9f, kE4M3), kE4M3), kE4M3Max);
  EXPECT_EQ(refFp8ToFloat(refToFp8(1e9f, kE5M2), kE5M2), kE5M2Max);
  EXPECT_EQ(refToFp8(std::numeric_limits<float>::quiet_NaN(), kE4M3), kE4M3NaN);
  EXPECT_EQ(refToFp8(std::numeric_limits<float>::quiet_NaN(), kE5M2), kE5M2NaN);
  EXPECT_EQ(refToBf16(std::numeric_limits<float>::quiet_NaN()), kBf16NaN);
}

TEST_F(NumericsVsCuda, QuantizeDequantizeBuffers) {
  std::mt19937 rng(5);
  std::vector<float> x = randomValues(99);
  x.resize(300001);
  for (Fp8Format f : {kE4M3, kE5M2}) {
    std::lognormal_distribution<float> amaxDist(0.0f, 8.0f);
    for (int trial = 0; trial < 4; ++trial) {
      const float scale =
          computeScale(amaxDist(rng), fp8Max(f), trial & 1, trial >= 2);
      std::vector<uint8_t> q(x.size());
      quantize(x.data(), x.size(), scale, f, q.data());
      std::vector<float> d(x.size());
      dequantize(q.data(), q.size(), scale, f, d.data());
      size_t bad = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const uint8_t ref = refToFp8(x[i] * scale, f);
        const float refD = refFp8ToFloat(ref, f) / scale;
        const bool same = q[i] == ref && (floatBits(d[i]) == floatBits(refD) ||
                                          (std::isnan(d[i]) && std::isnan(refD)));
        if (!same && ++bad <= 10)
          ADD_FAILURE() << fp8FormatName(f) << " scale " << scale << ": "
                        << describe(x[i]) << " -> " << int(q[i]) << " / "
                        << describe(d[i]) << ", cuda " << int(ref) << " / "
                        << describe(refD);
      }
      EXPECT_EQ(bad, 0u);
    }
  }
}

TEST_F(NumericsVsCuda, Bf16AllPatternsToFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float ours = bf16ToFloat(uint16_t(b)), ref = refBf16ToFloat(uint16_t(b));
    ASSERT_EQ(floatBits(ours), floatBits(ref)) << hex(b);
  }
}

TEST_F(NumericsVsCuda, FloatToBf16) {
  std::vector<float> xs = randomValues(3);
  // Every bf16 value, the midpoints above it and one float ulp around those.
  for (uint32_t b = 0; b < 0x10000; ++b)
    for (uint32_t low : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
      xs.push_back(floatFromBits((b << 16) | low));
  size_t bad = 0;
  for (float x : xs) {
    const uint16_t ours = floatToBf16(x), ref = refToBf16(x);
    if (ours != ref && ++bad <= 10)
      ADD_FAILURE() << describe(x) << " -> ours " << hex(ours) << ", cuda "
                    << hex(ref);
  }
  EXPECT_EQ(bad, 0u);
}

} // namespace
