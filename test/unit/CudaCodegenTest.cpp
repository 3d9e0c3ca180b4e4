//===- CudaCodegenTest.cpp - Generated CUDA C++ of every example compiles ===//
//
// No GPU needed. Compiles every example model (and gpt-tiny with the delayed,
// rowwise and blockwise recipes and with gradient accumulation) in-process
// as `fp8c MODEL -o FILE` does, generates the CUDA code of every kernel of
// every function, and compiles it with NVRTC into sm_90a and sm_89 cubins.
//
// Compile time: kernels that differ only in their buffer offsets (the same
// layer in another block) compile identically, so each kernel's code is
// compiled once per shape: offsets are replaced by 0 and entry names by a
// counter, identical kernels are dropped, and the rest are shared out over
// one translation unit per hardware thread and architecture, compiled in
// parallel (compileMany). A failure is reported per kernel, with the
// kernel's name and NVRTC's log.
//
// Golden checks of the generated text: vectorised accesses, phases of a
// reduction and its consumers, exact literals, the unsupported-op error.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/Program.h"
#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/cuda/Nvrtc.h"


#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using fp8rt::DType;
using fp8rt::cuda::GeneratedKernel;

std::string compileModel(const std::string &yaml, const std::string &name) {
  return fp8c::compileModelToProgram(yaml, name).value_or("");
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaced(std::string text, const std::string &from, const std::string &to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in the example";
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// A kernel body with its entry names made canonical (bodies name no
/// buffer offset: those are the entries' `off` argument).
std::string canonicalBody(const GeneratedKernel &k) {
  static const std::regex entry("void [A-Za-z0-9_]+_p([0-9]+)\\(");
  return std::regex_replace(k.body, entry, "void ENTRY_p$1(");
}

TEST(CudaCodegen, EveryExampleKernelCompilesWithNvrtc) {
  const std::string dir = std::string(FP8C_SOURCE_DIR) + "/examples/";
  const std::string tiny = readFile(dir + "gpt-tiny.yaml");
  std::vector<std::pair<std::string, std::string>> models = {
      {"gpt-tiny", tiny},
      {"gpt2-small", readFile(dir + "gpt2-small.yaml")},
      {"llama-1b", readFile(dir + "llama-1b.yaml")},
      {"mlp", readFile(dir + "mlp.yaml")},
      {"gpt-tiny delayed", replaced(tiny, "recipe: tensorwise", "recipe: delayed")},
      {"gpt-tiny rowwise", replaced(tiny, "recipe: tensorwise", "recipe: rowwise")},
      {"gpt-tiny blockwise",
       replaced(replaced(tiny, "recipe: tensorwise", "recipe: blockwise"),
                "power_of_2_scales: false", "power_of_2_scales: true")},
      {"gpt-tiny grad_accum_steps 2",
       replaced(tiny, "grad_accum_steps: 1", "grad_accum_steps: 2")},
  };
  // Canonical body -> the names of the kernels that have it.
  std::map<std::string, std::vector<std::string>> unique;
  size_t total = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto &[name, yaml] : models) {
    const std::string text = compileModel(yaml, name + ".yaml");
    ASSERT_FALSE(text.empty()) << name << ": fp8c failed";
    fp8rt::StatusOr<fp8rt::Program> program = fp8rt::parseProgram(text, name);
    ASSERT_TRUE(program.ok()) << program.status().toString();
    fp8rt::StatusOr<std::vector<GeneratedKernel>> kernels =
        fp8rt::cuda::generateAllKernels(*program);
    ASSERT_TRUE(kernels.ok()) << name << ": " << kernels.status().toString();
    std::set<std::string> distinctHere;
    static const std::regex literalOffset("arena \\+ [0-9]");
    for (const GeneratedKernel &k : *kernels) {
      EXPECT_FALSE(k.launches.empty()) << name << ": " << k.name;
      EXPECT_EQ(k.scratchBytes % 256, 0u);
      EXPECT_FALSE(std::regex_search(k.body, literalOffset)) << name << ": " << k.name;
      EXPECT_EQ(k.offsets.size(), k.offsetBuffers.size());
      distinctHere.insert(k.body);
      for (const fp8rt::cuda::Launch &l : k.launches)
        EXPECT_NE(k.body.find(" " + l.entry + "("), std::string::npos) << k.name << ": " << l.entry;
      unique[canonicalBody(k)].push_back(name + ": " + k.name);
    }
    total += kernels->size();
    // The layers of the large examples share their kernels' code.
    if (name == "gpt2-small" || name == "llama-1b") {
      EXPECT_LT(distinctHere.size() * 8, kernels->size())
          << name << ": " << distinctHere.size() << " distinct bodies of " << kernels->size();
    }
  }
  const auto t1 = std::chrono::steady_clock::now();

  // The distinct bodies go into one translation unit per thread and
  // architecture (the prelude, then a share of the bodies), compiled on
  // compileMany's pool: one unit per body would compile the prelude hundreds
  // of times, one per architecture would leave all but two cores idle.
  std::vector<std::string> bodies;
  for (const auto &entry : unique)
    bodies.push_back(std::regex_replace(entry.first, std::regex("ENTRY_p"),
                                        "c" + std::to_string(bodies.size()) + "_p"));
  const std::vector<std::string> archs = {"sm_90a", "sm_89"};
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  const size_t units = std::min<size_t>(bodies.size(), threads);
  std::vector<std::string> sources(units, fp8rt::cuda::cudaPrelude());
  std::vector<std::vector<size_t>> bodiesOf(units);
  size_t index = 0;
  for (const auto &entry : unique) {
    // Round robin: the units get about as many bodies each.
    const size_t u = index % units;
    sources[u] += "\n// " + entry.second.front() + "\n" + bodies[index];
    bodiesOf[u].push_back(index++);
  }
  std::vector<std::string> unitNames;
  for (size_t u = 0; u < units; ++u)
    unitNames.push_back("examples part " + std::to_string(u + 1) + "/" + std::to_string(units));
  std::vector<fp8rt::cuda::NvrtcJob> jobs;
  for (const std::string &arch : archs)
    for (size_t u = 0; u < units; ++u)
      jobs.push_back({sources[u], unitNames[u], arch, /*cubin=*/true});
  const std::vector<fp8rt::StatusOr<std::string>> results = fp8rt::cuda::compileMany(jobs);
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("[ codegen  ] %zu kernels of %zu programs, %zu distinct: generated in %.1f s "
              "(fp8c included), NVRTC sm_90a + sm_89 (%zu units on %u threads) in %.1f s\n",
              total, models.size(), unique.size(),
              std::chrono::duration<double>(t1 - t0).count(), jobs.size(), threads,
              std::chrono::duration<double>(t2 - t1).count());

  // Name the failing kernels of a failing unit: compile each of its bodies
  // on its own.
  std::vector<std::string> names;
  for (const auto &entry : unique)
    names.push_back(entry.second.front() + " (" + std::to_string(entry.second.size()) +
                    " kernels with this code)");
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (results[j].ok()) {
      EXPECT_GT(results[j]->size(), 0u);
      continue;
    }
    const size_t u = j % units;
    std::vector<std::string> single;
    for (size_t b : bodiesOf[u])
      single.push_back(fp8rt::cuda::cudaPrelude() + bodies[b]);
    std::vector<fp8rt::cuda::NvrtcJob> retry;
    for (size_t i = 0; i < single.size(); ++i)
      retry.push_back({single[i], names[bodiesOf[u][i]], jobs[j].arch, true});
    const std::vector<fp8rt::StatusOr<std::string>> one = fp8rt::cuda::compileMany(retry);
    for (const fp8rt::StatusOr<std::string> &r : one)
      EXPECT_TRUE(r.ok()) << r.status().toString();
    ADD_FAILURE() << results[j].status().toString().substr(0, 4000);
  }
}

