//===- WholeStepGradientTest.cpp - a whole train_step against finite differences ===//
//
// Compiles a tiny gpt and a tiny llama (fp32, no FP8, no clipping) through the
// whole fp8c pipeline into a program file, runs it on the CPU backend, and
// checks the gradients `train_step` hands to the optimizer (the `grad.<param>`
// buffers) against central finite differences of `eval_step`'s loss. This
// checks autodiff, every VJP, the fusion, the memory plan (a reused buffer that
// is still live would corrupt a gradient) and the kernel semantics together.
// The reference is the forward pass only: no gradient code is trusted.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Rng.h"


#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace {

/// The program file of a model description, compiled in-process exactly as
/// `fp8c MODEL -o FILE` does; "" (with the diagnostics printed) on failure.
std::string compile(llvm::StringRef yaml) {
  return fp8c::compileModelToProgram(yaml, "tiny.yaml").value_or("");
}

/// Index of the buffer `name` among a function's inputs or outputs.
uint32_t find(const fp8rt::Program &program, const std::vector<uint32_t> &list,
              const std::string &name) {
  for (uint32_t i : list)
    if (program.buffers[i].name == name)
      return i;
  ADD_FAILURE() << "no buffer '" << name << "'";
  return list.empty() ? 0 : list.front();
}

struct Harness {
  fp8rt::Program program;
  std::unique_ptr<fp8rt::Backend> backend = fp8rt::createCpuBackend();
  /// Parameter buffer index -> its values (f32, the master weights).
  std::map<uint32_t, std::vector<float>> params;
  std::vector<int32_t> tokens, targets;

  void writeParams(const std::map<uint32_t, std::vector<float>> &values) {
    for (const auto &[index, v] : values)
      ASSERT_TRUE(backend->write(index, v.data(), v.size() * sizeof(float)).ok());
  }

  void writeBatch(const fp8rt::Function &fn) {
    uint32_t t = find(program, fn.inputs, "tokens"), y = find(program, fn.inputs, "targets");
    ASSERT_TRUE(backend->write(t, tokens.data(), tokens.size() * 4).ok());
    ASSERT_TRUE(backend->write(y, targets.data(), targets.size() * 4).ok());
  }

  double evalLoss(const std::map<uint32_t, std::vector<float>> &values) {
    const fp8rt::Function *eval = program.function("eval_step");
    writeParams(values);
    writeBatch(*eval);
    fp8rt::Status s = backend->run(*eval);
    EXPECT_TRUE(s.ok()) << s.message();
    float loss = 0;
    EXPECT_TRUE(backend->read(find(program, eval->outputs, "loss"), &loss, 4).ok());
    return loss;
  }
};

