//===- ProgramLoaderTest.cpp - Program loader and CPU backend -------------===//
//
// Small hand-written programs (docs/program-format.md) that load and run on
// the CPU backend, with results checked against numbers worked out by hand;
// then one mutation of a valid program per class of bad input, each checked
// for its exact message (the JSON path and what was wrong).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace fp8rt;

namespace {

// S = x + c (a kernel, bf16), D = S · Wᵀ + b (a bf16 GEMM with a bias
// epilogue and amax), out_copy = D (a copy).
const char *const kProgram = R"({
  "format": "fp8c-program",
  "version": 6,
  "producer": "test",
  "info": {"family": "custom", "batch_size": 2, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 10, "init_seed": -3,
           "fp8_recipe": "none", "fp8_format": "hybrid"},
  "config": {"lr": 1.5e-3, "name": "t\n", "list": [1, true, null], "nested": {}},
  "arena_bytes": 2048,
  "buffers": [
    {"name": "x", "role": "input", "dtype": "bf16", "shape": [2, 3], "offset": 0},
    {"name": "c", "role": "constant", "dtype": "bf16", "shape": [2, 3], "offset": 256,
     "data": [1, 2, 3, 1.00390625, -0.5, 0.25]},
    {"name": "w", "role": "param", "dtype": "f32", "shape": [2, 3], "offset": 512,
     "init": "normal", "init_std": 0.02},
    {"name": "", "role": "scratch", "dtype": "bf16", "shape": [2, 3], "offset": 768},
    {"name": "b", "role": "constant", "dtype": "f32", "shape": [2], "offset": 1024,
     "data": [0.5, -1]},
    {"name": "out", "role": "output", "dtype": "bf16", "shape": [2, 2], "offset": 1280},
    {"name": "out_copy", "role": "output", "dtype": "bf16", "shape": [2, 2], "offset": 1536},
    {"name": "out.amax", "role": "metric", "dtype": "f32", "shape": [], "offset": 1792}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0], "outputs": [5, 6], "instructions": [
      {"kind": "kernel", "name": "k0_add", "inputs": [0, 1], "outputs": [3],
       "ops": [{"op": "train.add", "operands": [0, 1],
                "results": [{"dtype": "bf16", "shape": [2, 3]}], "attrs": {}}],
       "yield": [2]},
      {"kind": "gemm", "name": "proj", "m": 2, "n": 2, "k": 3, "a": 3, "b": 2, "d": 5,
       "bias": 4, "amax_d": 7, "transpose_a": false, "transpose_b": true,
       "fast_accum": false, "epilogue": "bias"},
      {"kind": "copy", "source": 5, "target": 6}
    ]}
  ]
})";

// out = (A / a_scale) · (B / b_scale)ᵀ in f32, and the same product scaled by
// d_scale into an E4M3 buffer.
const char *const kFp8Program = R"({
  "format": "fp8c-program", "version": 6, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "tensorwise", "fp8_format": "e4m3"},
  "config": {},
  "arena_bytes": 2048,
  "buffers": [
    {"name": "a", "role": "input", "dtype": "f8e4m3", "shape": [1, 4], "offset": 0},
    {"name": "bt", "role": "input", "dtype": "f8e4m3", "shape": [1, 4], "offset": 256},
    {"name": "as", "role": "input", "dtype": "f32", "shape": [], "offset": 512},
    {"name": "bs", "role": "input", "dtype": "f32", "shape": [], "offset": 768},
    {"name": "ds", "role": "input", "dtype": "f32", "shape": [], "offset": 1024},
    {"name": "out", "role": "output", "dtype": "f32", "shape": [1, 1], "offset": 1280},
    {"name": "out8", "role": "output", "dtype": "f8e4m3", "shape": [1, 1], "offset": 1536},
    {"name": "amax", "role": "metric", "dtype": "f32", "shape": [], "offset": 1792}
  ],
  "functions": [
    {"name": "eval_step", "inputs": [0, 1, 2, 3, 4], "outputs": [5, 6], "instructions": [
      {"kind": "gemm", "name": "f", "m": 1, "n": 1, "k": 4, "a": 0, "b": 1, "d": 5,
       "a_scale": 2, "b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "amax_d": 7, "transpose_a": false,
       "transpose_b": true, "fast_accum": true, "epilogue": "none"},
      {"kind": "gemm", "name": "f8", "m": 1, "n": 1, "k": 4, "a": 0, "b": 1, "d": 6,
       "a_scale": 2, "b_scale": 3, "d_scale": 4, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "transpose_a": false,
       "transpose_b": true, "fast_accum": true, "epilogue": "none"}
    ]}
  ]
})";

