//===- CpuBackend.cpp - The reference backend: host memory, OpenBLAS ------===//
//
// Runs a loaded program on the host. The arena is one zeroed, 256-byte aligned
// allocation; kernels are interpreted op by op on cpu::Value (KernelOps.h),
// GEMMs go through OpenBLAS (cpu::gemm) or the exact FP8 GEMM
// (cpu::scaledGemmTN), copies are memmove, all-reduces go through the
// process's communicator (fp8rt/comm/Communicator.h). The program has been
// validated by parseProgram, so buffer views and value numbers are used
// unchecked.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"

#include "fp8rt/Numerics.h"
#include "fp8rt/comm/Communicator.h"
#include "fp8rt/comm/Shard.h"
#include "fp8rt/cpu/KernelOps.h"
#include "fp8rt/cpu/LayerKernels.h"
#include "fp8rt/cpu/PointwiseKernels.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int);

namespace fp8rt {

namespace {

Fp8Format fp8Format(DType t) { return t == DType::F8E5M2 ? Fp8Format::E5M2 : Fp8Format::E4M3FN; }

cpu::ScaleMode scaleMode(GemmScaleMode m) {
  switch (m) {
  case GemmScaleMode::Rowwise:
    return cpu::ScaleMode::Rowwise;
  case GemmScaleMode::Block1x128:
    return cpu::ScaleMode::Block1x128;
  case GemmScaleMode::Block128x128:
    return cpu::ScaleMode::Block128x128;
  case GemmScaleMode::None:
  case GemmScaleMode::Tensorwise:
    break;
  }
  return cpu::ScaleMode::Tensorwise;
}

const char *kindName(Instruction::Kind k) {
  switch (k) {
  case Instruction::Kind::Kernel:
    return "kernel";
  case Instruction::Kind::Gemm:
    return "gemm";
  case Instruction::Kind::Copy:
    return "copy";
  case Instruction::Kind::AllReduce:
    return "all_reduce";
  case Instruction::Kind::ReduceScatter:
    return "reduce_scatter";
  case Instruction::Kind::AllGather:
    return "all_gather";
  case Instruction::Kind::Shard:
    return "shard";
  }
  return "?";
}

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(std::unique_ptr<KernelExecutor> kernels = nullptr)
      : kernels_(std::move(kernels)) {}
  const char *name() const override { return kernels_ ? kernels_->name() : "cpu"; }
  std::string description() const override {
    if (kernels_)
      return kernels_->description();
    // What load() sets: one thread unless OPENBLAS_NUM_THREADS says otherwise
    // (fp8-run prints this line before the program is loaded).
    const int threads = std::getenv("OPENBLAS_NUM_THREADS") ? openblas_get_num_threads() : 1;
    return "CPU backend (OpenBLAS, " + std::to_string(threads) + " thread" +
           (threads == 1 ? "" : "s") + ")";
  }
  Status load(const Program &program) override;
  Status write(uint32_t buffer, const void *data, size_t bytes) override;
  Status zero(uint32_t buffer, size_t bytes) override;
  Status read(uint32_t buffer, void *data, size_t bytes) override;
  Status run(const Function &function) override;

private:
  Status runKernel(const Kernel &kernel);
  Status runGemm(const Gemm &gemm);
  void runCopy(const Copy &copy);
  Status runAllReduce(const Function &function, size_t &i);
  Status runShardInstruction(const Instruction &inst);

  uint8_t *at(uint32_t buffer) const { return arena_ + program_->buffers[buffer].offset; }
  /// A buffer's elements as f32 (its dtype's numbers, exactly).
  std::vector<float> floats(uint32_t buffer) const {
    return cpu::loadValue(program_->buffers[buffer].type, at(buffer)).f;
  }
  float scalar(uint32_t buffer) const {
    float x;
    std::memcpy(&x, at(buffer), sizeof x);
    return x;
  }

