//===- Metrics.h - What one optimizer step produced --------------*- C++ -*-===//
//
// Private to the trainer. A StepRecord is everything the trainer reports about
// a step: the progress line (Progress.h) and the JSONL record written here.
// docs/runtime.md ("Metrics") lists every JSONL field.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_METRICS_H
#define FP8RT_SRC_TRAIN_METRICS_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fp8rt {
namespace trainer {

/// One metric buffer (an amax or a scale): its value, or the range of its
/// values when it has several.
struct MetricValue {
  std::string name;
  size_t count = 0;
  double value = 0; ///< the first (the only one when count == 1)
  double min = 0, max = 0;
  bool nonfinite = false;
};

/// The metric buffers of a step, and what was not finite in them.
struct StepMetrics {
  std::vector<MetricValue> values;
  int64_t nonfinite = 0; ///< non-finite elements over all metrics
  /// The first non-finite metric: "<name> is <value>"; empty: none.
  std::string firstNonfinite;
  /// Non-finite gradient elements, counted for a dumped step only (-1: not
  /// counted).
  int64_t nonfiniteGrads = -1;
};

/// Reads the metric buffers `metrics` after a step.
Status readMetrics(const Program &program, Backend &backend, const std::vector<uint32_t> &metrics,
                   StepMetrics &out);
/// Counts the non-finite elements of the gradient buffers `grads`.
StatusOr<int64_t> countNonfinite(const Program &program, Backend &backend,
                                 const std::vector<uint32_t> &grads);

/// Model FLOPs of the step's throughput (docs/runtime.md, "MFU").
struct Throughput {
  int64_t flopsPerToken = 0; ///< the program's model_flops_per_token; 0: unknown
  double achievedTFlops = 0; ///< flopsPerToken x tokens/s / 1e12
  /// achievedTFlops over the peak the device table gives the program's device
  /// (the FP8 peak when the program runs an FP8 GEMM, else the bf16 peak); only
  /// on the CUDA backend, whose device that is meant to be.
  std::optional<double> mfu;
  const char *peak = ""; ///< "fp8" or "bf16" with mfu
};

/// The throughput at `tokensPerSecond` of `program` on `backend`.
Throughput stepThroughput(const Program &program, const Backend &backend, double tokensPerSecond);

struct StepRecord {
  int64_t step = 0;
  double loss = 0; ///< mean over the micro-batches
  /// A non-finite micro-batch loss, e.g. "nan (micro-batch 2 of 4)"; empty:
  /// none.
  std::string badLoss;
  std::optional<float> gradNorm; ///< when train_step returns one
  std::optional<float> lr;       ///< when train_step returns one
  std::optional<double> valLoss; ///< when the step evaluated
  int64_t tokens = 0;            ///< this rank's tokens per step
  double tokensPerSecond = 0;    ///< this rank's, over the session's steps so far
  /// Ranks of the job (data parallel): each trains `tokens` per step in the
  /// same time (the all-reduces keep them in step), so the job's tokens/s is
  /// ranks x tokensPerSecond.
  int64_t ranks = 1;
  double stepSeconds = 0;
  StepMetrics metrics;
  Throughput throughput;
  double lossFloor = -1; ///< the synthetic corpus's entropy rate; -1: none

  /// A non-finite loss or metric stops the run after this step.
  bool stopping() const { return !badLoss.empty() || !metrics.firstNonfinite.empty(); }
};

/// The step's JSONL record, ending in a newline.
std::string jsonlRecord(const StepRecord &record);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_METRICS_H