/// `text` with the one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string &from, const std::string &to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not in the program: " << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "ambiguous: " << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// bf16 bits of numbers that are exact in bf16 (the top half of the f32).
uint16_t bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  EXPECT_EQ(u & 0xFFFFu, 0u) << x << " is not a bf16 number";
  return uint16_t(u >> 16);
}
float fromBf16(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

/// The error of loading `text`, which must fail.
Status loadError(const std::string &text) {
  StatusOr<Program> p = parseProgram(text, "test.fp8prog");
  EXPECT_FALSE(p.ok()) << "loaded, but should not have";
  return p.ok() ? Status() : p.status();
}

#define EXPECT_LOAD_ERROR(text, expectedCode, substring)                       \
  do {                                                                         \
    Status s_ = loadError(text);                                               \
    EXPECT_EQ(s_.code(), expectedCode) << s_.toString();                       \
    EXPECT_NE(s_.message().find(substring), std::string::npos)                 \
        << "message: " << s_.message() << "\nexpected to contain: "            \
        << (substring);                                                        \
    EXPECT_EQ(s_.message().rfind("test.fp8prog: ", 0), 0u) << s_.message();    \
  } while (0)

//===----------------------------------------------------------------------===//
// Valid programs
//===----------------------------------------------------------------------===//

TEST(ProgramLoader, LoadsEverySection) {
  StatusOr<Program> p = parseProgram(kProgram, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ(p->producer, "test");
  EXPECT_EQ(p->info.family, "custom");
  EXPECT_EQ(p->info.batchSize, 2);
  EXPECT_EQ(p->info.totalSteps, 10);
  EXPECT_EQ(p->info.initSeed, -3);
  EXPECT_EQ(p->configJson,
            R"({"lr":1.5e-3,"name":"t\n","list":[1,true,null],"nested":{}})");
  EXPECT_EQ(p->arenaBytes, 2048u);
  ASSERT_EQ(p->buffers.size(), 8u);
  const Buffer &w = p->buffers[2];
  EXPECT_EQ(w.role, BufferRole::Param);
  EXPECT_EQ(w.type.str(), "f32[2,3]");
  EXPECT_EQ(w.init, InitKind::Normal);
  EXPECT_DOUBLE_EQ(w.initStd, 0.02);
  EXPECT_EQ(p->buffers[7].type.str(), "f32[]");
  EXPECT_EQ(p->buffers[1].data.size(), 6u);
  EXPECT_EQ(p->findBuffer("out", BufferRole::Output), 5);
  EXPECT_EQ(p->findBuffer("out", BufferRole::Metric), -1);
  ASSERT_NE(p->function("train_step"), nullptr);
  EXPECT_EQ(p->function("eval_step"), nullptr);
  const Function &f = *p->function("train_step");
  ASSERT_EQ(f.instructions.size(), 3u);
  EXPECT_EQ(f.instructions[0].kind, Instruction::Kind::Kernel);
  EXPECT_EQ(f.instructions[0].kernel.ops[0].op, "train.add");
  EXPECT_EQ(f.instructions[0].kernel.yields, std::vector<uint32_t>{2});
  const Gemm &g = f.instructions[1].gemm;
  EXPECT_EQ(g.k, 3);
  EXPECT_EQ(g.bias, 4u);
  EXPECT_EQ(g.aScale, Gemm::kNone);
  EXPECT_EQ(g.epilogue, GemmEpilogue::Bias);
  EXPECT_EQ(f.instructions[2].copy.target, 6u);
}

TEST(ProgramLoader, ReadsTheThroughputInfo) {
  // Version 3's optional info keys: absent, they read as unknown.
  StatusOr<Program> bare = parseProgram(kProgram, "test.fp8prog");
  ASSERT_TRUE(bare.ok()) << bare.status().toString();
  EXPECT_EQ(bare->info.modelFlopsPerToken, 0);
  EXPECT_EQ(bare->info.device, "");
  EXPECT_EQ(bare->info.peakFP8TFlops, 0.0);
  const std::string keys = R"("fp8_format": "hybrid", "model_flops_per_token": 2752512,
           "device": "h100-sxm", "peak_bf16_tflops": 989.4, "peak_fp8_tflops": 1978.9},)";
  StatusOr<Program> p =
      parseProgram(replaced(kProgram, R"("fp8_format": "hybrid"},)", keys), "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ(p->info.modelFlopsPerToken, 2752512);
  EXPECT_EQ(p->info.device, "h100-sxm");
  EXPECT_DOUBLE_EQ(p->info.peakBF16TFlops, 989.4);
  EXPECT_DOUBLE_EQ(p->info.peakFP8TFlops, 1978.9);
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("fp8_format": "hybrid"},)",
                             R"("fp8_format": "hybrid", "peak_fp8_tflops": -1},)"),
                    StatusCode::kDataLoss, "info.peak_fp8_tflops: a peak cannot be negative");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("fp8_format": "hybrid"},)",
                             R"("fp8_format": "hybrid", "model_flops_per_token": 1.5},)"),
                    StatusCode::kDataLoss, "info.model_flops_per_token");
}

