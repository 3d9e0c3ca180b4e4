//===- Plot.cpp - Laying out the figure of a training run -----------------===//
//
// Two panels per row, each a plot area with its legend underneath. The first
// rows are the run (loss, learning rate, gradient norm, throughput); then one
// row per group of FP8 tensors, amax on the left and scale on the right, so
// a tensor's two lines sit side by side in the same colour.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/plot/Plot.h"

#include "fp8rt/support/AtomicFile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fp8rt {
namespace plot {

namespace {

constexpr double kFigureWidth = 1240, kMargin = 20, kGap = 24, kHeaderHeight = 70;
constexpr double kTitleHeight = 26, kPlotHeight = 190, kAxisLabelsHeight = 40;
constexpr double kLegendRowHeight = 15, kPlotInsetLeft = 78, kPlotInsetRight = 12;
/// Legend entries a panel lists; the rest are counted in one more entry.
constexpr size_t kMaxLegendEntries = 48;

/// Tableau's ten colours; a tensor keeps its colour in every panel.
const char *const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string fmt(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// The range of the values a panel shows (positive ones only on a log axis).
bool valueRange(const Panel &p, bool log, double &lo, double &hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (const PanelLine &l : p.lines)
    for (const Point &q : l.series->points)
      if (!log || q.value > 0) {
        lo = std::min(lo, q.value);
        hi = std::max(hi, q.value);
      }
  if (!p.referenceLabel.empty()) {
    lo = std::min(lo, p.reference);
    hi = std::max(hi, p.reference);
  }
  return lo <= hi;
}

/// The y axis: whole decades on a log axis, the range padded by 5 % on a
/// linear one.
AxisScale yAxis(const Panel &p, bool log) {
  AxisScale y;
  y.log = log;
  double lo = 0, hi = 0;
  if (!valueRange(p, log, lo, hi)) {
    y.lo = log ? 0.1 : 0;
    y.hi = log ? 10 : 1;
    return y;
  }
  if (log) {
    y.lo = std::pow(10.0, std::floor(std::log10(lo)));
    y.hi = std::pow(10.0, std::ceil(std::log10(hi)));
    if (y.hi <= y.lo)
      y.hi = y.lo * 10;
    return y;
  }
  double pad = (hi - lo) * 0.05;
  if (pad == 0)
    pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
  y.lo = lo - pad;
  y.hi = hi + pad;
  if (lo >= 0 && y.lo < 0)
    y.lo = 0; // a loss or a rate is not negative
  return y;
}

/// Labels without the dotted prefix every one of them shares
/// ("transformer.h.0.attn.c_attn.forward.a" -> "0.attn.c_attn.forward.a").
std::vector<std::string> shortLabels(const std::vector<std::string> &names) {
  if (names.size() < 2)
    return names;
  size_t common = names[0].size();
  for (const std::string &n : names) {
    size_t i = 0;
    while (i < common && i < n.size() && n[i] == names[0][i])
      ++i;
    common = i;
  }
  common = names[0].rfind('.', common == 0 ? 0 : common - 1);
  common = common == std::string::npos ? 0 : common + 1;
  std::vector<std::string> out;
  for (const std::string &n : names)
    out.push_back(n.substr(std::min(common, n.size())));
  return out;
}

/// Names with their digit runs compared as numbers: "h.2" before "h.10".
bool naturalLess(const std::string &a, const std::string &b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && digit(a[i2]))
        ++i2;
      while (j2 < b.size() && digit(b[j2]))
        ++j2;
      const std::string x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      if (x.size() != y.size())
        return x.size() < y.size();
      if (x != y)
        return x < y;
      i = i2;
      j = j2;
    } else if (a[i] != b[j]) {
      return a[i] < b[j];
    } else {
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

/// Legend rows: as many columns as the longest label allows; lines without a
/// label share one entry ("and N more").
int legendRows(const Panel &p, double plotWidth) {
  size_t longest = p.referenceLabel.size(), entries = !p.referenceLabel.empty();
  bool unlabelled = false;
  for (const PanelLine &l : p.lines) {
    longest = std::max(longest, l.label.size());
    entries += !l.label.empty();
    unlabelled = unlabelled || l.label.empty();
  }
  entries += unlabelled;
  const int columns = std::max(1, int(plotWidth / (double(longest) * 6.4 + 34)));
  return int((entries + size_t(columns) - 1) / size_t(columns));
}

class Layout {
public:
  Layout(const RunHistory &history, Figure &figure) : h_(history), f_(figure) {}

  void run() {
    runPanels();
    startRow();
    const TensorGroup groups[] = {TensorGroup::Activations, TensorGroup::Weights,
                                  TensorGroup::Gradients, TensorGroup::Other};
    bool anyTensor = false;
    for (TensorGroup g : groups)
      anyTensor = groupPanels(g) || anyTensor;
    if (!anyTensor)
      f_.note = "No FP8 amax or scale in this log: a bf16 run, or delayed scaling (which "
                "keeps its amax history as state, not as metrics).";
    placeRows();
  }

private:
  void add(Panel panel, bool log) {
    panel.y = yAxis(panel, log);
    pending_.push_back(std::move(panel));
  }

  /// Loss, learning rate, gradient norm, throughput: the ones with points.
  void runPanels() {
    Panel loss{"Loss", "nats/token"};
    if (!h_.loss().points.empty())
      loss.lines.push_back({&h_.loss(), "train loss", kPalette[0]});
    if (!h_.valLoss().points.empty())
      loss.lines.push_back({&h_.valLoss(), "held-out loss", kPalette[1], false, true});
    if (h_.lossFloor() >= 0) {
      loss.reference = h_.lossFloor();
      loss.referenceLabel = "entropy floor " + fmt("%.4f", h_.lossFloor()) + " (synthetic corpus)";
    }
    add(std::move(loss), false);
    if (!h_.lr().points.empty())
      add(Panel{"Learning rate", "lr", {{&h_.lr(), "lr", kPalette[2]}}}, false);
    if (!h_.gradNorm().points.empty())
      add(Panel{"Gradient norm", "before clipping", {{&h_.gradNorm(), "grad_norm", kPalette[3]}}},
          true);
    if (!h_.tokensPerSecond().points.empty())
      add(Panel{"Throughput", "tokens/s", {{&h_.tokensPerSecond(), "tokens/s", kPalette[4]}}},
          false);
  }

  /// The amax and scale panels of one group; false when it has no tensor.
  bool groupPanels(TensorGroup group) {
    std::vector<const TensorMetrics *> tensors;
    std::vector<std::string> names;
    for (const TensorMetrics &t : h_.tensors())
      if (t.group == group && (!t.amax.points.empty() || !t.scale.points.empty())) {
        tensors.push_back(&t);
        names.push_back(t.tensor);
      }
    if (tensors.empty())
      return false;
    // Layer by layer, whatever order the program computed them in.
    std::stable_sort(tensors.begin(), tensors.end(),
                     [](const TensorMetrics *a, const TensorMetrics *b) {
                       return naturalLess(a->tensor, b->tensor);
                     });
    names.clear();
    for (const TensorMetrics *t : tensors)
      names.push_back(t->tensor);
    const std::vector<std::string> labels = shortLabels(names);
    const std::string title = groupTitle(group);
    Panel amax{title + ": amax", "amax"}, scale{title + ": scale", "scale"};
    for (size_t i = 0; i < tensors.size(); ++i) {
      // Past ten tensors the colours repeat, dashed the second time round.
      const char *color = kPalette[i % 10];
      const bool dashed = (i / 10) % 2 == 1;
      const std::string label = i < kMaxLegendEntries ? labels[i] : std::string();
      amax.lines.push_back({&tensors[i]->amax, label, color, dashed});
      scale.lines.push_back({&tensors[i]->scale, label, color, dashed});
    }
    add(std::move(amax), true);
    add(std::move(scale), true);
    startRow();
    return true;
  }

  /// Ends the current row of pending panels (a lone panel keeps the left).
  void startRow() {
    for (size_t i = 0; i < pending_.size(); i += 2) {
      std::vector<Panel> row(pending_.begin() + long(i),
                             pending_.begin() + long(std::min(pending_.size(), i + 2)));
      rows_.push_back(std::move(row));
    }
    pending_.clear();
  }

  /// Positions: rows top to bottom, each as tall as its tallest legend needs.
  void placeRows() {
    const double width = (kFigureWidth - 2 * kMargin - kGap) / 2;
    const double plotWidth = width - kPlotInsetLeft - kPlotInsetRight;
    double top = kHeaderHeight;
    for (std::vector<Panel> &row : rows_) {
      int rows = 0;
      for (Panel &p : row) {
        p.legendRows = legendRows(p, plotWidth);
        rows = std::max(rows, p.legendRows);
      }
      const double height =
          kTitleHeight + kPlotHeight + kAxisLabelsHeight + double(rows) * kLegendRowHeight + 12;
      for (size_t c = 0; c < row.size(); ++c) {
        Panel &p = row[c];
        p.left = kMargin + double(c) * (width + kGap);
        p.top = top;
        p.width = width;
        p.height = height;
        p.x.lo = h_.firstStep();
        p.x.hi = h_.lastStep() > h_.firstStep() ? h_.lastStep() : h_.firstStep() + 1;
        p.x.integerTicks = true;
        p.x.pixelLo = p.left + kPlotInsetLeft;
        p.x.pixelHi = p.left + width - kPlotInsetRight;
        p.y.pixelLo = top + kTitleHeight + kPlotHeight; // y grows downwards
        p.y.pixelHi = top + kTitleHeight;
        f_.panels.push_back(std::move(p));
      }
      top += height;
    }
    f_.height = top + (f_.note.empty() ? 10 : 34);
  }

  const RunHistory &h_;
  Figure &f_;
  std::vector<Panel> pending_;
  std::vector<std::vector<Panel>> rows_;
};

} // namespace

Figure layoutFigure(const RunHistory &history, const std::string &title) {
  Figure f;
  f.width = kFigureWidth;
  f.title = title;
  f.subtitle = "steps " + fmt("%.0f", history.firstStep()) + " to " +
               fmt("%.0f", history.lastStep()) + " (" + std::to_string(history.records()) +
               " records)";
  if (!history.loss().points.empty())
    f.subtitle += "; last loss " + fmt("%.4f", history.loss().points.back().value);
  if (history.lossFloor() >= 0)
    f.subtitle += "; synthetic corpus entropy " + fmt("%.4f", history.lossFloor()) + " nats/token";
  if (history.flopsPerToken() > 0)
    f.subtitle += "; " + fmt("%.3g", history.flopsPerToken() / 1e6) + " MFLOP/token, " +
                  fmt("%.3g", history.achievedTFlops()) + " TFLOP/s";
  if (history.mfu() >= 0)
    f.subtitle += ", MFU " + fmt("%.1f", history.mfu() * 100) + "% of " + history.mfuPeak();
  if (!history.nonfiniteSteps().empty())
    f.subtitle += "; non-finite values at " + std::to_string(history.nonfiniteSteps().size()) +
                  " step(s), marked with red dashes";
  f.nonfiniteSteps = history.nonfiniteSteps();
  Layout(history, f).run();
  return f;
}

namespace {

Status writeFigure(const std::string &path, const Figure &figure) {
  const std::string svg = renderSvg(figure);
  AtomicFile file;
  FP8RT_RETURN_IF_ERROR(AtomicFile::open(path, file).withContext("plot"));
  FP8RT_RETURN_IF_ERROR(file.write(svg.data(), svg.size()).withContext("plot"));
  return file.commit().withContext("plot");
}

} // namespace

Status writePlot(const std::string &path, const RunHistory &history, const std::string &title) {
  return writeFigure(path, layoutFigure(history, title));
}

Status plotLogFile(const std::string &logPath, const std::string &svgPath, std::ostream &out) {
  FP8RT_ASSIGN_OR_RETURN(RunHistory history, readRunLog(logPath));
  const Figure figure = layoutFigure(history, logPath);
  FP8RT_RETURN_IF_ERROR(writeFigure(svgPath, figure));
  out << "wrote plot " << svgPath << ": " << history.records()
      << (history.records() == 1 ? " step, " : " steps, ") << figure.panels.size()
      << (figure.panels.size() == 1 ? " panel\n" : " panels\n");
  return Status::success();
}

} // namespace plot
} // namespace fp8rt
