#include "service/metrics.h"

#include <httplib.h>

#include <charconv>
#include <thread>

#include "core/error.h"

namespace gr::service {

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
