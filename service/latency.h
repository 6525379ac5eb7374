// Per-method request counters and a lock-free latency histogram (log-spaced
// buckets, four per doubling from 1 microsecond to ~16 seconds), so
// percentiles cost nothing on the request path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace gr::service {

class LatencyHistogram {
 public:
  struct Summary {
    uint64_t requests = 0, errors = 0;
    double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  };

  void Record(double seconds, bool ok);
  // Percentiles are bucket upper bounds: at most 19% above the true value.
  Summary Summarize() const;

 private:
  static constexpr int kBuckets = 96;  // bucket b holds latencies below 2^((b+1)/4) microseconds
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> requests_{0}, errors_{0}, max_ns_{0};
};

}  // namespace gr::service