TEST(ProgramLoader, RunsKernelGemmAndCopyOnTheCpuBackend) {
  StatusOr<Program> p = parseProgram(kProgram, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  std::unique_ptr<Backend> backend = createCpuBackend();
  EXPECT_STREQ(backend->name(), "cpu");
  ASSERT_TRUE(backend->load(*p).ok());

  // The constant c: 1.00390625 = 1 + 2^-8 lies halfway between the bf16
  // numbers 1 and 1 + 2^-7 and rounds to the even one, 1.
  uint16_t c[6];
  ASSERT_TRUE(backend->read(1, c, sizeof c).ok());
  const float cExpected[6] = {1, 2, 3, 1, -0.5f, 0.25f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(c[i], bf16(cExpected[i])) << i;

  const uint16_t x[6] = {bf16(1.5f), bf16(-2), bf16(0.5f), bf16(4), bf16(0.125f), bf16(-1)};
  const float w[6] = {1, 2, 3, 0.5f, -1, 0.3f};
  ASSERT_TRUE(backend->write(0, x, sizeof x).ok());
  ASSERT_TRUE(backend->write(2, w, sizeof w).ok());
  Status run = backend->run(*p->function("train_step"));
  ASSERT_TRUE(run.ok()) << run.toString();

  // S = x + c = [[2.5, 0, 3.5], [5, -0.375, -0.75]] (exact in bf16).
  uint16_t s[6];
  ASSERT_TRUE(backend->read(3, s, sizeof s).ok());
  const float sExpected[6] = {2.5f, 0, 3.5f, 5, -0.375f, -0.75f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(s[i], bf16(sExpected[i])) << i;

  // D = S · Wᵀ + b:
  //   D00 = 2.5 + 0 + 10.5 + 0.5 = 13.5
  //   D01 = 1.25 + 0 + 3.5·0.3 - 1 = 1.3      -> bf16 1.296875 (166 · 2^-7)
  //   D10 = 5 - 0.75 - 2.25 + 0.5 = 2.5
  //   D11 = 2.5 + 0.375 - 0.225 - 1 = 1.65    -> bf16 1.6484375 (211 · 2^-7)
  const float dExpected[4] = {13.5f, 1.296875f, 2.5f, 1.6484375f};
  uint16_t d[4], dCopy[4];
  ASSERT_TRUE(backend->read(5, d, sizeof d).ok());
  ASSERT_TRUE(backend->read(6, dCopy, sizeof dCopy).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(fromBf16(d[i]), dExpected[i]) << i;
    EXPECT_EQ(dCopy[i], d[i]) << i;
  }
  float amax = 0;
  ASSERT_TRUE(backend->read(7, &amax, sizeof amax).ok());
  EXPECT_EQ(amax, 13.5f);

  // Sizes are checked on every access.
  Status bad = backend->write(0, x, sizeof x - 2);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("10 bytes given, the buffer holds 12"), std::string::npos)
      << bad.message();
  EXPECT_FALSE(backend->read(8, &amax, sizeof amax).ok());
}

TEST(ProgramLoader, RunsAnFp8GemmWithSaturatingOutput) {
  StatusOr<Program> p = parseProgram(kFp8Program, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  std::unique_ptr<Backend> backend = createCpuBackend();
  ASSERT_TRUE(backend->load(*p).ok());
  // E4M3 codes: 0x38 = 1, 0x40 = 2, 0x30 = 0.5, 0xB8 = -1.
  const uint8_t a[4] = {0x38, 0x40, 0x30, 0xB8};
  const uint8_t bt[4] = {0x40, 0x40, 0x40, 0x40};
  const float aScale = 2, bScale = 1;
  ASSERT_TRUE(backend->write(0, a, 4).ok());
  ASSERT_TRUE(backend->write(1, bt, 4).ok());
  ASSERT_TRUE(backend->write(2, &aScale, 4).ok());
  ASSERT_TRUE(backend->write(3, &bScale, 4).ok());
  const Function &f = *p->function("eval_step");

  // (1 + 2 + 0.5 - 1) / 2 · 2 = 2.5; with d_scale 1 that is E4M3 0x42
  // (1.25 · 2^1), with d_scale 1000 it saturates to 448 (0x7E).
  const struct {
    float dScale;
    uint8_t code;
  } cases[] = {{1.0f, 0x42}, {1000.0f, 0x7E}, {-1000.0f, 0xFE}};
  for (const auto &c : cases) {
    ASSERT_TRUE(backend->write(4, &c.dScale, 4).ok());
    Status run = backend->run(f);
    ASSERT_TRUE(run.ok()) << run.toString();
    float out = 0, amax = 0;
    uint8_t out8 = 0;
    ASSERT_TRUE(backend->read(5, &out, 4).ok());
    ASSERT_TRUE(backend->read(6, &out8, 1).ok());
    ASSERT_TRUE(backend->read(7, &amax, 4).ok());
    EXPECT_EQ(out, 2.5f);
    EXPECT_EQ(amax, 2.5f);
    EXPECT_EQ(out8, c.code) << "d_scale " << c.dScale;
  }
}

TEST(ProgramLoader, KernelErrorsNameTheInstruction) {
  // train.embedding with a token id outside the table: found when running.
  std::string text = kProgram;
  text = replaced(text, R"({"name": "x", "role": "input", "dtype": "bf16", "shape": [2, 3], "offset": 0})",
                  R"({"name": "x", "role": "input", "dtype": "i32", "shape": [2], "offset": 0})");
  text = replaced(text, R"("ops": [{"op": "train.add", "operands": [0, 1],
                "results": [{"dtype": "bf16", "shape": [2, 3]}], "attrs": {}}],)",
                  R"("ops": [{"op": "train.embedding", "operands": [1, 0],
                "results": [{"dtype": "bf16", "shape": [2, 3]}], "attrs": {}}],)");
  StatusOr<Program> p = parseProgram(text, "test.fp8prog");
  ASSERT_TRUE(p.ok()) << p.status().toString();
  std::unique_ptr<Backend> backend = createCpuBackend();
  ASSERT_TRUE(backend->load(*p).ok());
  const int32_t ids[2] = {1, 7};
  ASSERT_TRUE(backend->write(0, ids, sizeof ids).ok());
  Status run = backend->run(*p->function("train_step"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.message().rfind("train_step: instruction 0 (kernel k0_add): ", 0), 0u)
      << run.message();
  EXPECT_NE(run.message().find("7"), std::string::npos) << run.message();
}

