//===- TrainerTest.cpp - The training loop, checkpoints, dumps -------------===//
//
// The trainer (fp8rt/Trainer.h) against a fake backend: a hand-written
// program whose one parameter vector `w` is trained by C++ code standing in
// for the compiled step (a loss on w[token % 4], SGD with momentum, an amax
// metric, a gradient output). The tests re-derive independently what the
// trainer must have done (the parameter initialisation of docs/runtime.md,
// nanoGPT batch draws with fp8rt::Rng over the training split, the step
// numbers, gradient accumulation) and compare bit for bit; they check exact
// resume, checkpoint refusal messages, the NaN/inf stop, dumps and JSONL.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Rng.h"
#include "fp8rt/data/Synthetic.h"
#include "fp8rt/data/TokenData.h"
#include "fp8rt/Trainer.h"
#include "fp8rt/Safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace trainer_test {

/// A tensor of a checkpoint or dump the trainer wrote, dtype in safetensors'
/// spelling.
struct FileTensor {
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

bool readTensors(const std::string &path, std::map<std::string, FileTensor> &out,
                 std::map<std::string, std::string> &metadata, std::string &error) {
  fp8rt::StatusOr<fp8rt::SafetensorsReader> reader = fp8rt::SafetensorsReader::open(path);
  if (!reader.ok()) {
    error = reader.status().toString();
    return false;
  }
  out.clear();
  for (const fp8rt::SafetensorsEntry &e : reader->tensors()) {
    FileTensor t;
    t.dtype = fp8rt::safetensorsDTypeName(e.dtype);
    t.shape = e.shape;
    const uint8_t *d = reader->data(e);
    t.bytes.assign(d, d + e.numBytes());
    out[e.name] = std::move(t);
  }
  metadata.clear();
  for (const auto &[k, v] : reader->metadata())
    metadata[k] = v;
  return true;
}

} // namespace trainer_test

using namespace fp8rt;
using trainer_test::FileTensor;

namespace {

constexpr int64_t kB = 2, kT = 3, kV = 8, kW = 4;

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "fp8rt-trainer-" + std::to_string(getpid()) + "-" + name;
}

std::vector<uint8_t> fileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

std::vector<std::string> fileLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

//===----------------------------------------------------------------------===//
// The fake program
//===----------------------------------------------------------------------===//

struct ModelSpec {
  int64_t paramSize = kW;    // w's length (another size: "another model")
  bool extraParam = false;   // a second parameter "b" [2]
  int64_t accum = 1;
  int64_t totalSteps = 6;
};

Program makeProgram(const ModelSpec &spec) {
  Program p;
  p.producer = "TrainerTest";
  p.info.family = "custom";
  p.info.batchSize = kB;
  p.info.seqLen = kT;
  p.info.vocabSize = kV;
  p.info.gradAccumSteps = spec.accum;
  p.info.totalSteps = spec.totalSteps;
  p.info.initSeed = 1234;
  uint64_t offset = 0;
  auto add = [&](std::string name, BufferRole role, DType dtype,
                 std::vector<int64_t> shape, InitKind init = InitKind::None,
                 double std = 0) {
    Buffer b;
    b.name = std::move(name);
    b.role = role;
    b.type = TensorType{dtype, std::move(shape)};
    b.offset = offset;
    b.init = init;
    b.initStd = std;
    offset += (b.bytes() + 255) / 256 * 256;
    p.buffers.push_back(b);
    return uint32_t(p.buffers.size() - 1);
  };
  add("w", BufferRole::Param, DType::F32, {spec.paramSize}, InitKind::Normal, 0.5);
  if (spec.extraParam)
    add("b", BufferRole::Param, DType::F32, {2}, InitKind::Zeros);
  add("optimizer.momentum_buffer.w", BufferRole::Optimizer, DType::F32,
      {spec.paramSize}, InitKind::Zeros);
  add("fp8.scale.w", BufferRole::FP8State, DType::F32, {}, InitKind::Ones);
  if (spec.accum > 1)
    add("grad_accum.w", BufferRole::GradAccum, DType::F32, {spec.paramSize},
        InitKind::Zeros);
  uint32_t tokens = add("tokens", BufferRole::Input, DType::I32, {kB, kT});
  uint32_t targets = add("targets", BufferRole::Input, DType::I32, {kB, kT});
  uint32_t step = add("step", BufferRole::Input, DType::I64, {});
  uint32_t loss = add("loss", BufferRole::Output, DType::F32, {});
  uint32_t gradNorm = add("grad_norm", BufferRole::Output, DType::F32, {});
  uint32_t lr = add("lr", BufferRole::Output, DType::F32, {});
  uint32_t amax = add("w.amax", BufferRole::Metric, DType::F32, {});
  uint32_t grad = add("grad.w", BufferRole::Grad, DType::F32, {spec.paramSize});
  uint32_t evalLoss = add("eval_loss", BufferRole::Output, DType::F32, {});
  p.arenaBytes = offset;

  // The instructions only tell the trainer which buffers a function writes;
  // the fake backend computes the step in C++.
  auto kernel = [](std::vector<uint32_t> outputs) {
    Instruction inst;
    inst.kind = Instruction::Kind::Kernel;
    inst.kernel.name = "fake";
    inst.kernel.outputs = std::move(outputs);
    return inst;
  };
  Function train;
  train.name = "train_step";
  train.inputs = {tokens, targets, step};
  // The lr the program computes: the trainer reports it from this output.
  train.outputs = {loss, gradNorm, lr};
  train.instructions.push_back(kernel({loss, gradNorm, lr, amax, grad}));
  p.functions.push_back(train);

  Function eval;
  eval.name = "eval_step";
  eval.inputs = {tokens, targets};
  eval.outputs = {evalLoss};
  p.buffers[evalLoss].name = "loss"; // the eval function's own 'loss' view
  eval.instructions.push_back(kernel({evalLoss}));
  p.functions.push_back(eval);

  if (spec.accum > 1) {
    Function acc;
    acc.name = "accumulate_step";
    acc.inputs = {tokens, targets};
    acc.outputs = {loss};
    acc.instructions.push_back(kernel({loss}));
    p.functions.push_back(acc);
  }
  return p;
}

