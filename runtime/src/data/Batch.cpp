//===- Batch.cpp - A batch of token sequences and its targets -------------===//

#include "fp8rt/data/Batch.h"

#include <string>

namespace fp8rt {

void Batch::resize(int64_t b, int64_t t) {
  batchSize = b;
  seqLen = t;
  tokens.resize(size_t(b * t));
  targets.resize(size_t(b * t));
}

Status checkBatchShape(int64_t batchSize, int64_t seqLen) {
  if (batchSize <= 0)
    return invalidArgumentError("batch size must be positive, got " + std::to_string(batchSize));
  if (seqLen <= 0)
    return invalidArgumentError("seq_len must be positive, got " + std::to_string(seqLen));
  return Status::success();
}

} // namespace fp8rt
