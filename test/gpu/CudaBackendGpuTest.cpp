//===- CudaBackendGpuTest.cpp - the CUDA backend against the CPU backend ===//
//
// Needs a GPU: exits 77 (ctest: skipped) when cudaGetDeviceCount finds none.
//
// 1. Instruction by instruction, and 2. gpt-tiny's loss over 40 steps, on
//    the CUDA backend against the CPU backend: test/common/BackendComparison.h
//    states the checks and tolerances (the host emulator test runs the same
//    checks on the generated kernels without a GPU).
// 3. gpt2-small and llama-1b (too large for the CPU backend) run one
//    train_step on the GPU: the loss at initialisation is ln(vocab) +- 0.5.
//
// The programs are compiled at build time (test/gpu/CMakeLists.txt) into
// programs/ beside this binary, so that it links the runtime only and runs
// on a GPU machine without MLIR: copy the binary and programs/ over.
// $FP8C_GPU_TEST_PROGRAMS names another folder.
//
//===----------------------------------------------------------------------===//

#include "BackendComparison.h"

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/cuda/CudaBackend.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace {

using namespace fp8rt;
using namespace fp8rt::cuda;
using fp8c::testing::compareInstructions;

std::unique_ptr<Backend> cudaBackend() {
  StatusOr<std::unique_ptr<Backend>> b = createCudaBackend();
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(*b) : nullptr;
}

/// programs/NAME.fp8prog beside this binary (or in $FP8C_GPU_TEST_PROGRAMS).
Program program(const std::string &name) {
  std::string dir;
  if (const char *env = std::getenv("FP8C_GPU_TEST_PROGRAMS"); env && *env) {
    dir = env;
  } else {
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string exe = n > 0 ? std::string(self, size_t(n)) : std::string(".");
    dir = exe.substr(0, exe.find_last_of('/')) + "/programs";
  }
  return fp8c::testing::loadProgramForTest(dir + "/" + name + ".fp8prog");
}

void compareWithGpu(const Program &p) { compareInstructions(p, cudaBackend, "gpu"); }

TEST(CudaVsCpuInstructions, Mlp) { compareWithGpu(program("mlp")); }
TEST(CudaVsCpuInstructions, GptTinyTensorwise) {
  compareWithGpu(program("gpt-tiny"));
}
TEST(CudaVsCpuInstructions, GptTinyRowwise) {
  compareWithGpu(program("gpt-tiny-rowwise"));
}
TEST(CudaVsCpuInstructions, GptTinyBlockwise) {
  compareWithGpu(program("gpt-tiny-blockwise"));
}
TEST(CudaVsCpuInstructions, GptTinyDelayed) {
  compareWithGpu(program("gpt-tiny-delayed"));
}
TEST(CudaVsCpuInstructions, LlamaTiny) {
  compareWithGpu(program("llama-d64"));
}

TEST(CudaVsCpuTraining, GptTinyLossTrajectory) {
  fp8c::testing::compareTraining(program("gpt-tiny"), cudaBackend, 40, "gpu");
}

/// Part 3: a large example, one step on the GPU only.
void initialLossIsLnVocab(const char *file) {
  const Program p = program(file);
  std::unique_ptr<Backend> gpu = cudaBackend();
  ASSERT_TRUE(gpu);
  Status s = gpu->load(p);
  ASSERT_TRUE(s.ok()) << s.message();
  fp8c::testing::initialiseBuffers(p, {gpu.get()}, 11);
  const Function *step = p.function("train_step");
  s = gpu->run(*step);
  ASSERT_TRUE(s.ok()) << s.message();
  const int64_t loss = p.findBuffer("loss", BufferRole::Output);
  ASSERT_GE(loss, 0);
  float value = 0;
  ASSERT_TRUE(gpu->read(uint32_t(loss), &value, 4).ok());
  EXPECT_NEAR(value, std::log(double(p.info.vocabSize)), 0.5) << file;
  if (const CudaLoadStats *stats = cudaLoadStats(*gpu))
    std::printf("  %s: loss %.4f, %d kernels (%d sources, %d compiled in %.1f s, %d cached)\n",
                file, value, stats->kernels, stats->uniqueSources, stats->compiled,
                stats->compileSeconds, stats->cacheHits);
}

TEST(CudaLargeExamples, Gpt2SmallOneStep) { initialLossIsLnVocab("gpt2-small"); }
TEST(CudaLargeExamples, Llama1bOneStep) { initialLossIsLnVocab("llama-1b"); }

} // namespace

int main(int argc, char **argv) {
  StatusOr<CudaDeviceInfo> device = probeCudaDevice();
  if (!device.ok()) {
    std::printf("skipped: %s\n", device.status().message().c_str());
    return 77; // ctest SKIP_RETURN_CODE
  }
  std::printf("GPU: %s (compute capability %d.%d)\n", device->name.c_str(), device->major,
              device->minor);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
