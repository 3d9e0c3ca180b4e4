//===- Trainer.h - The training loop over a Backend -------------*- C++ -*-===//
//
// What `fp8-run` does with a loaded program: initialise the persistent
// buffers (or load a checkpoint), feed batches of a token file or of the
// synthetic corpus, call train_step / accumulate_step / eval_step, report
// progress and JSONL metrics, stop on a non-finite loss or amax, write
// checkpoints and dumps. It talks to the program only through Backend, so the
// CPU and CUDA backends are interchangeable under it.
//
// docs/runtime.md ("fp8-run", "Checkpoints", "Metrics") describes the
// parameter initialisation, the data split, the checkpoint layout and every
// JSONL field.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_TRAINER_H
#define FP8RT_TRAINER_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <csignal>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace fp8rt {

struct TrainOptions {
  /// The last optimizer step to run (1-based); 0 means the program's
  /// info.total_steps. A resumed run continues from the checkpoint's step up
  /// to this one.
  int64_t steps = 0;
  /// Seed of the batch sampler (not of the parameters: info.init_seed).
  uint64_t seed = 1;
  /// A nanoGPT-style token file (uint16, or uint32 when vocab_size > 65536).
  /// Exactly one of dataPath and synthetic.
  std::string dataPath;
  /// Held-out data for --eval-every; empty: the last 10 % of dataPath.
  std::string valDataPath;
  /// The seeded Markov corpus of Synthetic.h over the model's vocabulary.
  bool synthetic = false;
  /// JSONL metrics, one record per optimizer step; empty: none.
  std::string logPath;
  /// Checkpoint written at the end (and every saveEvery steps); empty: none.
  std::string savePath;
  int64_t saveEvery = 0;
  /// Continue a run exactly from a checkpoint written by savePath.
  std::string resumePath;
  /// Load the parameters only (fine-tuning); optimizer state starts fresh.
  std::string initFromPath;
  /// Evaluate every N steps (and after the last) on evalBatches held-out
  /// batches; 0: never.
  int64_t evalEvery = 0;
  int64_t evalBatches = 8;
  /// Write the batch, the parameters before the update, the gradients and
  /// the loss of step dumpStep to dumpPath (0: no dump).
  int64_t dumpStep = 0;
  std::string dumpPath;
  /// A progress line every N steps (the first and the last always).
  int64_t logInterval = 1;
  /// Set to a signal's number (by the caller's handler) to stop after the
  /// current step: the run ends as at its last step (final checkpoint and
  /// summary) and says which signal stopped it. nullptr: never stopped.
  const volatile std::sig_atomic_t *stopSignal = nullptr;
  /// Called with each step's JSONL record (as --log writes it, without the
  /// newline), whether or not logPath is set: fp8-run --plot collects them.
  std::function<void(const std::string &record)> onRecord;
  /// Called with each optimizer step's number before it runs: fp8-run's
  /// collective watchdog names the step it reports.
  std::function<void(int64_t step)> onStepBegin;
};

struct TrainSummary {
  int64_t firstStep = 0; ///< first step run in this session (1-based)
  int64_t lastStep = 0;  ///< last step completed
  double finalLoss = 0;
  double meanLast10 = 0;   ///< mean loss of the last (up to) 10 steps
  double bestValLoss = -1; ///< -1: no evaluation ran
  double lastValLoss = -1;
  double tokensPerSecond = 0; ///< this rank's; training steps only (no eval, no saves)
  int ranks = 1;              ///< of the job: its tokens/s is ranks x tokensPerSecond
  double wallSeconds = 0;
  /// The synthetic corpus's loss floor (nats/token), -1 for a token file.
  double lossFloor = -1;
  /// The signal (TrainOptions::stopSignal) that ended the run early; 0: none.
  int stoppedBySignal = 0;
};

/// Runs the training loop on `backend`, which must not have loaded anything
/// yet (train() calls backend.load(program)). Progress lines go to `out`.
/// Every output path (log, checkpoint, dump) is checked before the data is
/// read or the program loaded onto the backend. Errors: bad options or data, an output path
/// that cannot be written, a checkpoint that does not match, a backend
/// failure, and a non-finite loss or metric (an amax or a scale; the message
/// names the step and the tensor, and nothing is saved after it, so the last
/// checkpoint stays intact).
StatusOr<TrainSummary> train(const Program &program, Backend &backend, const TrainOptions &options,
                             std::ostream &out);

/// `fp8-run --describe`: info, config, arena, buffers by role, functions and
/// their instructions, FP8 GEMMs.
void describeProgram(const Program &program, std::ostream &out);

/// The initial value of a persistent buffer of `program` (its `init`), as
/// train() writes it: zeros, ones, or normal(0, init_std) from the generator
/// of docs/runtime.md ("Parameter initialisation"): Rng(init_seed XOR
/// FNV-1a-64(name)), Box–Muller pairs. Exposed for tests.
std::vector<uint8_t> initialBufferBytes(const Program &program, const Buffer &buffer);

} // namespace fp8rt

#endif // FP8RT_TRAINER_H