TEST(ProgramLoader, LoadProgramReportsAMissingFile) {
  StatusOr<Program> p = loadProgram("/nonexistent/dir/model.fp8prog");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/dir/model.fp8prog: cannot open"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Bad input: one test per class, with the exact message
//===----------------------------------------------------------------------===//

const StatusCode kDataLoss = StatusCode::kDataLoss;

TEST(ProgramLoaderErrors, TruncatedFile) {
  const std::string text = kProgram;
  EXPECT_LOAD_ERROR(text.substr(0, text.size() / 2), kDataLoss,
                    "test.fp8prog: not a valid JSON document: ");
}

TEST(ProgramLoaderErrors, NotJson) {
  EXPECT_LOAD_ERROR("\x7f" "ELF\x02\x01", kDataLoss, "test.fp8prog: not a valid JSON document");
  EXPECT_LOAD_ERROR("[1, 2]", kDataLoss,
                    "test.fp8prog: expected a program (a JSON object), found an array "
                    "of 2 elements");
}

TEST(ProgramLoaderErrors, WrongFormat) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("format": "fp8c-program")", R"("format": "onnx")"),
                    kDataLoss,
                    "test.fp8prog: format: expected \"fp8c-program\", found string \"onnx\"");
}

TEST(ProgramLoaderErrors, WrongVersion) {
  // A newer file is refused for its version, whatever else it contains.
  std::string text = replaced(kProgram, R"("version": 6,)", R"("version": 7, "new_key": 0,)");
  EXPECT_LOAD_ERROR(text, StatusCode::kUnimplemented,
                    "test.fp8prog: version: program format version 7 is not supported by "
                    "this fp8-run (it reads version 6); recompile the model with this fp8c");
  // So is an older one (version 5: no accumulating gemms).
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("version": 6,)", R"("version": 5,)"),
                    StatusCode::kUnimplemented,
                    "test.fp8prog: version: program format version 5 is not supported by "
                    "this fp8-run (it reads version 6); recompile the model with this fp8c");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("version": 6,)", R"("version": "1",)"), kDataLoss,
                    "version: expected a 64-bit integer, found string \"1\"");
}

