//===- TokenBounds.cpp - Which buffers hold token ids, and their range ----===//

#include "fp8rt/TokenBounds.h"

#include <cstring>

namespace fp8rt {

namespace {

/// The kernel value a token operand reads, followed back through in-kernel
/// train.reshape ops (same elements, same order) to a kernel input: its
/// buffer, or false when the ids are computed inside the kernel.
bool inputBufferOf(const Kernel &kernel, const std::vector<size_t> &definingOp, uint32_t value,
                   uint32_t &buffer) {
  while (value >= kernel.inputs.size()) {
    const KernelOp &op = kernel.ops[definingOp[value - kernel.inputs.size()]];
    if (op.op != "train.reshape" || op.operands.empty())
      return false;
    value = op.operands[0];
  }
  buffer = kernel.inputs[value];
  return true;
}

void addBounds(const Program &program, const Kernel &kernel, std::vector<TokenBound> &out) {
  // Types and defining ops of the kernel's values (docs/program-format.md:
  // the inputs, then every op's results in order).
  std::vector<const TensorType *> types;
  for (uint32_t b : kernel.inputs)
    types.push_back(&program.buffers[b].type);
  std::vector<size_t> definingOp;
  for (size_t i = 0; i < kernel.ops.size(); ++i)
    for (const TensorType &t : kernel.ops[i].results) {
      types.push_back(&t);
      definingOp.push_back(i);
    }
  auto shapeOf = [&](uint32_t value) -> const std::vector<int64_t> * {
    return value < types.size() ? &types[value]->shape : nullptr;
  };

  for (const KernelOp &op : kernel.ops) {
    if (op.operands.size() < 2)
      continue;
    TokenBound bound;
    const std::vector<int64_t> *first = shapeOf(op.operands[0]);
    if (op.op == "train.embedding") {
      // table [vocab, dim]
      if (!first || first->size() != 2)
        continue;
      bound.limit = (*first)[0];
    } else if (op.op == "train.embedding_grad") {
      // result [vocab, dim]
      if (op.results.empty() || op.results[0].shape.size() != 2)
        continue;
      bound.limit = op.results[0].shape[0];
    } else if (op.op == "train.softmax_cross_entropy" ||
               op.op == "train.softmax_cross_entropy_grad") {
      // logits [..., vocab]
      if (!first || first->empty())
        continue;
      bound.limit = first->back();
      bound.target = true;
      if (const Attr *a = op.attr("ignore_index"))
        bound.ignoreIndex = a->i;
    } else {
      continue;
    }
    if (!inputBufferOf(kernel, definingOp, op.operands[1], bound.buffer))
      continue;
    const DType dtype = program.buffers[bound.buffer].type.dtype;
    if (dtype != DType::I32 && dtype != DType::I64)
      continue;
    bool known = false;
    for (const TokenBound &b : out)
      known |= b.buffer == bound.buffer && b.target == bound.target && b.limit == bound.limit &&
               b.ignoreIndex == bound.ignoreIndex;
    if (!known) {
      bound.op = op.op;
      out.push_back(std::move(bound));
    }
  }
}

} // namespace

std::vector<TokenBound> findTokenBounds(const Program &program) {
  std::vector<TokenBound> bounds;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions)
      if (inst.kind == Instruction::Kind::Kernel)
        addBounds(program, inst.kernel, bounds);
  return bounds;
}

Status checkTokenIds(const Program &program, const TokenBound &bound, const void *data,
                     const char *backend) {
  const Buffer &buffer = program.buffers[bound.buffer];
  const bool wide = buffer.type.dtype == DType::I64;
  const int64_t n = buffer.type.numElements();
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  for (int64_t i = 0; i < n; ++i) {
    // memcpy: the caller's data need not be aligned.
    int64_t v = 0;
    if (wide) {
      std::memcpy(&v, bytes + i * 8, 8);
    } else {
      int32_t v32 = 0;
      std::memcpy(&v32, bytes + i * 4, 4);
      v = v32;
    }
    if (bound.ignoreIndex && v == *bound.ignoreIndex)
      continue;
    if (v < 0 || v >= bound.limit)
      return invalidArgumentError(
          std::string(backend) + ": write of buffer " + std::to_string(bound.buffer) + " (\"" +
          buffer.name + "\", " + buffer.type.str() + "): " + bound.op + ": " +
          (bound.target ? "target " : "id ") + std::to_string(v) + " at position " +
          std::to_string(i) + " is outside [0, " + std::to_string(bound.limit) + ")");
  }
  return Status::success();
}

Status checkTokenWrite(const Program &program, const std::vector<TokenBound> &bounds,
                       uint32_t buffer, const void *data, const char *backend) {
  for (const TokenBound &b : bounds)
    if (b.buffer == buffer)
      FP8RT_RETURN_IF_ERROR(checkTokenIds(program, b, data, backend));
  return Status::success();
}

} // namespace fp8rt
