//===- GemmAccumulateTest.cpp - gemm instructions with accumulate -------===//
//
// Program format version 6: a gemm with `accumulate` computes
// D = op(A) · op(B) + D. On the CPU backend it must be bit-identical to the
// GEMM into a scratch f32 buffer followed by an f32 train.add kernel (which
// fp8-chunk-loss relies on), and within f32 round-off of a double-precision
// reference. The loader refuses it on a non-f32 D or with an epilogue.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace fp8rt;

namespace {

// The lm_head wgrad shape, small: dW[M, N] += dyᵀ · h with dy [K, M], h [K, N].
constexpr int64_t kM = 24, kN = 40, kK = 300;
constexpr int64_t kABytes = kK * kM * 2, kBBytes = kK * kN * 2, kDBytes = kM * kN * 4;

int64_t aligned(int64_t bytes) { return (bytes + 255) / 256 * 256; }

std::string header(int64_t arenaBytes) {
  return R"({"format": "fp8c-program", "version": 6, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid"},
  "config": {}, "arena_bytes": )" +
         std::to_string(arenaBytes) + ",\n";
}

std::string buffer(const char *name, const char *role, const char *dtype, int64_t rows,
                   int64_t cols, int64_t offset) {
  return std::string(R"({"name": ")") + name + R"(", "role": ")" + role + R"(", "dtype": ")" +
         dtype + R"(", "shape": [)" + std::to_string(rows) + ", " + std::to_string(cols) +
         R"(], "offset": )" + std::to_string(offset) + "}";
}

std::string gemm(int64_t d, const std::string &extra) {
  return R"({"kind": "gemm", "name": "lm_head.wgrad", "m": )" + std::to_string(kM) +
         R"(, "n": )" + std::to_string(kN) + R"(, "k": )" + std::to_string(kK) +
         R"(, "a": 0, "b": 1, "d": )" + std::to_string(d) +
         R"(, "transpose_a": true, "transpose_b": false, "fast_accum": false, "epilogue": "none")" +
         extra + "}";
}

const int64_t kBOffset = aligned(kABytes), kDOffset = kBOffset + aligned(kBBytes),
              kTOffset = kDOffset + aligned(kDBytes), kOutOffset = kTOffset + aligned(kDBytes),
              kArena = kOutOffset + aligned(kDBytes);

/// Buffers: 0 a (bf16 [K, M]), 1 b (bf16 [K, N]), 2 d (f32 [M, N], read and
/// written: scratch, which the test writes and reads); `dDtype` and `extra`
/// (gemm keys) vary it for the loader's errors.
std::string accumulateProgram(const char *dDtype = "f32", const std::string &extra = "") {
  return header(kArena) + R"("buffers": [)" + buffer("a", "input", "bf16", kK, kM, 0) + ", " +
         buffer("b", "input", "bf16", kK, kN, kBOffset) + ", " +
         buffer("d", "scratch", dDtype, kM, kN, kDOffset) +
         R"(], "functions": [{"name": "eval_step", "inputs": [0, 1], "outputs": [],
  "instructions": [)" +
         gemm(2, R"(, "accumulate": true)" + extra) + "]}]}";
}

/// The same sum as a GEMM into scratch t, then out = d + t (an f32 add kernel).
std::string gemmThenAddProgram() {
  return header(kArena) + R"("buffers": [)" + buffer("a", "input", "bf16", kK, kM, 0) + ", " +
         buffer("b", "input", "bf16", kK, kN, kBOffset) + ", " +
         buffer("d", "input", "f32", kM, kN, kDOffset) + ", " +
         buffer("", "scratch", "f32", kM, kN, kTOffset) + ", " +
         buffer("out", "output", "f32", kM, kN, kOutOffset) +
         R"(], "functions": [{"name": "eval_step", "inputs": [0, 1, 2], "outputs": [4],
  "instructions": [)" +
         gemm(3, "") + R"(, {"kind": "kernel", "name": "k_add", "inputs": [2, 3], "outputs": [4],
       "ops": [{"op": "train.add", "operands": [0, 1],
                "results": [{"dtype": "f32", "shape": [)" +
         std::to_string(kM) + ", " + std::to_string(kN) + R"(]}], "attrs": {}}],
       "yield": [2]}]}]})";
}