TEST(ProgramLoaderErrors, MissingKey) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("producer": "test",)", ""), kDataLoss,
                    "test.fp8prog: missing key \"producer\"");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("shape": [], "offset": 1792)", R"("shape": [])"),
                    kDataLoss, "test.fp8prog: buffers[7]: missing key \"offset\"");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("init": "normal", "init_std": 0.02)",
                             R"("init_std": 0.02)"),
                    kDataLoss, "buffers[2]: missing key \"init\" (a param buffer needs");
}

TEST(ProgramLoaderErrors, UnknownKey) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("fast_accum": false,)",
                             R"("fast_accum": false, "split_k": 4,)"),
                    kDataLoss,
                    "test.fp8prog: functions[0].instructions[1]: unknown key \"split_k\"");
}

TEST(ProgramLoaderErrors, BadDType) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("name": "x", "role": "input", "dtype": "bf16")",
                             R"("name": "x", "role": "input", "dtype": "bf17")"),
                    kDataLoss, "test.fp8prog: buffers[0].dtype: unknown dtype \"bf17\"");
}

TEST(ProgramLoaderErrors, OffsetNotAligned) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 256,)", R"("offset": 100,)"), kDataLoss,
                    "test.fp8prog: buffers[1].offset: 100 is not a multiple of 256");
}

TEST(ProgramLoaderErrors, BufferPastTheArenaEnd) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 1792)", R"("offset": 2048)"), kDataLoss,
                    "test.fp8prog: buffers[7].offset: the buffer's 4 bytes at offset 2048 "
                    "run past the end of the arena (arena_bytes 2048)");
}

TEST(ProgramLoaderErrors, OffsetPlusBytesOverflows) {
  // 2^64 - 256: aligned, and offset + bytes wraps around to a small number.
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 1792)",
                             R"("offset": 18446744073709551360)"),
                    kDataLoss,
                    "buffers[7].offset: the buffer's 4 bytes at offset 18446744073709551360 "
                    "run past the end of the arena");
}

TEST(ProgramLoaderErrors, OverlappingPersistentBuffers) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 1024,)", R"("offset": 512,)"), kDataLoss,
                    "test.fp8prog: buffers[4]: constant buffer \"b\" (bytes [512, 520)) "
                    "overlaps param buffer \"w\" of buffers[2] (bytes [512, 536))");
  // A scratch view over persistent bytes is refused too ...
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 768)", R"("offset": 512)"), kDataLoss,
                    "buffers[3]: scratch buffer \"\" (bytes [512, 524)) overlaps param "
                    "buffer \"w\"");
  // ... but scratch views may share bytes with each other and with outputs.
  StatusOr<Program> ok =
      parseProgram(replaced(kProgram, R"("offset": 768)", R"("offset": 1536)"), "t");
  EXPECT_TRUE(ok.ok()) << ok.status().toString();
}

