// Metrics for Prometheus: a writer of the text exposition format (0.0.4)
// and a small HTTP endpoint that answers GET /metrics with it (cpp-httplib,
// header-only from Debian: a scrape endpoint needs one route, not a web
// framework, and its header stays inside metrics.cc).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gr::service {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Starts a metric family: its # HELP and # TYPE lines (type counter,
  // gauge or histogram).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: name{labels} value. Label values are escaped.
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class MetricsEndpoint {
 public:
  // Listens on `address` (host:port; port 0 picks a free one) on a thread
  // of its own and answers GET /metrics with render()'s text (404 for any
  // other path). Throws kInvalidArgument for a malformed address, kIo if it
  // cannot listen.
  MetricsEndpoint(const std::string& address, std::function<std::string()> render);
  ~MetricsEndpoint();  // stops listening
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gr::service
