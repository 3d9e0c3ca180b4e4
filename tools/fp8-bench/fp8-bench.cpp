//===- fp8-bench.cpp - FP8 vs BF16 on one GPU, through the CUDA backend ---===//
//
//   fp8-bench [--attention] [--fp8 PROGRAM --bf16 PROGRAM]...
//
// Prints, in one run on one GPU (docs/performance.md):
//   1. cuBLASLt TFLOP/s of FP8 (E4M3 x E4M3 -> BF16, tensorwise scales, fast
//      accumulation) and BF16 GEMMs at 8192^3 and at every distinct GEMM shape
//      of the given programs;
//   2. GB/s of each program's fused cast kernels (kernels with fp8.quantize or
//      fp8.cast_transpose) against a device-to-device copy of the same size,
//      measured in the same run;
//   3. train_step time of each FP8 program against its BF16 twin;
//   4. the attention table: forward and backward TFLOP/s of the generated
//      train.attention at (B, H, T, D) = (12, 12, 1024, 64), (4, 32, 2048, 64),
//      (4, 32, 2048, 128), causal (--attention: only this table;
//      scripts/bench-attention.sh runs it next to PyTorch's SDPA).
// Every measurement goes through the CUDA backend itself: a one-instruction
// program (or a program's own kernels) repeated inside one function, so one
// run() is one CUDA graph of many launches and one synchronisation.
//
// Not a test: without a GPU it says why and exits 1.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Rng.h"
#include "fp8rt/Trainer.h"
#include "fp8rt/cuda/CudaBackend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace fp8rt;
using namespace fp8rt::cuda;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "fp8-bench: error: %s\n", message.c_str());
  std::exit(1);
}

void check(const Status &s, const std::string &what) {
  if (!s.ok())
    die(what + ": " + s.message());
}

std::unique_ptr<Backend> newBackend() {
  StatusOr<std::unique_ptr<Backend>> b = createCudaBackend();
  if (!b.ok())
    die(b.status().message());
  return std::move(*b);
}

/// Seconds per call of `fn`, after two warm-up calls (the first captures the
/// graph), the median of `repeats` calls.
double timeRuns(Backend &backend, const Function &fn, int repeats,
                const std::function<void()> &beforeEach = {}) {
  for (int i = 0; i < 2; ++i) {
    if (beforeEach)
      beforeEach();
    check(backend.run(fn), fn.name);
  }
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    if (beforeEach)
      beforeEach(); // untimed
    const Clock::time_point t0 = Clock::now();
    check(backend.run(fn), fn.name);
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

uint32_t addBuffer(Program &p, const std::string &name, DType t, std::vector<int64_t> shape) {
  Buffer b;
  b.name = name;
  b.role = BufferRole::Scratch;
  b.type.dtype = t;
  b.type.shape = std::move(shape);
  b.offset = p.arenaBytes;
  p.arenaBytes += (b.bytes() + Program::kAlignment - 1) / Program::kAlignment * Program::kAlignment;
  p.buffers.push_back(b);
  return uint32_t(p.buffers.size() - 1);
}

/// Random bytes that are finite in every float format (no NaN/inf codes):
/// small bf16 values, FP8 codes with the top exponent bit clear.
std::vector<uint8_t> randomBytes(const Buffer &b, Rng &rng) {
  std::vector<uint8_t> bytes(b.bytes());
  switch (b.type.dtype) {
  case DType::BF16:
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
      const uint16_t h =
          uint16_t(0x3c00 | (rng.next() & 0x03ff)) ^ uint16_t((rng.next() & 1) << 15);
      bytes[i] = uint8_t(h);
      bytes[i + 1] = uint8_t(h >> 8);
    }
    break;
  case DType::F8E4M3:
  case DType::F8E5M2:
    for (uint8_t &c : bytes)
      c = uint8_t(rng.next() & 0xbf);
    break;
  case DType::F32:
    for (size_t i = 0; i + 3 < bytes.size(); i += 4) {
      const float f = 1.0f;
      std::memcpy(&bytes[i], &f, 4);
    }
    break;
  default:
    break;
  }
  return bytes;
}