/// The fake step's loss and gradient: mean over positions of
/// (w[token % 4] - target / V)^2.
float fakeLossAndGrad(const std::vector<float> &w, const Batch &batch,
                      std::vector<float> &grad) {
  grad.assign(w.size(), 0.0f);
  double loss = 0;
  const size_t n = batch.tokens.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t j = size_t(batch.tokens[i]) % w.size();
    const double d = double(w[j]) - double(batch.targets[i]) / double(kV);
    loss += d * d;
    grad[j] += float(2 * d / double(n));
  }
  return float(loss / double(n));
}

/// The fake program's learning rate: constant 0.1 after 2 warmup steps.
float fakeLr(int64_t step) {
  const int64_t it = step - 1;
  return it < 2 ? float(0.1 * double(it + 1) / 3.0) : 0.1f;
}

/// SGD with momentum 0.9 (the fake optimizer).
void fakeUpdate(std::vector<float> &w, std::vector<float> &buf,
                const std::vector<float> &g, int64_t step) {
  for (size_t j = 0; j < w.size(); ++j) {
    buf[j] = 0.9f * buf[j] + g[j];
    w[j] -= fakeLr(step) * buf[j];
  }
}

class FakeBackend : public Backend {
public:
  int64_t nanLossAtStep = 0;
  int64_t infAmaxAtStep = 0;
  /// Set to SIGTERM during train_step of this step, as a signal handler would.
  volatile std::sig_atomic_t *stopFlag = nullptr;
  int64_t stopAtStep = 0;
  std::vector<std::string> calls; // "train_step@3", ...

  const char *name() const override { return "cpu"; }
  std::string description() const override { return "fake backend"; }

  Status load(const Program &program) override {
    program_ = &program;
    buffers_.clear();
    for (const Buffer &b : program.buffers)
      buffers_.emplace_back(b.bytes(), 0);
    return Status::success();
  }
  Status write(uint32_t buffer, const void *data, size_t bytes) override {
    if (buffer >= buffers_.size() || bytes != buffers_[buffer].size())
      return invalidArgumentError("fake write: bad buffer or size");
    std::memcpy(buffers_[buffer].data(), data, bytes);
    return Status::success();
  }
  Status read(uint32_t buffer, void *data, size_t bytes) override {
    if (buffer >= buffers_.size() || bytes != buffers_[buffer].size())
      return invalidArgumentError("fake read: bad buffer or size");
    std::memcpy(data, buffers_[buffer].data(), bytes);
    return Status::success();
  }

  Status run(const Function &fn) override {
    Batch batch;
    batch.resize(kB, kT);
    std::memcpy(batch.tokens.data(), buf("tokens"), kB * kT * 4);
    std::memcpy(batch.targets.data(), buf("targets"), kB * kT * 4);
    std::vector<float> w = floats("w"), g;
    const float loss = fakeLossAndGrad(w, batch, g);
    if (fn.name == "eval_step") {
      calls.push_back("eval_step");
      setFloat(fn.outputs[0], loss);
      return Status::success();
    }
    if (fn.name == "accumulate_step") {
      calls.push_back("accumulate_step");
      std::vector<float> acc = floats("grad_accum.w");
      for (size_t j = 0; j < acc.size(); ++j)
        acc[j] += g[j];
      setFloats("grad_accum.w", acc);
      setFloat(index("loss"), loss);
      return Status::success();
    }
    int64_t step;
    std::memcpy(&step, buf("step"), 8);
    calls.push_back("train_step@" + std::to_string(step));
    if (stopFlag && step == stopAtStep)
      *stopFlag = SIGTERM;
    if (program_->info.gradAccumSteps > 1) {
      std::vector<float> acc = floats("grad_accum.w");
      for (size_t j = 0; j < g.size(); ++j)
        g[j] = (acc[j] + g[j]) / float(program_->info.gradAccumSteps);
    }
    float amax = 0, norm2 = 0;
    for (size_t j = 0; j < w.size(); ++j) {
      amax = std::max(amax, std::fabs(w[j]));
      norm2 += g[j] * g[j];
    }
    std::vector<float> m = floats("optimizer.momentum_buffer.w");
    fakeUpdate(w, m, g, step);
    setFloats("w", w);
    setFloats("optimizer.momentum_buffer.w", m);
    setFloats("grad.w", g);
    setFloat(index("loss"), step == nanLossAtStep ? NAN : loss);
    setFloat(index("grad_norm"), std::sqrt(norm2));
    setFloat(index("lr"), fakeLr(step));
    setFloat(index("w.amax"), step == infAmaxAtStep ? INFINITY : amax);
    float wmax = 0;
    for (float x : w)
      wmax = std::max(wmax, std::fabs(x));
    setFloats("fp8.scale.w", {448.0f / wmax});
    return Status::success();
  }

