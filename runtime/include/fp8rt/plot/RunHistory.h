//===- RunHistory.h - A training run's metrics, read for plotting -*- C++ -*-===//
//
// What `fp8-run --plot` draws, read from the trainer's JSONL records
// (docs/runtime.md, "Metrics"): loss, held-out loss, learning rate, gradient
// norm, throughput and every FP8 tensor's amax and scale, by step. Records
// come one at a time (from a log file, or from the trainer as it runs), so
// the history keeps a bounded number of points per series.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_PLOT_RUNHISTORY_H
#define FP8RT_PLOT_RUNHISTORY_H

#include "fp8rt/Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt {
namespace json {
struct Value;
} // namespace json
namespace plot {

struct Point {
  double step = 0, value = 0;
};

/// One line of a chart: its points in step order, finite values only. Past
/// RunHistory::kMaxPoints points the steps are cut into buckets of
/// `bucketSteps` (1, then doubled as often as needed) and each bucket keeps
/// its lowest and its highest point, so spikes stay visible and the density
/// stays even along the run.
struct Series {
  std::string name;
  std::vector<Point> points;
  double bucketSteps = 1;
};

/// What an FP8 GEMM operand is, from its metric name
/// "<gemm>.<forward|dgrad|wgrad>.<a|b>.<amax|scale>": forward a and wgrad b
/// are the layer input x, forward b and dgrad b the weight W, dgrad a and
/// wgrad a the output gradient dy (docs/fp8-passes.md, "Recipes").
enum class TensorGroup { Activations, Weights, Gradients, Other };
TensorGroup tensorGroup(std::string_view tensorName);
/// "Forward activations", "Weights", "Gradients", "Other FP8 tensors".
const char *groupTitle(TensorGroup group);

/// One FP8 tensor: the metrics `<tensor>.amax` and `<tensor>.scale`. A metric
/// with several values (rowwise, blockwise) is drawn by its largest amax and
/// its smallest scale, the ones the largest values are cast with.
struct TensorMetrics {
  std::string tensor; ///< "transformer.h.0.mlp.c_fc.forward.a"
  TensorGroup group = TensorGroup::Other;
  Series amax, scale;
};

class RunHistory {
public:
  /// The most points a series keeps (Series: min-max buckets beyond).
  static constexpr size_t kMaxPoints = 2048;

  /// Adds one JSONL record. `where` ("run.jsonl:12") starts every error
  /// message. A step at or before the last one (a run resumed from an earlier
  /// checkpoint, appending to its log) replaces what was recorded from it on.
  Status addRecord(std::string_view line, const std::string &where);

  int64_t records() const { return records_; }
  double firstStep() const { return firstStep_; }
  double lastStep() const { return lastStep_; }
  /// The synthetic corpus's entropy rate (`loss_floor`), -1 when none.
  double lossFloor() const { return lossFloor_; }

  /// The last record's model FLOPs per token, achieved TFLOP/s and MFU with
  /// its peak ("fp8", "bf16"); 0, 0, -1, "" when it has none.
  double flopsPerToken() const { return flopsPerToken_; }
  double achievedTFlops() const { return achievedTFlops_; }
  double mfu() const { return mfu_; }
  const std::string &mfuPeak() const { return mfuPeak_; }

  const Series &loss() const { return loss_; }
  const Series &valLoss() const { return valLoss_; }
  const Series &lr() const { return lr_; }
  const Series &gradNorm() const { return gradNorm_; }
  const Series &tokensPerSecond() const { return tokensPerSecond_; }
  /// In the order the first record lists them.
  const std::vector<TensorMetrics> &tensors() const { return tensors_; }
  /// Steps with a non-finite loss, gradient norm or metric.
  const std::vector<double> &nonfiniteSteps() const { return nonfiniteSteps_; }

private:
  Status addMetric(const std::string &name, double step, const json::Value &value,
                   const std::string &where, bool &nonfinite);
  TensorMetrics &tensor(const std::string &name);
  void forgetFrom(double step);
  Status readThroughput(const json::Value &record, const std::string &where);

  int64_t records_ = 0;
  double firstStep_ = 0, lastStep_ = 0, lossFloor_ = -1;
  double flopsPerToken_ = 0, achievedTFlops_ = 0, mfu_ = -1;
  std::string mfuPeak_;
  Series loss_{"loss", {}}, valLoss_{"val_loss", {}}, lr_{"lr", {}}, gradNorm_{"grad_norm", {}},
      tokensPerSecond_{"tokens_per_s", {}};
  std::vector<TensorMetrics> tensors_;
  std::vector<double> nonfiniteSteps_;
};

/// Reads a `--log` file. Errors are located: "run.jsonl:3: not JSON: ...",
/// "run.jsonl:1: not an fp8-run metrics record: no integer \"step\"",
/// "run.jsonl: no steps (...)" for a file without records.
StatusOr<RunHistory> readRunLog(const std::string &path);

} // namespace plot
} // namespace fp8rt

#endif // FP8RT_PLOT_RUNHISTORY_H