float bf16ToFloat(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

/// Random bf16 values (truncated f32 draws: any bf16 number will do).
std::vector<uint16_t> randomBf16(size_t count, std::mt19937 &rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<uint16_t> v(count);
  for (uint16_t &h : v) {
    const float x = dist(rng);
    uint32_t u;
    std::memcpy(&u, &x, 4);
    h = uint16_t(u >> 16);
  }
  return v;
}

struct Inputs {
  std::vector<uint16_t> a, b;
  std::vector<float> d;
};

Inputs randomInputs() {
  std::mt19937 rng(15);
  Inputs in{randomBf16(size_t(kK * kM), rng), randomBf16(size_t(kK * kN), rng), {}};
  std::normal_distribution<float> dist(0.0f, 8.0f);
  in.d.resize(size_t(kM * kN));
  for (float &x : in.d)
    x = dist(rng);
  return in;
}

/// Runs `text`'s eval_step on the CPU backend with `in` and reads buffer `result`.
std::vector<float> run(const std::string &text, const Inputs &in, uint32_t result) {
  std::vector<float> out(size_t(kM * kN));
  StatusOr<Program> p = parseProgram(text, "test.fp8prog");
  EXPECT_TRUE(p.ok()) << p.status().toString();
  if (!p.ok())
    return out;
  std::unique_ptr<Backend> backend = createCpuBackend();
  EXPECT_TRUE(backend->load(*p).ok());
  EXPECT_TRUE(backend->write(0, in.a.data(), in.a.size() * 2).ok());
  EXPECT_TRUE(backend->write(1, in.b.data(), in.b.size() * 2).ok());
  EXPECT_TRUE(backend->write(2, in.d.data(), in.d.size() * 4).ok());
  Status s = backend->run(*p->function("eval_step"));
  EXPECT_TRUE(s.ok()) << s.toString();
  EXPECT_TRUE(backend->read(result, out.data(), out.size() * 4).ok());
  return out;
}

TEST(GemmAccumulate, LoadsTheKey) {
  StatusOr<Program> p = parseProgram(accumulateProgram(), "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE(p->function("eval_step")->instructions[0].gemm.accumulate);
  p = parseProgram(gemmThenAddProgram(), "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_FALSE(p->function("eval_step")->instructions[0].gemm.accumulate);
}

TEST(GemmAccumulate, MatchesADoubleReference) {
  const Inputs in = randomInputs();
  const std::vector<float> got = run(accumulateProgram(), in, 2);
  for (int64_t i = 0; i < kM; ++i)
    for (int64_t j = 0; j < kN; ++j) {
      double sum = in.d[size_t(i * kN + j)], magnitude = std::fabs(sum);
      for (int64_t k = 0; k < kK; ++k) {
        const double term = double(bf16ToFloat(in.a[size_t(k * kM + i)])) *
                            double(bf16ToFloat(in.b[size_t(k * kN + j)]));
        sum += term;
        magnitude += std::fabs(term);
      }
      // f32 accumulation of K products, its rounding and the add: (K + 2) units
      // of round-off of the terms' magnitude at most.
      const double tolerance = double(kK + 2) * std::ldexp(1.0, -24) * magnitude;
      EXPECT_NEAR(got[size_t(i * kN + j)], sum, tolerance) << i << ", " << j;
    }
}

TEST(GemmAccumulate, IsBitIdenticalToGemmThenAdd) {
  const Inputs in = randomInputs();
  const std::vector<float> accumulated = run(accumulateProgram(), in, 2);
  const std::vector<float> added = run(gemmThenAddProgram(), in, 4);
  ASSERT_EQ(accumulated.size(), added.size());
  EXPECT_EQ(std::memcmp(accumulated.data(), added.data(), added.size() * 4), 0);
  size_t differ = 0;
  for (size_t i = 0; i < added.size(); ++i)
    differ += std::memcmp(&accumulated[i], &added[i], 4) != 0;
  EXPECT_EQ(differ, 0u);
}

TEST(GemmAccumulate, AddsToAnFp8Product) {
  // (1 + 2 + 0.5 - 1) / 2 · 2 = 2.5 from E4M3 operands, added to D = 10.
  const std::string text = header(1536) + R"("buffers": [
    {"name": "a", "role": "input", "dtype": "f8e4m3", "shape": [1, 4], "offset": 0},
    {"name": "bt", "role": "input", "dtype": "f8e4m3", "shape": [1, 4], "offset": 256},
    {"name": "as", "role": "input", "dtype": "f32", "shape": [], "offset": 512},
    {"name": "bs", "role": "input", "dtype": "f32", "shape": [], "offset": 768},
    {"name": "out", "role": "output", "dtype": "f32", "shape": [1, 1], "offset": 1024}],
  "functions": [{"name": "eval_step", "inputs": [0, 1, 2, 3], "outputs": [4], "instructions": [
      {"kind": "gemm", "name": "f", "m": 1, "n": 1, "k": 4, "a": 0, "b": 1, "d": 4,
       "a_scale": 2, "b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "transpose_a": false, "transpose_b": true,
       "fast_accum": true, "epilogue": "none", "accumulate": true}]}]})";
  StatusOr<Program> p = parseProgram(text, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  std::unique_ptr<Backend> backend = createCpuBackend();
  ASSERT_TRUE(backend->load(*p).ok());
  const uint8_t a[4] = {0x38, 0x40, 0x30, 0xB8}, bt[4] = {0x40, 0x40, 0x40, 0x40};
  const float aScale = 2, bScale = 1, d = 10;
  ASSERT_TRUE(backend->write(0, a, 4).ok());
  ASSERT_TRUE(backend->write(1, bt, 4).ok());
  ASSERT_TRUE(backend->write(2, &aScale, 4).ok());
  ASSERT_TRUE(backend->write(3, &bScale, 4).ok());
  ASSERT_TRUE(backend->write(4, &d, 4).ok());
  for (float expected : {12.5f, 15.0f}) { // each run adds the product again
    ASSERT_TRUE(backend->run(*p->function("eval_step")).ok());
    float out = 0;
    ASSERT_TRUE(backend->read(4, &out, 4).ok());
    EXPECT_EQ(out, expected);
  }
}

/// The message of loading `text`, which must fail.
std::string loadError(const std::string &text) {
  StatusOr<Program> p = parseProgram(text, "test.fp8prog");
  EXPECT_FALSE(p.ok()) << "loaded, but should not have";
  if (p.ok())
    return "";
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  return p.status().message();
}

TEST(GemmAccumulate, LoaderErrorsNameTheField) {
  EXPECT_NE(loadError(accumulateProgram("bf16"))
                .find("test.fp8prog: functions[0].instructions[0].accumulate: D is buffer 2 "
                      "(\"d\", bf16[24,40]): a GEMM that accumulates needs an f32 D (found "
                      "bf16)"),
            std::string::npos)
      << loadError(accumulateProgram("bf16"));
  // An FP8 D is refused for accumulate before its missing d_scale.
  const std::string fp8 = loadError(accumulateProgram("f8e4m3"));
  EXPECT_NE(fp8.find(".accumulate: D is buffer 2 (\"d\", f8e4m3[24,40])"),
            std::string::npos)
      << fp8;
  auto replaced = [](std::string text, const std::string &from, const std::string &to) {
    return text.replace(text.find(from), from.size(), to);
  };
  const std::string gelu = loadError(
      replaced(accumulateProgram(), R"("epilogue": "none")", R"("epilogue": "gelu")"));
  EXPECT_NE(gelu.find("instructions[0].accumulate: a GEMM that accumulates into D has no "
                      "epilogue, found \"gelu\""),
            std::string::npos)
      << gelu;
  const std::string notBool = loadError(
      replaced(accumulateProgram(), R"("accumulate": true)", R"("accumulate": 1)"));
  EXPECT_NE(notBool.find("instructions[0].accumulate: expected"), std::string::npos) << notBool;
}

} // namespace
