// The durable event log: what the server acknowledges is on disk before the
// acknowledgement, and survives a crash exactly once.
//
// A directory of append-only segments, `<first sequence, 20 digits>.events`,
// each a 24-byte header (magic, format version, first sequence, CRC-32) and
// fixed 32-byte records: the event (28 bytes, little-endian) and a CRC-32 of
// the record's sequence number and event, so a record read at the wrong
// place fails its check too. Every event has a sequence number, consecutive
// from 0 across segments; a position in the log (a version's watermark) is
// the sequence of the next event.
//
// Appends from many threads are committed in groups: one thread writes every
// waiting append and syncs once, then all of them return (group commit).
// At open, a torn tail of the last segment (a crash mid-write) is truncated
// and reported; damage anywhere else is an error, never silently dropped.
// A log has one writer: EventLog holds an exclusive lock on `<dir>/LOCK`
// while open, and a second one (any process) is refused. Readers
// (ReadEventLog) take no lock and may follow a writer's appends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "stream/event.h"

namespace gr::stream {

enum class SyncPolicy {
  kEveryCommit,  // fdatasync before acknowledging each group (default)
  kNone,         // leave flushing to the OS: a machine crash may lose acknowledged events
};

struct EventLogOptions {
  uint64_t segment_bytes = uint64_t{64} << 20;  // a new segment starts past this size
  SyncPolicy sync = SyncPolicy::kEveryCommit;
};

struct RecoveryReport {
  uint64_t segments = 0;       // segment files found
  uint64_t events = 0;         // whole, valid events kept
  uint64_t torn_bytes = 0;     // bytes truncated from the last segment's tail
  std::string torn_segment;    // its path, if any
};

// Encoded sizes, for tests and tools.
inline constexpr size_t kSegmentHeaderBytes = 24;
inline constexpr size_t kEventRecordBytes = 32;

class EventLog {
 public:
  // Opens the log in `dir` (created if absent) for appending: takes the
  // writer's lock (kInvalidArgument if another EventLog holds it), validates
  // every segment, truncates a torn tail of the last one (logged as a
  // warning and reported), and appends after the last whole event.
  // Throws kCorruption naming the file and offset for damage elsewhere, kIo
  // when the directory cannot be used, kInvalidArgument for bad options.
  explicit EventLog(const std::string& dir, EventLogOptions options = {},
                    RecoveryReport* report = nullptr);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `events` (each must pass CheckEvent: kInvalidArgument names the
  // first that does not) and returns the sequence of the first, once all of
  // them are durable under the sync policy. Thread-safe. On a write error
  // (kIo) nothing of the group is kept and the log stays usable.
  uint64_t Append(std::span<const Event> events);

  // Sequence of the first event still stored, and of the next to append.
  uint64_t begin() const;
  uint64_t end() const;

  // Retention: deletes the segments all of whose events come before
  // `sequence` (never the one being appended to). Returns how many.
  size_t DropSegmentsBefore(uint64_t sequence);

  const std::string& dir() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads the events with sequences in [from, to) from the log in `dir`, in
// order, calling fn(sequence, event); returns the sequence after the last
// event read (less than `to` when the log ends sooner). Needs no writer and
// may run beside one: a partial record at the end of the last segment is
// where the log currently ends. Throws kNotFound if events from `from` on
// were dropped by retention, kCorruption for damage before the end.
uint64_t ReadEventLog(const std::string& dir, uint64_t from, uint64_t to,
                      const std::function<void(uint64_t sequence, const Event& event)>& fn);

// The sequence of the first event the log in `dir` still stores (what
// retention left; 0 for an empty or absent log). Needs no writer.
uint64_t FirstStoredSequence(const std::string& dir);

}  // namespace gr::stream
