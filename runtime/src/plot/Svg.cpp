//===- Svg.cpp - Drawing a laid-out Figure as SVG -------------------------===//
//
// Plain SVG 1.1: shapes, text and clip paths, no scripts, no CSS, no external
// fonts (generic font families only). Each series is one <polyline> with a
// data-series attribute naming it, which tests and readers can find.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/plot/Plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fp8rt {
namespace plot {

//===----------------------------------------------------------------------===//
// Axes
//===----------------------------------------------------------------------===//

double AxisScale::toPixel(double value) const {
  double a = lo, b = hi, v = value;
  if (log) {
    a = std::log10(lo);
    b = std::log10(hi);
    v = std::log10(value);
  }
  const double t = b > a ? (v - a) / (b - a) : 0.5;
  return pixelLo + t * (pixelHi - pixelLo);
}

std::vector<double> AxisScale::ticks() const {
  std::vector<double> out;
  if (!(hi > lo))
    return {lo};
  if (log) {
    const int first = int(std::ceil(std::log10(lo) - 1e-9));
    const int last = int(std::floor(std::log10(hi) + 1e-9));
    const int stride = (last - first) / 8 + 1; // at most about eight labels
    for (int k = first; k <= last; k += stride)
      out.push_back(std::pow(10.0, k));
    return out;
  }
  const double raw = (hi - lo) / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  if (integerTicks)
    step = std::max(step, 1.0);
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

namespace {

std::string fmt(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// A coordinate: one decimal is finer than a pixel.
std::string px(double v) { return fmt("%.1f", v); }

/// A tick label: "0.001", "1e-05", "2.5", "1e+04" as %g writes them, but
/// powers of ten beyond 1000 as "1e4".
std::string tickLabel(double v, bool log) {
  if (log) {
    const int k = int(std::lround(std::log10(v)));
    if (k >= -3 && k <= 3)
      return fmt("%g", v);
    return "1e" + std::to_string(k);
  }
  return fmt("%g", v);
}

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

class SvgWriter {
public:
  std::string text;

  void line(double x1, double y1, double x2, double y2, const std::string &attrs) {
    text += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
            px(y2) + "\" " + attrs + "/>\n";
  }
  void label(double x, double y, const std::string &s, const std::string &attrs = "") {
    text += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" + (attrs.empty() ? "" : " ") + attrs +
            ">" + escapeXml(s) + "</text>\n";
  }
  void rect(double x, double y, double w, double h, const std::string &attrs) {
    text += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" +
            px(h) + "\" " + attrs + "/>\n";
  }
};

/// The plot area's frame, grid, tick labels and axis labels.
void drawAxes(SvgWriter &svg, const Panel &p) {
  const AxisScale &x = p.x, &y = p.y;
  for (double t : y.ticks()) {
    const double py = y.toPixel(t);
    svg.line(x.pixelLo, py, x.pixelHi, py, "stroke=\"#e5e5e5\" stroke-width=\"1\"");
    svg.label(x.pixelLo - 6, py + 4, tickLabel(t, y.log), "text-anchor=\"end\" fill=\"#444\"");
  }
  for (double t : x.ticks()) {
    const double pxl = x.toPixel(t);
    svg.line(pxl, y.pixelLo, pxl, y.pixelHi, "stroke=\"#eeeeee\" stroke-width=\"1\"");
    svg.line(pxl, y.pixelLo, pxl, y.pixelLo + 4, "stroke=\"#444\"");
    svg.label(pxl, y.pixelLo + 16, tickLabel(t, false), "text-anchor=\"middle\" fill=\"#444\"");
  }
  svg.rect(x.pixelLo, y.pixelHi, x.pixelHi - x.pixelLo, y.pixelLo - y.pixelHi,
           "fill=\"none\" stroke=\"#888\"");
  svg.label((x.pixelLo + x.pixelHi) / 2, y.pixelLo + 30, "step",
            "text-anchor=\"middle\" fill=\"#444\"");
  const double cy = (y.pixelLo + y.pixelHi) / 2, cx = p.left + 14;
  svg.label(cx, cy, p.yLabel + (y.log ? " (log)" : ""),
            "text-anchor=\"middle\" fill=\"#444\" transform=\"rotate(-90 " + px(cx) + " " + px(cy) +
                ")\"");
}

void drawLine(SvgWriter &svg, const Panel &p, const PanelLine &l) {
  std::string points;
  for (const Point &q : l.series->points) {
    if (p.y.log && q.value <= 0)
      continue; // no place on a log axis
    points +=
        (points.empty() ? "" : " ") + px(p.x.toPixel(q.step)) + "," + px(p.y.toPixel(q.value));
  }
  svg.text += "<polyline data-series=\"" + escapeXml(l.series->name) +
              "\" fill=\"none\" stroke=\"" + l.color +
              "\" stroke-width=\"1.5\" stroke-linejoin=\"round\"" +
              (l.dashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" + points + "\"/>\n";
  if (!l.markers)
    return;
  for (const Point &q : l.series->points)
    if (!p.y.log || q.value > 0)
      svg.text += "<circle cx=\"" + px(p.x.toPixel(q.step)) + "\" cy=\"" +
                  px(p.y.toPixel(q.value)) + "\" r=\"2.5\" fill=\"" + l.color + "\"/>\n";
}

/// Legend entries in columns under the x axis label.
void drawLegend(SvgWriter &svg, const Panel &p) {
  if (p.lines.empty())
    return;
  const double top = p.y.pixelLo + 44, left = p.x.pixelLo;
  std::vector<const PanelLine *> labelled;
  for (const PanelLine &l : p.lines)
    if (!l.label.empty())
      labelled.push_back(&l);
  const size_t unlabelled = p.lines.size() - labelled.size();
  PanelLine reference; // the reference line's entry, last
  if (!p.referenceLabel.empty()) {
    reference.label = p.referenceLabel;
    reference.color = "#555";
    reference.dashed = true;
    labelled.push_back(&reference);
  }
  const size_t entries = labelled.size() + (unlabelled > 0);
  const size_t rows = size_t(std::max(1, p.legendRows));
  const size_t columns = (entries + rows - 1) / rows;
  const double columnWidth = (p.x.pixelHi - p.x.pixelLo) / double(std::max<size_t>(1, columns));
  for (size_t i = 0; i < entries; ++i) {
    const double x = left + double(i / rows) * columnWidth;
    const double y = top + double(i % rows) * 15;
    if (i == labelled.size()) {
      svg.label(x, y, "and " + std::to_string(unlabelled) + " more", "fill=\"#222\"");
      break;
    }
    const PanelLine &l = *labelled[i];
    svg.line(x, y - 4, x + 18, y - 4,
             "stroke=\"" + l.color + "\" stroke-width=\"2\"" +
                 (l.dashed ? " stroke-dasharray=\"5 3\"" : ""));
    svg.label(x + 23, y, l.label, "fill=\"#222\"");
  }
}

void drawPanel(SvgWriter &svg, const Figure &f, const Panel &p, size_t index) {
  const std::string id = "plot" + std::to_string(index);
  svg.text += "<g class=\"panel\" data-title=\"" + escapeXml(p.title) + "\">\n";
  svg.label(p.x.pixelLo, p.top + 16, p.title, "font-size=\"13\" font-weight=\"bold\"");
  drawAxes(svg, p);
  svg.text += "<clipPath id=\"" + id + "\"><rect x=\"" + px(p.x.pixelLo) + "\" y=\"" +
              px(p.y.pixelHi) + "\" width=\"" + px(p.x.pixelHi - p.x.pixelLo) + "\" height=\"" +
              px(p.y.pixelLo - p.y.pixelHi) + "\"/></clipPath>\n";
  svg.text += "<g clip-path=\"url(#" + id + ")\">\n";
  for (double step : f.nonfiniteSteps) {
    const double x = p.x.toPixel(step);
    svg.line(x, p.y.pixelLo, x, p.y.pixelHi,
             "class=\"nonfinite\" stroke=\"#d62728\" stroke-width=\"1\" stroke-dasharray=\"2 2\"");
  }
  if (!p.referenceLabel.empty()) {
    const double y = p.y.toPixel(p.reference);
    svg.line(p.x.pixelLo, y, p.x.pixelHi, y,
             "class=\"reference\" stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"");
    // At the left, where a falling loss is far above its floor; a white halo
    // keeps it legible over a line.
    svg.label(p.x.pixelLo + 6, y - 5, p.referenceLabel,
              "fill=\"#444\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"");
  }
  for (const PanelLine &l : p.lines)
    drawLine(svg, p, l);
  svg.text += "</g>\n";
  drawLegend(svg, p);
  svg.text += "</g>\n";
}

} // namespace

std::string renderSvg(const Figure &f) {
  SvgWriter svg;
  svg.text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
             px(f.width) + "\" height=\"" + px(f.height) + "\" viewBox=\"0 0 " + px(f.width) + " " +
             px(f.height) +
             "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n";
  svg.text += "<title>" + escapeXml(f.title) + "</title>\n";
  svg.rect(0, 0, f.width, f.height, "fill=\"white\"");
  svg.label(20, 30, f.title, "font-size=\"17\" font-weight=\"bold\"");
  svg.label(20, 50, f.subtitle, "font-size=\"12\" fill=\"#444\"");
  for (size_t i = 0; i < f.panels.size(); ++i)
    drawPanel(svg, f, f.panels[i], i);
  if (!f.note.empty())
    svg.label(20, f.height - 14, f.note, "font-size=\"12\" fill=\"#444\"");
  svg.text += "</svg>\n";
  return svg.text;
}

} // namespace plot
} // namespace fp8rt
