//===- Progress.h - The trainer's lines on the terminal ----------*- C++ -*-===//
//
// Private to the trainer. The progress line of a step and the summary at the
// end of a run (docs/runtime.md, "fp8-run"); e2e tests compare them.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_PROGRESS_H
#define FP8RT_SRC_TRAIN_PROGRESS_H

#include "fp8rt/Trainer.h"
#include "train/Metrics.h"

#include <cstdint>
#include <ostream>
#include <string>

namespace fp8rt {
namespace trainer {

/// `v` through a printf format of one double ("%.4f").
std::string formatNumber(const char *format, double v);

/// "12s", "3m05s", "1h02m"; "?" for a negative or absurd duration.
std::string durationText(double seconds);

/// "step  7/100  loss 2.1234  lr 6.000e-04  grad_norm 0.4321  51234 tok/s
/// 2.75 MFLOP/tok  0.141 TFLOP/s  MFU 14.2% of fp8  ETA 1m02s  val_loss 2.2000",
/// the parts a step lacks left out.
void printProgress(std::ostream &out, const StepRecord &record, int64_t totalSteps,
                   double etaSeconds);

/// The "done: ..." line (and the synthetic corpus's loss floor line) of a run
/// whose last `lastN` losses `summary.meanLast10` averages.
void printSummary(std::ostream &out, const TrainSummary &summary, size_t lastN);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_PROGRESS_H