// kProgram with the accumulator of "w" at 2048 and "grad.w" at `gradOffset`,
// of `gradShape`; `gradName` names the grad buffer.
std::string withGradAndAccumulator(const std::string &gradName, int gradOffset,
                                   const std::string &gradShape = "[2, 3]") {
  std::string text = replaced(kProgram, R"("arena_bytes": 2048)", R"("arena_bytes": 4096)");
  return replaced(text, R"("offset": 1792})",
                  R"("offset": 1792},
    {"name": "grad_accum.w", "role": "grad_accum", "dtype": "f32", "shape": [2, 3],
     "offset": 2048, "init": "zeros"},
    {"name": ")" + gradName +
                      R"(", "role": "grad", "dtype": "f32", "shape": )" + gradShape +
                      R"(, "offset": )" + std::to_string(gradOffset) + "}");
}

TEST(ProgramLoaderErrors, GradInItsAccumulatorsBytes) {
  // train_step's grad.w may be grad_accum.w's bytes exactly (version 5 on) ...
  StatusOr<Program> ok = parseProgram(withGradAndAccumulator("grad.w", 2048), "t");
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok.value().buffers[8].name, "grad_accum.w");
  EXPECT_EQ(ok.value().buffers[9].offset, 2048u);
  // ... or bytes of its own, as before.
  ok = parseProgram(withGradAndAccumulator("grad.w", 2304), "t");
  EXPECT_TRUE(ok.ok()) << ok.status().toString();
  // Not part of them,
  EXPECT_LOAD_ERROR(withGradAndAccumulator("grad.w", 2048, "[3, 3]"), kDataLoss,
                    "test.fp8prog: buffers[9]: grad buffer \"grad.w\" (bytes [2048, 2084)) "
                    "overlaps its accumulator \"grad_accum.w\" of buffers[8] (bytes [2048, "
                    "2072)) in part; a grad buffer shares all of its accumulator's bytes (the "
                    "same offset and size) or none of them");
  // nor another parameter's accumulator,
  EXPECT_LOAD_ERROR(withGradAndAccumulator("grad.v", 2048), kDataLoss,
                    "test.fp8prog: buffers[9]: grad buffer \"grad.v\" (bytes [2048, 2072)) "
                    "overlaps grad_accum buffer \"grad_accum.w\" of buffers[8] (bytes [2048, "
                    "2072)); persistent buffers share their bytes with no other buffer (a grad "
                    "buffer \"grad.X\" may only coincide exactly with \"grad_accum.X\", its own "
                    "parameter's accumulator)");
  // and other buffers still keep off the accumulator (and so off the grad).
  std::string scratchOnTop = replaced(withGradAndAccumulator("grad.w", 2048),
                                      R"("offset": 768})", R"("offset": 2048})");
  EXPECT_LOAD_ERROR(scratchOnTop, kDataLoss,
                    "buffers[8]: grad_accum buffer \"grad_accum.w\" (bytes [2048, 2072)) "
                    "overlaps scratch buffer \"\" of buffers[3] (bytes [2048, 2060))");
}

TEST(ProgramLoaderErrors, ValueNumberReferringForward) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("operands": [0, 1])", R"("operands": [0, 2])"),
                    kDataLoss,
                    "test.fp8prog: functions[0].instructions[0].ops[0].operands[1]: value 2 "
                    "is not defined before this op (values 0 to 1 are)");
}

TEST(ProgramLoaderErrors, YieldTypeMismatch) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("outputs": [3],)", R"("outputs": [5],)"), kDataLoss,
                    "test.fp8prog: functions[0].instructions[0].yield[0]: value 2 is "
                    "bf16[2,3], but output buffer 5 (\"out\", bf16[2,2]) is bf16[2,2]");
}

TEST(ProgramLoaderErrors, UnknownKernelOp) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("op": "train.add")", R"("op": "train.frobnicate")"),
                    StatusCode::kUnimplemented,
                    "test.fp8prog: functions[0].instructions[0].ops[0]: ");
  Status s = loadError(replaced(kProgram, R"("op": "train.add")", R"("op": "train.frobnicate")"));
  EXPECT_NE(s.message().find("train.frobnicate"), std::string::npos) << s.message();
}

