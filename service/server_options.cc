// ServerOptions::Validate and the listen-address check (service/server.h).
#include "service/server.h"

#include <charconv>

#include "core/error.h"
#include "service/tls.h"

namespace gr::service {

void CheckListenAddress(const std::string& address) {
  GR_CHECK(!address.empty(), "address is empty");
  if (address.starts_with("unix:")) return;
  const size_t colon = address.rfind(':');
  GR_CHECK(colon != std::string::npos && colon > 0, "address '", Excerpt(address), "' must be host:port");
  const std::string_view host(address.data(), colon), port(address.data() + colon + 1, address.size() - colon - 1);
  GR_CHECK(host.find(':') == std::string_view::npos || (host.front() == '[' && host.back() == ']'),
           "address '", Excerpt(address), "': an IPv6 host goes in brackets, [::1]:port");
  uint32_t number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  GR_CHECK(!port.empty() && ec == std::errc() && end == port.data() + port.size() && number <= 65535,
           "address '", Excerpt(address), "': port must be 0 to 65535");
}

void ServerOptions::Validate() const {
  CheckListenAddress(address);
  if (!metrics_address.empty()) {
    GR_CHECK(!metrics_address.starts_with("unix:"), "metrics_address must be host:port (HTTP), got '",
             metrics_address, "'");
    CheckListenAddress(metrics_address);
  }
  GR_CHECK(!artifacts.empty(), "artifacts directory is empty");
  GR_CHECK(max_k >= 1, "max_k must be >= 1");
  GR_CHECK(max_ids >= 1, "max_ids must be >= 1");
  GR_CHECK(max_events >= 1, "max_events must be >= 1");
  GR_CHECK(walk_max_steps >= 1, "walk_max_steps must be >= 1");
  TlsFiles{tls_cert, tls_key, tls_client_ca}.Validate();
  GR_CHECK(max_message_bytes >= 1024, "max_message_bytes must be >= 1024, got ", max_message_bytes);
  GR_CHECK(poll_ms >= 10, "poll_ms must be >= 10, got ", poll_ms);
  GR_CHECK(stats_log_seconds >= 0, "stats_log_seconds must be >= 0");
  GR_CHECK(refresh_seconds >= 0, "refresh_seconds must be >= 0");
  GR_CHECK(event_follow_ms >= 1, "event_follow_ms must be >= 1, got ", event_follow_ms);
  GR_CHECK(refresh_walks >= 1, "refresh_walks must be >= 1, got ", refresh_walks);
  GR_CHECK(refresh_new_follow_share >= 0 && refresh_new_follow_share <= 1,
           "refresh_new_follow_share must be in [0, 1], got ", refresh_new_follow_share);
  GR_CHECK(refresh_learning_rate > 0 && refresh_learning_rate <= 1, "refresh_learning_rate must be in (0, 1], got ",
           refresh_learning_rate);
  GR_CHECK(drain_ms >= 0 && drain_ms <= 600000, "drain_ms must be in 0..600000, got ", drain_ms);
  GR_CHECK(max_streams_per_connection >= 1, "max_streams_per_connection must be >= 1");
  GR_CHECK(idle_timeout_ms >= 1000, "idle_timeout_ms must be >= 1000, got ", idle_timeout_ms);
  GR_CHECK(handshake_timeout_ms >= 100, "handshake_timeout_ms must be >= 100, got ", handshake_timeout_ms);
  GR_CHECK(listener_check_ms == 0 || listener_check_ms >= 100, "listener_check_ms must be 0 or >= 100, got ",
           listener_check_ms);
  GR_CHECK(memory_quota_bytes >= 4 * int64_t{max_message_bytes}, "memory_quota_bytes must hold at least four ",
           "messages of max_message_bytes (", max_message_bytes, "), got ", memory_quota_bytes);
}

}  // namespace gr::service
