//===- PlotTest.cpp - fp8-run --plot: the run history and its SVG ---------===//
//
// A small JSONL log parsed into a RunHistory (series, groups, resume, errors),
// laid out (panels, axes) and rendered: each series is one <polyline> whose
// points are the laid-out axes' pixels of its values.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/plot/Plot.h"
#include "fp8rt/plot/RunHistory.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

using namespace fp8rt;
using namespace fp8rt::plot;

namespace {

// Three steps of a tensorwise run with one FP8 linear layer (x, W, dy) and a
// rowwise-style metric with several values; step 3 evaluated.
const char *const kLog =
    R"({"step":1,"loss":5.5,"grad_norm":2,"lr":0.001,"tokens":512,"tokens_per_s":1000,"step_time_ms":5,"loss_floor":0.5,"metrics":{"h.0.fc.forward.a.amax":4,"h.0.fc.forward.a.scale":112,"h.0.fc.forward.b.amax":0.1,"h.0.fc.forward.b.scale":4480,"h.0.fc.dgrad.a.amax":{"min":0.0001,"max":0.001},"h.0.fc.dgrad.a.scale":{"min":57344,"max":573440}},"nonfinite":{"loss":0,"grad_norm":0,"metrics":0}}
{"step":2,"loss":4,"grad_norm":1,"lr":0.002,"tokens":512,"tokens_per_s":1100,"step_time_ms":5,"loss_floor":0.5,"metrics":{"h.0.fc.forward.a.amax":8,"h.0.fc.forward.a.scale":56,"h.0.fc.forward.b.amax":0.1,"h.0.fc.forward.b.scale":4480,"h.0.fc.dgrad.a.amax":{"min":0.0001,"max":0.01},"h.0.fc.dgrad.a.scale":{"min":5734.4,"max":573440}},"nonfinite":{"loss":0,"grad_norm":0,"metrics":0}}
{"step":3,"loss":3,"grad_norm":"nan","lr":0.002,"val_loss":3.25,"tokens":512,"tokens_per_s":1200,"step_time_ms":5,"loss_floor":0.5,"metrics":{"h.0.fc.forward.a.amax":2,"h.0.fc.forward.a.scale":224,"h.0.fc.forward.b.amax":0.1,"h.0.fc.forward.b.scale":4480,"h.0.fc.dgrad.a.amax":{"min":"nan","max":"nan"},"h.0.fc.dgrad.a.scale":{"min":57344,"max":573440}},"nonfinite":{"loss":0,"grad_norm":1,"metrics":1}}
)";

