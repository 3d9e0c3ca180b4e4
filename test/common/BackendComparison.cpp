//===- BackendComparison.cpp - One backend against the CPU backend ------===//

#include "BackendComparison.h"

#include "fp8rt/Numerics.h"
#include "fp8rt/Rng.h"
#include "fp8rt/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace fp8c::testing {

using namespace fp8rt;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

Program loadProgramForTest(const std::string &path) {
  StatusOr<Program> p = loadProgram(path);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(*p) : Program();
}

namespace {

std::vector<uint8_t> readBytes(Backend &backend, const Program &p, uint32_t buffer) {
  std::vector<uint8_t> bytes(p.buffers[buffer].bytes());
  Status s = backend.read(buffer, bytes.data(), bytes.size());
  EXPECT_TRUE(s.ok()) << s.message();
  return bytes;
}

void writeBytes(Backend &backend, uint32_t buffer, const std::vector<uint8_t> &bytes) {
  Status s = backend.write(buffer, bytes.data(), bytes.size());
  ASSERT_TRUE(s.ok()) << s.message();
}

double valueAt(DType t, const uint8_t *p) {
  switch (t) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case DType::BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return bf16ToFloat(h);
  }
  case DType::F8E4M3:
    return e4m3ToFloat(*p);
  case DType::F8E5M2:
    return e5m2ToFloat(*p);
  case DType::I32: {
    int32_t i;
    std::memcpy(&i, p, 4);
    return i;
  }
  case DType::I64: {
    int64_t i;
    std::memcpy(&i, p, 8);
    return double(i);
  }
  default:
    return std::nan("");
  }
}

double relativeTolerance(DType t) {
  switch (t) {
  case DType::F32:
    return 2.0 * 0x1p-23;
  case DType::BF16:
    return 2.0 * 0x1p-8;
  case DType::F16:
    return 2.0 * 0x1p-11;
  case DType::F8E4M3:
    return 0x1p-3;
  case DType::F8E5M2:
    return 0x1p-2;
  default:
    return 0;
  }
}

/// Ops whose results are exactly rounded on both backends.
bool isExactOp(const std::string &op) {
  static const std::set<std::string> exact = {
      "train.add", "train.mul", "train.mul_scalar", "train.convert", "train.reshape",
      "train.transpose", "train.slice", "train.slice_grad", "train.embedding",
      "train.relu2", "train.relu2_grad", "fp8.amax", "fp8.compute_scale", "fp8.quantize",
      "fp8.dequantize", "fp8.cast_transpose", "fp8.amax_history_update",
      "fp8.amax_from_history"};
  return op.rfind("arith.", 0) == 0 || exact.count(op) != 0;
}

/// Instruction inputs and outputs (buffer indices).
void operandsOf(const Instruction &inst, std::vector<uint32_t> &in, std::vector<uint32_t> &out) {
  in.clear();
  out.clear();
  switch (inst.kind) {
  case Instruction::Kind::Kernel:
    in = inst.kernel.inputs;
    out = inst.kernel.outputs;
    break;
  case Instruction::Kind::Gemm: {
    const Gemm &g = inst.gemm;
    for (uint32_t b : {g.a, g.b, g.bias, g.aScale, g.bScale, g.dScale})
      if (b != Gemm::kNone)
        in.push_back(b);
    out.push_back(g.d);
    if (g.amaxD != Gemm::kNone)
      out.push_back(g.amaxD);
    break;
  }
  case Instruction::Kind::Copy:
  case Instruction::Kind::AllReduce:
  case Instruction::Kind::ReduceScatter:
  case Instruction::Kind::AllGather:
  case Instruction::Kind::Shard:
    in.push_back(inst.copy.source);
    out.push_back(inst.copy.target);
    break;
  }
}

} // namespace