//===----------------------------------------------------------------------===//
// Golden checks on hand-made kernels
//===----------------------------------------------------------------------===//

/// A program with buffers of the given types at consecutive offsets.
fp8rt::Program programWith(const std::vector<fp8rt::TensorType> &types) {
  fp8rt::Program p;
  uint64_t offset = 0;
  for (const fp8rt::TensorType &t : types) {
    fp8rt::Buffer b;
    b.type = t;
    b.offset = offset;
    offset += (t.bytes() + 255) / 256 * 256;
    p.buffers.push_back(b);
  }
  p.arenaBytes = offset;
  return p;
}

fp8rt::KernelOp makeOp(const std::string &name, std::vector<uint32_t> operands,
                       std::vector<fp8rt::TensorType> results,
                       std::vector<std::pair<std::string, fp8rt::Attr>> attrs = {}) {
  fp8rt::KernelOp op;
  op.op = name;
  op.operands = std::move(operands);
  op.results = std::move(results);
  op.attrs = std::move(attrs);
  return op;
}

fp8rt::Attr stringAttr(const std::string &s) {
  fp8rt::Attr a;
  a.kind = fp8rt::Attr::Kind::String;
  a.s = s;
  return a;
}

TEST(CudaCodegen, GeluChainIsOneVectorisedLaunch) {
  const fp8rt::TensorType x{DType::BF16, {64, 128}};
  fp8rt::Program p = programWith({x, x});
  fp8rt::Kernel k;
  k.name = "f0_gelu";
  k.inputs = {0};
  k.outputs = {1};
  k.ops = {makeOp("train.gelu", {0}, {x}, {{"approximate", stringAttr("none")}}),
           makeOp("train.convert", {1}, {x})};
  k.yields = {2};
  fp8rt::StatusOr<GeneratedKernel> g = fp8rt::cuda::generateKernel(p, k);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  ASSERT_EQ(g->launches.size(), 1u) << g->body;
  EXPECT_EQ(g->scratchBytes, 0u);
  // 8 bf16 = one 16-byte load and store per thread, values rounded per op.
  EXPECT_NE(g->body.find("ldv<BF16, 8>(arena + off[0], base, v0)"), std::string::npos) << g->body;
  EXPECT_NE(g->body.find("stv<BF16, 8>(arena + off[1], base, v2)"), std::string::npos) << g->body;
  EXPECT_EQ(g->offsets, (std::vector<int64_t>{0, 16384}));
  EXPECT_EQ(g->offsetBuffers, (std::vector<uint32_t>{0, 1}));
  EXPECT_NE(g->body.find("v1[e] = rnd<BF16>(gelu(v0[e], false));"), std::string::npos) << g->body;
  EXPECT_EQ(g->launches[0].block[0], 256u);
  EXPECT_EQ(g->launches[0].grid[0], 4u); // 8192 elements / (256 threads x 8)
  EXPECT_EQ(g->source.find("#include"), std::string::npos);
}

