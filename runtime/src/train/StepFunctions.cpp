//===- StepFunctions.cpp - The program's functions as the trainer calls them //

#include "train/StepFunctions.h"

#include "fp8rt/Numerics.h"

#include <cstring>
#include <set>
#include <string>

namespace fp8rt {
namespace trainer {

namespace {

std::string typeText(const Buffer &b) { return b.type.str(); }

Status bindInputs(const Program &program, const Function &fn, int64_t batch, int64_t seqLen,
                  BoundFunction &out) {
  for (uint32_t index : fn.inputs) {
    const Buffer &b = program.buffers[index];
    const std::string where = fn.name + ": input '" + b.name + "' is " + typeText(b);
    if (b.name == "tokens" || b.name == "targets") {
      TensorType want{DType::I32, {batch, seqLen}};
      if (b.type != want)
        return invalidArgumentError(where + ", expected " + want.str() +
                                    " (batch_size x seq_len of the program info)");
      (b.name == "tokens" ? out.tokens : out.targets) = index;
    } else if (b.name == "step") {
      if (b.type != TensorType{DType::I64, {}})
        return invalidArgumentError(where + ", expected i64[]");
      out.step = index;
    } else {
      return unimplementedError(where + ": fp8-run feeds only 'tokens', "
                                        "'targets' and 'step'");
    }
  }
  if (out.tokens < 0 || out.targets < 0)
    return invalidArgumentError(fn.name +
                                ": expected inputs 'tokens' and "
                                "'targets', i32[" +
                                std::to_string(batch) + "," + std::to_string(seqLen) + "]");
  return Status::success();
}

Status bindOutputs(const Program &program, const Function &fn, BoundFunction &out) {
  for (uint32_t index : fn.outputs) {
    const Buffer &b = program.buffers[index];
    int64_t *slot = b.name == "loss"        ? &out.loss
                    : b.name == "grad_norm" ? &out.gradNorm
                    : b.name == "lr"        ? &out.lr
                                            : nullptr;
    if (!slot)
      continue;
    if (b.type != TensorType{DType::F32, {}})
      return invalidArgumentError(fn.name + ": output '" + b.name + "' is " + typeText(b) +
                                  ", expected f32[]");
    *slot = index;
  }
  if (out.loss < 0)
    return invalidArgumentError(fn.name + ": no output named 'loss'");
  return Status::success();
}

/// The metric and grad buffers `fn` writes (other functions may have their
/// own, which a call of `fn` leaves stale).
void bindWritten(const Program &program, const Function &fn, BoundFunction &out) {
  std::set<uint32_t> written;
  for (const Instruction &inst : fn.instructions) {
    switch (inst.kind) {
    case Instruction::Kind::Kernel:
      written.insert(inst.kernel.outputs.begin(), inst.kernel.outputs.end());
      break;
    case Instruction::Kind::Gemm:
      written.insert(inst.gemm.d);
      if (inst.gemm.amaxD != Gemm::kNone)
        written.insert(inst.gemm.amaxD);
      break;
    case Instruction::Kind::Copy:
    case Instruction::Kind::AllReduce:
    case Instruction::Kind::ReduceScatter:
    case Instruction::Kind::AllGather:
    case Instruction::Kind::Shard:
      written.insert(inst.copy.target);
      break;
    }
  }
  for (uint32_t index : written) {
    const BufferRole role = program.buffers[index].role;
    if (role == BufferRole::Metric)
      out.metrics.push_back(index);
    else if (role == BufferRole::Grad)
      out.grads.push_back(index);
  }
}

} // namespace

Status bindFunction(const Program &program, const Function &fn, int64_t batch, int64_t seqLen,
                    BoundFunction &out) {
  out.fn = &fn;
  FP8RT_RETURN_IF_ERROR(bindInputs(program, fn, batch, seqLen, out));
  FP8RT_RETURN_IF_ERROR(bindOutputs(program, fn, out));
  bindWritten(program, fn, out);
  return Status::success();
}

Status readAsDoubles(const Program &program, Backend &backend, uint32_t index,
                     std::vector<double> &out) {
  const Buffer &b = program.buffers[index];
  std::vector<uint8_t> bytes(b.bytes());
  FP8RT_RETURN_IF_ERROR(backend.read(index, bytes.data(), bytes.size()));
  const int64_t n = b.type.numElements();
  out.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t *p = bytes.data() + size_t(i) * dtypeSize(b.type.dtype);
    switch (b.type.dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      out[size_t(i)] = f;
      break;
    }
    case DType::BF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      out[size_t(i)] = bf16ToFloat(h);
      break;
    }
    case DType::F8E4M3:
      out[size_t(i)] = e4m3ToFloat(*p);
      break;
    case DType::F8E5M2:
      out[size_t(i)] = e5m2ToFloat(*p);
      break;
    default:
      return unimplementedError("buffer '" + b.name + "' is " + typeText(b) +
                                ": expected a floating-point metric");
    }
  }
  return Status::success();
}

StatusOr<float> readScalar(Backend &backend, uint32_t index) {
  float v = 0;
  FP8RT_RETURN_IF_ERROR(backend.read(index, &v, sizeof v));
  return v;
}

} // namespace trainer
} // namespace fp8rt
