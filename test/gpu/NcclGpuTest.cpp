//===- NcclGpuTest.cpp - the CUDA backend's collectives over NCCL ---------===//
//
// Needs a GPU and NCCL: exits 77 (ctest: skipped) when cudaGetDeviceCount
// finds no GPU or libnccl.so.2 cannot be loaded.
// World size 1 on one GPU (docs/distributed.md, "NCCL"): an NCCL communicator
// bootstrapped by the single-process communicator; all_reduce instructions
// (avg, sum, max) run by the CUDA backend through it give what the CPU
// backend gives (over one rank each is the value itself: bit-identical), on
// the captured graph's first run and on its replay; the communicator's
// reduce-scatter and all-gather on device buffers; and the backend without a
// communicator refuses the program with a message that says what to do.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/comm/NcclCommunicator.h"
#include "fp8rt/cuda/CudaBackend.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using namespace fp8rt;

constexpr int kCount = 1000;

/// `text` with VERSION the loader's format version: this file runs only where a
/// GPU is (it exits 77 in CI), so a version written out here would go stale
/// unseen at the next format bump, as version 4 did under version 5.
std::string atCurrentVersion(const char *text) {
  std::string s = text;
  s.replace(s.find("VERSION"), 7, std::to_string(Program::kVersion));
  return s;
}

// a = avg(s), b = sum(a), c = max(s): 1000 floats each, world size 1.
const char *const kProgram = R"({
  "format": "fp8c-program", "version": VERSION, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid", "world_size": 1},
  "config": {},
  "arena_bytes": 16384,
  "buffers": [
    {"name": "s", "role": "input", "dtype": "f32", "shape": [1000], "offset": 0},
    {"name": "a", "role": "output", "dtype": "f32", "shape": [1000], "offset": 4096},
    {"name": "b", "role": "output", "dtype": "f32", "shape": [1000], "offset": 8192},
    {"name": "c", "role": "output", "dtype": "f32", "shape": [1000], "offset": 12288}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0], "outputs": [1, 2, 3], "instructions": [
      {"kind": "all_reduce", "reduction": "avg", "source": 0, "target": 1},
      {"kind": "all_reduce", "reduction": "sum", "source": 1, "target": 2},
      {"kind": "all_reduce", "reduction": "max", "source": 0, "target": 3}
    ]}
  ]
})";

std::vector<float> input(int round) {
  std::vector<float> s(kCount);
  for (int i = 0; i < kCount; ++i)
    s[size_t(i)] = float(i % 17) * 0.37f - 2.5f + float(round);
  return s;
}

/// a, b and c after train_step on input(round), for rounds 0 and 1.
std::vector<float> runTwice(Backend &backend, const Program &program) {
  std::vector<float> out;
  for (int round = 0; round < 2; ++round) {
    const std::vector<float> s = input(round);
    EXPECT_TRUE(backend.write(0, s.data(), s.size() * sizeof(float)).ok());
    Status run = backend.run(*program.function("train_step"));
    EXPECT_TRUE(run.ok()) << run.toString();
    for (uint32_t b = 1; b <= 3; ++b) {
      std::vector<float> t(kCount);
      EXPECT_TRUE(backend.read(b, t.data(), t.size() * sizeof(float)).ok());
      out.insert(out.end(), t.begin(), t.end());
    }
  }
  return out;
}

TEST(NcclWorldSizeOne, AllReduceInstructionsMatchTheCpuBackend) {
  StatusOr<Program> program = parseProgram(atCurrentVersion(kProgram), "all-reduce.fp8prog");
  ASSERT_TRUE(program.ok()) << program.status().toString();
  comm::SingleProcessCommunicator bootstrap;
  StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::createNcclCommunicator(bootstrap, 0, 60);
  ASSERT_TRUE(nccl.ok()) << nccl.status().toString();
  std::printf("  %s\n", (*nccl)->name().c_str());
  EXPECT_EQ((*nccl)->size(), 1);

  std::unique_ptr<Backend> cpu = createCpuBackend();
  ASSERT_TRUE(cpu->load(*program).ok());
  const std::vector<float> expected = runTwice(*cpu, *program);

  cuda::CudaBackendOptions options;
  options.collectives = nccl->get();
  StatusOr<std::unique_ptr<Backend>> gpu = cuda::createCudaBackend(options);
  ASSERT_TRUE(gpu.ok()) << gpu.status().toString();
  Status load = (*gpu)->load(*program);
  ASSERT_TRUE(load.ok()) << load.toString();
  const std::vector<float> got = runTwice(**gpu, *program);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], expected[i]) << "element " << i;
}

