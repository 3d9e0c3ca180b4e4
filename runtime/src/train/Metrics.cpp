//===- Metrics.cpp - What one optimizer step produced ---------------------===//
//
// The JSONL record's keys and their order are fixed (tests compare the text).
//
//===----------------------------------------------------------------------===//

#include "train/Metrics.h"

#include "train/JsonWriter.h"
#include "train/StepFunctions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace fp8rt {
namespace trainer {

Status readMetrics(const Program &program, Backend &backend, const std::vector<uint32_t> &metrics,
                   StepMetrics &out) {
  std::vector<double> values;
  for (uint32_t index : metrics) {
    MetricValue m;
    m.name = program.buffers[index].name;
    FP8RT_RETURN_IF_ERROR(readAsDoubles(program, backend, index, values));
    m.count = values.size();
    m.value = values.empty() ? 0 : values[0];
    m.min = INFINITY;
    m.max = -INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) {
        m.nonfinite = true;
        ++out.nonfinite;
        // An amax is the first place an overflow shows; a scale cannot
        // become non-finite by itself (compute_scale keeps the previous one),
        // so any non-finite metric means the state is bad.
        if (out.firstNonfinite.empty()) {
          char text[64];
          std::snprintf(text, sizeof text, "%g", v);
          out.firstNonfinite = m.name + " is " + text;
        }
      }
      m.min = std::min(m.min, v);
      m.max = std::max(m.max, v);
    }
    out.values.push_back(std::move(m));
  }
  return Status::success();
}

StatusOr<int64_t> countNonfinite(const Program &program, Backend &backend,
                                 const std::vector<uint32_t> &grads) {
  int64_t count = 0;
  std::vector<double> values;
  for (uint32_t index : grads) {
    FP8RT_RETURN_IF_ERROR(readAsDoubles(program, backend, index, values));
    for (double v : values)
      count += !std::isfinite(v);
  }
  return count;
}

Throughput stepThroughput(const Program &program, const Backend &backend, double tokensPerSecond) {
  Throughput t;
  const ProgramInfo &info = program.info;
  t.flopsPerToken = info.modelFlopsPerToken;
  t.achievedTFlops = double(t.flopsPerToken) * tokensPerSecond / 1e12;
  if (t.flopsPerToken <= 0 || std::string_view(backend.name()) != "cuda")
    return t;
  bool fp8 = false;
  for (const Function &f : program.functions)
    for (const Instruction &i : f.instructions)
      fp8 = fp8 || (i.kind == Instruction::Kind::Gemm && i.gemm.aScaleMode != GemmScaleMode::None);
  const double peak = fp8 ? info.peakFP8TFlops : info.peakBF16TFlops;
  if (peak > 0) {
    t.mfu = t.achievedTFlops / peak;
    t.peak = fp8 ? "fp8" : "bf16";
  }
  return t;
}

namespace {

void writeThroughput(JsonWriter &json, const Throughput &t) {
  if (t.flopsPerToken <= 0)
    return;
  json.integer("model_flops_per_token", t.flopsPerToken)
      .number("achieved_tflops", t.achievedTFlops, 6);
  if (t.mfu)
    json.number("mfu", *t.mfu, 6).key("mfu_peak").string(t.peak);
}

void writeMetrics(JsonWriter &json, const StepMetrics &metrics) {
  json.key("metrics").beginObject();
  for (const MetricValue &m : metrics.values) {
    json.key(m.name);
    if (m.count == 1)
      json.number(m.value);
    else if (m.nonfinite)
      json.beginObject().key("min").string("nan").key("max").string("nan").endObject();
    else
      json.beginObject().number("min", m.min).number("max", m.max).endObject();
  }
  json.endObject();
}

} // namespace

std::string jsonlRecord(const StepRecord &r) {
  JsonWriter json;
  json.beginObject().integer("step", r.step).number("loss", r.loss);
  json.key("grad_norm");
  if (r.gradNorm)
    json.number(*r.gradNorm);
  else
    json.null();
  if (r.lr)
    json.number("lr", *r.lr);
  if (r.valLoss)
    json.number("val_loss", *r.valLoss);
  json.integer("tokens", r.tokens)
      .number("tokens_per_s", r.tokensPerSecond, 6)
      .number("step_time_ms", r.stepSeconds * 1e3, 6);
  if (r.ranks > 1) // the whole job (docs/distributed.md, "Throughput")
    json.integer("world_size", r.ranks)
        .integer("job_tokens", r.tokens * r.ranks)
        .number("job_tokens_per_s", r.tokensPerSecond * double(r.ranks), 6);
  // Keys added later: between the throughput and the metrics, which stay last.
  writeThroughput(json, r.throughput);
  if (r.lossFloor >= 0)
    json.number("loss_floor", r.lossFloor);
  writeMetrics(json, r.metrics);
  json.key("nonfinite")
      .beginObject()
      .integer("loss", std::isfinite(r.loss) ? 0 : 1)
      .integer("grad_norm", r.gradNorm && !std::isfinite(*r.gradNorm) ? 1 : 0)
      .integer("metrics", r.metrics.nonfinite);
  if (r.metrics.nonfiniteGrads >= 0)
    json.integer("grads", r.metrics.nonfiniteGrads);
  json.endObject().endObject();
  return json.text() + "\n";
}

} // namespace trainer
} // namespace fp8rt