void initialiseBuffers(const Program &p, const std::vector<Backend *> &backends, uint64_t seed) {
  Rng rng(seed);
  for (uint32_t i = 0; i < p.buffers.size(); ++i) {
    const Buffer &b = p.buffers[i];
    std::vector<uint8_t> bytes;
    if (isPersistent(b.role) && b.role != BufferRole::Constant) {
      bytes = initialBufferBytes(p, b);
    } else if (b.role == BufferRole::Input && b.name == "step") {
      int64_t one = 1;
      bytes.resize(8);
      std::memcpy(bytes.data(), &one, 8);
    } else if (b.role == BufferRole::Input) {
      ASSERT_EQ(b.type.dtype, DType::I32) << b.name;
      std::vector<int32_t> ids(size_t(b.type.numElements()));
      for (int32_t &id : ids)
        id = int32_t(rng.uniform(uint64_t(p.info.vocabSize)));
      bytes.resize(ids.size() * 4);
      std::memcpy(bytes.data(), ids.data(), bytes.size());
    } else {
      continue;
    }
    for (Backend *be : backends)
      writeBytes(*be, i, bytes);
  }
}

namespace {

struct Mismatch {
  size_t count = 0, elements = 0;
  double worst = 0; ///< |gpu - cpu| / tolerance of the worst element
  std::string first;
};

Mismatch compareBuffer(const Program &p, uint32_t buffer, const std::vector<uint8_t> &cpu,
                       const std::vector<uint8_t> &gpu, bool exact, bool gemm) {
  Mismatch m;
  const Buffer &b = p.buffers[buffer];
  const size_t size = dtypeSize(b.type.dtype), n = size_t(b.type.numElements());
  m.elements = n;
  if (exact || !isFloat(b.type.dtype)) {
    for (size_t i = 0; i < n; ++i)
      if (std::memcmp(&cpu[i * size], &gpu[i * size], size) != 0) {
        if (m.count++ == 0)
          m.first = "element " + std::to_string(i) + ": cpu " +
                    std::to_string(valueAt(b.type.dtype, &cpu[i * size])) + ", other " +
                    std::to_string(valueAt(b.type.dtype, &gpu[i * size]));
      }
    return m;
  }
  double maxAbs = 0, sumSq = 0;
  for (size_t i = 0; i < n; ++i) {
    const double c = valueAt(b.type.dtype, &cpu[i * size]);
    maxAbs = std::max(maxAbs, std::fabs(c));
    sumSq += c * c;
  }
  const double rms = n ? std::sqrt(sumSq / double(n)) : 0;
  const double rtol = gemm ? 1e-2 : relativeTolerance(b.type.dtype);
  for (size_t i = 0; i < n; ++i) {
    const double c = valueAt(b.type.dtype, &cpu[i * size]),
                 g = valueAt(b.type.dtype, &gpu[i * size]);
    const double tol = gemm ? rtol * (std::fabs(c) + rms) : rtol * std::fabs(c) + rtol * maxAbs;
    const double err = std::fabs(g - c);
    const bool bad = !(err <= tol) && !(std::isnan(c) && std::isnan(g));
    if (bad && m.count++ == 0)
      m.first = "element " + std::to_string(i) + ": cpu " + std::to_string(c) + ", other " +
                std::to_string(g) + ", tolerance " + std::to_string(tol);
    if (tol > 0)
      m.worst = std::max(m.worst, err / tol);
  }
  return m;
}

} // namespace

