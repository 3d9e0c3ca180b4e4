//===- BackendZeroTest.cpp - Backend::zero clears a buffer in place -------===//
//
// The trainer zeroes the gradient accumulators before every optimizer step with
// Backend::zero (docs/runtime.md): the CPU backend with memset, the CUDA one with
// cudaMemsetAsync, any other backend by writing zeros. Checked against the bytes
// written before: the buffer is all zero, its neighbours untouched, and the size
// is checked like write()'s.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace fp8rt;

namespace {

const char *const kProgram = R"({
  "format": "fp8c-program", "version": VERSION, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 2, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid"},
  "config": {},
  "arena_bytes": 768,
  "buffers": [
    {"name": "w", "role": "param", "dtype": "f32", "shape": [4], "offset": 0, "init": "zeros"},
    {"name": "grad_accum.w", "role": "grad_accum", "dtype": "f32", "shape": [4], "offset": 256,
     "init": "zeros"},
    {"name": "x", "role": "input", "dtype": "f32", "shape": [4], "offset": 512}
  ],
  "functions": [
    {"name": "train_step", "inputs": [2], "outputs": [], "instructions": [
      {"kind": "copy", "source": 2, "target": 1}
    ]}
  ]
})";

StatusOr<Program> loadTestProgram() {
  std::string text = kProgram;
  text.replace(text.find("VERSION"), 7, std::to_string(Program::kVersion));
  return parseProgram(text, "zero.fp8prog");
}

} // namespace

TEST(BackendZero, ClearsOneBufferOnTheCpuBackend) {
  StatusOr<Program> p = loadTestProgram();
  ASSERT_TRUE(p.ok()) << p.status().toString();
  std::unique_ptr<Backend> backend = createCpuBackend();
  ASSERT_TRUE(backend->load(*p).ok());
  const float w[4] = {1, 2, 3, 4}, acc[4] = {-1, 0.5f, 7, 1e30f}, x[4] = {9, 8, 7, 6};
  ASSERT_TRUE(backend->write(0, w, sizeof w).ok());
  ASSERT_TRUE(backend->write(1, acc, sizeof acc).ok());
  ASSERT_TRUE(backend->write(2, x, sizeof x).ok());

  Status zeroed = backend->zero(1, sizeof acc);
  ASSERT_TRUE(zeroed.ok()) << zeroed.toString();
  float got[4];
  ASSERT_TRUE(backend->read(1, got, sizeof got).ok());
  for (float v : got)
    EXPECT_EQ(v, 0.0f);
  ASSERT_TRUE(backend->read(0, got, sizeof got).ok());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(got[i], w[i]) << i;
  ASSERT_TRUE(backend->read(2, got, sizeof got).ok());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(got[i], x[i]) << i;

  Status bad = backend->zero(1, 8);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("8 bytes given, the buffer holds 16"), std::string::npos)
      << bad.message();
  EXPECT_FALSE(backend->zero(3, 16).ok()); // no such buffer
}
