#include "service/latency.h"

#include <cstdio>

#include "service/metrics.h"

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
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
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

LatencyHistogram::Cumulative LatencyHistogram::CumulativeBuckets(int min_log2_us, int max_log2_us) const {
  Cumulative c;
  uint64_t below = 0;
  int next = 0;  // the first internal bucket not yet added
  for (int k = min_log2_us; k <= max_log2_us; ++k) {
    // Internal bucket b ends at 2^((b + 1) / 4) us: those with b < 4k end at or below 2^k.
    for (; next < std::min(4 * k, kBuckets); ++next) below += counts_[static_cast<size_t>(next)].load();
    c.buckets.emplace_back(std::exp2(k) * 1e-6, below);
  }
  for (int b = 0; b < kBuckets; ++b) c.count += counts_[static_cast<size_t>(b)].load();
  c.sum_seconds = static_cast<double>(sum_ns_.load()) / 1e9;
  return c;
}

std::string_view GrpcCodeName(int code) {
  static constexpr std::string_view kNames[RequestStats::kNumCodes] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  return code >= 0 && code < static_cast<int>(RequestStats::kNumCodes) ? kNames[code] : "UNKNOWN";
}

RequestStats::RequestStats(std::vector<std::string> method_names)
    : names_(std::move(method_names)), methods_(names_.size()) {}

void RequestStats::End(size_t method, double seconds, int code) {
  Method& m = methods_[method];
  m.latency.Record(seconds, code == 0);
  m.codes[std::min<size_t>(static_cast<size_t>(std::max(code, 0)), kNumCodes - 1)].fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

void RequestStats::WritePrometheus(PrometheusText& out) const {
  out.Family("graphrec_requests_total", "counter", "Requests answered, by method and gRPC status code.");
  for (size_t m = 0; m < methods_.size(); ++m)
    for (size_t c = 0; c < kNumCodes; ++c)
      if (const uint64_t n = methods_[m].codes[c].load(std::memory_order_relaxed); n > 0)
        out.Sample("graphrec_requests_total", {{"method", names_[m]}, {"code", GrpcCodeName(static_cast<int>(c))}}, static_cast<double>(n));
  out.Family("graphrec_request_duration_seconds", "histogram", "Time to answer a request, by method.");
  for (size_t m = 0; m < methods_.size(); ++m) {
    const auto h = methods_[m].latency.CumulativeBuckets(5, 24);  // 32 us .. 16.8 s
    if (h.count == 0) continue;
    for (const auto& [bound, requests] : h.buckets) {
      char le[32];
      std::snprintf(le, sizeof le, "%.9g", bound);
      out.Sample("graphrec_request_duration_seconds_bucket", {{"method", names_[m]}, {"le", le}},
                 static_cast<double>(requests));
    }
    out.Sample("graphrec_request_duration_seconds_bucket", {{"method", names_[m]}, {"le", "+Inf"}},
               static_cast<double>(h.count));
    out.Sample("graphrec_request_duration_seconds_sum", {{"method", names_[m]}}, h.sum_seconds);
    out.Sample("graphrec_request_duration_seconds_count", {{"method", names_[m]}}, static_cast<double>(h.count));
  }
  out.Family("graphrec_requests_in_flight", "gauge", "Requests being answered now.");
  out.Sample("graphrec_requests_in_flight", {}, static_cast<double>(in_flight_.load(std::memory_order_relaxed)));
}

}  // namespace gr::service