  std::vector<float> floats(const std::string &name) {
    std::vector<float> v(buffers_[index(name)].size() / 4);
    std::memcpy(v.data(), buf(name), v.size() * 4);
    return v;
  }

private:
  uint32_t index(const std::string &name) const {
    for (uint32_t i = 0; i < program_->buffers.size(); ++i)
      if (program_->buffers[i].name == name)
        return i;
    ADD_FAILURE() << "no buffer " << name;
    return 0;
  }
  uint8_t *buf(const std::string &name) { return buffers_[index(name)].data(); }
  void setFloats(const std::string &name, const std::vector<float> &v) {
    std::memcpy(buf(name), v.data(), v.size() * 4);
  }
  void setFloat(uint32_t i, float v) { std::memcpy(buffers_[i].data(), &v, 4); }

  const Program *program_ = nullptr;
  std::vector<std::vector<uint8_t>> buffers_;
};

/// A token file of `n` tokens below kV (a seeded stream).
std::string makeTokenFile(const std::string &name, int64_t n, uint32_t maxToken = kV - 1) {
  std::vector<uint32_t> tokens(static_cast<size_t>(n));
  Rng rng(99);
  for (auto &t : tokens)
    t = uint32_t(rng.uniform(uint64_t(maxToken) + 1));
  const std::string path = tempPath(name);
  EXPECT_TRUE(writeTokenFile(path, tokens, TokenWidth::U16).ok());
  return path;
}

std::vector<uint32_t> readTokens(const std::string &path) {
  std::vector<uint8_t> bytes = fileBytes(path);
  std::vector<uint32_t> t(bytes.size() / 2);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = uint32_t(bytes[2 * i]) | uint32_t(bytes[2 * i + 1]) << 8;
  return t;
}

/// The initial value docs/runtime.md specifies for "w" of the fake program:
/// Rng(init_seed XOR FNV-1a-64("w")), Box-Muller pairs, times init_std.
std::vector<float> referenceInitW(int64_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  h ^= uint64_t('w');
  h *= 0x100000001b3ULL;
  Rng rng(uint64_t(1234) ^ h);
  std::vector<float> w;
  while (int64_t(w.size()) < n) {
    const double u1 = rng.openDouble(), u2 = rng.uniformDouble();
    const double r = std::sqrt(-2 * std::log(u1));
    w.push_back(float(0.5 * r * std::cos(2 * M_PI * u2)));
    w.push_back(float(0.5 * r * std::sin(2 * M_PI * u2)));
  }
  w.resize(size_t(n));
  return w;
}

/// nanoGPT's get_batch over the first `limit` tokens, drawn with `rng`.
Batch referenceBatch(const std::vector<uint32_t> &data, int64_t limit, Rng &rng) {
  Batch b;
  b.resize(kB, kT);
  for (int64_t r = 0; r < kB; ++r) {
    const int64_t i = int64_t(rng.uniform(uint64_t(limit - kT)));
    for (int64_t t = 0; t < kT; ++t) {
      b.tokens[size_t(r * kT + t)] = int32_t(data[size_t(i + t)]);
      b.targets[size_t(r * kT + t)] = int32_t(data[size_t(i + t + 1)]);
    }
  }
  return b;
}

StatusOr<TrainSummary> runTraining(const Program &program, FakeBackend &backend,
                                   const TrainOptions &options, std::string *text = nullptr) {
  std::ostringstream out;
  StatusOr<TrainSummary> s = train(program, backend, options, out);
  if (text)
    *text = out.str();
  return s;
}

std::map<std::string, FileTensor> readFile(const std::string &path,
                                           std::map<std::string, std::string> *meta = nullptr) {
  std::map<std::string, FileTensor> tensors;
  std::map<std::string, std::string> metadata;
  std::string error;
  EXPECT_TRUE(trainer_test::readTensors(path, tensors, metadata, error)) << error;
  if (meta)
    *meta = metadata;
  return tensors;
}