TEST(ProgramLoaderErrors, GemmKMismatch) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("k": 3)", R"("k": 4)"), kDataLoss,
                    "test.fp8prog: functions[0].instructions[1].a: buffer 3 (bf16[2,3]) is "
                    "read as a [2, 3] matrix, expected [m, k] = [2, 4]");
}

TEST(ProgramLoaderErrors, GemmScaleShape) {
  EXPECT_LOAD_ERROR(
      replaced(kFp8Program, R"("name": "as", "role": "input", "dtype": "f32", "shape": [])",
               R"("name": "as", "role": "input", "dtype": "f32", "shape": [1])"),
      kDataLoss,
      "test.fp8prog: functions[0].instructions[0].a_scale: buffer 2 (\"as\", f32[1]) does "
      "not fit tensorwise scaling of a [1, 4] operand: expected f32[]");
  // Rowwise scales are [rows, 1].
  std::string rowwise = replaced(kFp8Program, R"("b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "amax_d")",
                                 R"("b_scale": 3, "a_scale_mode": "rowwise",
       "b_scale_mode": "tensorwise", "amax_d")");
  EXPECT_LOAD_ERROR(rowwise, kDataLoss,
                    "instructions[0].a_scale: buffer 2 (\"as\", f32[]) does not fit rowwise "
                    "scaling of a [1, 4] operand: expected f32[1,1]");
  // Blockwise scaling needs whole blocks.
  std::string block = replaced(kFp8Program, R"("b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "amax_d")",
                               R"("b_scale": 3, "a_scale_mode": "block_1x128",
       "b_scale_mode": "tensorwise", "amax_d")");
  EXPECT_LOAD_ERROR(block, kDataLoss,
                    "instructions[0].a_scale_mode: block_1x128 scaling needs an operand whose "
                    "stored shape is a multiple of the block, found [1, 4]");
}

TEST(ProgramLoaderErrors, Fp8GemmNotTN) {
  std::string text = replaced(kFp8Program, R"("dtype": "f8e4m3", "shape": [1, 4], "offset": 256)",
                              R"("dtype": "f8e4m3", "shape": [4, 1], "offset": 256)");
  text = replaced(text, R"("name": "f", "m": 1, "n": 1, "k": 4, "a": 0, "b": 1, "d": 5,
       "a_scale": 2, "b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "amax_d": 7, "transpose_a": false,
       "transpose_b": true)",
                  R"("name": "f", "m": 1, "n": 1, "k": 4, "a": 0, "b": 1, "d": 5,
       "a_scale": 2, "b_scale": 3, "a_scale_mode": "tensorwise",
       "b_scale_mode": "tensorwise", "amax_d": 7, "transpose_a": false,
       "transpose_b": false)");
  EXPECT_LOAD_ERROR(text, kDataLoss,
                    "test.fp8prog: functions[0].instructions[0].transpose_b: FP8 GEMMs are TN "
                    "(transpose_a false, transpose_b true), found transpose_a false, "
                    "transpose_b false");
}

TEST(ProgramLoaderErrors, Fp8GemmOperandRules) {
  // Both operands E5M2.
  std::string text = replaced(kFp8Program, R"("name": "a", "role": "input", "dtype": "f8e4m3")",
                              R"("name": "a", "role": "input", "dtype": "f8e5m2")");
  text = replaced(text, R"("name": "bt", "role": "input", "dtype": "f8e4m3")",
                  R"("name": "bt", "role": "input", "dtype": "f8e5m2")");
  EXPECT_LOAD_ERROR(text, kDataLoss,
                    "instructions[0].b: A and B are both f8e5m2: at most one operand of an "
                    "FP8 GEMM is E5M2");
  // No scales for an FP8 operand.
  EXPECT_LOAD_ERROR(replaced(kFp8Program, R"("d": 5,
       "a_scale": 2, )", R"("d": 5,
       )"),
                    kDataLoss,
                    "instructions[0]: missing key \"a_scale\" (buffer 0 (\"a\", f8e4m3[1,4]) "
                    "is FP8 and needs its scales)");
  // An FP8 D without its scale.
  EXPECT_LOAD_ERROR(replaced(kFp8Program, R"("d_scale": 4, )", ""), kDataLoss,
                    "instructions[1]: missing key \"d_scale\" (D is f8e4m3");
}