  std::unique_ptr<KernelExecutor> kernels_; ///< null: the interpreter
  const Program *program_ = nullptr;
  std::unique_ptr<void, FreeDeleter> allocation_;
  uint8_t *arena_ = nullptr; ///< allocation_ rounded up to Program::kAlignment
};

Status CpuBackend::load(const Program &program) {
  program_ = nullptr;
  arena_ = nullptr;
  // calloc, over-allocated by one alignment: large blocks come zeroed from
  // the OS and are committed only as they are touched.
  const uint64_t size = program.arenaBytes + Program::kAlignment;
  if (size > SIZE_MAX)
    return outOfRangeError("cpu backend: an arena of " + std::to_string(program.arenaBytes) +
                           " bytes does not fit in memory");
  allocation_.reset(std::calloc(size_t(size), 1));
  if (!allocation_)
    return outOfRangeError("cpu backend: cannot allocate the arena of " +
                           std::to_string(program.arenaBytes) + " bytes");
  const uintptr_t base = reinterpret_cast<uintptr_t>(allocation_.get());
  const uintptr_t mask = uintptr_t(Program::kAlignment) - 1;
  arena_ = reinterpret_cast<uint8_t *>((base + mask) & ~mask);
  program_ = &program;
  // One OpenBLAS thread unless the user asks for more (OPENBLAS_NUM_THREADS):
  // the step's GEMMs are small enough that OpenBLAS's spinning workers cost
  // more than they give (gpt-tiny: the same step time, 80x the system time),
  // and the reference's sums do not then depend on the machine's core count.
  if (!std::getenv("OPENBLAS_NUM_THREADS"))
    openblas_set_num_threads(1);

  for (uint32_t i = 0; i < program.buffers.size(); ++i)
    if (program.buffers[i].role == BufferRole::Constant)
      cpu::storeConstant(program.buffers[i], at(i));
  if (kernels_) {
    Status s = kernels_->load(program);
    if (!s.ok()) {
      program_ = nullptr;
      return s;
    }
  }
  return Status::success();
}

Status CpuBackend::write(uint32_t buffer, const void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cpu backend", "write"));
  std::memcpy(at(buffer), data, bytes);
  return Status::success();
}

Status CpuBackend::zero(uint32_t buffer, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cpu backend", "zero"));
  std::memset(at(buffer), 0, bytes);
  return Status::success();
}

Status CpuBackend::read(uint32_t buffer, void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cpu backend", "read"));
  std::memcpy(data, at(buffer), bytes);
  return Status::success();
}

Status CpuBackend::run(const Function &function) {
  // Only the loaded program's functions have been checked against its buffers.
  bool ours = false;
  if (program_)
    for (const Function &f : program_->functions)
      ours = ours || &f == &function;
  if (!ours)
    return invalidArgumentError("cpu backend: function " + function.name +
                                " is not one of the loaded program's");
  for (size_t i = 0; i < function.instructions.size(); ++i) {
    const Instruction &inst = function.instructions[i];
    Status s;
    std::string name;
    switch (inst.kind) {
    case Instruction::Kind::Kernel:
      name = inst.kernel.name;
      s = runKernel(inst.kernel);
      break;
    case Instruction::Kind::Gemm:
      name = inst.gemm.name;
      s = runGemm(inst.gemm);
      break;
    case Instruction::Kind::Copy:
      runCopy(inst.copy);
      break;
    case Instruction::Kind::AllReduce:
      s = runAllReduce(function, i);
      break;
    case Instruction::Kind::ReduceScatter:
    case Instruction::Kind::AllGather:
    case Instruction::Kind::Shard:
      s = runShardInstruction(inst);
      break;
    }
    if (!s.ok())
      return s.withContext(function.name + ": instruction " + std::to_string(i) + " (" +
                           kindName(inst.kind) + (name.empty() ? "" : " " + name) + ")");
  }
  return Status::success();
}

Status CpuBackend::runKernel(const Kernel &kernel) {
  if (kernels_)
    return kernels_->run(kernel, arena_);
  size_t numValues = kernel.inputs.size();
  for (const KernelOp &op : kernel.ops)
    numValues += op.results.size();
  // Reserved up front so that the operand pointers stay valid.
  std::vector<cpu::Value> values;
  values.reserve(numValues);
  for (uint32_t b : kernel.inputs)
    values.push_back(cpu::loadValue(program_->buffers[b].type, at(b)));
  std::vector<const cpu::Value *> operands;
  std::vector<cpu::Value> results;
  for (const KernelOp &op : kernel.ops) {
    operands.clear();
    for (uint32_t v : op.operands)
      operands.push_back(&values[v]);
    results.clear();
    FP8RT_RETURN_IF_ERROR(cpu::runKernelOp(op, operands, results));
    for (cpu::Value &r : results)
      values.push_back(std::move(r));
  }
  // Every result exists before the first store: outputs may be the inputs'
  // bytes (in-place updates).
  for (size_t i = 0; i < kernel.outputs.size(); ++i)
    cpu::storeValue(values[kernel.yields[i]], at(kernel.outputs[i]));
  return Status::success();
}

Status CpuBackend::runGemm(const Gemm &g) {
  const std::vector<Buffer> &buffers = program_->buffers;
  const TensorType &aType = buffers[g.a].type, &bType = buffers[g.b].type,
                   &dType = buffers[g.d].type;
  const size_t mn = size_t(g.m) * size_t(g.n);
  std::vector<float> out(mn);
  std::vector<float> bias;
  if (g.bias != Gemm::kNone)
    bias = floats(g.bias);

  if (isFp8(aType.dtype)) {
    // TN (the loader checked it): A is [m, k], B is [n, k].
    std::vector<float> aScales = floats(g.aScale), bScales = floats(g.bScale);
    const cpu::Fp8Operand lhs{at(g.a), fp8Format(aType.dtype), scaleMode(g.aScaleMode),
                              aScales.data()};
    const cpu::Fp8Operand rhs{at(g.b), fp8Format(bType.dtype), scaleMode(g.bScaleMode),
                              bScales.data()};
    FP8RT_RETURN_IF_ERROR(cpu::scaledGemmTN(g.m, g.n, g.k, lhs, rhs,
                                            bias.empty() ? nullptr : bias.data(), out.data()));
  } else {
    const std::vector<float> a = floats(g.a), b = floats(g.b);
    // Row strides of the stored matrices.
    const int64_t lda = aType.shape.back(), ldb = bType.shape.back();
    FP8RT_RETURN_IF_ERROR(cpu::gemm(g.transposeA, g.transposeB, g.m, g.n, g.k, a.data(), lda,
                                    b.data(), ldb, out.data(), g.n));
    if (!bias.empty())
      for (size_t r = 0; r < size_t(g.m); ++r)
        for (size_t c = 0; c < size_t(g.n); ++c)
          out[r * size_t(g.n) + c] += bias[c];
  }
  if (g.epilogue == GemmEpilogue::Gelu || g.epilogue == GemmEpilogue::BiasGelu)
    cpu::gelu(out.data(), mn, cpu::GeluApproximation::None, out.data());
  if (g.accumulate) {
    // D = product + D: each element's product is computed exactly as the plain
    // GEMM's and rounded to f32 (`out`), then the old f32 D is added in f32, so
    // the result is bit-identical to the GEMM followed by an f32 add kernel.
    const float *old = reinterpret_cast<const float *>(at(g.d)); // f32 (the loader checked)
    for (size_t i = 0; i < mn; ++i) {
      float previous;
      std::memcpy(&previous, old + i, sizeof previous);
      out[i] = previous + out[i];
    }
  }
  if (g.amaxD != Gemm::kNone) {
    const float amax = fp8rt::amax(out.data(), mn);
    std::memcpy(at(g.amaxD), &amax, sizeof amax);
  }

  uint8_t *d = at(g.d);
  if (isFp8(dType.dtype)) {
    const float scale = scalar(g.dScale);
    const Fp8Format format = fp8Format(dType.dtype);
    for (size_t i = 0; i < mn; ++i)
      d[i] = floatToFp8(out[i] * scale, format);
  } else if (dType.dtype == DType::BF16) {
    for (size_t i = 0; i < mn; ++i) {
      const uint16_t h = floatToBf16(out[i]);
      d[2 * i] = uint8_t(h);
      d[2 * i + 1] = uint8_t(h >> 8);
    }
  } else {
    cpu::Value v; // f32 as is, f16 rounded to nearest even
    v.type = dType;
    v.f = std::move(out);
    cpu::storeValue(v, d);
  }
  return Status::success();
}

void CpuBackend::runCopy(const Copy &copy) {
  // Views of one arena may overlap: memmove.
  std::memmove(at(copy.target), at(copy.source), program_->buffers[copy.source].bytes());
}

/// One all-reduce, or a gradient bucket: the adjacent all-reduces of one
/// bucket (and reduction) packed into one buffer and sent as one message, as
/// PyTorch DDP does; elementwise the same reduction. `i` ends at the last
/// instruction run.
Status CpuBackend::runAllReduce(const Function &function, size_t &i) {
  const Instruction &first = function.instructions[i];
  size_t end = i + 1;
  while (first.bucket >= 0 && end < function.instructions.size() &&
         function.instructions[end].kind == Instruction::Kind::AllReduce &&
         function.instructions[end].bucket == first.bucket &&
         function.instructions[end].reduction == first.reduction)
    ++end;
  // The loader checked two f32 buffers of one shape.
  auto count = [&](const Instruction &inst) {
    return size_t(program_->buffers[inst.copy.source].type.numElements());
  };
  comm::Communicator &communicator = comm::processCommunicator();
  if (end == i + 1)
    return communicator.allReduce(reinterpret_cast<const float *>(at(first.copy.source)),
                                  reinterpret_cast<float *>(at(first.copy.target)), count(first),
                                  first.reduction);
  size_t total = 0;
  for (size_t k = i; k < end; ++k)
    total += count(function.instructions[k]);
  std::vector<float> packed(total);
  // Every source is read before any target is written: a target may be
  // another all-reduce's source only when it is its own (in place).
  size_t offset = 0;
  for (size_t k = i; k < end; ++k) {
    const Instruction &inst = function.instructions[k];
    std::memcpy(packed.data() + offset, at(inst.copy.source), count(inst) * sizeof(float));
    offset += count(inst);
  }
  FP8RT_RETURN_IF_ERROR(
      communicator.allReduce(packed.data(), packed.data(), total, first.reduction));
  offset = 0;
  for (size_t k = i; k < end; ++k) {
    const Instruction &inst = function.instructions[k];
    std::memcpy(at(inst.copy.target), packed.data() + offset, count(inst) * sizeof(float));
    offset += count(inst);
  }
  i = end - 1;
  return Status::success();
}

Status CpuBackend::runShardInstruction(const Instruction &inst) {
  // The loader checked the shard's shape against info.world_size; fp8-run
  // checked that the job has that many ranks.
  comm::Communicator &comm = comm::processCommunicator();
  const Buffer &source = program_->buffers[inst.copy.source];
  const Buffer &target = program_->buffers[inst.copy.target];
  void *out = at(inst.copy.target);
  switch (inst.kind) {
  case Instruction::Kind::ReduceScatter:
    return comm::reduceScatterShard(comm, reinterpret_cast<const float *>(at(inst.copy.source)),
                                    size_t(source.type.numElements()),
                                    reinterpret_cast<float *>(out), inst.reduction);
  case Instruction::Kind::AllGather:
    return comm::allGatherShards(comm, at(inst.copy.source), size_t(target.type.numElements()),
                                 dtypeSize(target.type.dtype), out);
  default:
    comm::copyShard(at(inst.copy.source), size_t(source.type.numElements()),
                    dtypeSize(source.type.dtype), comm.rank(), comm.size(), out);
    return Status::success();
  }
}

} // namespace

std::unique_ptr<Backend> createCpuBackend() { return std::make_unique<CpuBackend>(); }

std::unique_ptr<Backend> createCpuBackend(std::unique_ptr<KernelExecutor> kernels) {
  return std::make_unique<CpuBackend>(std::move(kernels));
}

} // namespace fp8rt
