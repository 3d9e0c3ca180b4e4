//===- Dump.h - One training step written out for inspection -----*- C++ -*-===//
//
// Private to the trainer. `fp8-run --dump-step=N --dump=FILE`: the batch of
// step N, the parameters before its update, the gradients it computed, its
// loss and grad_norm, as one safetensors file (docs/runtime.md, "Dumps").
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_DUMP_H
#define FP8RT_SRC_TRAIN_DUMP_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Status.h"
#include "fp8rt/data/Batch.h"
#include "train/TensorFile.h"

#include <optional>
#include <string>
#include <vector>

namespace fp8rt {
namespace trainer {

/// Every param buffer, read before the step updates it.
StatusOr<std::vector<TensorRecord>> readParams(const Program &program, Backend &backend);

/// What a dump holds besides the parameters and gradients.
struct DumpedStep {
  std::vector<TensorRecord> paramsBefore;
  const std::vector<Batch> *batches = nullptr; ///< one per micro-batch
  float loss = 0;
  std::optional<float> gradNorm;
};

/// Writes the dump of a step to `path`: paramsBefore, batch.tokens and
/// batch.targets ([micro-batches,] batch, seq_len), the `grads` buffers,
/// loss and grad_norm.
Status writeDump(const std::string &path, const Program &program, Backend &backend, DumpedStep step,
                 const std::vector<uint32_t> &grads, const Metadata &metadata);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_DUMP_H
