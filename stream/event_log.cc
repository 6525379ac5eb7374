#include "stream/event_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/atomic_file.h"
#include "core/binary_io.h"
#include "core/error.h"

namespace gr::stream {
namespace {

static_assert(std::endian::native == std::endian::little, "the log is written little-endian");

constexpr uint32_t kSegmentMagic = 0x56455247;  // "GREV"
constexpr uint32_t kSegmentVersion = 1;
constexpr std::string_view kSegmentSuffix = ".events";
constexpr size_t kSequenceDigits = 20;
constexpr std::string_view kWriterLockFile = "LOCK";

uint32_t Crc(const void* data, size_t bytes, uint32_t crc = 0) {
  return Crc32(std::span(static_cast<const std::byte*>(data), bytes), crc);
}

template <typename T>
void Put(char* at, T value) { std::memcpy(at, &value, sizeof(T)); }
template <typename T>
T Get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

void EncodeHeader(uint64_t first, char* out) {
  Put(out, kSegmentMagic);
  Put(out + 4, kSegmentVersion);
  Put(out + 8, first);
  Put(out + 16, Crc(out, 16));
  Put(out + 20, uint32_t{0});
}

void EncodeRecord(uint64_t sequence, const Event& e, char* out) {
  out[0] = static_cast<char>(e.kind);
  out[1] = static_cast<char>(e.interaction);
  Put(out + 2, uint16_t{0});
  Put(out + 4, e.time);
  Put(out + 8, e.dwell_ms);
  Put(out + 12, e.actor);
  Put(out + 20, e.object);
  Put(out + 28, Crc(out, 28, Crc(&sequence, sizeof(sequence))));
}

// The event of a record at `sequence`, or false if its check fails.
bool DecodeRecord(uint64_t sequence, const char* in, Event* e) {
  if (Get<uint32_t>(in + 28) != Crc(in, 28, Crc(&sequence, sizeof(sequence)))) return false;
  if (Get<uint16_t>(in + 2) != 0) return false;
  e->kind = static_cast<EventKind>(in[0]);
  e->interaction = static_cast<uint8_t>(in[1]);
  e->time = Get<uint32_t>(in + 4);
  e->dwell_ms = Get<uint32_t>(in + 8);
  e->actor = Get<uint64_t>(in + 12);
  e->object = Get<uint64_t>(in + 20);
  return CheckEvent(*e).empty();
}

struct Segment {
  uint64_t first = 0;
  std::string path;
};

std::string SegmentName(uint64_t first) {
  std::string digits = std::to_string(first);
  return std::string(kSequenceDigits - digits.size(), '0') + digits + std::string(kSegmentSuffix);
}

// The segments in `dir`, by first sequence; stale temporary files removed
// when `clean` (only the writer may).
std::vector<Segment> ListSegments(const std::string& dir, bool clean) {
  std::vector<Segment> segments;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (clean && name.find(".tmp.") != std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (name.size() != kSequenceDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix) ||
        !std::all_of(name.begin(), name.begin() + kSequenceDigits, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    uint64_t first = 0;
    try {
      first = std::stoull(name.substr(0, kSequenceDigits));
    } catch (const std::exception&) {
      continue;  // past 2^64: not ours
    }
    segments.push_back({first, entry.path().string()});
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    GR_THROW(ErrorCode::kIo, "cannot list the event log ", dir, ": ", ec.message());
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) { return a.first < b.first; });
  return segments;
}

class Fd {
 public:
  Fd(const std::string& path, int flags) : fd_(open(path.c_str(), flags | O_CLOEXEC, 0644)) {
    if (fd_ < 0) {
      GR_THROW(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, "cannot open ", path, ": ",
               std::strerror(errno));
    }
  }
  ~Fd() { if (fd_ >= 0) close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

uint64_t FileSize(int fd, const std::string& path) {
  struct stat st {};
  if (fstat(fd, &st) != 0) GR_THROW(ErrorCode::kIo, "cannot stat ", path, ": ", std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

// Reads exactly `bytes` at `offset`, or fewer only at the end of the file.
size_t ReadAt(int fd, const std::string& path, char* to, size_t bytes, uint64_t offset) {
  size_t done = 0;
  while (done < bytes) {
    const ssize_t got = pread(fd, to + done, bytes - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) GR_THROW(ErrorCode::kIo, "cannot read ", path, ": ", std::strerror(errno));
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

void CheckHeader(int fd, const Segment& segment) {
  char header[kSegmentHeaderBytes];
  if (ReadAt(fd, segment.path, header, sizeof(header), 0) != sizeof(header))
    GR_THROW(ErrorCode::kCorruption, segment.path, ": shorter than a segment header (", kSegmentHeaderBytes, " bytes)");
  if (Get<uint32_t>(header) != kSegmentMagic)
    GR_THROW(ErrorCode::kCorruption, segment.path, ": not an event log segment (bad magic)");
  if (Get<uint32_t>(header + 16) != Crc(header, 16))
    GR_THROW(ErrorCode::kCorruption, segment.path, ": segment header checksum mismatch");
  if (Get<uint32_t>(header + 4) != kSegmentVersion)
    GR_THROW(ErrorCode::kCorruption, segment.path, ": segment format version ", Get<uint32_t>(header + 4),
             " (this build reads ", kSegmentVersion, ")");
  if (Get<uint64_t>(header + 8) != segment.first)
    GR_THROW(ErrorCode::kCorruption, segment.path, ": header names first sequence ", Get<uint64_t>(header + 8),
             ", the file name ", segment.first);
}

// Scans the records of `segment` from index `skip` on, calling fn(sequence,
// event) for each while `more(sequence)`; returns the number of whole valid
// records from the start (including skipped ones), stopping at the first
// invalid or partial one. *bad_offset is set to its offset then (else to 0).
template <typename Fn, typename More>
uint64_t ScanRecords(int fd, const Segment& segment, uint64_t skip, Fn&& fn, More&& more, uint64_t* bad_offset) {
  *bad_offset = 0;
  const uint64_t size = FileSize(fd, segment.path);
  const uint64_t whole = (size - std::min<uint64_t>(size, kSegmentHeaderBytes)) / kEventRecordBytes;
  constexpr size_t kChunkRecords = 8192;
  std::vector<char> chunk(kChunkRecords * kEventRecordBytes);
  uint64_t index = std::min(skip, whole);
  while (index < whole && more(segment.first + index)) {
    const uint64_t count = std::min<uint64_t>(kChunkRecords, whole - index);
    const uint64_t offset = kSegmentHeaderBytes + index * kEventRecordBytes;
    const size_t got = ReadAt(fd, segment.path, chunk.data(), count * kEventRecordBytes, offset);
    for (uint64_t i = 0; i < count; ++i) {
      Event event;
      if ((i + 1) * kEventRecordBytes > got || !DecodeRecord(segment.first + index, chunk.data() + i * kEventRecordBytes, &event)) {
        *bad_offset = kSegmentHeaderBytes + index * kEventRecordBytes;
        return index;
      }
      if (!more(segment.first + index)) return index;
      fn(segment.first + index, event);
      ++index;
    }
  }
  if (index == whole && size != kSegmentHeaderBytes + whole * kEventRecordBytes)
    *bad_offset = kSegmentHeaderBytes + whole * kEventRecordBytes;  // a partial record
  return index;
}

void SyncDirectory(const std::string& dir) {
  Fd fd(dir, O_RDONLY | O_DIRECTORY);
  if (fsync(fd.get()) != 0) GR_THROW(ErrorCode::kIo, "cannot sync ", dir, ": ", std::strerror(errno));
}

}  // namespace

struct EventLog::State {
  std::string dir;
  EventLogOptions options;

  struct Pending {
    std::span<const Event> events;
    uint64_t first = 0;
    bool done = false;
    std::exception_ptr error;
  };
  std::mutex mutex;  // guards everything below but the leader's writing
  std::condition_variable committed;
  std::vector<Pending*> queue;
  bool leader_active = false;
  std::string broken;  // why appends are refused (a failed sync)
  std::vector<Segment> segments;  // the last is the one appended to
  uint64_t next = 0;              // sequence of the next event

  int lock_fd = -1;  // holds an exclusive flock on dir/LOCK: one writer per log

  // The leader's own (only it touches them while leader_active).
  int fd = -1;
  uint64_t active_bytes = 0;

  // Also when the constructor throws: the lock must not outlive a failed open.
  ~State() {
    if (fd >= 0) close(fd);
    if (lock_fd >= 0) close(lock_fd);
  }
  void CreateSegment(uint64_t first);
  void Commit(std::vector<Pending*>& group);
};

void EventLog::State::CreateSegment(uint64_t first) {
  const std::string path = dir + "/" + SegmentName(first);
  char header[kSegmentHeaderBytes];
  EncodeHeader(first, header);
  WriteFileAtomically(path, [&](std::FILE* file) {
    if (std::fwrite(header, 1, sizeof(header), file) != sizeof(header))
      GR_THROW(ErrorCode::kIo, "cannot write ", path, ": ", std::strerror(errno));
  });
  Fd opened(path, O_WRONLY);
  if (fd >= 0) close(fd);
  fd = opened.release();
  active_bytes = kSegmentHeaderBytes;
  std::lock_guard lock(mutex);
  segments.push_back({first, path});
}

void EventLog::State::Commit(std::vector<Pending*>& group) {
  uint64_t sequence = next;
  size_t total = 0;
  for (const Pending* p : group) total += p->events.size();
  if (active_bytes > kSegmentHeaderBytes && active_bytes + total * kEventRecordBytes > options.segment_bytes) {
    if (options.sync == SyncPolicy::kEveryCommit && fdatasync(fd) != 0)
      GR_THROW(ErrorCode::kIo, "cannot sync ", segments.back().path, ": ", std::strerror(errno));
    CreateSegment(sequence);
  }
  std::vector<char> bytes(total * kEventRecordBytes);
  char* out = bytes.data();
  for (Pending* p : group) {
    p->first = sequence;
    for (const Event& e : p->events) {
      EncodeRecord(sequence++, e, out);
      out += kEventRecordBytes;
    }
  }
  const std::string& path = segments.back().path;
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = pwrite(fd, bytes.data() + written, bytes.size() - written,
                             static_cast<off_t>(active_bytes + written));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      // Take back what reached the file so that the next group follows whole records.
      if (ftruncate(fd, static_cast<off_t>(active_bytes)) != 0) broken = "a failed write could not be undone";
      GR_THROW(ErrorCode::kIo, "cannot append to ", path, ": ", std::strerror(error));
    }
    written += static_cast<size_t>(n);
  }
  if (options.sync == SyncPolicy::kEveryCommit && fdatasync(fd) != 0) {
    // After a failed sync the kernel may have dropped the pages: nothing
    // more can be acknowledged truthfully from this process.
    broken = StrCat("fdatasync of ", path, " failed: ", std::strerror(errno), "; restart to recover the log");
    GR_THROW(ErrorCode::kIo, broken);
  }
  active_bytes += bytes.size();
  std::lock_guard lock(mutex);
  next = sequence;
}

EventLog::EventLog(const std::string& dir, EventLogOptions options, RecoveryReport* report)
    : state_(std::make_unique<State>()) {
  GR_CHECK(options.segment_bytes >= kSegmentHeaderBytes + kEventRecordBytes,
           "event log segment_bytes must be at least ", kSegmentHeaderBytes + kEventRecordBytes,
           ", got ", options.segment_bytes);
  State& s = *state_;
  s.dir = dir;
  s.options = options;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) GR_THROW(ErrorCode::kIo, "cannot create the event log directory ", dir, ": ", ec.message());
  // Two writers would interleave their segments: the second is refused
  // before it touches anything (readers take no lock).
  const std::string lock_path = dir + "/" + std::string(kWriterLockFile);
  Fd lock(lock_path, O_RDWR | O_CREAT);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    GR_THROW(errno == EWOULDBLOCK ? ErrorCode::kInvalidArgument : ErrorCode::kIo, "event log ", dir,
             " is open for writing in another process (", lock_path, " is locked): a log has one writer");
  s.lock_fd = lock.release();
  RecoveryReport local;
  RecoveryReport& rep = report != nullptr ? *report : local;
  rep = {};
  std::vector<Segment> segments = ListSegments(dir, /*clean=*/true);
  rep.segments = segments.size();
  uint64_t expected_first = segments.empty() ? 0 : segments.front().first;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = segments[i];
    const bool last = i + 1 == segments.size();
    if (segment.first != expected_first)
      GR_THROW(ErrorCode::kCorruption, segment.path, ": starts at sequence ", segment.first, " but the segment before ends at ",
               expected_first, " (a segment is missing or damaged)");
    Fd fd(segment.path, last ? O_RDWR : O_RDONLY);
    CheckHeader(fd.get(), segment);
    uint64_t bad_offset = 0;
    const uint64_t count = ScanRecords(fd.get(), segment, 0, [](uint64_t, const Event&) {},
                                       [](uint64_t) { return true; }, &bad_offset);
    if (bad_offset != 0) {
      const uint64_t size = FileSize(fd.get(), segment.path);
      if (!last)
        GR_THROW(ErrorCode::kCorruption, segment.path, ": damaged record at byte ", bad_offset, " of ", size,
                 " (only the last segment may end torn)");
      if (ftruncate(fd.get(), static_cast<off_t>(bad_offset)) != 0 || fsync(fd.get()) != 0)
        GR_THROW(ErrorCode::kIo, "cannot truncate the torn tail of ", segment.path, ": ", std::strerror(errno));
      rep.torn_bytes = size - bad_offset;
      rep.torn_segment = segment.path;
      spdlog::warn("event log: truncated a torn tail of {} bytes at byte {} of {} (a crash during a write; "
                   "those events were never acknowledged)", rep.torn_bytes, bad_offset, segment.path);
    }
    rep.events += count;
    expected_first = segment.first + count;
    if (last) {
      s.fd = fd.release();
      s.active_bytes = kSegmentHeaderBytes + count * kEventRecordBytes;
    }
  }
  s.segments = std::move(segments);
  s.next = expected_first;
  if (s.segments.empty()) s.CreateSegment(0);
}

EventLog::~EventLog() = default;

uint64_t EventLog::Append(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string problem = CheckEvent(events[i]);
    if (!problem.empty()) GR_THROW(ErrorCode::kInvalidArgument, "event ", i, ": ", problem);
  }
  State& s = *state_;
  State::Pending me{events};
  std::unique_lock lock(s.mutex);
  if (!s.broken.empty()) GR_THROW(ErrorCode::kIo, "event log ", s.dir, " refuses appends: ", s.broken);
  if (events.empty()) return s.next;
  s.queue.push_back(&me);
  while (!me.done) {
    if (s.leader_active) {
      s.committed.wait(lock);
      continue;
    }
    // Lead: commit every append waiting now, with one write and one sync.
    s.leader_active = true;
    std::vector<State::Pending*> group;
    group.swap(s.queue);
    lock.unlock();
    std::exception_ptr error;
    try {
      if (!s.broken.empty()) GR_THROW(ErrorCode::kIo, "event log ", s.dir, " refuses appends: ", s.broken);
      s.Commit(group);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (State::Pending* p : group) {
      p->error = error;
      p->done = true;
    }
    s.leader_active = false;
    s.committed.notify_all();
  }
  if (me.error) std::rethrow_exception(me.error);
  return me.first;
}

uint64_t EventLog::begin() const {
  std::lock_guard lock(state_->mutex);
  return state_->segments.front().first;
}

uint64_t EventLog::end() const {
  std::lock_guard lock(state_->mutex);
  return state_->next;
}

const std::string& EventLog::dir() const { return state_->dir; }

size_t EventLog::DropSegmentsBefore(uint64_t sequence) {
  State& s = *state_;
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(s.mutex);
    // Segment i holds [first_i, first_{i+1}); the last is never dropped.
    size_t keep_from = 0;
    while (keep_from + 1 < s.segments.size() && s.segments[keep_from + 1].first <= sequence) ++keep_from;
    for (size_t i = 0; i < keep_from; ++i) doomed.push_back(s.segments[i].path);
    s.segments.erase(s.segments.begin(), s.segments.begin() + static_cast<std::ptrdiff_t>(keep_from));
  }
  for (const std::string& path : doomed)
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      GR_THROW(ErrorCode::kIo, "cannot delete ", path, ": ", std::strerror(errno));
  if (!doomed.empty()) SyncDirectory(s.dir);
  return doomed.size();
}

uint64_t FirstStoredSequence(const std::string& dir) {
  const std::vector<Segment> segments = ListSegments(dir, /*clean=*/false);
  return segments.empty() ? 0 : segments.front().first;
}

uint64_t ReadEventLog(const std::string& dir, uint64_t from, uint64_t to,
                      const std::function<void(uint64_t, const Event&)>& fn) {
  const std::vector<Segment> segments = ListSegments(dir, /*clean=*/false);
  if (from >= to || segments.empty()) return from;
  if (from < segments.front().first)
    GR_THROW(ErrorCode::kNotFound, "event log ", dir, " starts at sequence ", segments.front().first,
             "; the events from ", from, " on were dropped by retention");
  uint64_t position = from;
  for (size_t i = 0; i < segments.size() && position < to; ++i) {
    const Segment& segment = segments[i];
    const bool last = i + 1 == segments.size();
    if (!last && segments[i + 1].first <= position) continue;
    if (segment.first > position)
      GR_THROW(ErrorCode::kCorruption, segment.path, ": starts at sequence ", segment.first,
               " but the log before it ends at ", position);
    Fd fd(segment.path, O_RDONLY);
    CheckHeader(fd.get(), segment);
    uint64_t bad_offset = 0;
    const uint64_t count = ScanRecords(fd.get(), segment, position - segment.first, fn,
                                       [&](uint64_t sequence) { return sequence < to; }, &bad_offset);
    position = segment.first + count;
    if (position >= to) break;
    if (last) break;  // the end of the log, perhaps a record being written
    if (bad_offset != 0 || position != segments[i + 1].first)
      GR_THROW(ErrorCode::kCorruption, segment.path, ": damaged or missing records from byte ",
               kSegmentHeaderBytes + count * kEventRecordBytes, " (sequence ", position, ")");
  }
  return std::min(position, to);
}

}  // namespace gr::stream
