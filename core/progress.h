// Progress of long steps (ingest, walks, index build, ranker training,
// evaluation): libraries count work done on a ProgressMeter, and the
// program decides where it goes (graphrec: the log, when stderr is a
// terminal or --progress asks). Nothing is reported without a sink, and a
// step shorter than the interval reports nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace gr {

// Its views are valid during the sink's call only.
struct ProgressUpdate {
  std::string_view step;  // e.g. "index build (accounts)"
  std::string_view unit;  // e.g. "vectors"
  uint64_t done = 0;
  uint64_t total = 0;     // 0 = unknown
  double seconds = 0;     // since the step began
  bool finished = false;  // the step's last report
};

// "index build: 45.0% (450000 of 1000000 vectors), 12345 vectors/s, ETA
// 44 s"; finished: "index build: done, 1000000 vectors in 81.0 s (12345
// vectors/s)".
std::string ProgressText(const ProgressUpdate& update);

using ProgressSink = std::function<void(const ProgressUpdate&)>;

// Sets where every meter reports, at most every `interval_seconds` each;
// an empty sink silences them. Call before any meter exists (not
// synchronised with them).
void SetProgressSink(ProgressSink sink, double interval_seconds);
// The sink's interval (for sources with their own timing, as training).
double ProgressIntervalSeconds();
// Passes `update` to the sink, if there is one.
void ReportProgress(const ProgressUpdate& update);

class ProgressMeter {
 public:
  ProgressMeter(std::string step, std::string unit, uint64_t total);
  // Reports the step finished, if it reported anything before.
  ~ProgressMeter();
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // Counts `n` more units done. Any thread; call it per chunk of work, not
  // per item (it may read the clock).
  void Add(uint64_t n);

 private:
  void Report(bool finished);

  const std::string step_, unit_;
  const uint64_t total_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> next_report_ns_;  // since start_
  std::atomic<bool> reported_{false};
};

}  // namespace gr
