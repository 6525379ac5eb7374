// Metrics for Prometheus: a small HTTP endpoint that answers GET /metrics
// with text written by core/prometheus_text.h (cpp-httplib, header-only from
// Debian: a scrape endpoint needs one route, not a web framework, and its
// header stays inside metrics.cc).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/prometheus_text.h"

namespace gr::service {

using gr::MetricLabels;
using gr::PrometheusText;

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