TEST(CudaCodegen, OddElementCountFallsBackToScalarAccesses) {
  const fp8rt::TensorType x{DType::F32, {3, 5}};
  fp8rt::Program p = programWith({x, x, x});
  fp8rt::Kernel k;
  k.name = "k_add";
  k.inputs = {0, 1};
  k.outputs = {2};
  k.ops = {makeOp("train.add", {0, 1}, {x})};
  k.yields = {2};
  fp8rt::StatusOr<GeneratedKernel> g = fp8rt::cuda::generateKernel(p, k);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  EXPECT_NE(g->body.find("ldv<F32, 1>"), std::string::npos) << g->body;
  EXPECT_NE(g->body.find("__fadd_rn(v0[e], v1[e])"), std::string::npos) << g->body;
}

TEST(CudaCodegen, AmaxBeforeQuantizeRunsInPhases) {
  const fp8rt::TensorType x{DType::BF16, {256, 128}}, s{DType::F32, {}},
      q{DType::F8E4M3, {256, 128}};
  fp8rt::Program p = programWith({x, q, s, s});
  fp8rt::Kernel k;
  k.name = "f0_gelu_amax_quantize";
  k.inputs = {0};
  k.outputs = {1, 2, 3};
  fp8rt::Attr f8 = stringAttr("f8e4m3");
  k.ops = {makeOp("train.gelu", {0}, {x}, {{"approximate", stringAttr("tanh")}}),
           makeOp("fp8.amax", {1}, {s}, {{"recipe", stringAttr("tensorwise")}}),
           makeOp("fp8.compute_scale", {2}, {s}, {{"fp8_type", f8}}),
           makeOp("fp8.quantize", {1, 3}, {q}, {{"recipe", stringAttr("tensorwise")}})};
  k.yields = {4, 2, 3};
  fp8rt::StatusOr<GeneratedKernel> g = fp8rt::cuda::generateKernel(p, k);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  // gelu | amax partials | amax final | compute_scale | quantize.
  ASSERT_EQ(g->launches.size(), 5u) << g->body;
  EXPECT_GT(g->scratchBytes, 0u);
  const std::string &b = g->body;
  const size_t gelu = b.find("gelu("), partial = b.find("amaxPartial<BF16>"),
               final = b.find("amaxFinal("), scale = b.find("computeScale("),
               quant = b.find("quantize<E4M3>(");
  ASSERT_NE(quant, std::string::npos) << b;
  EXPECT_LT(gelu, partial);
  EXPECT_LT(partial, final);
  EXPECT_LT(final, scale);
  EXPECT_LT(scale, quant);
  // 448 as an exact f32 literal.
  EXPECT_NE(b.find("fromBits(0x43E00000u)"), std::string::npos) << b;
  // The amax is an output: written to its buffer; the gelu result and the
  // partial maxima live in scratch.
  EXPECT_NE(b.find("amaxFinal(reinterpret_cast<const u32 *>(scratch + 65536LL), 16, arena + off[2])"),
            std::string::npos)
      << b;
}

