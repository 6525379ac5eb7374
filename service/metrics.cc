#include "service/metrics.h"

#include <httplib.h>

#include <charconv>
#include <cmath>
#include <thread>

#include "core/error.h"

namespace gr::service {

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

struct MetricsEndpoint::Impl {
  httplib::Server http;
  std::thread thread;
  int port = 0;
};

MetricsEndpoint::MetricsEndpoint(const std::string& address, std::function<std::string()> render)
    : impl_(std::make_unique<Impl>()) {
  const size_t colon = address.rfind(':');
  GR_CHECK(colon != std::string::npos && colon > 0 && colon + 1 < address.size(),
           "metrics address must be host:port, got '", address, "'");
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  const std::string port_text = address.substr(colon + 1);
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  GR_CHECK(error == std::errc() && end == port_text.data() + port_text.size() && port >= 0 && port <= 65535,
           "metrics address '", address, "' needs a port in 0..65535");
  impl_->http.Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& response) {
    response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  impl_->port = port == 0 ? impl_->http.bind_to_any_port(host) : (impl_->http.bind_to_port(host, port) ? port : -1);
  GR_CHECK_CODE(impl_->port > 0, ErrorCode::kIo, "cannot listen for metrics on ", address);
  impl_->thread = std::thread([impl = impl_.get()] { impl->http.listen_after_bind(); });
}

MetricsEndpoint::~MetricsEndpoint() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsEndpoint::port() const { return impl_->port; }

}  // namespace gr::service