std::vector<float> asFloats(const FileTensor &t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

TEST(TrainerInit, NormalOnesZerosFollowTheDocumentedGenerator) {
  Program p = makeProgram({});
  p.buffers[0].type.shape = {5}; // an odd count: the last pair's z1 is unused
  std::vector<uint8_t> bytes = initialBufferBytes(p, p.buffers[0]);
  ASSERT_EQ(bytes.size(), 20u);
  std::vector<float> got(5);
  std::memcpy(got.data(), bytes.data(), 20);
  std::vector<float> want = referenceInitW(5);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(got[size_t(i)], want[size_t(i)]) << i;

  // Many samples: mean 0, std init_std.
  Buffer big = p.buffers[0];
  big.type.shape = {100000};
  big.initStd = 0.02;
  std::vector<uint8_t> b = initialBufferBytes(p, big);
  std::vector<float> x(100000);
  std::memcpy(x.data(), b.data(), b.size());
  double sum = 0, sq = 0;
  for (float v : x) {
    sum += v;
    sq += double(v) * v;
  }
  const double mean = sum / 1e5, sd = std::sqrt(sq / 1e5 - mean * mean);
  EXPECT_NEAR(mean, 0, 3 * 0.02 / std::sqrt(1e5));
  EXPECT_NEAR(sd, 0.02, 0.02 * 0.01);

  // Another name gives another stream; ones in f32 and bf16; zeros.
  Buffer other = p.buffers[0];
  other.name = "v";
  EXPECT_NE(initialBufferBytes(p, other), bytes);
  Buffer ones = p.buffers[0];
  ones.init = InitKind::Ones;
  std::vector<uint8_t> o = initialBufferBytes(p, ones);
  float f;
  std::memcpy(&f, o.data() + 16, 4);
  EXPECT_EQ(f, 1.0f);
  ones.type.dtype = DType::BF16;
  o = initialBufferBytes(p, ones);
  EXPECT_EQ(o[0], 0x80);
  EXPECT_EQ(o[1], 0x3F);
  Buffer zeros = p.buffers[1];
  EXPECT_EQ(initialBufferBytes(p, zeros), std::vector<uint8_t>(16, 0));
}

TEST(Trainer, TrainsAsTheReferenceLoopDoes) {
  for (int64_t accum : {1, 3}) {
    SCOPED_TRACE("grad_accum_steps " + std::to_string(accum));
    ModelSpec spec;
    spec.accum = accum;
    Program program = makeProgram(spec);
    const std::string data = makeTokenFile("ref.bin", 200);
    const std::string log = tempPath("ref.jsonl");
    FakeBackend backend;
    TrainOptions options;
    options.dataPath = data;
    options.steps = 5;
    options.seed = 7;
    options.logPath = log;
    std::string text;
    StatusOr<TrainSummary> summary = runTraining(program, backend, options, &text);
    ASSERT_TRUE(summary.ok()) << summary.status().toString();

    // The reference: init, then 5 steps of accum micro-batches drawn from the
    // first 180 tokens (the last 20 are held out).
    std::vector<uint32_t> tokens = readTokens(data);
    Rng rng(7);
    std::vector<float> w = referenceInitW(kW), m(kW, 0.0f), g, acc;
    std::vector<double> losses;
    for (int64_t step = 1; step <= 5; ++step) {
      acc.assign(kW, 0.0f);
      double lossSum = 0;
      for (int64_t micro = 0; micro < accum; ++micro) {
        Batch b = referenceBatch(tokens, 180, rng);
        lossSum += fakeLossAndGrad(w, b, g);
        if (micro + 1 < accum)
          for (size_t j = 0; j < kW; ++j)
            acc[j] += g[j];
      }
      if (accum > 1)
        for (size_t j = 0; j < kW; ++j)
          g[j] = (acc[j] + g[j]) / float(accum);
      fakeUpdate(w, m, g, step);
      losses.push_back(lossSum / double(accum));
    }
    EXPECT_EQ(backend.floats("w"), w);
    EXPECT_EQ(backend.floats("optimizer.momentum_buffer.w"), m);
    EXPECT_EQ(summary->finalLoss, losses.back());
    EXPECT_EQ(summary->firstStep, 1);
    EXPECT_EQ(summary->lastStep, 5);
    double last = 0;
    for (double l : losses)
      last += l;
    EXPECT_DOUBLE_EQ(summary->meanLast10, last / 5);

    // accumulate_step N-1 times, then train_step with the 1-based step.
    std::vector<std::string> want;
    for (int64_t step = 1; step <= 5; ++step) {
      for (int64_t i = 0; i + 1 < accum; ++i)
        want.push_back("accumulate_step");
      want.push_back("train_step@" + std::to_string(step));
    }
    EXPECT_EQ(backend.calls, want);

    // One JSONL record per step with loss, lr (from the program's schedule),
    // the amax metric and the non-finite counts.
    std::vector<std::string> lines = fileLines(log);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].rfind("{\"step\":1,\"loss\":", 0), 0u) << lines[0];
    char lr[64];
    std::snprintf(lr, sizeof lr, "\"lr\":%.9g,", double(fakeLr(1)));
    EXPECT_NE(lines[0].find(lr), std::string::npos) << lines[0];
    EXPECT_NE(lines[4].find("\"lr\":0.100000001,"), std::string::npos) << lines[4];
    EXPECT_NE(lines[2].find("\"metrics\":{\"w.amax\":"), std::string::npos);
    EXPECT_NE(lines[2].find("\"nonfinite\":{\"loss\":0,\"grad_norm\":0,\"metrics\":0}"),
              std::string::npos)
        << lines[2];
    EXPECT_NE(text.find("step 5/5  loss"), std::string::npos) << text;
    EXPECT_NE(text.find("done: steps 1-5"), std::string::npos) << text;
  }
}