TEST(CudaCodegen, UnsupportedOpIsAClearError) {
  const fp8rt::TensorType a{DType::F8E4M3, {16, 16}}, s{DType::F32, {}},
      d{DType::BF16, {16, 16}};
  fp8rt::Program p = programWith({a, a, s, s, d});
  fp8rt::Kernel k;
  k.name = "k9_scaled_matmul";
  k.inputs = {0, 1, 2, 3};
  k.outputs = {4};
  k.ops = {makeOp("fp8.scaled_matmul", {0, 1, 2, 3}, {d},
                  {{"recipe", stringAttr("tensorwise")}, {"format", stringAttr("hybrid")}})};
  k.yields = {4};
  fp8rt::StatusOr<GeneratedKernel> g = fp8rt::cuda::generateKernel(p, k);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), fp8rt::StatusCode::kUnimplemented);
  EXPECT_NE(g.status().message().find("k9_scaled_matmul"), std::string::npos);
  EXPECT_NE(g.status().message().find("fp8.scaled_matmul"), std::string::npos);
}

TEST(CudaCodegen, NvrtcErrorNamesTheKernelAndCarriesTheLog) {
  fp8rt::StatusOr<std::string> r = fp8rt::cuda::compileWithNvrtc(
      "extern \"C\" __global__ void k(int *p) { p[0] = undeclared_thing; }", "k42_broken",
      "sm_90a", true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("k42_broken"), std::string::npos);
  EXPECT_NE(r.status().message().find("undeclared_thing"), std::string::npos)
      << r.status().message();
}

TEST(CudaCodegen, CompileManyReturnsResultsInJobOrder) {
  // Seven units on three threads, the fourth broken: each result is its own
  // job's (the PTX holds that job's entry and constant), whatever order the
  // threads finished in.
  std::vector<std::string> sources, names;
  for (int i = 0; i < 7; ++i) {
    names.push_back("k" + std::to_string(i));
    sources.push_back("extern \"C\" __global__ void entry" + std::to_string(i) +
                      "(int *p) { p[0] = " + (i == 3 ? "undeclared_thing" : std::to_string(1000 + i)) +
                      "; }");
  }
  std::vector<fp8rt::cuda::NvrtcJob> jobs;
  for (int i = 0; i < 7; ++i)
    jobs.push_back({sources[i], names[i], "sm_90a", /*cubin=*/false});
  const std::vector<fp8rt::StatusOr<std::string>> results = fp8rt::cuda::compileMany(jobs, 3);
  ASSERT_EQ(results.size(), 7u);
  for (int i = 0; i < 7; ++i) {
    if (i == 3) {
      ASSERT_FALSE(results[i].ok());
      EXPECT_NE(results[i].status().message().find("kernel 'k3'"), std::string::npos)
          << results[i].status().message();
      continue;
    }
    ASSERT_TRUE(results[i].ok()) << results[i].status().toString();
    EXPECT_NE(results[i]->find(".entry entry" + std::to_string(i)), std::string::npos) << i;
    EXPECT_NE(results[i]->find(std::to_string(1000 + i)), std::string::npos) << i;
  }
  // No jobs, and more threads than jobs.
  EXPECT_TRUE(fp8rt::cuda::compileMany({}).empty());
  const std::vector<fp8rt::StatusOr<std::string>> one =
      fp8rt::cuda::compileMany({jobs[0]}, 16);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0].ok());
}

TEST(CudaCodegen, ArchitectureNames) {
  EXPECT_EQ(fp8rt::cuda::nvrtcArch(9, 0), "sm_90a");
  EXPECT_EQ(fp8rt::cuda::nvrtcArch(8, 9), "sm_89");
  EXPECT_EQ(fp8rt::cuda::nvrtcArchOption(9, 0), "--gpu-architecture=sm_90a");
}

} // namespace
