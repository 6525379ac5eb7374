// event log segments (stream/event_log.h): recovery at open, reading, and an
// append after recovery, which must then read back.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fuzz/fuzz_file.h"
#include "stream/event_log.h"

namespace {

const std::string& LogDir() {
  static const std::string dir = [] {
    char path[] = "/tmp/graphrec-fuzz-log.XXXXXX";
    if (mkdtemp(path) == nullptr) std::abort();
    return std::string(path);
  }();
  return dir;
}

void WriteSegment(uint64_t first, const uint8_t* data, size_t size) {
  std::string digits = std::to_string(first);
  std::ofstream(LogDir() + "/" + std::string(20 - digits.size(), '0') + digits + ".events", std::ios::binary)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gr::stream::Event;
  if (size < 2) return 0;
  const std::string& dir = LogDir();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) std::filesystem::remove(entry.path());
  // Byte 0 splits the rest into two segments; byte 1 is the second one's first sequence.
  const size_t split = 2 + (size - 2) * data[0] / 255;
  WriteSegment(0, data + 2, split - 2);
  if (split < size) WriteSegment(data[1], data + split, size - split);
  gr::fuzz::ExpectOnlyGrErrors([&] {
    gr::stream::ReadEventLog(dir, 0, UINT64_MAX, [](uint64_t, const Event& e) {
      if (!gr::stream::CheckEvent(e).empty()) std::abort();  // only valid events come out
    });
  });
  gr::fuzz::ExpectOnlyGrErrors([&] {
    gr::stream::EventLog log(dir, {.sync = gr::stream::SyncPolicy::kNone});
    const Event event{.kind = gr::stream::EventKind::kFollow, .time = 5, .actor = 1, .object = 2};
    const uint64_t at = log.Append({&event, 1});
    bool found = false;
    gr::stream::ReadEventLog(dir, at, at + 1, [&](uint64_t sequence, const Event& e) { found = sequence == at && e == event; });
    if (!found) std::abort();  // a log that opened must keep what it acknowledges
  });
  return 0;
}
