//===- Batch.h - A batch of token sequences and its targets ----*- C++ -*-===//
//
// What every data source produces (token files, the synthetic corpus; see
// BatchSource.h) and the trainer feeds to the `tokens` and `targets` inputs.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_DATA_BATCH_H
#define FP8RT_DATA_BATCH_H

#include "fp8rt/Status.h"

#include <cstdint>
#include <vector>

namespace fp8rt {

/// One batch: `tokens` and `targets` are row-major [batchSize, seqLen] int32,
/// targets[b, t] being the token after tokens[b, t].
struct Batch {
  int64_t batchSize = 0;
  int64_t seqLen = 0;
  std::vector<int32_t> tokens;
  std::vector<int32_t> targets;

  /// Sizes both arrays to batchSize * seqLen.
  void resize(int64_t b, int64_t t);
};

/// The sizes every batch reader checks first: "batch size must be positive,
/// got N", "seq_len must be positive, got N".
Status checkBatchShape(int64_t batchSize, int64_t seqLen);

} // namespace fp8rt

#endif // FP8RT_DATA_BATCH_H
