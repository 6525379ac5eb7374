#include "pipeline/internal/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace gr::pipeline::internal {
namespace {

constexpr double kWidth = 640, kHeight = 360;
constexpr double kLeft = 70, kRight = 170, kTop = 40, kBottom = 50;  // room for ticks, legend, title
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

const char* Colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;

  double Value(double v) const { return log ? std::log10(v) : v; }
  double Pixel(double v) const {
    const double t = (Value(v) - lo) / (hi - lo);
    return pixel_lo + t * (pixel_hi - pixel_lo);
  }
  // Ticks at decades (log) or at 5 even steps.
  std::vector<double> Ticks() const {
    std::vector<double> ticks;
    if (log) {
      for (double d = std::floor(lo); d <= std::ceil(hi); ++d)
        if (d >= lo - 1e-9 && d <= hi + 1e-9) ticks.push_back(std::pow(10.0, d));
    } else {
      for (int i = 0; i <= 4; ++i) ticks.push_back(lo + (hi - lo) * i / 4);
    }
    return ticks;
  }
};

bool Usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

Axis FitAxis(const std::vector<double>& values, bool log, double pixel_lo, double pixel_hi) {
  Axis axis{.log = log, .pixel_lo = pixel_lo, .pixel_hi = pixel_hi};
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!Usable(v, log)) continue;
    lo = std::min(lo, axis.Value(v));
    hi = std::max(hi, axis.Value(v));
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) {
    const double pad = log ? 0.5 : std::max(std::abs(lo) * 0.05, 0.01);
    lo -= pad;
    hi += pad;
  } else if (!log) {
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  axis.lo = lo;
  axis.hi = hi;
  return axis;
}

std::string Open(const ChartOptions& o) {
  return StrCat("<svg id=\"", EscapeHtml(o.id), "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"",
                kWidth, "\" height=\"", kHeight, "\" viewBox=\"0 0 ", kWidth, " ", kHeight, "\" role=\"img\">",
                "<title>", EscapeHtml(o.title), "</title>",
                "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                "<text x=\"", kWidth / 2, "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
                EscapeHtml(o.title), "</text>");
}

std::string Frame(const Axis& x, const Axis& y, const ChartOptions& o, bool ticks) {
  std::string svg = StrCat("<rect x=\"", kLeft, "\" y=\"", kTop, "\" width=\"", kWidth - kLeft - kRight,
                           "\" height=\"", kHeight - kTop - kBottom, "\" fill=\"none\" stroke=\"#999\"/>");
  if (ticks) {
    if (!o.x_tick_names.empty()) {
      for (size_t i = 0; i < o.x_tick_names.size(); ++i)
        svg += StrCat("<text x=\"", x.Pixel(static_cast<double>(i)), "\" y=\"", kHeight - kBottom + 16,
                      "\" text-anchor=\"middle\" font-size=\"10\">", EscapeHtml(o.x_tick_names[i]), "</text>");
    } else {
      for (double t : x.Ticks())
        svg += StrCat("<text x=\"", x.Pixel(t), "\" y=\"", kHeight - kBottom + 16,
                      "\" text-anchor=\"middle\" font-size=\"11\">", Number(t), "</text>");
    }
    for (double t : y.Ticks())
      svg += StrCat("<text x=\"", kLeft - 6, "\" y=\"", y.Pixel(t) + 4, "\" text-anchor=\"end\" font-size=\"11\">",
                    Number(t), "</text><line x1=\"", kLeft, "\" x2=\"", kWidth - kRight, "\" y1=\"", y.Pixel(t),
                    "\" y2=\"", y.Pixel(t), "\" stroke=\"#eee\"/>");
  }
  svg += StrCat("<text x=\"", (kLeft + kWidth - kRight) / 2, "\" y=\"", kHeight - 8,
                "\" text-anchor=\"middle\" font-size=\"12\">", EscapeHtml(o.x_label), "</text>");
  svg += StrCat("<text transform=\"translate(16,", (kTop + kHeight - kBottom) / 2,
                ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">", EscapeHtml(o.y_label), "</text>");
  return svg;
}

std::string Legend(const std::vector<std::string>& names) {
  std::string svg;
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = kTop + 8 + 18.0 * static_cast<double>(i);
    svg += StrCat("<rect x=\"", kWidth - kRight + 12, "\" y=\"", y - 8, "\" width=\"10\" height=\"10\" fill=\"",
                  Colour(i), "\"/><text x=\"", kWidth - kRight + 28, "\" y=\"", y + 1, "\" font-size=\"11\">",
                  EscapeHtml(names[i]), "</text>");
  }
  return svg;
}

}  // namespace