TEST(ProgramLoaderErrors, GemmBiasAndEpilogue) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("epilogue": "bias")", R"("epilogue": "gelu")"),
                    kDataLoss,
                    "instructions[1].bias: a bias needs the epilogue \"bias\" or \"bias_gelu\"");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("epilogue": "bias")", R"("epilogue": "relu")"),
                    kDataLoss,
                    "instructions[1].epilogue: expected none, bias, gelu or bias_gelu, found "
                    "string \"relu\"");
}

TEST(ProgramLoaderErrors, CopyOfADifferentSize) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("source": 5, "target": 6)",
                             R"("source": 5, "target": 7)"),
                    kDataLoss,
                    "instructions[2].target: buffer 7 (\"out.amax\", f32[]) holds 4 bytes, "
                    "the source buffer 5 (\"out\", bf16[2,2]) 8: a copy needs the same size");
}

TEST(ProgramLoaderErrors, ConstantDataCount) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("data": [0.5, -1])", R"("data": [0.5])"), kDataLoss,
                    "test.fp8prog: buffers[4].data: expected 2 elements (shape [2]), found 1");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("offset": 0},)", R"("offset": 0, "data": [1]},)"),
                    kDataLoss, "buffers[0].data: only constant buffers have data, this one "
                               "is input");
}

TEST(ProgramLoaderErrors, DuplicateNames) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("name": "out_copy")", R"("name": "out")"), kDataLoss,
                    "test.fp8prog: buffers[6].name: duplicate name \"out\" (also buffers[5])");
  // Functions too.
  std::string twice = kProgram;
  const size_t start = twice.find(R"({"name": "train_step")");
  const size_t end = twice.rfind("]}");
  const std::string function = twice.substr(start, end + 2 - start);
  twice.insert(end + 2, ", " + function);
  EXPECT_LOAD_ERROR(twice, kDataLoss,
                    "functions[1].name: function \"train_step\" is defined twice (also "
                    "functions[0])");
}

TEST(ProgramLoaderErrors, BadFunctionAndRoles) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("name": "train_step")", R"("name": "main")"),
                    kDataLoss,
                    "functions[0].name: expected train_step, eval_step, accumulate_step or "
                    "logits_step, found string \"main\"");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("inputs": [0], "outputs": [5, 6])",
                             R"("inputs": [1], "outputs": [5, 6])"),
                    kDataLoss,
                    "functions[0].inputs[0]: buffer 1 (\"c\", bf16[2,3]) has role constant, "
                    "expected input");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("source": 5,)", R"("source": 8,)"), kDataLoss,
                    "instructions[2].source: buffer index 8 is out of range (the program has "
                    "8 buffers)");
}

TEST(ProgramLoaderErrors, ShapesAndArenaBounds) {
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("shape": [2], "offset": 1024)",
                             R"("shape": [2, 0], "offset": 1024)"),
                    kDataLoss,
                    "buffers[4].shape[1]: expected a dimension (an integer >= 1), found "
                    "number 0");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("shape": [2], "offset": 1024)",
                             R"("shape": [1,1,1,1,1,1,1,1,2], "offset": 1024)"),
                    kDataLoss,
                    "buffers[4].shape: a tensor has at most 8 dimensions, found 9");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("shape": [2], "offset": 1024)",
                             R"("shape": [4294967296, 4294967296], "offset": 1024)"),
                    kDataLoss,
                    "buffers[4].shape: [4294967296, 4294967296] of f32 would exceed "
                    "1099511627776 bytes");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("arena_bytes": 2048)",
                             R"("arena_bytes": 2199023255808)"),
                    kDataLoss,
                    "arena_bytes: expected an integer in [0, 1099511627776], found number "
                    "2199023255808");
  EXPECT_LOAD_ERROR(replaced(kProgram, R"("arena_bytes": 2048)", R"("arena_bytes": 2000)"),
                    kDataLoss, "arena_bytes: 2000 is not a multiple of 256");
}

} // namespace