std::string writeTemp(const std::string &name, const std::string &text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const Panel *findPanel(const Figure &f, const std::string &title) {
  for (const Panel &p : f.panels)
    if (p.title == title)
      return &p;
  return nullptr;
}

/// The "x,y" pairs of the polyline of `series` in `svg`.
std::vector<std::pair<double, double>> polyline(const std::string &svg,
                                                const std::string &series) {
  std::vector<std::pair<double, double>> out;
  const std::string key = "<polyline data-series=\"" + series + "\"";
  const size_t at = svg.find(key);
  if (at == std::string::npos)
    return out;
  const size_t begin = svg.find("points=\"", at) + 8;
  std::istringstream in(svg.substr(begin, svg.find('"', begin) - begin));
  std::string pair;
  while (in >> pair) {
    double x = 0, y = 0;
    if (std::sscanf(pair.c_str(), "%lf,%lf", &x, &y) == 2)
      out.push_back({x, y});
  }
  return out;
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST(PlotHistory, ReadsTheSeriesOfALog) {
  StatusOr<RunHistory> h = readRunLog(writeTemp("plot-log.jsonl", kLog));
  ASSERT_TRUE(h.ok()) << h.status().toString();
  EXPECT_EQ(h->records(), 3);
  EXPECT_EQ(h->firstStep(), 1);
  EXPECT_EQ(h->lastStep(), 3);
  EXPECT_EQ(h->lossFloor(), 0.5);
  ASSERT_EQ(h->loss().points.size(), 3u);
  EXPECT_EQ(h->loss().points[2].value, 3);
  ASSERT_EQ(h->valLoss().points.size(), 1u);
  EXPECT_EQ(h->valLoss().points[0].step, 3);
  EXPECT_EQ(h->lr().points.size(), 3u);
  // The "nan" gradient norm of step 3 is no point, and marks the step.
  EXPECT_EQ(h->gradNorm().points.size(), 2u);
  EXPECT_EQ(h->nonfiniteSteps(), std::vector<double>{3});

  ASSERT_EQ(h->tensors().size(), 3u);
  const TensorMetrics &x = h->tensors()[0], &w = h->tensors()[1], &dy = h->tensors()[2];
  EXPECT_EQ(x.tensor, "h.0.fc.forward.a");
  EXPECT_EQ(x.group, TensorGroup::Activations);
  EXPECT_EQ(w.group, TensorGroup::Weights);
  EXPECT_EQ(dy.group, TensorGroup::Gradients);
  EXPECT_EQ(x.amax.points[1].value, 8);
  EXPECT_EQ(x.scale.points[2].value, 224);
  // Several values: the largest amax, the smallest scale.
  ASSERT_EQ(dy.amax.points.size(), 2u);
  EXPECT_EQ(dy.amax.points[1].value, 0.01);
  EXPECT_EQ(dy.scale.points[1].value, 5734.4);
}

TEST(PlotHistory, TensorGroupsFromTheGemmAndOperand) {
  EXPECT_EQ(tensorGroup("l.q_proj.forward.a"), TensorGroup::Activations);
  EXPECT_EQ(tensorGroup("l.v_proj.wgrad.b"), TensorGroup::Activations);
  EXPECT_EQ(tensorGroup("l.q_proj.forward.b"), TensorGroup::Weights);
  EXPECT_EQ(tensorGroup("l.q_proj.dgrad.b"), TensorGroup::Weights);
  EXPECT_EQ(tensorGroup("l.q_proj.dgrad.a"), TensorGroup::Gradients);
  EXPECT_EQ(tensorGroup("l.q_proj.wgrad.a"), TensorGroup::Gradients);
  EXPECT_EQ(tensorGroup("something.else"), TensorGroup::Other);
}

TEST(PlotHistory, AResumedRunReplacesTheStepsItRepeats) {
  RunHistory h;
  for (int step : {1, 2, 3, 4, 2, 3}) {
    const double loss = step * 10 + (h.records() >= 4 ? 1 : 0);
    std::string record = "{\"step\":" + std::to_string(step) +
                         ",\"loss\":" + std::to_string(loss) + "}";
    ASSERT_TRUE(h.addRecord(record, "x").ok());
  }
  ASSERT_EQ(h.loss().points.size(), 3u);
  EXPECT_EQ(h.loss().points[0].value, 10);
  EXPECT_EQ(h.loss().points[1].value, 21);
  EXPECT_EQ(h.loss().points[2].value, 31);
  EXPECT_EQ(h.lastStep(), 3);
}

TEST(PlotHistory, LongRunsKeepBoundedMinMaxBuckets) {
  RunHistory h;
  for (int step = 1; step <= 10000; ++step) {
    const double loss = step == 5001 ? 100 : 1; // one spike
    ASSERT_TRUE(h.addRecord("{\"step\":" + std::to_string(step) +
                                ",\"loss\":" + std::to_string(loss) + "}",
                            "x")
                    .ok());
  }
  const Series &loss = h.loss();
  EXPECT_LE(loss.points.size(), RunHistory::kMaxPoints);
  EXPECT_GE(loss.points.size(), RunHistory::kMaxPoints / 4);
  EXPECT_GT(loss.bucketSteps, 1);
  bool spike = false;
  for (size_t i = 0; i < loss.points.size(); ++i) {
    spike = spike || loss.points[i].value == 100;
    if (i > 0) {
      EXPECT_LT(loss.points[i - 1].step, loss.points[i].step);
    }
  }
  EXPECT_TRUE(spike) << "min-max buckets keep the spike";
}

TEST(PlotHistory, ErrorsAreLocated) {
  auto error = [](const std::string &name, const std::string &text) {
    return readRunLog(writeTemp(name, text)).status().message();
  };
  EXPECT_EQ(error("plot-empty.jsonl", ""),
            ::testing::TempDir() + "plot-empty.jsonl: no steps (an fp8-run --log file holds one "
                                   "JSON record per optimizer step)");
  EXPECT_EQ(error("plot-text.jsonl", "{\"step\":1,\"loss\":2}\n\nhello\n"),
            ::testing::TempDir() +
                "plot-text.jsonl:3: not JSON: expected a JSON value, found 'h' at column 1");
  EXPECT_EQ(error("plot-nostep.jsonl", "{\"loss\":2}\n"),
            ::testing::TempDir() +
                "plot-nostep.jsonl:1: not an fp8-run metrics record: no integer \"step\"");
  EXPECT_EQ(error("plot-badlr.jsonl", "{\"step\":1,\"loss\":2,\"lr\":true}\n"),
            ::testing::TempDir() + "plot-badlr.jsonl:1: \"lr\": expected a number, found true");
}

TEST(PlotFigure, PanelsSeriesAndCoordinates) {
  StatusOr<RunHistory> h = readRunLog(writeTemp("plot-fig.jsonl", kLog));
  ASSERT_TRUE(h.ok()) << h.status().toString();
  const Figure f = layoutFigure(*h, "run.jsonl");
  std::vector<std::string> titles;
  for (const Panel &p : f.panels)
    titles.push_back(p.title);
  EXPECT_EQ(titles, (std::vector<std::string>{
                        "Loss", "Learning rate", "Gradient norm", "Throughput",
                        "Forward activations: amax", "Forward activations: scale",
                        "Weights: amax", "Weights: scale", "Gradients: amax",
                        "Gradients: scale"}));
  const Panel &loss = *findPanel(f, "Loss");
  EXPECT_FALSE(loss.y.log);
  EXPECT_EQ(loss.referenceLabel, "entropy floor 0.5000 (synthetic corpus)");
  ASSERT_EQ(loss.lines.size(), 2u);
  EXPECT_TRUE(loss.lines[1].markers); // held-out loss
  // The axis covers the values and the floor: 0.5 .. 5.5, padded by 5 %.
  EXPECT_DOUBLE_EQ(loss.y.lo, 0.25);
  EXPECT_DOUBLE_EQ(loss.y.hi, 5.75);
  EXPECT_DOUBLE_EQ(loss.x.lo, 1);
  EXPECT_DOUBLE_EQ(loss.x.hi, 3);
  const Panel &amax = *findPanel(f, "Forward activations: amax");
  EXPECT_TRUE(amax.y.log);
  EXPECT_DOUBLE_EQ(amax.y.lo, 1); // 2 .. 8 in whole decades
  EXPECT_DOUBLE_EQ(amax.y.hi, 10);
  EXPECT_TRUE(findPanel(f, "Gradient norm")->y.log);

  const std::string svg = renderSvg(f);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count(svg, "<g class=\"panel\""), 10u);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("@font-face"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos); // nothing external
  EXPECT_NE(svg.find("class=\"reference\""), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"nonfinite\""), 10u); // step 3, in every panel

  // Each point where the panel's axes put it.
  const std::vector<std::pair<double, double>> lossLine = polyline(svg, "loss");
  ASSERT_EQ(lossLine.size(), 3u);
  const double values[] = {5.5, 4, 3};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(lossLine[i].first, loss.x.toPixel(i + 1), 0.051);
    EXPECT_NEAR(lossLine[i].second, loss.y.toPixel(values[i]), 0.051);
  }
  EXPECT_NEAR(lossLine[0].first, loss.x.pixelLo, 0.051); // step 1 at the left edge
  EXPECT_NEAR(lossLine[2].first, loss.x.pixelHi, 0.051); // step 3 at the right
  const auto amaxLine = polyline(svg, "h.0.fc.forward.a.amax");
  ASSERT_EQ(amaxLine.size(), 3u);
  // 8 on a log axis of 1 .. 10: log10(8) of the way up.
  const double expected =
      amax.y.pixelLo + std::log10(8.0) * (amax.y.pixelHi - amax.y.pixelLo);
  EXPECT_NEAR(amaxLine[1].second, expected, 0.051);
  EXPECT_EQ(polyline(svg, "val_loss").size(), 1u);
  EXPECT_EQ(polyline(svg, "h.0.fc.dgrad.a.scale").size(), 3u);
}