std::string EscapeHtml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string LineChart(const std::vector<Series>& series, const ChartOptions& o) {
  std::vector<double> xs, ys;
  for (const Series& s : series)
    for (const Point& p : s.points) xs.push_back(p.x), ys.push_back(p.y);
  if (!o.x_tick_names.empty()) {  // categories: every one has its place, with or without a point
    xs.push_back(0);
    xs.push_back(static_cast<double>(o.x_tick_names.size() - 1));
  }
  const Axis x = FitAxis(xs, o.log_x, kLeft, kWidth - kRight), y = FitAxis(ys, o.log_y, kHeight - kBottom, kTop);
  std::string svg = Open(o) + Frame(x, y, o, /*ticks=*/true);
  std::vector<std::string> names;
  for (size_t i = 0; i < series.size(); ++i) {
    names.push_back(series[i].name);
    std::string path;
    for (const Point& p : series[i].points) {
      if (!Usable(p.x, o.log_x) || !Usable(p.y, o.log_y)) continue;
      const double px = x.Pixel(p.x), py = y.Pixel(p.y);
      path += StrCat(path.empty() ? "M" : " L", px, ",", py);
      svg += StrCat("<circle class=\"point\" cx=\"", px, "\" cy=\"", py, "\" r=\"2.5\" fill=\"", Colour(i), "\"/>");
    }
    if (o.lines && !path.empty())
      svg += StrCat("<path d=\"", path, "\" fill=\"none\" stroke=\"", Colour(i), "\" stroke-width=\"1.5\"/>");
  }
  if (series.size() > 1) svg += Legend(names);
  return svg + "</svg>";
}

std::string ScatterMap(const std::vector<Point>& points, const std::vector<int>& group, int groups,
                       const ChartOptions& o) {
  GR_CHECK(points.size() == group.size(), "one group per point");
  // The axes span the 1st to 99th percentile: a few outliers do not shrink
  // the map to a dot; they are drawn on its edge.
  auto central = [](std::vector<double> v) {
    if (v.size() < 20) return v;
    std::sort(v.begin(), v.end());
    return std::vector<double>{v[v.size() / 100], v[v.size() - 1 - v.size() / 100]};
  };
  std::vector<double> xs, ys;
  for (const Point& p : points) xs.push_back(p.x), ys.push_back(p.y);
  const Axis x = FitAxis(central(xs), false, kLeft, kWidth - kRight);
  const Axis y = FitAxis(central(ys), false, kHeight - kBottom, kTop);
  auto inside = [](const Axis& axis, double v) {
    const double lo = std::min(axis.pixel_lo, axis.pixel_hi), hi = std::max(axis.pixel_lo, axis.pixel_hi);
    return std::clamp(axis.Pixel(v), lo, hi);
  };
  std::string svg = Open(o) + Frame(x, y, o, /*ticks=*/false);
  for (size_t i = 0; i < points.size(); ++i)
    svg += StrCat("<circle class=\"point\" cx=\"", inside(x, points[i].x), "\" cy=\"", inside(y, points[i].y),
                  "\" r=\"2\" fill=\"", Colour(static_cast<size_t>(group[i])), "\" fill-opacity=\"0.7\"/>");
  std::vector<std::string> names;
  for (int g = 0; g < groups; ++g) names.push_back(StrCat("cluster ", g + 1));
  return svg + Legend(names) + "</svg>";
}

std::string BarChart(const std::vector<std::pair<std::string, double>>& bars, const ChartOptions& o,
                     const std::string& unit) {
  double most = 0;
  for (const auto& [name, value] : bars) most = std::max(most, value);
  if (most <= 0) most = 1;
  std::string svg = Open(o);
  const double row = std::min(26.0, (kHeight - kTop - 20) / std::max<double>(1, static_cast<double>(bars.size())));
  const double left = 150, width = kWidth - left - 90;
  for (size_t i = 0; i < bars.size(); ++i) {
    const double y = kTop + row * static_cast<double>(i);
    svg += StrCat("<text x=\"", left - 6, "\" y=\"", y + row * 0.65, "\" text-anchor=\"end\" font-size=\"11\">",
                  EscapeHtml(bars[i].first), "</text><rect class=\"bar\" x=\"", left, "\" y=\"", y + 2, "\" width=\"",
                  width * bars[i].second / most, "\" height=\"", row - 4, "\" fill=\"", Colour(0),
                  "\"/><text x=\"", left + width * bars[i].second / most + 4, "\" y=\"", y + row * 0.65,
                  "\" font-size=\"11\">", Number(bars[i].second), " ", EscapeHtml(unit), "</text>");
  }
  return svg + "</svg>";
}

}  // namespace gr::pipeline::internal
