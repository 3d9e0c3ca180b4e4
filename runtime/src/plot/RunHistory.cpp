//===- RunHistory.cpp - A training run's metrics, read for plotting -------===//
//
// The JSONL record's fields are docs/runtime.md's ("Metrics"); only what the
// plot draws is read, and every other key is left alone, so logs of older and
// newer fp8-runs plot alike.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/plot/RunHistory.h"

#include "support/Json.h"
#include "support/ReadFile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace fp8rt {
namespace plot {

TensorGroup tensorGroup(std::string_view name) {
  auto endsWith = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (endsWith(".forward.a") || endsWith(".wgrad.b"))
    return TensorGroup::Activations;
  if (endsWith(".forward.b") || endsWith(".dgrad.b"))
    return TensorGroup::Weights;
  if (endsWith(".dgrad.a") || endsWith(".wgrad.a"))
    return TensorGroup::Gradients;
  return TensorGroup::Other;
}

const char *groupTitle(TensorGroup group) {
  switch (group) {
  case TensorGroup::Activations:
    return "Forward activations";
  case TensorGroup::Weights:
    return "Weights";
  case TensorGroup::Gradients:
    return "Gradients";
  case TensorGroup::Other:
    break;
  }
  return "Other FP8 tensors";
}

namespace {

/// Adds a point to `points` as the min-max buckets of `bucketSteps` steps
/// have it: a bucket keeps its lowest and highest point, in step order.
void addToBucket(std::vector<Point> &points, double bucketSteps, Point p) {
  const double bucket = std::floor(p.step / bucketSteps);
  size_t first = points.size();
  while (first > 0 && points.size() - first < 2 &&
         std::floor(points[first - 1].step / bucketSteps) == bucket)
    --first;
  if (first == points.size()) {
    points.push_back(p);
    return;
  }
  Point lo = p, hi = p;
  for (size_t i = first; i < points.size(); ++i) {
    lo = points[i].value < lo.value ? points[i] : lo;
    hi = points[i].value > hi.value ? points[i] : hi;
  }
  points.resize(first);
  if (lo.step == hi.step) {
    points.push_back(lo);
    return;
  }
  points.push_back(lo.step < hi.step ? lo : hi);
  points.push_back(lo.step < hi.step ? hi : lo);
}

void append(Series &series, double step, double value) {
  addToBucket(series.points, series.bucketSteps, {step, value});
  while (series.points.size() > RunHistory::kMaxPoints) {
    series.bucketSteps *= 2;
    std::vector<Point> old = std::move(series.points);
    series.points.clear();
    for (const Point &p : old)
      addToBucket(series.points, series.bucketSteps, p);
  }
}

void truncate(Series &series, double step) {
  auto &p = series.points;
  p.erase(std::find_if(p.begin(), p.end(), [&](const Point &q) { return q.step >= step; }),
          p.end());
}

/// A number of the record: a JSON number, or the strings "nan", "inf",
/// "-inf" the trainer writes for non-finite values (then `finite` is false).
Status readNumber(const json::Value &v, const std::string &where, const std::string &key,
                  double &out, bool &finite) {
  finite = true;
  if (v.kind == json::Kind::Number) {
    out = std::strtod(v.text.c_str(), nullptr);
    finite = std::isfinite(out);
    return Status::success();
  }
  if (v.kind == json::Kind::String && (v.text == "nan" || v.text == "inf" || v.text == "-inf")) {
    finite = false;
    return Status::success();
  }
  return dataLossError(where + ": \"" + key + "\": expected a number, found " + json::describe(v));
}

/// Reads the optional `key` of `record` into `series` at `step`. null (a
/// program without a gradient norm) is no point.
Status readSeries(const json::Value &record, const char *key, double step, const std::string &where,
                  Series &series, bool &nonfinite) {
  const json::Value *v = record.find(key);
  if (!v || v->kind == json::Kind::Null)
    return Status::success();
  double value = 0;
  bool finite = true;
  FP8RT_RETURN_IF_ERROR(readNumber(*v, where, key, value, finite));
  if (finite)
    append(series, step, value);
  else
    nonfinite = true;
  return Status::success();
}

} // namespace

TensorMetrics &RunHistory::tensor(const std::string &name) {
  for (TensorMetrics &t : tensors_)
    if (t.tensor == name)
      return t;
  TensorMetrics t;
  t.tensor = name;
  t.group = tensorGroup(name);
  t.amax.name = name + ".amax";
  t.scale.name = name + ".scale";
  tensors_.push_back(std::move(t));
  return tensors_.back();
}

Status RunHistory::addMetric(const std::string &name, double step, const json::Value &v,
                             const std::string &where, bool &nonfinite) {
  const bool isAmax = name.size() > 5 && name.compare(name.size() - 5, 5, ".amax") == 0;
  const bool isScale = name.size() > 6 && name.compare(name.size() - 6, 6, ".scale") == 0;
  if (!isAmax && !isScale)
    return Status::success(); // a metric the plot does not know
  const std::string key = "metrics." + name;
  double value = 0;
  bool finite = true;
  if (v.kind == json::Kind::Object) {
    // Several values: {"min": .., "max": ..}.
    const char *bound = isAmax ? "max" : "min";
    const json::Value *b = v.find(bound);
    if (!b)
      return dataLossError(where + ": \"" + key + "\": expected a number or {\"min\", \"max\"}");
    FP8RT_RETURN_IF_ERROR(readNumber(*b, where, key + "." + bound, value, finite));
  } else {
    FP8RT_RETURN_IF_ERROR(readNumber(v, where, key, value, finite));
  }
  if (!finite) {
    nonfinite = true;
    return Status::success();
  }
  TensorMetrics &t = tensor(name.substr(0, name.rfind('.')));
  append(isAmax ? t.amax : t.scale, step, value);
  return Status::success();
}

void RunHistory::forgetFrom(double step) {
  for (Series *s : {&loss_, &valLoss_, &lr_, &gradNorm_, &tokensPerSecond_})
    truncate(*s, step);
  for (TensorMetrics &t : tensors_) {
    truncate(t.amax, step);
    truncate(t.scale, step);
  }
  nonfiniteSteps_.erase(std::remove_if(nonfiniteSteps_.begin(), nonfiniteSteps_.end(),
                                       [&](double s) { return s >= step; }),
                        nonfiniteSteps_.end());
}

/// The MFU keys (docs/runtime.md, "MFU"), for the subtitle.
Status RunHistory::readThroughput(const json::Value &record, const std::string &where) {
  const struct {
    const char *key;
    double *out;
  } numbers[] = {{"model_flops_per_token", &flopsPerToken_},
                 {"achieved_tflops", &achievedTFlops_},
                 {"mfu", &mfu_}};
  for (const auto &n : numbers)
    if (const json::Value *v = record.find(n.key)) {
      bool finite = true;
      double value = 0;
      FP8RT_RETURN_IF_ERROR(readNumber(*v, where, n.key, value, finite));
      if (finite)
        *n.out = value;
    }
  if (const json::Value *peak = record.find("mfu_peak"); peak && peak->kind == json::Kind::String)
    mfuPeak_ = peak->text;
  return Status::success();
}

Status RunHistory::addRecord(std::string_view line, const std::string &where) {
  StatusOr<json::Value> parsed = json::parse(line);
  if (!parsed.ok()) {
    // The parser counts bytes from the line's start: say column, 1-based.
    std::string message = parsed.status().message();
    const size_t at = message.rfind(" at byte ");
    if (at != std::string::npos)
      message = message.substr(0, at) + " at column " +
                std::to_string(std::strtoull(message.c_str() + at + 9, nullptr, 10) + 1);
    return dataLossError(where + ": not JSON: " + message +
                         (records_ == 0 ? " (an fp8-run --log file holds one JSON record "
                                          "per line)"
                                        : ""));
  }
  const json::Value &record = *parsed;
  const json::Value *stepValue = record.kind == json::Kind::Object ? record.find("step") : nullptr;
  if (!stepValue || !stepValue->isInteger())
    return dataLossError(where + ": not an fp8-run metrics record: no integer \"step\"");
  const double step = std::strtod(stepValue->text.c_str(), nullptr);
  if (!record.find("loss"))
    return dataLossError(where + ": not an fp8-run metrics record: no \"loss\"");
  if (records_ > 0 && step <= lastStep_)
    forgetFrom(step);

  bool nonfinite = false;
  FP8RT_RETURN_IF_ERROR(readSeries(record, "loss", step, where, loss_, nonfinite));
  FP8RT_RETURN_IF_ERROR(readSeries(record, "val_loss", step, where, valLoss_, nonfinite));
  FP8RT_RETURN_IF_ERROR(readSeries(record, "lr", step, where, lr_, nonfinite));
  FP8RT_RETURN_IF_ERROR(readSeries(record, "grad_norm", step, where, gradNorm_, nonfinite));
  bool ignored = false;
  FP8RT_RETURN_IF_ERROR(readSeries(record, "tokens_per_s", step, where, tokensPerSecond_, ignored));
  if (const json::Value *floor = record.find("loss_floor")) {
    bool finite = true;
    double value = 0;
    FP8RT_RETURN_IF_ERROR(readNumber(*floor, where, "loss_floor", value, finite));
    if (finite)
      lossFloor_ = value;
  }
  FP8RT_RETURN_IF_ERROR(readThroughput(record, where));
  if (const json::Value *metrics = record.find("metrics")) {
    if (metrics->kind != json::Kind::Object)
      return dataLossError(where + ": \"metrics\": expected an object, found " +
                           json::describe(*metrics));
    for (size_t i = 0; i < metrics->keys.size(); ++i)
      FP8RT_RETURN_IF_ERROR(addMetric(metrics->keys[i], step, metrics->items[i], where, nonfinite));
  }
  if (nonfinite)
    nonfiniteSteps_.push_back(step);
  if (records_ == 0 || step < firstStep_)
    firstStep_ = step;
  lastStep_ = step;
  ++records_;
  return Status::success();
}

StatusOr<RunHistory> readRunLog(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readRegularFile(path));
  const std::string_view text(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  RunHistory history;
  size_t lineNumber = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos)
      end = text.size();
    ++lineNumber;
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
      continue; // blank lines (the last newline's) carry nothing
    FP8RT_RETURN_IF_ERROR(history.addRecord(line, path + ":" + std::to_string(lineNumber)));
  }
  if (history.records() == 0)
    return dataLossError(path + ": no steps (an fp8-run --log file holds one JSON record "
                                "per optimizer step)");
  return history;
}

} // namespace plot
} // namespace fp8rt