TEST(PlotFigure, AxisScalesAndTicks) {
  AxisScale lin{0, 10, false, 100, 200};
  EXPECT_DOUBLE_EQ(lin.toPixel(0), 100);
  EXPECT_DOUBLE_EQ(lin.toPixel(2.5), 125);
  EXPECT_EQ(lin.ticks(), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  AxisScale log{1e-3, 10, true, 300, 100}; // y: up is smaller pixels
  EXPECT_DOUBLE_EQ(log.toPixel(1e-3), 300);
  EXPECT_DOUBLE_EQ(log.toPixel(10), 100);
  EXPECT_DOUBLE_EQ(log.toPixel(0.1), 200);
  EXPECT_EQ(log.ticks().size(), 5u);
  AxisScale steps{1, 3, false, 0, 100};
  steps.integerTicks = true; // no step 1.5
  EXPECT_EQ(steps.ticks(), (std::vector<double>{1, 2, 3}));
}

TEST(PlotFigure, ARunWithoutFp8SaysSo) {
  RunHistory h;
  ASSERT_TRUE(h.addRecord(R"({"step":1,"loss":2,"grad_norm":null})", "x").ok());
  const Figure f = layoutFigure(h, "bf16");
  EXPECT_EQ(f.panels.size(), 1u); // the loss only: no lr, grad norm or throughput
  EXPECT_NE(f.note.find("No FP8 amax or scale"), std::string::npos);
}

TEST(PlotFigure, TheSubtitleSaysTheThroughput) {
  RunHistory h;
  ASSERT_TRUE(h.addRecord(R"({"step":1,"loss":2,"model_flops_per_token":2752512,)"
                          R"("achieved_tflops":412.5,"mfu":0.2085,"mfu_peak":"fp8"})",
                          "x")
                  .ok());
  EXPECT_EQ(layoutFigure(h, "t").subtitle,
            "steps 1 to 1 (1 records); last loss 2.0000; 2.75 MFLOP/token, 412 TFLOP/s, "
            "MFU 20.8% of fp8");
}

TEST(PlotFigure, WritePlotIsAtomicAndReportsItsPath) {
  RunHistory h;
  ASSERT_TRUE(h.addRecord(R"({"step":1,"loss":2})", "x").ok());
  const std::string path = ::testing::TempDir() + "plot-out.svg";
  ASSERT_TRUE(writePlot(path, h, "t").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("</svg>"), std::string::npos);
  Status s = writePlot(::testing::TempDir() + "no-such-dir/x.svg", h, "t");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("plot: ", 0), 0u) << s.message();
}
