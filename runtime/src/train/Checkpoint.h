//===- Checkpoint.h - Trainer checkpoints and dumps --------------*- C++ -*-===//
//
// Private to the trainer. The layout is documented in docs/runtime.md
// ("Checkpoints"): every param / optimizer / fp8_state buffer under its own
// name and dtype, plus `trainer.step` (I64 []) and `trainer.data_rng` (I64 [4],
// the batch sampler's xoshiro256** state words as two's-complement bit
// patterns).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_CHECKPOINT_H
#define FP8RT_SRC_TRAIN_CHECKPOINT_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Rng.h"
#include "fp8rt/Status.h"
#include "train/TensorFile.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt {
namespace trainer {

/// What the checkpoint holds besides the program's buffers.
struct TrainerState {
  int64_t step = 0; ///< optimizer steps completed
  Rng::State dataRng{};
};

/// The record of buffer `index` read from the backend.
StatusOr<TensorRecord> readBufferRecord(const Program &program, Backend &backend, uint32_t index);

/// The records saveCheckpoint writes: every param, optimizer and fp8_state
/// buffer (sharded ones gathered into their full tensors: a collective that
/// every rank of a zero1/fsdp job calls), then the trainer state.
StatusOr<std::vector<TensorRecord>> checkpointRecords(const Program &program, Backend &backend,
                                                      const TrainerState &state);

/// Writes every param, optimizer and fp8_state buffer and the trainer state.
Status saveCheckpoint(const std::string &path, const Program &program, Backend &backend,
                      const TrainerState &state, const Metadata &metadata);

/// Loads a checkpoint into the backend. `paramsOnly` (--init-from): only the
/// params are expected; tensors named optimizer.*, fp8.*, grad_accum.* and
/// trainer.* are ignored. Otherwise (--resume) every buffer saveCheckpoint
/// writes must be there and `state` receives the trainer state. Any missing,
/// unexpected or differently shaped tensor refuses the whole file, listing
/// them all.
Status loadCheckpoint(const std::string &path, const Program &program, Backend &backend,
                      bool paramsOnly, TrainerState *state);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_CHECKPOINT_H