TEST(NcclWorldSizeOne, ReduceScatterAndAllGatherOnDeviceBuffers) {
  comm::SingleProcessCommunicator bootstrap;
  StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::createNcclCommunicator(bootstrap, 0, 60);
  ASSERT_TRUE(nccl.ok()) << nccl.status().toString();
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  void *in = nullptr, *out = nullptr;
  ASSERT_EQ(cudaMalloc(&in, kCount * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&out, kCount * sizeof(float)), cudaSuccess);
  const std::vector<float> s = input(0);
  ASSERT_EQ(cudaMemcpy(in, s.data(), kCount * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  std::vector<float> t(kCount);
  Status rs = (*nccl)->reduceScatter(static_cast<const float *>(in), static_cast<float *>(out),
                                     kCount, Reduction::Avg, stream);
  ASSERT_TRUE(rs.ok()) << rs.toString();
  ASSERT_TRUE((*nccl)->synchronize(stream).ok());
  ASSERT_EQ(cudaMemcpy(t.data(), out, kCount * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(t, s);
  ASSERT_EQ(cudaMemset(out, 0, kCount * sizeof(float)), cudaSuccess);
  Status ag = (*nccl)->allGather(in, out, kCount * sizeof(float), stream);
  ASSERT_TRUE(ag.ok()) << ag.toString();
  ASSERT_TRUE((*nccl)->synchronize(stream).ok());
  ASSERT_EQ(cudaMemcpy(t.data(), out, kCount * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(t, s);
  (void)cudaFree(in);
  (void)cudaFree(out);
  (void)cudaStreamDestroy(stream);
}

// zero1/fsdp's instructions (format version 5) at world size 1: a shard is
// the whole tensor (no padding), so each is a copy; the CUDA backend runs
// them through NCCL and cudaMemcpyAsync in its graph (never run on a GPU yet:
// docs/distributed.md, "NCCL"). Padding is planned on the host and checked by
// test/runtime/ShardTest.cpp.
const char *const kShardedProgram = R"({
  "format": "fp8c-program", "version": VERSION, "producer": "test",
  "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
           "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
           "fp8_recipe": "none", "fp8_format": "hybrid", "world_size": 1},
  "config": {},
  "arena_bytes": 16384,
  "buffers": [
    {"name": "s", "role": "input", "dtype": "f32", "shape": [1000], "offset": 0},
    {"name": "a", "role": "output", "dtype": "f32", "shape": [1000], "offset": 4096},
    {"name": "b", "role": "output", "dtype": "f32", "shape": [1000], "offset": 8192},
    {"name": "c", "role": "output", "dtype": "f32", "shape": [1000], "offset": 12288}
  ],
  "functions": [
    {"name": "train_step", "inputs": [0], "outputs": [1, 2, 3], "instructions": [
      {"kind": "reduce_scatter", "reduction": "avg", "source": 0, "target": 1},
      {"kind": "all_gather", "source": 1, "target": 2},
      {"kind": "shard", "source": 0, "target": 3}
    ]}
  ]
})";

TEST(NcclWorldSizeOne, ShardedInstructionsMatchTheCpuBackend) {
  StatusOr<Program> program = parseProgram(atCurrentVersion(kShardedProgram), "sharded.fp8prog");
  ASSERT_TRUE(program.ok()) << program.status().toString();
  comm::SingleProcessCommunicator bootstrap;
  StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::createNcclCommunicator(bootstrap, 0, 60);
  ASSERT_TRUE(nccl.ok()) << nccl.status().toString();
  std::unique_ptr<Backend> cpu = createCpuBackend();
  Status cpuLoad = cpu->load(*program);
  ASSERT_TRUE(cpuLoad.ok()) << cpuLoad.toString();
  const std::vector<float> expected = runTwice(*cpu, *program);
  cuda::CudaBackendOptions options;
  options.collectives = nccl->get();
  StatusOr<std::unique_ptr<Backend>> gpu = cuda::createCudaBackend(options);
  ASSERT_TRUE(gpu.ok()) << gpu.status().toString();
  Status load = (*gpu)->load(*program);
  ASSERT_TRUE(load.ok()) << load.toString();
  const std::vector<float> got = runTwice(**gpu, *program);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], expected[i]) << "element " << i;
}

TEST(NcclWorldSizeOne, WithoutACommunicatorTheBackendRefuses) {
  StatusOr<Program> program = parseProgram(atCurrentVersion(kProgram), "all-reduce.fp8prog");
  ASSERT_TRUE(program.ok());
  StatusOr<std::unique_ptr<Backend>> gpu = cuda::createCudaBackend();
  ASSERT_TRUE(gpu.ok());
  Status load = (*gpu)->load(*program);
  EXPECT_EQ(load.code(), StatusCode::kUnimplemented);
  EXPECT_NE(load.message().find("train_step: instruction 0 (all_reduce): the CUDA backend runs "
                                "collectives through NCCL and has no NCCL communicator"),
            std::string::npos)
      << load.message();
}

} // namespace

int main(int argc, char **argv) {
  StatusOr<cuda::CudaDeviceInfo> device = cuda::probeCudaDevice();
  if (!device.ok()) {
    std::printf("skipped: %s\n", device.status().message().c_str());
    return 77; // ctest SKIP_RETURN_CODE
  }
  // libnccl is loaded, not linked: a GPU image without it cannot run these.
  if (StatusOr<int> nccl = comm::ncclVersion(); !nccl.ok()) {
    std::printf("skipped: %s\n", nccl.status().message().c_str());
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
