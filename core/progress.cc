#include "core/progress.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace gr {
namespace {

ProgressSink& Sink() {
  static ProgressSink sink;
  return sink;
}
double interval_seconds = 10;

int64_t Nanoseconds(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

}  // namespace

std::string ProgressText(const ProgressUpdate& u) {
  const double rate = static_cast<double>(u.done) / std::max(u.seconds, 1e-9);
  char text[256];
  const std::string step(u.step), unit(u.unit);
  if (u.finished) {
    std::snprintf(text, sizeof text, "%s: done, %llu %s in %.1f s (%.0f %s/s)", step.c_str(),
                  static_cast<unsigned long long>(u.done), unit.c_str(), u.seconds, rate, unit.c_str());
  } else if (u.total == 0) {
    std::snprintf(text, sizeof text, "%s: %llu %s, %.0f %s/s", step.c_str(), static_cast<unsigned long long>(u.done),
                  unit.c_str(), rate, unit.c_str());
  } else {
    const double left = static_cast<double>(u.total - std::min(u.total, u.done)) / std::max(rate, 1e-9);
    std::snprintf(text, sizeof text, "%s: %.1f%% (%llu of %llu %s), %.0f %s/s, ETA %.0f s", step.c_str(),
                  100.0 * static_cast<double>(u.done) / static_cast<double>(u.total),
                  static_cast<unsigned long long>(u.done), static_cast<unsigned long long>(u.total), unit.c_str(), rate,
                  unit.c_str(), left);
  }
  return text;
}

void SetProgressSink(ProgressSink sink, double interval) {
  Sink() = std::move(sink);
  interval_seconds = interval;
}

double ProgressIntervalSeconds() { return interval_seconds; }

void ReportProgress(const ProgressUpdate& update) {
  if (Sink()) Sink()(update);
}

ProgressMeter::ProgressMeter(std::string step, std::string unit, uint64_t total)
    : step_(std::move(step)),
      unit_(std::move(unit)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      next_report_ns_(Nanoseconds(interval_seconds)) {}

ProgressMeter::~ProgressMeter() {
  if (reported_.load()) Report(/*finished=*/true);
}

void ProgressMeter::Add(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (!Sink()) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  int64_t due = next_report_ns_.load(std::memory_order_relaxed);
  // One thread wins each interval's report.
  if (now < due || !next_report_ns_.compare_exchange_strong(due, now + Nanoseconds(interval_seconds))) return;
  reported_.store(true);
  Report(/*finished=*/false);
}

void ProgressMeter::Report(bool finished) {
  ReportProgress({.step = step_,
                  .unit = unit_,
                  .done = done_.load(std::memory_order_relaxed),
                  .total = total_,
                  .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
                  .finished = finished});
}

}  // namespace gr
