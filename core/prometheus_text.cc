#include "core/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace gr {

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::Sample(std::string_view name, const MetricLabels& labels, double value) {
  text_.append(name);
  if (!labels.empty()) {
    text_.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_.push_back(',');
      text_.append(labels[i].first).append("=\"");
      for (const char c : labels[i].second) {
        if (c == '\\' || c == '"') text_.push_back('\\');
        if (c == '\n') {
          text_.append("\\n");
          continue;
        }
        text_.push_back(c);
      }
      text_.push_back('"');
    }
    text_.push_back('}');
  }
  text_.push_back(' ');
  if (std::isinf(value)) {
    text_.append(value > 0 ? "+Inf" : "-Inf");
  } else if (std::isnan(value)) {
    text_.append("NaN");
  } else {
    char buffer[32];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, end);
  }
  text_.push_back('\n');
}

void PrometheusText::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, "gauge", help);
  Sample(name, {}, value);
}

}  // namespace gr