TEST(Trainer, ResumeIsBitIdenticalToAStraightRun) {
  for (int64_t accum : {1, 2}) {
    SCOPED_TRACE("grad_accum_steps " + std::to_string(accum));
    ModelSpec spec;
    spec.accum = accum;
    Program program = makeProgram(spec);
    TrainOptions options;
    options.dataPath = makeTokenFile("resume.bin", 300);
    options.seed = 3;

    const std::string straight = tempPath("straight.safetensors");
    const std::string half = tempPath("half.safetensors");
    const std::string resumed = tempPath("resumed.safetensors");
    FakeBackend a, b, c;
    options.steps = 6;
    options.savePath = straight;
    ASSERT_TRUE(runTraining(program, a, options).ok());
    options.steps = 3;
    options.savePath = half;
    ASSERT_TRUE(runTraining(program, b, options).ok());
    options.steps = 6;
    options.savePath = resumed;
    options.resumePath = half;
    std::string text;
    StatusOr<TrainSummary> s = runTraining(program, c, options, &text);
    ASSERT_TRUE(s.ok()) << s.status().toString();
    EXPECT_EQ(s->firstStep, 4);
    EXPECT_NE(text.find("resumed from " + half + " at step 3"), std::string::npos);
    EXPECT_EQ(c.calls.back(), "train_step@6");

    // Same parameters, optimizer and FP8 state, step and data position: the
    // same file, byte for byte.
    EXPECT_EQ(fileBytes(straight), fileBytes(resumed));
    std::map<std::string, std::string> meta;
    std::map<std::string, FileTensor> t = readFile(resumed, &meta);
    EXPECT_EQ(meta["step"], "6");
    ASSERT_TRUE(t.count("trainer.step"));
    int64_t step;
    std::memcpy(&step, t["trainer.step"].bytes.data(), 8);
    EXPECT_EQ(step, 6);
    EXPECT_EQ(t["trainer.data_rng"].shape, std::vector<uint64_t>{4});
    EXPECT_EQ(asFloats(t["w"]), a.floats("w"));
    EXPECT_TRUE(t.count("optimizer.momentum_buffer.w"));
    EXPECT_TRUE(t.count("fp8.scale.w"));
    EXPECT_FALSE(t.count("grad_accum.w")); // zeroed before every step
    EXPECT_FALSE(t.count("tokens"));
  }
}

TEST(Trainer, RefusesACheckpointOfAnotherModel) {
  TrainOptions options;
  options.dataPath = makeTokenFile("other.bin", 100);
  options.steps = 1;
  options.savePath = tempPath("small.safetensors");
  FakeBackend a;
  ASSERT_TRUE(runTraining(makeProgram({}), a, options).ok());

  ModelSpec bigger;
  bigger.paramSize = 6;
  bigger.extraParam = true;
  Program other = makeProgram(bigger);
  options.savePath.clear();
  options.resumePath = tempPath("small.safetensors");
  FakeBackend b;
  StatusOr<TrainSummary> s = runTraining(other, b, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "checkpoint " + options.resumePath +
                " does not match this program: it is of a model of another shape (2 "
                "tensors differ); optimizer.momentum_buffer.w has "
                "shape [4] in the checkpoint, [6] in the program, w has shape "
                "[4] in the checkpoint, [6] in the program; missing: b [2]");

  // --init-from compares parameters only; the checkpoint's optimizer and
  // trainer tensors are not "unexpected".
  options.resumePath.clear();
  options.initFromPath = tempPath("small.safetensors");
  FakeBackend c;
  s = runTraining(other, c, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "checkpoint " + options.initFromPath +
                " does not match this program (parameters): it is of a model of "
                "another shape (1 tensor differs); w has shape [4] in "
                "the checkpoint, [6] in the program; missing: b [2]");

  // A program without b sees the checkpoint's b as unexpected.
  ModelSpec withB;
  withB.extraParam = true;
  options.initFromPath.clear();
  options.savePath = tempPath("withb.safetensors");
  FakeBackend d;
  ASSERT_TRUE(runTraining(makeProgram(withB), d, options).ok());
  options.savePath.clear();
  options.resumePath = tempPath("withb.safetensors");
  FakeBackend e;
  s = runTraining(makeProgram({}), e, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "checkpoint " + options.resumePath +
                                      " does not match this program: unexpected: b [2]");
}

