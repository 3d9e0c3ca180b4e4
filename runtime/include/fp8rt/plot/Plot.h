//===- Plot.h - One SVG of a training run ----------------------*- C++ -*-===//
//
// `fp8-run --plot=run.svg` and `fp8-run --plot-log m.jsonl -o run.svg`
// (docs/runtime.md, "Plots"): a self-contained SVG (no scripts, no external
// fonts or styles) of a RunHistory. Panels, two per row: loss (with the
// held-out loss and the synthetic corpus's entropy floor), learning rate,
// gradient norm, throughput; then the amax and the scale of each FP8 tensor,
// one row per group (forward activations, weights, gradients). Values that
// span decades (gradient norm, amax, scale) get a logarithmic axis.
//
// layoutFigure decides everything (positions, axes, colours, labels);
// renderSvg only draws it, so tests can check where a value lands.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_PLOT_PLOT_H
#define FP8RT_PLOT_PLOT_H

#include "fp8rt/Status.h"
#include "fp8rt/plot/RunHistory.h"

#include <ostream>
#include <string>
#include <vector>

namespace fp8rt {
namespace plot {

/// A linear or logarithmic map of [lo, hi] onto the pixels [pixelLo, pixelHi].
struct AxisScale {
  double lo = 0, hi = 1;
  bool log = false;
  double pixelLo = 0, pixelHi = 1;
  bool integerTicks = false; ///< ticks at whole numbers only (steps)
  double toPixel(double value) const;
  /// Tick values: 1-2-5 steps on a linear axis, powers of ten on a log one.
  std::vector<double> ticks() const;
};

struct PanelLine {
  const Series *series = nullptr;
  std::string label;
  std::string color; ///< "#1f77b4"
  bool dashed = false;
  bool markers = false; ///< a dot per point (sparse series: held-out loss)
};

struct Panel {
  std::string title, yLabel;
  std::vector<PanelLine> lines;
  /// A horizontal reference line (the loss floor) and its label; none when
  /// referenceLabel is empty.
  double reference = 0;
  std::string referenceLabel;
  /// The plot area: x maps steps, y values; the legend goes below it.
  AxisScale x, y;
  double left = 0, top = 0, width = 0, height = 0; ///< the whole panel
  int legendRows = 0;
};

struct Figure {
  double width = 0, height = 0;
  std::string title, subtitle;
  std::vector<Panel> panels;
  std::vector<double> nonfiniteSteps; ///< marked in every panel
  std::string note;                   ///< a line under the panels ("no FP8 metrics ...")
};

/// The figure of `history` (which it points into: keep it alive), titled
/// `title` (the log or program file).
Figure layoutFigure(const RunHistory &history, const std::string &title);

/// The SVG document of `figure`.
std::string renderSvg(const Figure &figure);

/// Lays out and renders `history` and writes it to `path` atomically (a
/// temporary beside it, renamed over it: AtomicFile).
Status writePlot(const std::string &path, const RunHistory &history, const std::string &title);

/// `fp8-run --plot-log LOG -o SVG`: reads the log, writes the plot and says
/// so on `out` ("wrote plot run.svg: 200 steps, 14 panels").
Status plotLogFile(const std::string &logPath, const std::string &svgPath, std::ostream &out);

} // namespace plot
} // namespace fp8rt

#endif // FP8RT_PLOT_PLOT_H
