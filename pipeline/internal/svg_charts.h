// Inline SVG charts for the nightly report (pipeline/nightly_report.h): no
// scripts, no external resources, so the page renders from a file anywhere.
// Each function returns one <svg> element with a title, axes with tick
// labels, and a legend where there is more than one series.
#pragma once

#include <string>
#include <vector>

namespace gr::pipeline::internal {

struct Point {
  double x = 0, y = 0;
};

struct Series {
  std::string name;
  std::vector<Point> points;
};

struct ChartOptions {
  std::string id;          // the svg's id attribute (tests look charts up by it)
  std::string title;
  std::string x_label, y_label;
  bool log_x = false, log_y = false;  // log10 axes (points <= 0 are left out)
  bool lines = true;                  // join points (else markers only)
  std::vector<std::string> x_tick_names;  // category names at x = 0, 1, ... (e.g. versions)
};

std::string LineChart(const std::vector<Series>& series, const ChartOptions& options);

// Points coloured by group (group[i] in [0, groups)); no axes ticks (a map
// of a projection), a legend of groups.
std::string ScatterMap(const std::vector<Point>& points, const std::vector<int>& group, int groups,
                       const ChartOptions& options);

// Horizontal bars: one per (name, value).
std::string BarChart(const std::vector<std::pair<std::string, double>>& bars, const ChartOptions& options,
                     const std::string& unit);

// Text safe inside HTML and SVG.
std::string EscapeHtml(const std::string& text);

}  // namespace gr::pipeline::internal
