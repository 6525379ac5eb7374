#include "service/latency.h"

#include <algorithm>
#include <cmath>

namespace gr::service {

void LatencyHistogram::Record(double seconds, bool ok) {
  const double us = std::max(seconds * 1e6, 1.0);
  const int bucket = std::min(kBuckets - 1, static_cast<int>(std::floor(4.0 * std::log2(us))));
  counts_[static_cast<size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!ok) errors_.fetch_add(1, std::memory_order_relaxed);
  const auto ns = static_cast<uint64_t>(seconds * 1e9);
  uint64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Summary LatencyHistogram::Summarize() const {
  Summary s;
  std::array<uint64_t, kBuckets> counts{};
  uint64_t total = 0;
  for (int b = 0; b < kBuckets; ++b) total += counts[static_cast<size_t>(b)] = counts_[static_cast<size_t>(b)].load();
  s.requests = requests_.load();
  s.errors = errors_.load();
  s.max_ms = static_cast<double>(max_ns_.load()) / 1e6;
  auto percentile = [&](double p) {
    if (total == 0) return 0.0;
    const auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(total)));
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += counts[static_cast<size_t>(b)];
      if (seen >= rank) return std::min(std::exp2((b + 1) / 4.0) / 1000.0, s.max_ms);
    }
    return s.max_ms;
  };
  s.p50_ms = percentile(0.5);
  s.p99_ms = percentile(0.99);
  s.p999_ms = percentile(0.999);
  return s;
}

}  // namespace gr::service