/// Compiles `yaml`, initialises every parameter with random values (biases
/// and norm weights too, so that their gradients are not special), runs one
/// train_step, and checks each parameter's gradient along a random unit
/// direction against (L(θ + h·v) − L(θ − h·v)) / 2h.
void checkWholeStep(llvm::StringRef yaml) {
  Harness h;
  std::string text = compile(yaml);
  ASSERT_FALSE(text.empty()) << "fp8c failed on the test model";
  fp8rt::StatusOr<fp8rt::Program> program = fp8rt::parseProgram(text, "tiny.fp8prog");
  ASSERT_TRUE(program.ok()) << program.status().message();
  h.program = std::move(*program);
  ASSERT_TRUE(h.backend->load(h.program).ok());

  fp8rt::Rng rng(2024);
  auto normal = [&] {
    double u1 = rng.openDouble();
    double u2 = rng.uniformDouble();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  };
  for (uint32_t i = 0; i < h.program.buffers.size(); ++i) {
    const fp8rt::Buffer &b = h.program.buffers[i];
    if (b.role != fp8rt::BufferRole::Param)
      continue;
    std::vector<float> v(size_t(b.type.numElements()));
    double base = b.init == fp8rt::InitKind::Ones ? 1.0 : 0.0;
    for (float &x : v)
      x = float(base + 0.2 * normal());
    h.params[i] = std::move(v);
  }
  ASSERT_FALSE(h.params.empty());
  const fp8rt::ProgramInfo &info = h.program.info;
  size_t n = size_t(info.batchSize * info.seqLen);
  for (size_t i = 0; i < n; ++i) {
    h.tokens.push_back(int32_t(rng.next() % uint64_t(info.vocabSize)));
    h.targets.push_back(int32_t(rng.next() % uint64_t(info.vocabSize)));
  }

  // The analytic gradients: one train_step from θ (it updates θ in place).
  const fp8rt::Function *train = h.program.function("train_step");
  ASSERT_NE(train, nullptr);
  h.writeParams(h.params);
  h.writeBatch(*train);
  int64_t step = 1;
  ASSERT_TRUE(h.backend->write(find(h.program, train->inputs, "step"), &step, 8).ok());
  fp8rt::Status run = h.backend->run(*train);
  ASSERT_TRUE(run.ok()) << run.message();
  float trainLoss = 0;
  ASSERT_TRUE(h.backend->read(find(h.program, train->outputs, "loss"), &trainLoss, 4).ok());
  // Grad buffers are valid until the next call: read them all first.
  std::map<uint32_t, std::vector<float>> grads;
  for (const auto &[index, theta] : h.params) {
    const fp8rt::Buffer &param = h.program.buffers[index];
    int64_t g = h.program.findBuffer("grad." + param.name, fp8rt::BufferRole::Grad);
    ASSERT_GE(g, 0) << "no grad." << param.name << " buffer";
    // Grad buffers may be bf16 in other programs; here (fp32) they are f32.
    ASSERT_EQ(h.program.buffers[size_t(g)].type.dtype, fp8rt::DType::F32);
    std::vector<float> &grad = grads[index];
    grad.resize(theta.size());
    ASSERT_TRUE(h.backend->read(uint32_t(g), grad.data(), grad.size() * 4).ok());
  }
  EXPECT_NEAR(trainLoss, h.evalLoss(h.params), 1e-6 * std::abs(trainLoss))
      << "train_step and eval_step disagree on the loss of the same batch";

  int checked = 0;
  for (const auto &[index, theta] : h.params) {
    const fp8rt::Buffer &param = h.program.buffers[index];
    const std::vector<float> &grad = grads[index];
    std::vector<double> dir(theta.size());
    double norm = 0;
    for (double &d : dir) {
      d = normal();
      norm += d * d;
    }
    norm = std::sqrt(norm);
    double analytic = 0;
    for (size_t i = 0; i < dir.size(); ++i)
      analytic += (dir[i] /= norm) * grad[i];

    const double step = 1e-2;
    auto plus = h.params, minus = h.params;
    for (size_t i = 0; i < dir.size(); ++i) {
      plus[index][i] = float(theta[i] + step * dir[i]);
      minus[index][i] = float(theta[i] - step * dir[i]);
    }
    double numeric = (h.evalLoss(plus) - h.evalLoss(minus)) / (2 * step);
    EXPECT_NEAR(analytic, numeric, 2e-3 + 3e-2 * std::abs(numeric))
        << param.name << ": d loss along a random unit direction";
    ++checked;
  }
  EXPECT_EQ(checked, int(h.params.size()));
}

const char *tinyTrain = R"(
train:
  batch_size: 2
  precision: fp32
  optimizer: {name: adamw, lr: 1.0e-3, grad_clip: 0}
  lr_schedule: {kind: constant}
fp8:
  enabled: false
)";

TEST(WholeStepGradient, TinyGPT) {
  std::string yaml = R"(
model:
  family: gpt
  vocab_size: 32
  seq_len: 8
  d_model: 16
  n_layers: 2
  n_heads: 2
  mlp_ratio: 4
  bias: true
  tie_embeddings: true
)";
  checkWholeStep(yaml + tinyTrain);
}

TEST(WholeStepGradient, TinyLlama) {
  std::string yaml = R"(
model:
  family: llama
  vocab_size: 32
  seq_len: 8
  d_model: 16
  n_layers: 2
  n_heads: 4
  n_kv_heads: 2
  ffn_dim: 32
  rope_theta: 10000.0
)";
  checkWholeStep(yaml + tinyTrain);
}

} // namespace
