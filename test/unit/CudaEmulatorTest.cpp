//===- CudaEmulatorTest.cpp - generated CUDA kernels run on the CPU -------===//
//
// The host emulator (fp8rt/cuda/HostEmulator.h) runs the CUDA C++ that the
// kernel generator writes, so the GPU test's checks (BackendComparison.h)
// run here without a GPU: every train_step instruction of the example
// programs against the CPU backend's interpreter, and a gpt-tiny training
// run. Before that, the emulator itself is checked on hand-written kernels
// whose results follow from CUDA's semantics (barriers, shuffles, shared
// memory, launch limits).
//
//===----------------------------------------------------------------------===//

#include "BackendComparison.h"

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/cuda/HostEmulator.h"

#include "../../runtime/src/cuda/emu/HostShim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace fp8rt;
using namespace fp8rt::cuda;

// ---- the shared-declaration rewrite ------------------------------------

TEST(CudaEmulatorShim, RewritesStaticAndExternSharedArrays) {
  const std::string source = "__device__ void f() {\n"
                             "  __shared__ float tile[32][33];\n"
                             "  extern __shared__ float shared[];\n"
                             "  __shared__ i64 ids[1024];\n"
                             "  int not__shared__x = 0;\n"
                             "  // __shared__ in a comment, /* __shared__ */ in another,\n"
                             "  const char *s = \"__shared__ \\\" __shared__\";\n"
                             "}\n";
  std::string out, error;
  ASSERT_TRUE(emu::rewriteSharedDeclarations(source, out, error)) << error;
  EXPECT_NE(out.find("float (&tile)[32][33] = *reinterpret_cast<float (*)[32][33]>("
                     "fp8emuState->sharedArray(fp8emuState->scheduler, 0, "
                     "sizeof(float[32][33])));"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("float *shared = reinterpret_cast<float *>(fp8emuState->dynamicShared);"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sharedArray(fp8emuState->scheduler, 1, sizeof(i64[1024]))"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("int not__shared__x = 0;"), std::string::npos) << out;
  EXPECT_NE(out.find("  // __shared__ in a comment, /* __shared__ */ in another,\n"
                     "  const char *s = \"__shared__ \\\" __shared__\";"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("extern"), std::string::npos) << out;
}

TEST(CudaEmulatorShim, RefusesWhatItCannotRewrite) {
  std::string out, error;
  EXPECT_FALSE(emu::rewriteSharedDeclarations("void f() {\n  __shared__ float x;\n}\n", out,
                                              error));
  EXPECT_EQ(error, "line 2: a __shared__ declaration that is not an array: float x");
  EXPECT_FALSE(emu::rewriteSharedDeclarations("extern __shared__ float s[4];", out, error));
  EXPECT_EQ(error, "line 1: an extern __shared__ array with a size: float s[4]");
}

// ---- the scheduler on hand-written kernels -------------------------------

GeneratedKernel handWritten(const std::string &name, const std::string &body,
                            std::vector<Launch> launches) {
  GeneratedKernel k;
  k.name = name;
  k.body = body;
  k.source = cudaPrelude() + body;
  k.launches = std::move(launches);
  return k;
}

Launch launch(const std::string &entry, uint32_t grid, uint32_t bx, uint32_t by = 1,
              uint32_t shared = 0) {
  Launch l;
  l.entry = entry;
  l.grid[0] = grid;
  l.block[0] = bx;
  l.block[1] = by;
  l.sharedBytes = shared;
  return l;
}

std::unique_ptr<HostKernelModule> compileOrFail(const std::vector<GeneratedKernel> &kernels,
                                                uint64_t seed = 0) {
  HostEmulatorOptions options;
  options.schedulingSeed = seed;
  StatusOr<std::unique_ptr<HostKernelModule>> m = HostKernelModule::compile(kernels, options);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

// A block sum through the prelude's blockSumD (shuffles, a static shared
// array, two barriers), a dynamic-shared reversal (each thread reads what
// another wrote before the barrier), and a grid-stride copy with 2-D blocks.
const char *kSemanticsBody = R"(
extern "C" __global__ void emu_block_sum(u8 *arena, u8 *scratch, const i64 *off) {
  const double v = double(blockIdx.x * 1000 + threadIdx.x);
  const double sum = fp8rt::blockSumD(v);
  if (threadIdx.x == 7) reinterpret_cast<double *>(arena)[blockIdx.x] = sum;
}
extern "C" __global__ void emu_reverse(u8 *arena, u8 *scratch, const i64 *off) {
  extern __shared__ int buffer[];
  buffer[threadIdx.x] = int(threadIdx.x) * 3;
  __syncthreads();
  reinterpret_cast<int *>(arena + 1024)[threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}
extern "C" __global__ void emu_index_2d(u8 *arena, u8 *scratch, const i64 *off) {
  const unsigned t = threadIdx.y * blockDim.x + threadIdx.x;
  for (unsigned i = blockIdx.x * blockDim.x * blockDim.y + t; i < 1000;
       i += gridDim.x * blockDim.x * blockDim.y)
    reinterpret_cast<unsigned *>(arena + 4096)[i] = i * 7 + 1;
}
)";

TEST(CudaEmulatorScheduler, BarriersShufflesAndSharedMemoryFollowCuda) {
  for (uint64_t seed : {0ull, 12345ull}) {
    const std::vector<GeneratedKernel> kernels = {
        handWritten("sum", kSemanticsBody, {launch("emu_block_sum", 3, 256)}),
        handWritten("reverse", kSemanticsBody, {launch("emu_reverse", 1, 128, 1, 128 * 4)}),
        handWritten("index", kSemanticsBody, {launch("emu_index_2d", 3, 32, 4)})};
    std::unique_ptr<HostKernelModule> m = compileOrFail(kernels, seed);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->stats().sources, 1); // one body, shared by the three kernels
    std::vector<uint8_t> arena(8192, 0);
    for (const GeneratedKernel &k : kernels) {
      Status s = m->run(k, arena.data(), nullptr);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    for (int b = 0; b < 3; ++b) {
      double sum;
      std::memcpy(&sum, &arena[size_t(b) * 8], 8);
      // sum over t < 256 of (1000 b + t)
      EXPECT_EQ(sum, 256.0 * 1000 * b + 255.0 * 256 / 2) << "block " << b << ", seed " << seed;
    }
    for (int t = 0; t < 128; ++t) {
      int v;
      std::memcpy(&v, &arena[1024 + size_t(t) * 4], 4);
      EXPECT_EQ(v, (127 - t) * 3) << "thread " << t;
    }
    for (unsigned i = 0; i < 1000; ++i) {
      unsigned v;
      std::memcpy(&v, &arena[4096 + size_t(i) * 4], 4);
      ASSERT_EQ(v, i * 7 + 1) << "element " << i;
    }
  }
}

TEST(CudaEmulatorScheduler, UnwrittenSharedMemoryReadsAsNaN) {
  // Thread 0 reads its neighbour's slot without a barrier in between: on a
  // GPU that is a race; here the neighbour has not run yet, and the slot
  // holds the unwritten pattern.
  const char *body = R"(
extern "C" __global__ void emu_racy(u8 *arena, u8 *scratch, const i64 *off) {
  __shared__ float slots[64];
  slots[threadIdx.x] = 1.0f;
  if (threadIdx.x == 0) reinterpret_cast<float *>(arena)[0] = slots[1];
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("racy", body, {launch("emu_racy", 1, 64)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  std::vector<uint8_t> arena(64, 0);
  ASSERT_TRUE(m->run(kernels[0], arena.data(), nullptr).ok());
  uint32_t bits;
  std::memcpy(&bits, arena.data(), 4);
  EXPECT_EQ(bits, 0xFFFFFFFFu);
}

TEST(CudaEmulatorScheduler, ReportsDivergentBarriersAndBadLaunches) {
  const char *body = R"(
extern "C" __global__ void emu_divergent(u8 *arena, u8 *scratch, const i64 *off) {
  if (threadIdx.x < 16) { __syncthreads(); }
  else { int v = __shfl_xor_sync(0xFFFFFFFFu, int(threadIdx.x), 1); arena[threadIdx.x] = u8(v); }
}
extern "C" __global__ void emu_exited_lane(u8 *arena, u8 *scratch, const i64 *off) {
  if (threadIdx.x == 3) return;
  int v = __shfl_xor_sync(0xFFFFFFFFu, int(threadIdx.x), 1);
  arena[threadIdx.x] = u8(v);
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("divergent", body, {launch("emu_divergent", 1, 64)}),
      handWritten("exited", body, {launch("emu_exited_lane", 1, 32)}),
      handWritten("too_big", body, {launch("emu_exited_lane", 1, 2048)}),
      handWritten("too_much_shared", body, {launch("emu_exited_lane", 1, 32, 1, 100 * 1024)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  std::vector<uint8_t> arena(64, 0);
  Status s = m->run(kernels[0], arena.data(), nullptr);
  EXPECT_NE(s.message().find("emu_divergent, block (0,0,0): divergent barrier: threads [0 1 2"),
            std::string::npos)
      << s.message();
  s = m->run(kernels[1], arena.data(), nullptr);
  EXPECT_NE(s.message().find("thread (2,0,0): __shfl_xor_sync reads lane 3, which has exited"),
            std::string::npos)
      << s.message();
  s = m->run(kernels[2], arena.data(), nullptr);
  EXPECT_NE(s.message().find("blocks (2048,1,1) is not a valid launch"), std::string::npos)
      << s.message();
  s = m->run(kernels[3], arena.data(), nullptr);
  EXPECT_NE(s.message().find("102400 bytes of dynamic shared memory"), std::string::npos)
      << s.message();
}

TEST(CudaEmulatorSchedulerDeathTest, AFaultNamesTheLaunchBlockAndThread) {
  const char *body = R"(
extern "C" __global__ void emu_wild(u8 *arena, u8 *scratch, const i64 *off) {
  if (blockIdx.x == 1 && threadIdx.x == 5) reinterpret_cast<int *>(16)[0] = 1;
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("wild", body, {launch("emu_wild", 2, 32)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  EXPECT_DEATH((void)m->run(kernels[0], nullptr, nullptr),
               "SIGSEGV in emu_wild, block \\(1,0,0\\) thread \\(5,0,0\\)");
}

TEST(CudaEmulatorScheduler, CompileErrorsShowTheCompilerOutput) {
  const std::vector<GeneratedKernel> kernels = {handWritten(
      "broken", "extern \"C\" __global__ void emu_broken(u8 *arena, u8 *scratch, const i64 *off) { nope; }\n",
      {launch("emu_broken", 1, 32)})};
  StatusOr<std::unique_ptr<HostKernelModule>> m = HostKernelModule::compile(kernels);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("do not compile for the host"), std::string::npos);
  EXPECT_NE(m.status().message().find("nope"), std::string::npos) << m.status().message();
  // The source is kept for the reader of the message; the test then removes it.
  const std::string &message = m.status().message();
  const size_t from = message.find("failed on "), to = message.find(" (kept)");
  ASSERT_NE(from, std::string::npos) << message;
  ASSERT_NE(to, std::string::npos) << message;
  const std::filesystem::path kept = message.substr(from + 10, to - from - 10);
  EXPECT_TRUE(std::filesystem::exists(kept)) << kept;
  std::filesystem::remove_all(kept.parent_path());
}

TEST(CudaEmulatorPrelude, BlockReductionsGiveEveryThreadTheResult) {
  // The cross-entropy kernels use the block max and sum in every thread; the
  // reductions once left all warps but the first with the identity.
  const char *body = R"(
extern "C" __global__ void emu_reductions(u8 *arena, u8 *scratch, const i64 *off) {
  using namespace fp8rt;
  float *out = reinterpret_cast<float *>(arena);
  const unsigned t = threadIdx.x;
  out[t] = blockMaxF(float((t * 37u) % 251u));
  out[256 + t] = blockSumF(float(t % 5u));
  reinterpret_cast<double *>(arena + 2048)[t] = blockSumD(double(t));
  reinterpret_cast<unsigned *>(arena + 4096)[t] = blockMaxU32((t * 91u) % 263u);
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("reductions", body, {launch("emu_reductions", 1, 256)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  std::vector<uint8_t> arena(5120, 0);
  ASSERT_TRUE(m->run(kernels[0], arena.data(), nullptr).ok());
  // The expected values, from the definitions above.
  float maxF = 0, sumF = 0;
  double sumD = 0;
  unsigned maxU = 0;
  for (unsigned t = 0; t < 256; ++t) {
    maxF = std::max(maxF, float((t * 37u) % 251u));
    sumF += float(t % 5u); // small integers: exact in any order
    sumD += double(t);
    maxU = std::max(maxU, (t * 91u) % 263u);
  }
  for (unsigned t = 0; t < 256; ++t) {
    float f;
    double d;
    unsigned u;
    std::memcpy(&f, &arena[t * 4], 4);
    EXPECT_EQ(f, maxF) << "blockMaxF, thread " << t;
    std::memcpy(&f, &arena[1024 + t * 4], 4);
    EXPECT_EQ(f, sumF) << "blockSumF, thread " << t;
    std::memcpy(&d, &arena[2048 + t * 8], 8);
    EXPECT_EQ(d, sumD) << "blockSumD, thread " << t;
    std::memcpy(&u, &arena[4096 + t * 4], 4);
    EXPECT_EQ(u, maxU) << "blockMaxU32, thread " << t;
  }
}

// ---- tensor cores: mma.sync m16n8k16 bf16 against the PTX ISA's layout ----

// One warp loads A (16x16 bf16, row-major), B (16x8, stored as Bt[n][k]) and
// C (16x8 f32) into fragments by the documented layout (groupID = lane >> 2,
// tig = lane % 4; docs/cuda-backend.md), runs fp8rt::mmaBf16 and stores D by
// the accumulator layout. Results that follow from the layout alone: A = I
// gives B + C, B a permutation gives A's columns permuted + C.
const char *kMmaBody = R"(
extern "C" __global__ void emu_mma(u8 *arena, u8 *scratch, const i64 *off) {
  using namespace fp8rt;
  const u16 *A = reinterpret_cast<const u16 *>(arena);
  const u16 *Bt = reinterpret_cast<const u16 *>(arena + 512);
  const float *C = reinterpret_cast<const float *>(arena + 1024);
  float *D = reinterpret_cast<float *>(arena + 2048);
  const unsigned lane = threadIdx.x & 31u, g = lane >> 2, t = lane & 3u;
  u32 a[4], b[2];
  float d[4];
  for (unsigned r = 0; r < 4; ++r) { // a_{2r}, a_{2r+1}
    const unsigned row = g + 8 * (r & 1u), col = 2 * t + 8 * (r >> 1);
    a[r] = u32(A[row * 16 + col]) | (u32(A[row * 16 + col + 1]) << 16);
  }
  for (unsigned r = 0; r < 2; ++r) { // b_{2r}, b_{2r+1}: rows k, k + 1 of column g
    const unsigned k = 2 * t + 8 * r;
    b[r] = u32(Bt[g * 16 + k]) | (u32(Bt[g * 16 + k + 1]) << 16);
  }
  for (unsigned i = 0; i < 4; ++i) d[i] = C[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1u)];
  mmaBf16(d, a, b);
  for (unsigned i = 0; i < 4; ++i) D[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1u)] = d[i];
}
)";

uint16_t bf16Bits(float x) { // x exactly representable in bf16
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return uint16_t(u >> 16);
}
float bf16Value(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

struct MmaCase {
  float A[16][16], B[16][8], C[16][8], D[16][8];
};

/// Runs emu_mma on `c` (A, B, C in; D out).
void runMma(HostKernelModule &m, const GeneratedKernel &k, MmaCase &c) {
  std::vector<uint8_t> arena(2560, 0);
  for (int r = 0; r < 16; ++r)
    for (int q = 0; q < 16; ++q) {
      const uint16_t v = bf16Bits(c.A[r][q]);
      std::memcpy(&arena[size_t(r * 16 + q) * 2], &v, 2);
    }
  for (int kk = 0; kk < 16; ++kk)
    for (int n = 0; n < 8; ++n) {
      const uint16_t v = bf16Bits(c.B[kk][n]);
      std::memcpy(&arena[512 + size_t(n * 16 + kk) * 2], &v, 2);
    }
  std::memcpy(&arena[1024], c.C, sizeof(c.C));
  Status s = m.run(k, arena.data(), nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  std::memcpy(c.D, &arena[2048], sizeof(c.D));
}

/// A bf16 value from a small generator (a few significant bits, both signs).
float smallBf16(uint32_t &state) {
  state = state * 1664525u + 1013904223u;
  return bf16Value(bf16Bits(float(int((state >> 20) % 255) - 127) / 32.0f));
}

TEST(CudaEmulatorTensorCores, MmaFollowsThePtxFragmentLayout) {
  const std::vector<GeneratedKernel> kernels = {handWritten("mma", kMmaBody, {launch("emu_mma", 1, 32)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  uint32_t state = 7;
  MmaCase c{};
  // A = I, C = 0: D = B, so every B and D element went where the layout says.
  for (int r = 0; r < 16; ++r)
    c.A[r][r] = 1.0f;
  for (int kk = 0; kk < 16; ++kk)
    for (int n = 0; n < 8; ++n)
      c.B[kk][n] = smallBf16(state);
  runMma(*m, kernels[0], c);
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n)
      EXPECT_EQ(c.D[r][n], c.B[r][n]) << "identity A: row " << r << " col " << n;
  // B a permutation (column n picks row perm[n]), C random: D = A[:, perm] + C.
  const int perm[8] = {5, 12, 0, 9, 15, 3, 8, 6};
  for (int r = 0; r < 16; ++r) {
    for (int q = 0; q < 16; ++q)
      c.A[r][q] = smallBf16(state);
    for (int n = 0; n < 8; ++n)
      c.C[r][n] = float(r * 8 + n) / 64.0f;
  }
  for (int kk = 0; kk < 16; ++kk)
    for (int n = 0; n < 8; ++n)
      c.B[kk][n] = kk == perm[n] ? 1.0f : 0.0f;
  runMma(*m, kernels[0], c);
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n)
      EXPECT_EQ(c.D[r][n], c.A[r][perm[n]] + c.C[r][n]) << "permutation B: row " << r << " col " << n;
  // Random A, B, C against a double reference: the products are exact, only
  // the f32 sum rounds (16 additions).
  for (int kk = 0; kk < 16; ++kk)
    for (int n = 0; n < 8; ++n)
      c.B[kk][n] = bf16Value(bf16Bits(smallBf16(state) * 3.0f)); // truncated to bf16
  runMma(*m, kernels[0], c);
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) {
      double ref = c.C[r][n], mag = std::fabs(c.C[r][n]);
      for (int kk = 0; kk < 16; ++kk) {
        ref += double(c.A[r][kk]) * double(c.B[kk][n]);
        mag += std::fabs(double(c.A[r][kk]) * double(c.B[kk][n]));
      }
      EXPECT_NEAR(c.D[r][n], ref, 17 * mag * 0x1p-24) << "random: row " << r << " col " << n;
    }
}

TEST(CudaEmulatorTensorCores, MmaNeedsTheWholeWarp) {
  const char *body = R"(
extern "C" __global__ void emu_mma_half_warp(u8 *arena, u8 *scratch, const i64 *off) {
  u32 a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float d[4] = {0, 0, 0, 0};
  fp8rt::mmaBf16(d, a, b);
}
extern "C" __global__ void emu_mma_lane_exits(u8 *arena, u8 *scratch, const i64 *off) {
  if (threadIdx.x == 3) return;
  u32 a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float d[4] = {0, 0, 0, 0};
  fp8rt::mmaBf16(d, a, b);
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("half", body, {launch("emu_mma_half_warp", 1, 16)}),
      handWritten("exits", body, {launch("emu_mma_lane_exits", 1, 32)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  std::vector<uint8_t> arena(64, 0);
  Status s = m->run(kernels[0], arena.data(), nullptr);
  EXPECT_NE(s.message().find("in a warp of 16 threads (all 32 must take part)"), std::string::npos)
      << s.message();
  s = m->run(kernels[1], arena.data(), nullptr);
  EXPECT_NE(s.message().find("lane 3 has exited while its warp executes a tensor-core instruction"),
            std::string::npos)
      << s.message();
}

TEST(CudaEmulatorTensorCores, CpAsyncCopiesLandAtTheWaitThatCompletesTheirGroup) {
  // Thread t copies 16 bytes of group 0 and 16 of group 1 into shared memory
  // and records what it sees before any wait, after wait_group 1 (group 0
  // done, group 1 in flight) and after wait_group 0.
  const char *body = R"(
extern "C" __global__ void emu_cp_async(u8 *arena, u8 *scratch, const i64 *off) {
  using namespace fp8rt;
  __shared__ uint4 buffer[64];
  const unsigned t = threadIdx.x;
  const uint4 *src = reinterpret_cast<const uint4 *>(arena);
  u32 *seen = reinterpret_cast<u32 *>(arena + 1024) + 6 * t;
  cpAsync16(&buffer[t], &src[t]);
  cpAsyncCommit();
  cpAsync16(&buffer[32 + t], &src[32 + t]);
  cpAsyncCommit();
  seen[0] = buffer[t].x;
  seen[1] = buffer[32 + t].x;
  cpAsyncWait<1>();
  seen[2] = buffer[t].x;
  seen[3] = buffer[32 + t].x;
  cpAsyncWait<0>();
  seen[4] = buffer[t].x;
  seen[5] = buffer[32 + t].x;
}
)";
  const std::vector<GeneratedKernel> kernels = {
      handWritten("cp_async", body, {launch("emu_cp_async", 1, 32)})};
  std::unique_ptr<HostKernelModule> m = compileOrFail(kernels);
  ASSERT_TRUE(m);
  std::vector<uint8_t> arena(1024 + 32 * 6 * 4, 0);
  for (uint32_t i = 0; i < 256; ++i) {
    const uint32_t v = 1000 + i;
    std::memcpy(&arena[i * 4], &v, 4);
  }
  ASSERT_TRUE(m->run(kernels[0], arena.data(), nullptr).ok());
  for (uint32_t t = 0; t < 32; ++t) {
    uint32_t seen[6];
    std::memcpy(seen, &arena[1024 + t * 24], 24);
    const uint32_t mine = 1000 + 4 * t, later = 1000 + 4 * (32 + t), unwritten = 0xFFFFFFFFu;
    EXPECT_EQ(seen[0], unwritten) << t;
    EXPECT_EQ(seen[1], unwritten) << t;
    EXPECT_EQ(seen[2], mine) << t;
    EXPECT_EQ(seen[3], unwritten) << t;
    EXPECT_EQ(seen[4], mine) << t;
    EXPECT_EQ(seen[5], later) << t;
  }
}

// ---- the generated kernels of the examples against the CPU backend ------

using fp8c::testing::compareInstructions;

std::string readSourceFile(const std::string &relative) {
  std::ifstream in(std::string(FP8C_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// `yaml` with each `from` replaced by its `to` (each must be there).
std::string edited(std::string yaml,
                   std::initializer_list<std::pair<std::string, std::string>> edits) {
  for (const auto &[from, to] : edits) {
    const size_t at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      yaml.replace(at, from.size(), to);
  }
  return yaml;
}

/// `yaml` compiled in-process as `fp8c MODEL -o FILE` does.
Program compileForTest(const std::string &yaml) {
  std::optional<std::string> program = fp8c::compileModelToProgram(yaml, "model.yaml");
  EXPECT_TRUE(program.has_value());
  StatusOr<Program> p = parseProgram(program.value_or(""), "model.fp8prog");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(*p) : Program();
}

std::unique_ptr<Backend> emulator() { return createCudaEmulatorBackend(); }
std::unique_ptr<Backend> seededEmulator() {
  HostEmulatorOptions options;
  options.schedulingSeed = 20261123;
  return createCudaEmulatorBackend(options);
}

std::string example(const char *name) { return readSourceFile(std::string("examples/") + name); }
std::string gptTiny(const std::string &recipe) {
  return edited(example("gpt-tiny.yaml"), {{"recipe: tensorwise", "recipe: " + recipe}});
}

TEST(CudaEmulatorVsCpu, Mlp) {
  compareInstructions(compileForTest(example("mlp.yaml")), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, GptTinyTensorwise) {
  compareInstructions(compileForTest(example("gpt-tiny.yaml")), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, GptTinyRowwise) {
  compareInstructions(compileForTest(gptTiny("rowwise")), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, GptTinyBlockwise) {
  compareInstructions(compileForTest(gptTiny("blockwise")), emulator,
                      "emulator");
}
TEST(CudaEmulatorVsCpu, GptTinyDelayedWithPermutedScheduling) {
  compareInstructions(compileForTest(gptTiny("delayed")), seededEmulator,
                      "emulator (permuted blocks and threads)");
}
TEST(CudaEmulatorVsCpu, LlamaTiny) {
  compareInstructions(compileForTest(readSourceFile("test/e2e/Inputs/llama-d64.yaml")), emulator,
                      "emulator");
}
/// gpt-tiny with the shapes of the large examples' awkward cases: an odd
/// vocabulary (scalar paths, rows that are no multiple of the block), a
/// sequence that is no power of two, 3 heads, and gradient accumulation
/// (accumulate_step and train_step differ).
std::string oddShapes() {
  return edited(example("gpt-tiny.yaml"), {{"vocab_size: 256", "vocab_size: 301"},
                                           {"seq_len: 64", "seq_len: 40"},
                                           {"d_model: 128", "d_model: 96"},
                                           {"n_heads: 4", "n_heads: 3"},
                                           {"grad_accum_steps: 1", "grad_accum_steps: 2"}});
}
TEST(CudaEmulatorVsCpu, OddShapesTrainStep) {
  compareInstructions(compileForTest(oddShapes()), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, OddShapesAccumulateStep) {
  compareInstructions(compileForTest(oddShapes()), emulator, "emulator", "accumulate_step");
}
/// gpt2-small's shapes (seq 1024, vocabulary 50304, width 768, 12 heads of
/// 64) with one layer and one sequence, so that the CPU backend runs it: the
/// launch shapes, shared memory and index ranges of the real example.
std::string gpt2SmallOneLayer() {
  return edited(example("gpt2-small.yaml"), {{"n_layers: 12 ", "n_layers: 1 "},
                                             {"batch_size: 12 ", "batch_size: 1 "},
                                             {"grad_accum_steps: 40 ", "grad_accum_steps: 1 "}});
}
TEST(CudaEmulatorVsCpu, Gpt2SmallShapesOneLayer) {
  compareInstructions(compileForTest(gpt2SmallOneLayer()), emulator, "emulator");
}
/// The tiny llama with the head dims of the tensor-core attention (64, 128),
/// grouped-query attention (8 heads over 2, 4 over 1), RoPE, and a sequence
/// of 80 (a full 64-row tile and a partial one).
std::string llamaHeads(int dModel, int heads, int kvHeads) {
  return edited(readSourceFile("test/e2e/Inputs/llama-d64.yaml"),
                {{"seq_len: 32", "seq_len: 80"},
                 {"d_model: 64", "d_model: " + std::to_string(dModel)},
                 {"n_layers: 2", "n_layers: 1"},
                 {"n_heads: 4", "n_heads: " + std::to_string(heads)},
                 {"n_kv_heads: 2", "n_kv_heads: " + std::to_string(kvHeads)},
                 {"batch_size: 8", "batch_size: 2"}});
}
TEST(CudaEmulatorVsCpu, LlamaHead64Gqa8Over2) {
  compareInstructions(compileForTest(llamaHeads(512, 8, 2)), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, LlamaHead128Gqa4Over1) {
  compareInstructions(compileForTest(llamaHeads(512, 4, 1)), emulator, "emulator");
}
TEST(CudaEmulatorVsCpu, GptTinyLossTrajectory) {
  fp8c::testing::compareTraining(compileForTest(example("gpt-tiny.yaml")), emulator, 40,
                                 "emulator");
}
/// gpt-tiny with 2 heads of 64: trains through the tensor-core attention
/// (forward and backward) rather than the per-row kernels of head dim 32.
TEST(CudaEmulatorVsCpu, GptTinyHead64LossTrajectory) {
  fp8c::testing::compareTraining(
      compileForTest(edited(example("gpt-tiny.yaml"), {{"n_heads: 4 ", "n_heads: 2 "}})),
      emulator, 40, "emulator");
}

} // namespace