TEST(Trainer, StopSignalEndsTheRunAfterTheCurrentStepWithItsCheckpoint) {
  Program program = makeProgram({});
  TrainOptions options;
  options.dataPath = makeTokenFile("stop.bin", 300);
  const std::string straight = tempPath("stop-straight.safetensors");
  const std::string stopped = tempPath("stop-stopped.safetensors");
  FakeBackend a, b;
  options.steps = 2;
  options.savePath = straight;
  ASSERT_TRUE(runTraining(program, a, options).ok());

  volatile std::sig_atomic_t flag = 0;
  b.stopFlag = &flag;
  b.stopAtStep = 2;
  options.steps = 6;
  options.savePath = stopped;
  options.stopSignal = &flag;
  std::string text;
  StatusOr<TrainSummary> s = runTraining(program, b, options, &text);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->stoppedBySignal, SIGTERM);
  EXPECT_EQ(s->lastStep, 2);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"train_step@1", "train_step@2"}));
  EXPECT_NE(text.find("stopped by SIGTERM after step 2 of 6; writing the checkpoint "
                      "(continue with --resume=" + stopped + ")\nsaved checkpoint " +
                      stopped + " (step 2)\n"),
            std::string::npos)
      << text;
  // The state after step 2, as a run of two steps leaves it.
  EXPECT_EQ(fileBytes(stopped), fileBytes(straight));

  // A signal before the first step: nothing trained, nothing written.
  FakeBackend c;
  const std::string never = tempPath("stop-never.safetensors");
  options.savePath = never;
  flag = SIGINT;
  s = runTraining(program, c, options, &text);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->stoppedBySignal, SIGINT);
  EXPECT_TRUE(c.calls.empty());
  EXPECT_NE(text.find("stopped by SIGINT after step 0 of 6, before training; " + never +
                      " not written"),
            std::string::npos)
      << text;
  EXPECT_TRUE(fileBytes(never).empty());
}

TEST(Trainer, InitFromLoadsParametersOnly) {
  TrainOptions options;
  options.dataPath = makeTokenFile("init.bin", 100);
  options.steps = 3;
  options.savePath = tempPath("init.safetensors");
  const Program program = makeProgram({}); // outlives the backends
  FakeBackend a;
  ASSERT_TRUE(runTraining(program, a, options).ok());
  const std::vector<float> trained = a.floats("w");

  // Zero steps are impossible; check the state right after loading by
  // running one step and undoing it by hand: the momentum starts at zero.
  options.savePath.clear();
  options.initFromPath = tempPath("init.safetensors");
  options.steps = 1;
  FakeBackend b;
  ASSERT_TRUE(runTraining(program, b, options).ok());
  std::vector<float> w = trained, m(kW, 0.0f), g;
  // Step 1 of a fresh data stream (seed 1) from the loaded parameters.
  std::vector<uint32_t> tokens = readTokens(options.dataPath);
  Rng rng(1);
  Batch batch = referenceBatch(tokens, 90, rng);
  fakeLossAndGrad(w, batch, g);
  fakeUpdate(w, m, g, 1);
  EXPECT_EQ(b.floats("w"), w);
  EXPECT_EQ(b.floats("optimizer.momentum_buffer.w"), m);
}

TEST(Trainer, NonFiniteLossOrAmaxStopsAndKeepsTheLastCheckpoint) {
  Program program = makeProgram({});
  TrainOptions options;
  options.dataPath = makeTokenFile("nan.bin", 100);
  options.steps = 2;
  options.savePath = tempPath("two.safetensors");
  FakeBackend a;
  ASSERT_TRUE(runTraining(program, a, options).ok());
  const std::vector<uint8_t> afterTwo = fileBytes(options.savePath);

  options.steps = 6;
  options.saveEvery = 2;
  options.savePath = tempPath("nan.safetensors");
  options.logPath = tempPath("nan.jsonl");
  FakeBackend b;
  b.nanLossAtStep = 3;
  StatusOr<TrainSummary> s = runTraining(program, b, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "step 3: loss is nan; training stopped, nothing saved (the last "
            "checkpoint, " + options.savePath + " at step 2, is kept)");
  EXPECT_EQ(fileBytes(options.savePath), afterTwo);
  std::vector<std::string> lines = fileLines(options.logPath);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[2].find("\"loss\":\"nan\""), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("\"nonfinite\":{\"loss\":1,"), std::string::npos) << lines[2];

  FakeBackend c;
  c.infAmaxAtStep = 2;
  options.savePath = tempPath("inf.safetensors");
  s = runTraining(program, c, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "step 2: w.amax is inf; training stopped, nothing saved (" +
                options.savePath + " not written)");
  EXPECT_TRUE(fileBytes(options.savePath).empty());
}

