//===- Dump.cpp - One training step written out for inspection ------------===//

#include "train/Dump.h"

#include "train/Checkpoint.h"

#include <cstring>

namespace fp8rt {
namespace trainer {

namespace {

TensorRecord scalarRecord(const std::string &name, float value) {
  TensorRecord r{name, "F32", {}, std::vector<uint8_t>(4)};
  std::memcpy(r.bytes.data(), &value, 4);
  return r;
}

} // namespace

StatusOr<std::vector<TensorRecord>> readParams(const Program &program, Backend &backend) {
  std::vector<TensorRecord> params;
  for (uint32_t i = 0; i < program.buffers.size(); ++i)
    if (program.buffers[i].role == BufferRole::Param) {
      FP8RT_ASSIGN_OR_RETURN(TensorRecord r, readBufferRecord(program, backend, i));
      params.push_back(std::move(r));
    }
  return params;
}

Status writeDump(const std::string &path, const Program &program, Backend &backend, DumpedStep step,
                 const std::vector<uint32_t> &grads, const Metadata &metadata) {
  std::vector<TensorRecord> records = std::move(step.paramsBefore);
  const std::vector<Batch> &batches = *step.batches;
  std::vector<uint64_t> shape = {uint64_t(batches.front().batchSize),
                                 uint64_t(batches.front().seqLen)};
  if (batches.size() > 1)
    shape.insert(shape.begin(), uint64_t(batches.size()));
  TensorRecord tokens{"batch.tokens", "I32", shape, {}};
  TensorRecord targets{"batch.targets", "I32", shape, {}};
  for (const Batch &b : batches) {
    const uint8_t *t = reinterpret_cast<const uint8_t *>(b.tokens.data());
    const uint8_t *y = reinterpret_cast<const uint8_t *>(b.targets.data());
    tokens.bytes.insert(tokens.bytes.end(), t, t + b.tokens.size() * 4);
    targets.bytes.insert(targets.bytes.end(), y, y + b.targets.size() * 4);
  }
  records.push_back(std::move(tokens));
  records.push_back(std::move(targets));
  for (uint32_t index : grads) {
    FP8RT_ASSIGN_OR_RETURN(TensorRecord r, readBufferRecord(program, backend, index));
    records.push_back(std::move(r));
  }
  records.push_back(scalarRecord("loss", step.loss));
  if (step.gradNorm)
    records.push_back(scalarRecord("grad_norm", *step.gradNorm));
  return writeTensorFile(path, records, metadata);
}

} // namespace trainer
} // namespace fp8rt
