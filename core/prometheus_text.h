// A writer of Prometheus' text exposition format (0.0.4): the server's
// /metrics page (service/metrics.h) and the batch's file for a node
// exporter's textfile collector (pipeline/batch.h) are both written with it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gr {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Starts a metric family: its # HELP and # TYPE lines (type counter,
  // gauge or histogram).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: name{labels} value. Label values are escaped.
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  // A family of one unlabelled sample.
  void Gauge(std::string_view name, std::string_view help, double value);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace gr
