//===- CudaAttentionCodegenTest.cpp - the tensor-core attention kernels ---===//
//
// The FlashAttention-2-style kernels of train.attention / _grad (head dims 64
// and 128) through NVRTC for sm_90a and sm_89. CudaCodegenTest compiles every
// example's kernels, whose heads are 64 or 32 wide; this adds head dim 128
// (with GQA and RoPE) and checks which kernel each head dim gets. No GPU
// needed; the kernels' numbers are checked in the host emulator
// (CudaEmulatorTest.cpp, LlamaHead*).
//
//===----------------------------------------------------------------------===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/Program.h"
#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/cuda/Nvrtc.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using fp8rt::cuda::GeneratedKernel;

std::string readSource(const std::string &relative) {
  std::ifstream in(std::string(FP8C_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The tiny llama (test/e2e/Inputs/llama-d64.yaml) with `dModel` / `heads`
/// heads over `kvHeads`: its attention kernels (forward and backward).
std::vector<GeneratedKernel> attentionKernels(int dModel, int heads, int kvHeads) {
  std::string yaml = readSource("test/e2e/Inputs/llama-d64.yaml");
  for (const auto &[from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {"d_model: 64", "d_model: " + std::to_string(dModel)},
           {"n_heads: 4", "n_heads: " + std::to_string(heads)},
           {"n_kv_heads: 2", "n_kv_heads: " + std::to_string(kvHeads)},
           {"seq_len: 32", "seq_len: 80"}}) {
    const size_t at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      yaml.replace(at, from.size(), to);
  }
  const std::string text = fp8c::compileModelToProgram(yaml, "llama.yaml").value_or("");
  EXPECT_FALSE(text.empty());
  fp8rt::StatusOr<fp8rt::Program> program = fp8rt::parseProgram(text, "llama");
  EXPECT_TRUE(program.ok()) << program.status().toString();
  std::vector<GeneratedKernel> out;
  if (!program.ok())
    return out;
  fp8rt::StatusOr<std::vector<GeneratedKernel>> kernels =
      fp8rt::cuda::generateAllKernels(*program);
  EXPECT_TRUE(kernels.ok()) << kernels.status().toString();
  if (kernels.ok())
    for (const GeneratedKernel &k : *kernels)
      if (k.body.find("ttention") != std::string::npos)
        out.push_back(k);
  return out;
}

bool has(const GeneratedKernel &k, const std::string &text) {
  return k.body.find(text) != std::string::npos;
}

TEST(CudaAttentionCodegen, HeadDim128CompilesWithNvrtcForSm90aAndSm89) {
  const std::vector<GeneratedKernel> kernels = attentionKernels(512, 4, 1);
  ASSERT_FALSE(kernels.empty());
  bool forward = false, backward = false;
  std::vector<fp8rt::cuda::NvrtcJob> jobs;
  for (const GeneratedKernel &k : kernels) {
    forward = forward || has(k, "flashAttentionForward<128, ");
    backward = backward || (has(k, "flashAttentionBackwardStats<128, ") &&
                            has(k, "flashAttentionBackwardKeyValue<128, ") &&
                            has(k, "flashAttentionBackwardQuery<128, "));
    EXPECT_FALSE(has(k, "attentionBackwardQuery<BF16")) << k.name << ": the per-row kernel";
    for (const char *arch : {"sm_90a", "sm_89"})
      jobs.push_back({k.source, k.name, arch, true});
  }
  EXPECT_TRUE(forward && backward);
  const std::vector<fp8rt::StatusOr<std::string>> results = fp8rt::cuda::compileMany(jobs);
  for (size_t i = 0; i < results.size(); ++i)
    EXPECT_TRUE(results[i].ok()) << jobs[i].name << " " << jobs[i].arch << ": "
                                 << results[i].status().toString();
}

TEST(CudaAttentionCodegen, OtherHeadDimsKeepThePerRowKernelAndSayWhy) {
  // 64 / 4 = head dim 16.
  const std::vector<GeneratedKernel> kernels = attentionKernels(64, 4, 2);
  ASSERT_FALSE(kernels.empty());
  bool forward = false, backward = false;
  for (const GeneratedKernel &k : kernels) {
    EXPECT_FALSE(has(k, "flashAttention")) << k.name;
    forward = forward || has(k, "(head dim 16: the tensor-core kernel takes 64 and 128)");
    backward = backward || has(k, "(head dim 16: the tensor-core kernels take 64 and 128)");
  }
  EXPECT_TRUE(forward && backward);
}

} // namespace