void compareInstructions(const Program &compiled, const BackendFactory &other,
                         const std::string &label, const std::string &function) {
  ASSERT_FALSE(compiled.functions.empty());
  const Function *step = compiled.function(function);
  ASSERT_NE(step, nullptr) << function;
  Program p = compiled;
  // One function per instruction (the backends run only the loaded
  // program's functions, so they are made before load).
  p.functions.clear();
  for (size_t i = 0; i < step->instructions.size(); ++i) {
    Function f;
    f.name = function + "." + std::to_string(i);
    f.instructions.push_back(step->instructions[i]);
    p.functions.push_back(std::move(f));
  }
  p.functions.push_back(*step); // keeps the function itself (its buffers' roles)
  std::unique_ptr<Backend> cpu = createCpuBackend(), gpu = other();
  ASSERT_TRUE(gpu);
  ASSERT_TRUE(cpu->load(p).ok());
  Status loaded = gpu->load(p);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  initialiseBuffers(p, {cpu.get(), gpu.get()}, 7);

  std::vector<uint32_t> in, out;
  int exactChecked = 0, toleranceChecked = 0;
  // The tolerance-checked output closest to its tolerance (|error| / tolerance).
  double worst = 0;
  std::string worstWhere = "none";
  for (size_t i = 0; i + 1 < p.functions.size(); ++i) {
    const Function &f = p.functions[i];
    const Instruction &inst = f.instructions[0];
    operandsOf(inst, in, out);
    for (uint32_t b : in)
      writeBytes(*gpu, b, readBytes(*cpu, p, b));
    Status s = cpu->run(f);
    ASSERT_TRUE(s.ok()) << s.message();
    s = gpu->run(f);
    ASSERT_TRUE(s.ok()) << s.message();

    bool exact = inst.kind == Instruction::Kind::Copy;
    std::string what = "copy";
    if (inst.kind == Instruction::Kind::Kernel) {
      exact = true;
      for (const KernelOp &op : inst.kernel.ops)
        exact = exact && isExactOp(op.op);
      what = "kernel " + inst.kernel.name;
    } else if (inst.kind == Instruction::Kind::Gemm) {
      what = "gemm " + inst.gemm.name;
    }
    for (uint32_t b : out) {
      const Mismatch m = compareBuffer(p, b, readBytes(*cpu, p, b), readBytes(*gpu, p, b), exact,
                                       inst.kind == Instruction::Kind::Gemm);
      (exact ? exactChecked : toleranceChecked)++;
      if (!exact && m.worst > worst) {
        worst = m.worst;
        worstWhere = what + " -> " + p.buffers[b].type.str();
      }
      EXPECT_EQ(m.count, 0u) << label << ": instruction " << i << " (" << what << "), output "
                             << p.buffers[b].name << " " << p.buffers[b].type.str() << ": "
                             << m.count << " of " << m.elements << " elements differ"
                             << (exact ? " (expected bit-exact)" : "") << "; first: " << m.first;
    }
  }
  std::printf("  %s: %d outputs compared bit for bit, %d within tolerance (closest: %.3g of "
              "its tolerance, %s)\n",
              label.c_str(), exactChecked, toleranceChecked, worst, worstWhere.c_str());
}

namespace {

/// The "loss" of each JSONL record.
std::vector<double> losses(const std::string &jsonl) {
  std::vector<double> out;
  std::istringstream in(readFile(jsonl));
  for (std::string line; std::getline(in, line);) {
    size_t at = line.find("\"loss\":");
    if (at != std::string::npos)
      out.push_back(std::strtod(line.c_str() + at + 7, nullptr));
  }
  return out;
}

} // namespace

void compareTraining(const Program &p, const BackendFactory &other, int steps,
                     const std::string &label) {
  ASSERT_GE(steps, 10);
  const std::string dir = ::testing::TempDir();
  std::vector<std::vector<double>> runs;
  for (int otherRun = 0; otherRun < 2; ++otherRun) {
    std::unique_ptr<Backend> backend = otherRun ? other() : createCpuBackend();
    ASSERT_TRUE(backend);
    TrainOptions options;
    options.steps = steps;
    options.synthetic = true;
    options.logInterval = 10;
    // Named after the test too: ctest runs the cases in parallel, in one TempDir.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options.logPath = dir + "/" + test + "." + (otherRun ? label : std::string("cpu")) + ".jsonl";
    std::ostringstream progress;
    StatusOr<TrainSummary> summary = train(p, *backend, options, progress);
    ASSERT_TRUE(summary.ok()) << summary.status().message();
    runs.push_back(losses(options.logPath));
    ASSERT_EQ(runs.back().size(), size_t(steps));
  }
  double cpuLast = 0, otherLast = 0;
  for (size_t s = 0; s < size_t(steps); ++s) {
    EXPECT_NEAR(runs[1][s], runs[0][s], 0.02 * runs[0][s]) << label << ": step " << s + 1;
    if (s + 10 >= size_t(steps)) {
      cpuLast += runs[0][s] / 10;
      otherLast += runs[1][s] / 10;
    }
  }
  EXPECT_NEAR(otherLast, cpuLast, 0.01 * cpuLast);
  std::printf("  loss, mean of the last 10 of %d steps: cpu %.4f, %s %.4f\n", steps, cpuLast,
              label.c_str(), otherLast);
}

} // namespace fp8c::testing