TEST(Trainer, DumpHoldsTheBatchParametersGradientsAndLoss) {
  Program program = makeProgram({});
  TrainOptions options;
  options.dataPath = makeTokenFile("dump.bin", 100);
  options.steps = 3;
  options.seed = 11;
  options.dumpStep = 2;
  options.dumpPath = tempPath("dump.safetensors");
  FakeBackend backend;
  ASSERT_TRUE(runTraining(program, backend, options).ok());

  // The reference: step 1, then step 2's batch, parameters and gradient.
  std::vector<uint32_t> tokens = readTokens(options.dataPath);
  Rng rng(11);
  std::vector<float> w = referenceInitW(kW), m(kW, 0.0f), g;
  Batch b1 = referenceBatch(tokens, 90, rng);
  fakeLossAndGrad(w, b1, g);
  fakeUpdate(w, m, g, 1);
  Batch b2 = referenceBatch(tokens, 90, rng);
  const float loss = fakeLossAndGrad(w, b2, g);

  std::map<std::string, FileTensor> t = readFile(options.dumpPath);
  ASSERT_EQ(t.size(), 6u); // batch.tokens, batch.targets, w, grad.w, loss, grad_norm
  EXPECT_EQ(t["batch.tokens"].dtype, "I32");
  EXPECT_EQ(t["batch.tokens"].shape, (std::vector<uint64_t>{kB, kT}));
  std::vector<int32_t> x(kB * kT), y(kB * kT);
  std::memcpy(x.data(), t["batch.tokens"].bytes.data(), x.size() * 4);
  std::memcpy(y.data(), t["batch.targets"].bytes.data(), y.size() * 4);
  EXPECT_EQ(x, b2.tokens);
  EXPECT_EQ(y, b2.targets);
  EXPECT_EQ(asFloats(t["w"]), w); // before step 2's update
  EXPECT_EQ(asFloats(t["grad.w"]), g);
  EXPECT_EQ(asFloats(t["loss"]), std::vector<float>{loss});
  EXPECT_EQ(t["loss"].shape, std::vector<uint64_t>{});

  // A dump step outside the run is refused before training.
  options.dumpStep = 9;
  FakeBackend other;
  StatusOr<TrainSummary> s = runTraining(program, other, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "dump step 9 is not run: this run covers steps 1 to 3");
  EXPECT_TRUE(other.calls.empty());
}

TEST(Trainer, EvaluatesOnHeldOutData) {
  Program program = makeProgram({});
  TrainOptions options;
  options.dataPath = makeTokenFile("eval.bin", 200);
  options.steps = 5;
  options.evalEvery = 2;
  options.evalBatches = 100; // more than exist: all of them
  options.logPath = tempPath("eval.jsonl");
  FakeBackend backend;
  StatusOr<TrainSummary> s = runTraining(program, backend, options);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  std::vector<std::string> lines = fileLines(options.logPath);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].find("val_loss"), std::string::npos);
  EXPECT_NE(lines[1].find("val_loss"), std::string::npos);
  EXPECT_NE(lines[3].find("val_loss"), std::string::npos);
  EXPECT_NE(lines[4].find("val_loss"), std::string::npos); // the last step

  // The held-out tail is tokens [180, 200): floor(19 / 3) = 6 windows, 3
  // batches of 2, evaluated with the final parameters.
  std::vector<uint32_t> tokens = readTokens(options.dataPath);
  std::vector<float> w = backend.floats("w"), g;
  double sum = 0;
  for (int64_t batch = 0; batch < 3; ++batch) {
    Batch b;
    b.resize(kB, kT);
    for (int64_t r = 0; r < kB; ++r)
      for (int64_t t = 0; t < kT; ++t) {
        const size_t start = size_t(180 + (batch * kB + r) * kT);
        b.tokens[size_t(r * kT + t)] = int32_t(tokens[start + size_t(t)]);
        b.targets[size_t(r * kT + t)] = int32_t(tokens[start + size_t(t) + 1]);
      }
    sum += fakeLossAndGrad(w, b, g);
  }
  EXPECT_EQ(s->lastValLoss, sum / 3);
  int evals = 0;
  for (const std::string &c : backend.calls)
    evals += c == "eval_step";
  EXPECT_EQ(evals, 9); // steps 2, 4, 5
}

TEST(Trainer, SyntheticDataReportsItsEntropyFloor) {
  Program program = makeProgram({});
  TrainOptions options;
  options.synthetic = true;
  options.steps = 2;
  options.evalEvery = 1;
  options.evalBatches = 2;
  FakeBackend backend;
  std::string text;
  StatusOr<TrainSummary> s = runTraining(program, backend, options, &text);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  SyntheticConfig config;
  config.vocabSize = kV;
  StatusOr<MarkovSource> m = MarkovSource::synthetic(config);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(s->lossFloor, m->lossFloor(kT));
  EXPECT_NE(text.find(m->describe()), std::string::npos) << text;
  // The two evaluations see the same held-out batches: with the parameters
  // of step 2, re-evaluate and compare the last one.
  Rng evalRng(~uint64_t(1));
  std::vector<float> w = backend.floats("w"), g;
  double sum = 0;
  for (int i = 0; i < 2; ++i) {
    Batch b;
    ASSERT_TRUE(m->getBatch(evalRng, kB, kT, b).ok());
    sum += fakeLossAndGrad(w, b, g);
  }
  EXPECT_EQ(s->lastValLoss, sum / 2);
}

