// Per-method request counters and a lock-free latency histogram (log-spaced
// buckets, four per doubling from 1 microsecond to ~16 seconds), so
// percentiles cost nothing on the request path; RequestStats keeps them
// for every method of a server, with answers by status code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gr {
class PrometheusText;  // core/prometheus_text.h
}  // namespace gr

namespace gr::service {

class LatencyHistogram {
 public:
  struct Summary {
    uint64_t requests = 0, errors = 0;
    double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  };

  // A Prometheus histogram's figures: requests at or below each bound
  // (cumulative), all requests, the sum of their latencies.
  struct Cumulative {
    std::vector<std::pair<double, uint64_t>> buckets;  // (upper bound in seconds, requests <= it)
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  void Record(double seconds, bool ok);
  // Percentiles are bucket upper bounds: at most 19% above the true value.
  Summary Summarize() const;
  // Bounds 2^k microseconds for k in [min_log2_us, max_log2_us] (exact
  // bucket edges, so no request is placed on the wrong side of a bound).
  Cumulative CumulativeBuckets(int min_log2_us, int max_log2_us) const;

 private:
  static constexpr int kBuckets = 96;  // bucket b holds latencies below 2^((b+1)/4) microseconds
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> requests_{0}, errors_{0}, max_ns_{0}, sum_ns_{0};
};

// The name of gRPC status code `code` ("OK", "NOT_FOUND", ...); "UNKNOWN"
// outside 0..16.
std::string_view GrpcCodeName(int code);

// A server's request figures: per method a latency histogram and answers by
// gRPC status code, and the requests in flight. Lock-free.
class RequestStats {
 public:
  static constexpr size_t kNumCodes = 17;  // gRPC status codes 0 (OK) .. 16 (UNAUTHENTICATED)

  explicit RequestStats(std::vector<std::string> method_names);

  void Begin() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  // A request of `method` answered with gRPC status `code` after `seconds`.
  void End(size_t method, double seconds, int code);

  uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  size_t methods() const { return names_.size(); }
  const std::string& name(size_t method) const { return names_[method]; }
  const LatencyHistogram& latency(size_t method) const { return methods_[method].latency; }

  // graphrec_requests_total{method,code}, graphrec_request_duration_seconds
  // (histogram, 2^k us buckets from 32 us to 16.8 s) and
  // graphrec_requests_in_flight; methods and codes never seen are left out.
  void WritePrometheus(PrometheusText& out) const;

 private:
  struct Method {
    LatencyHistogram latency;
    std::array<std::atomic<uint64_t>, kNumCodes> codes{};
  };
  std::vector<std::string> names_;
  std::vector<Method> methods_;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace gr::service