/// TFLOP/s of one GEMM shape, FP8 or BF16: the GEMM repeated 20 times.
double gemmTflops(int64_t m, int64_t n, int64_t k, bool fp8) {
  Program p;
  Gemm g;
  g.name = "bench";
  g.m = m;
  g.n = n;
  g.k = k;
  const DType in = fp8 ? DType::F8E4M3 : DType::BF16;
  g.a = addBuffer(p, "a", in, {m, k});
  g.b = addBuffer(p, "b", in, {n, k});
  g.d = addBuffer(p, "d", DType::BF16, {m, n});
  g.transposeB = true;
  if (fp8) {
    g.aScale = addBuffer(p, "a.scale", DType::F32, {});
    g.bScale = addBuffer(p, "b.scale", DType::F32, {});
    g.aScaleMode = g.bScaleMode = GemmScaleMode::Tensorwise;
    g.fastAccum = true;
  }
  Function f;
  f.name = "gemm";
  Instruction inst;
  inst.kind = Instruction::Kind::Gemm;
  inst.gemm = g;
  constexpr int kRepeat = 20;
  for (int i = 0; i < kRepeat; ++i)
    f.instructions.push_back(inst);
  p.functions.push_back(f);
  std::unique_ptr<Backend> backend = newBackend();
  check(backend->load(p),
        "gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  Rng rng(1);
  for (uint32_t i = 0; i < p.buffers.size(); ++i)
    if (i != g.d) {
      std::vector<uint8_t> bytes = randomBytes(p.buffers[i], rng);
      check(backend->write(i, bytes.data(), bytes.size()), "write");
    }
  const double seconds = timeRuns(*backend, p.functions[0], 5) / kRepeat;
  return 2.0 * double(m) * double(n) * double(k) / seconds / 1e12;
}

/// GB/s of a device-to-device copy of `bytes` (read + write counted).
double copyGBps(uint64_t bytes) {
  Program p;
  const uint32_t a = addBuffer(p, "a", DType::I8, {int64_t(bytes)});
  const uint32_t b = addBuffer(p, "b", DType::I8, {int64_t(bytes)});
  Function f;
  f.name = "copy";
  Instruction inst;
  inst.kind = Instruction::Kind::Copy;
  inst.copy.source = a;
  inst.copy.target = b;
  for (int i = 0; i < 20; ++i)
    f.instructions.push_back(inst);
  p.functions.push_back(f);
  std::unique_ptr<Backend> backend = newBackend();
  check(backend->load(p), "copy");
  return 2.0 * double(bytes) / (timeRuns(*backend, p.functions[0], 5) / 20) / 1e9;
}

bool isCastKernel(const Kernel &k) {
  for (const KernelOp &op : k.ops)
    if (op.op == "fp8.quantize" || op.op == "fp8.cast_transpose")
      return true;
  return false;
}

void castKernels(const std::string &path, const Program &program) {
  // One function per distinct cast kernel of train_step, repeated 10 times.
  const Function *step = program.function("train_step");
  if (!step)
    return;
  Program p = program;
  p.functions.clear();
  std::set<std::string> seen;
  std::vector<uint64_t> bytesMoved;
  for (const Instruction &inst : step->instructions) {
    if (inst.kind != Instruction::Kind::Kernel || !isCastKernel(inst.kernel))
      continue;
    // Kernels of the same shape in every layer time alike: one per shape.
    std::string key;
    uint64_t bytes = 0;
    for (uint32_t b : inst.kernel.inputs) {
      key += program.buffers[b].type.str() + " ";
      bytes += program.buffers[b].bytes();
    }
    key += "-> ";
    for (uint32_t b : inst.kernel.outputs) {
      key += program.buffers[b].type.str() + " ";
      bytes += program.buffers[b].bytes();
    }
    if (!seen.insert(key).second || p.functions.size() >= 8)
      continue;
    Function f;
    f.name = inst.kernel.name + " (" + key + ")";
    for (int i = 0; i < 10; ++i)
      f.instructions.push_back(inst);
    p.functions.push_back(f);
    bytesMoved.push_back(bytes);
  }
  if (p.functions.empty())
    return;
  std::unique_ptr<Backend> backend = newBackend();
  check(backend->load(p), path);
  Rng rng(3);
  for (uint32_t i = 0; i < p.buffers.size(); ++i)
    if (p.buffers[i].type.dtype == DType::BF16 && p.buffers[i].bytes() < (1ull << 30)) {
      std::vector<uint8_t> bytes = randomBytes(p.buffers[i], rng);
      check(backend->write(i, bytes.data(), bytes.size()), "write");
    }
  std::printf("\nfused cast kernels of %s (bytes read + written per launch sequence):\n",
              path.c_str());
  for (size_t i = 0; i < p.functions.size(); ++i) {
    const double seconds = timeRuns(*backend, p.functions[i], 5) / 10;
    const double gbps = double(bytesMoved[i]) / seconds / 1e9;
    const double copy = copyGBps(bytesMoved[i] / 2);
    std::printf("  %-70s %8.1f GB/s  (copy of the same bytes: %7.1f GB/s, %3.0f%%)\n",
                p.functions[i].name.c_str(), gbps, copy, 100.0 * gbps / copy);
  }
}

/// Median train_step time (s) of a program, parameters initialised as
/// train() does, random tokens.
double stepSeconds(const Program &p) {
  std::unique_ptr<Backend> backend = newBackend();
  check(backend->load(p), "load");
  Rng rng(5);
  for (uint32_t i = 0; i < p.buffers.size(); ++i) {
    const Buffer &b = p.buffers[i];
    std::vector<uint8_t> bytes;
    if (isPersistent(b.role) && b.role != BufferRole::Constant)
      bytes = initialBufferBytes(p, b);
    else if (b.role == BufferRole::Input && b.type.dtype == DType::I32) {
      std::vector<int32_t> ids(size_t(b.type.numElements()));
      for (int32_t &id : ids)
        id = int32_t(rng.uniform(uint64_t(p.info.vocabSize)));
      bytes.resize(ids.size() * 4);
      std::memcpy(bytes.data(), ids.data(), bytes.size());
    } else if (b.role == BufferRole::Input && b.type.dtype == DType::I64) {
      const int64_t one = 1;
      bytes.resize(8);
      std::memcpy(bytes.data(), &one, 8);
    } else {
      continue;
    }
    check(backend->write(i, bytes.data(), bytes.size()), "write " + b.name);
  }
  const Function *step = p.function("train_step");
  if (!step)
    die("the program has no train_step");
  // As the trainer: the accumulators are zero when a step starts (train_step
  // may leave anything in them).
  auto zeroAccumulators = [&] {
    for (uint32_t i = 0; i < p.buffers.size(); ++i)
      if (p.buffers[i].role == BufferRole::GradAccum)
        check(backend->zero(i, p.buffers[i].bytes()), "zero " + p.buffers[i].name);
  };
  return timeRuns(*backend, *step, 10, zeroAccumulators);
}

/// The causal attention shapes of the attention table: (batch, heads, seq, head dim).
struct AttentionShape {
  int64_t batch, heads, seq, headDim;
};

/// Seconds per train.attention (or _grad) of `a`, causal, bf16, no RoPE: a
/// one-op kernel instruction repeated 10 times in one function.
double attentionSeconds(const AttentionShape &a, bool grad) {
  Program p;
  const std::vector<int64_t> shape = {a.batch, a.seq, a.heads * a.headDim};
  TensorType t;
  t.dtype = DType::BF16;
  t.shape = shape;
  Kernel k;
  k.name = grad ? "attention_grad" : "attention";
  for (const char *name : {"dout", "q", "k", "v"}) {
    if (!grad && name[0] == 'd')
      continue;
    k.inputs.push_back(addBuffer(p, name, DType::BF16, shape));
  }
  KernelOp op;
  op.op = grad ? "train.attention_grad" : "train.attention";
  for (uint32_t i = 0; i < k.inputs.size(); ++i)
    op.operands.push_back(i);
  Attr heads, causal;
  heads.i = a.heads;
  heads.f = double(a.heads);
  causal.kind = Attr::Kind::Bool;
  causal.b = true;
  op.attrs = {{"n_heads", heads}, {"n_kv_heads", heads}, {"causal", causal}};
  for (const char *name : {"dq", "dk", "dv"}) {
    if (!grad && name[1] != 'q')
      continue;
    op.results.push_back(t);
    k.outputs.push_back(addBuffer(p, name, DType::BF16, shape));
    k.yields.push_back(uint32_t(k.inputs.size() + k.yields.size()));
  }
  if (!grad)
    p.buffers[k.outputs[0]].name = "out";
  k.ops.push_back(op);
  Function f;
  f.name = k.name;
  Instruction inst;
  inst.kind = Instruction::Kind::Kernel;
  inst.kernel = k;
  constexpr int kRepeat = 10;
  for (int i = 0; i < kRepeat; ++i)
    f.instructions.push_back(inst);
  p.functions.push_back(f);
  std::unique_ptr<Backend> backend = newBackend();
  check(backend->load(p), k.name);
  Rng rng(1);
  for (uint32_t i : k.inputs) {
    std::vector<uint8_t> bytes = randomBytes(p.buffers[i], rng);
    check(backend->write(i, bytes.data(), bytes.size()), "write");
  }
  return timeRuns(*backend, p.functions[0], 5) / kRepeat;
}

/// The attention table: forward and backward TFLOP/s of the generated
/// attention (head dims 64 and 128: the tensor-core kernels). FLOPs as
/// FlashAttention counts them: forward 4 B H T^2 D, backward 2.5x that,
/// halved for causal (the recomputed forward of the backward is not counted).
void attentionTable() {
  const AttentionShape shapes[] = {{12, 12, 1024, 64}, {4, 32, 2048, 64}, {4, 32, 2048, 128}};
  std::printf("\nattention (train.attention / _grad, causal, bf16; compare "
              "scripts/bench-attention.sh's PyTorch SDPA):\n");
  std::printf("  %4s %4s %6s %4s   %10s %10s %10s %10s\n", "B", "H", "T", "D", "fwd ms", "fwd TF/s",
              "bwd ms", "bwd TF/s");
  for (const AttentionShape &a : shapes) {
    const double flops =
        4.0 * double(a.batch * a.heads) * double(a.seq) * double(a.seq) * double(a.headDim) * 0.5;
    const double fwd = attentionSeconds(a, false), bwd = attentionSeconds(a, true);
    std::printf("  %4lld %4lld %6lld %4lld   %10.3f %10.1f %10.3f %10.1f\n", (long long)a.batch,
                (long long)a.heads, (long long)a.seq, (long long)a.headDim, fwd * 1e3,
                flops / fwd / 1e12, bwd * 1e3, 2.5 * flops / bwd / 1e12);
  }
}

Program load(const std::string &path) {
  StatusOr<Program> p = loadProgram(path);
  if (!p.ok())
    die(p.status().message());
  return std::move(*p);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::pair<std::string, std::string>> pairs; // fp8, bf16
  bool attentionOnly = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--attention") {
      attentionOnly = true;
    } else if ((arg == "--fp8" || arg == "--bf16") && i + 1 < argc) {
      if (arg == "--fp8")
        pairs.push_back({argv[++i], ""});
      else if (!pairs.empty() && pairs.back().second.empty())
        pairs.back().second = argv[++i];
      else
        die("--bf16 PROGRAM must follow its --fp8 PROGRAM");
    } else {
      std::fprintf(stderr, "usage: fp8-bench [--attention] [--fp8 PROGRAM --bf16 PROGRAM]...\n");
      return 2;
    }
  }
  StatusOr<CudaDeviceInfo> device = probeCudaDevice();
  if (!device.ok()) {
    std::fprintf(stderr, "fp8-bench: no GPU to measure: %s\n", device.status().message().c_str());
    return 1;
  }
  std::printf("GPU: %s, compute capability %d.%d, %d SMs, driver %d, runtime %d\n",
              device->name.c_str(), device->major, device->minor, device->multiprocessors,
              device->driverVersion, device->runtimeVersion);

  if (attentionOnly) {
    attentionTable();
    return 0;
  }

  std::vector<Program> fp8Programs, bf16Programs;
  std::set<std::tuple<int64_t, int64_t, int64_t>> shapes = {{8192, 8192, 8192}};
  for (const auto &[fp8Path, bf16Path] : pairs) {
    fp8Programs.push_back(load(fp8Path));
    bf16Programs.push_back(load(bf16Path.empty() ? fp8Path : bf16Path));
    for (const Function &f : fp8Programs.back().functions)
      for (const Instruction &inst : f.instructions)
        if (inst.kind == Instruction::Kind::Gemm)
          shapes.insert({inst.gemm.m, inst.gemm.n, inst.gemm.k});
  }

  std::printf("\ncuBLASLt GEMMs (TN, D bf16; FP8 = E4M3 x E4M3, tensorwise, fast accumulation):\n");
  std::printf("  %8s %8s %8s   %10s %10s %8s\n", "M", "N", "K", "FP8 TF/s", "BF16 TF/s", "speedup");
  for (const auto &[m, n, k] : shapes) {
    if (m % 16 || n % 16 || k % 16)
      continue; // FP8 needs multiples of 16
    const double f8 = gemmTflops(m, n, k, true), b16 = gemmTflops(m, n, k, false);
    std::printf("  %8lld %8lld %8lld   %10.1f %10.1f %7.2fx\n", (long long)m, (long long)n,
                (long long)k, f8, b16, f8 / b16);
  }

  for (size_t i = 0; i < pairs.size(); ++i)
    castKernels(pairs[i].first, fp8Programs[i]);

  if (!pairs.empty())
    std::printf("\ntrain_step (one micro-batch, median of 10 graph replays):\n");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const double f8 = stepSeconds(fp8Programs[i]);
    const double b16 = pairs[i].second.empty() ? 0 : stepSeconds(bf16Programs[i]);
    std::printf("  %-40s FP8 %8.2f ms", pairs[i].first.c_str(), f8 * 1e3);
    if (b16 > 0)
      std::printf("   BF16 %8.2f ms   speedup %.2fx", b16 * 1e3, b16 / f8);
    std::printf("\n");
  }
  attentionTable();
  return 0;
}