TEST(Trainer, DataErrorsNameTheFile) {
  Program program = makeProgram({});
  TrainOptions options;
  options.steps = 1;
  options.dataPath = makeTokenFile("big.bin", 100, kV); // has a token == vocab
  FakeBackend a;
  StatusOr<TrainSummary> s = runTraining(program, a, options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("data file " + options.dataPath + ": token at position"),
            std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("not below vocab_size 8"), std::string::npos);

  options.dataPath = makeTokenFile("short.bin", 3);
  FakeBackend b;
  s = runTraining(program, b, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "data file " + options.dataPath +
                                      " holds 3 tokens, shorter than one sequence "
                                      "of seq_len+1 = 4");

  // tokens must be [batch_size, seq_len] of the info.
  Program wrong = makeProgram({});
  wrong.info.batchSize = 4;
  options.dataPath = makeTokenFile("ok.bin", 100);
  FakeBackend c;
  s = runTraining(wrong, c, options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "train_step: input 'tokens' is i32[2,3], expected i32[4,3] "
            "(batch_size x seq_len of the program info)");

  // Eval needs held-out data: 10 tokens keep none.
  options.dataPath = makeTokenFile("tiny.bin", 10);
  options.evalEvery = 1;
  FakeBackend d;
  s = runTraining(program, d, options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no held-out data for --eval-every"),
            std::string::npos)
      << s.status().message();
}

} // namespace

/// The fake backend under the CUDA backend's name: MFU is reported there only.
class FakeCudaBackend : public FakeBackend {
public:
  const char *name() const override { return "cuda"; }
};

/// The number after `"key":` in a JSONL record (-1 when absent).
double jsonNumber(const std::string &record, const std::string &key) {
  const size_t at = record.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::strtod(record.c_str() + at + key.size() + 3, nullptr);
}

TEST(Trainer, ReportsModelFlopsEverywhereAndMfuOnCudaOnly) {
  Program program = makeProgram({});
  program.info.modelFlopsPerToken = 1000000;
  program.info.peakBF16TFlops = 1;
  program.info.peakFP8TFlops = 2;
  TrainOptions options;
  options.synthetic = true;
  options.steps = 2;
  std::vector<std::string> records;
  options.onRecord = [&](const std::string &r) { records.push_back(r); };
  FakeBackend cpu;
  std::string text;
  ASSERT_TRUE(runTraining(program, cpu, options, &text).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[1].find(",\"model_flops_per_token\":1000000,\"achieved_tflops\":"),
            std::string::npos)
      << records[1];
  // 10^6 FLOPs per token: TFLOP/s = tokens/s / 10^6 (both to 6 digits).
  EXPECT_NEAR(jsonNumber(records[1], "achieved_tflops"),
              jsonNumber(records[1], "tokens_per_s") * 1e-6,
              jsonNumber(records[1], "achieved_tflops") * 1e-5);
  EXPECT_EQ(records[1].find("\"mfu\""), std::string::npos);
  EXPECT_NE(records[1].find("\"loss_floor\":"), std::string::npos);
  EXPECT_NE(text.find(" tok/s  1 MFLOP/tok  "), std::string::npos) << text;
  EXPECT_EQ(text.find("MFU"), std::string::npos) << text;

  // CUDA: against the bf16 peak without an FP8 GEMM, the fp8 peak with one.
  for (bool fp8 : {false, true}) {
    if (fp8) {
      Instruction gemm;
      gemm.kind = Instruction::Kind::Gemm;
      gemm.gemm.d = uint32_t(program.findBuffer("grad.w", BufferRole::Grad));
      gemm.gemm.aScaleMode = GemmScaleMode::Tensorwise;
      program.functions[0].instructions.push_back(gemm);
    }
    records.clear();
    FakeCudaBackend cuda;
    ASSERT_TRUE(runTraining(program, cuda, options, &text).ok());
    ASSERT_EQ(records.size(), 2u);
    const std::string peak = fp8 ? "fp8" : "bf16";
    EXPECT_NE(records[1].find(",\"mfu_peak\":\"" + peak + "\""), std::string::npos)
        << records[1];
    EXPECT_NEAR(jsonNumber(records[1], "mfu"),
                jsonNumber(records[1], "achieved_tflops") / (fp8 ? 2 : 1), 1e-5);
    EXPECT_NE(text.find("% of " + peak + "  ETA"), std::string::npos) << text;
  }
}
