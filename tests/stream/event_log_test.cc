#include "stream/event_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include "core/error.h"
#include "tests/test_util.h"

namespace gr::stream {
namespace {

using ::gr::testing::CodeOf;
using ::gr::testing::ErrorOf;
using ::gr::testing::ReadBytes;
using ::gr::testing::TempPath;
using ::gr::testing::WriteBytes;

std::string FreshDir(const std::string& name) {
  const std::string dir = TempPath(name);
  std::filesystem::remove_all(dir);
  return dir;
}

Event Follow(ExternalId a, ExternalId b, uint32_t time = 1700000000) {
  return {.kind = EventKind::kFollow, .time = time, .actor = a, .object = b};
}

std::vector<Event> ReadAll(const std::string& dir, uint64_t from = 0) {
  std::vector<Event> events;
  uint64_t expected = from;
  ReadEventLog(dir, from, UINT64_MAX, [&](uint64_t sequence, const Event& e) {
    EXPECT_EQ(sequence, expected++);
    events.push_back(e);
  });
  return events;
}

std::string SegmentPath(const std::string& dir, uint64_t first) {
  std::string digits = std::to_string(first);
  return dir + "/" + std::string(20 - digits.size(), '0') + digits + ".events";
}

TEST(EventLogTest, AppendsReadBackInOrderAndSurviveReopening) {
  const std::string dir = FreshDir("log-basic");
  const std::vector<Event> first = {
      Follow(1, 2), {.kind = EventKind::kInteraction, .interaction = 3, .time = 5, .dwell_ms = 1200, .actor = 1, .object = 900},
      {.kind = EventKind::kPost, .time = 6, .actor = 2, .object = 901}, {.kind = EventKind::kAccount, .actor = 77},
      {.kind = EventKind::kUnfollow, .time = 7, .actor = 1, .object = 2}};
  {
    EventLog log(dir);
    EXPECT_EQ(log.end(), 0u);
    EXPECT_EQ(log.Append(first), 0u);
    EXPECT_EQ(log.Append(std::vector<Event>{Follow(3, 4)}), 5u);
    EXPECT_EQ(log.end(), 6u);
  }
  RecoveryReport report;
  EventLog log(dir, {}, &report);
  EXPECT_EQ(report.events, 6u);
  EXPECT_EQ(report.torn_bytes, 0u);
  EXPECT_EQ(log.end(), 6u);
  EXPECT_EQ(log.Append(std::vector<Event>{Follow(5, 6)}), 6u);
  std::vector<Event> expected = first;
  expected.push_back(Follow(3, 4));
  expected.push_back(Follow(5, 6));
  EXPECT_EQ(ReadAll(dir), expected);
  EXPECT_EQ(ReadAll(dir, 4), std::vector<Event>(expected.begin() + 4, expected.end()));
  // A bounded read stops at `to`.
  size_t seen = 0;
  EXPECT_EQ(ReadEventLog(dir, 1, 3, [&](uint64_t, const Event&) { ++seen; }), 3u);
  EXPECT_EQ(seen, 2u);
}

TEST(EventLogTest, MalformedEventsAreRefusedWholeGroup) {
  const std::string dir = FreshDir("log-bad-event");
  EventLog log(dir);
  const std::vector<Event> events = {Follow(1, 2), {.kind = static_cast<EventKind>(9), .actor = 1}};
  const std::string message = ErrorOf([&] { log.Append(events); });
  EXPECT_NE(message.find("event 1: unknown event kind 9"), std::string::npos) << message;
  EXPECT_EQ(CodeOf([&] {
              log.Append(std::vector<Event>{{.kind = EventKind::kInteraction, .interaction = 4, .actor = 1, .object = 2}});
            }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(log.end(), 0u);
  EXPECT_TRUE(ReadAll(dir).empty());
}

TEST(EventLogTest, SegmentsRollAndRetentionDropsOnlyWholeOldSegments) {
  const std::string dir = FreshDir("log-segments");
  EventLogOptions options;
  options.segment_bytes = kSegmentHeaderBytes + 10 * kEventRecordBytes;  // 10 events a segment
  std::optional<EventLog> log;
  log.emplace(dir, options);
  for (ExternalId i = 0; i < 35; ++i) log->Append(std::vector<Event>{Follow(i + 1, i + 2)});
  EXPECT_EQ(log->end(), 35u);
  EXPECT_TRUE(std::filesystem::exists(SegmentPath(dir, 30)));
  EXPECT_EQ(log->DropSegmentsBefore(25), 2u);  // [0,10) and [10,20); [20,30) holds 25
  EXPECT_EQ(log->begin(), 20u);
  EXPECT_FALSE(std::filesystem::exists(SegmentPath(dir, 0)));
  EXPECT_EQ(ReadAll(dir, 20).size(), 15u);
  const std::string message = ErrorOf([&] { ReadAll(dir, 5); });
  EXPECT_NE(message.find("starts at sequence 20"), std::string::npos) << message;
  EXPECT_EQ(CodeOf([&] { ReadAll(dir, 5); }), ErrorCode::kNotFound);
  EXPECT_EQ(log->DropSegmentsBefore(1000), 1u);  // never the segment being appended to
  EXPECT_EQ(log->begin(), 30u);
  log.reset();  // one writer at a time (the next test)
  RecoveryReport report;
  EventLog reopened(dir, options, &report);
  EXPECT_EQ(reopened.begin(), 30u);
  EXPECT_EQ(reopened.end(), 35u);
}

// Two writers would interleave their segments: the second open is refused,
// naming the lock, until the first closes; a reader needs no lock and sees
// the writer's appends as they land. An open that fails (damage) leaves no
// lock behind.
TEST(EventLogTest, ALogHasOneWriterAndReadersFollowIt) {
  const std::string dir = FreshDir("log-one-writer");
  {
    EventLog writer(dir);
    const std::string message = ErrorOf([&] { EventLog second(dir); });
    EXPECT_NE(message.find("LOCK is locked"), std::string::npos) << message;
    EXPECT_EQ(CodeOf([&] { EventLog second(dir); }), ErrorCode::kInvalidArgument);
    EXPECT_EQ(ReadAll(dir).size(), 0u);
    writer.Append(std::vector<Event>{Follow(1, 2), Follow(2, 3)});
    EXPECT_EQ(ReadAll(dir).size(), 2u);
    writer.Append(std::vector<Event>{Follow(3, 4)});
    EXPECT_EQ(ReadAll(dir, 2).size(), 1u);
    EXPECT_EQ(FirstStoredSequence(dir), 0u);
  }
  { EventLog again(dir); EXPECT_EQ(again.end(), 3u); }
  // A damaged segment: every open fails on the damage, not on a lock the
  // failed open kept.
  std::filesystem::resize_file(SegmentPath(dir, 0), 10);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string message = ErrorOf([&] { EventLog damaged(dir); });
    EXPECT_EQ(message.find("locked"), std::string::npos) << message;
    EXPECT_NE(message.find("shorter than a segment header"), std::string::npos) << message;
  }
  EXPECT_EQ(FirstStoredSequence(FreshDir("log-absent") + "/none"), 0u);
}

TEST(EventLogTest, TornTailIsTruncatedReportedAndAppendsContinue) {
  const std::string dir = FreshDir("log-torn");
  { EventLog log(dir); log.Append(std::vector<Event>{Follow(1, 2), Follow(2, 3), Follow(3, 4)}); }
  const std::string path = SegmentPath(dir, 0);
  std::string bytes = ReadBytes(path);
  ASSERT_EQ(bytes.size(), kSegmentHeaderBytes + 3 * kEventRecordBytes);
  // The third record half-overwritten, then a partial fourth: as a crash mid-write leaves.
  bytes[kSegmentHeaderBytes + 2 * kEventRecordBytes + 5] ^= 0x40;
  WriteBytes(path, bytes + std::string(13, '\x7f'));
  RecoveryReport report;
  EventLog log(dir, {}, &report);
  EXPECT_EQ(report.events, 2u);
  EXPECT_EQ(report.torn_bytes, kEventRecordBytes + 13);
  EXPECT_EQ(report.torn_segment, path);
  EXPECT_EQ(log.end(), 2u);
  EXPECT_EQ(log.Append(std::vector<Event>{Follow(9, 10)}), 2u);
  EXPECT_EQ(ReadAll(dir), (std::vector<Event>{Follow(1, 2), Follow(2, 3), Follow(9, 10)}));
}

TEST(EventLogTest, DamageBeforeTheLastSegmentIsAnErrorNamingFileAndOffset) {
  const std::string dir = FreshDir("log-damaged");
  EventLogOptions options;
  options.segment_bytes = kSegmentHeaderBytes + 4 * kEventRecordBytes;
  {
    EventLog log(dir, options);
    for (ExternalId i = 0; i < 10; ++i) log.Append(std::vector<Event>{Follow(i + 1, i + 2)});
  }
  const std::string path = SegmentPath(dir, 4);
  std::string bytes = ReadBytes(path);
  bytes[kSegmentHeaderBytes + kEventRecordBytes + 20] ^= 1;
  WriteBytes(path, bytes);
  for (const std::function<void()>& open_or_read :
       {std::function<void()>([&] { EventLog log(dir, options); }), std::function<void()>([&] { ReadAll(dir); })}) {
    const std::string message = ErrorOf(open_or_read);
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("byte 56"), std::string::npos) << message;
    EXPECT_EQ(CodeOf(open_or_read), ErrorCode::kCorruption);
  }
  // A missing middle segment is named too.
  std::filesystem::remove(path);
  const std::string message = ErrorOf([&] { EventLog log(dir, options); });
  EXPECT_NE(message.find("a segment is missing"), std::string::npos) << message;
  // So is a foreign file under a segment's name.
  WriteBytes(path, std::string(100, 'x'));
  EXPECT_NE(ErrorOf([&] { EventLog log(dir, options); }).find("bad magic"), std::string::npos);
}

TEST(EventLogTest, ConcurrentAppendsAreCommittedInGroupsExactlyOnce) {
  const std::string dir = FreshDir("log-concurrent");
  EventLog log(dir);
  constexpr int kThreads = 4, kAppends = 300;
  std::vector<std::vector<uint64_t>> firsts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        const ExternalId id = static_cast<ExternalId>(t) * 1000000 + static_cast<ExternalId>(i);
        firsts[t].push_back(log.Append(std::vector<Event>{Follow(id, 1), Follow(id, 2)}));
      }
    });
  }
  // A reader beside the writers sees a consistent prefix.
  const size_t prefix = ReadAll(dir).size();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(prefix % 2, 0u);
  const std::vector<Event> events = ReadAll(dir);
  ASSERT_EQ(events.size(), 2u * kThreads * kAppends);
  std::map<ExternalId, uint64_t> where;
  for (uint64_t s = 0; s < events.size(); s += 2) {
    EXPECT_EQ(events[s].actor, events[s + 1].actor);  // an append's events stay together
    EXPECT_TRUE(where.emplace(events[s].actor, s).second) << "twice: " << events[s].actor;
  }
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kAppends; ++i)
      EXPECT_EQ(firsts[t][i], where.at(static_cast<ExternalId>(t) * 1000000 + static_cast<ExternalId>(i)));
}

TEST(EventLogTest, EveryAcknowledgedEventSurvivesKillNine) {
  const std::string dir = FreshDir("log-kill");
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // append until killed, reporting each acknowledged sequence
    close(acks[0]);
    EventLog log(dir);
    for (ExternalId i = 0;; ++i) {
      const uint64_t first = log.Append(std::vector<Event>{Follow(i + 1, i + 2), Follow(i + 1, i + 3)});
      if (write(acks[1], &first, sizeof(first)) != sizeof(first)) _exit(1);
    }
  }
  close(acks[1]);
  std::vector<uint64_t> acknowledged;
  uint64_t first = 0;
  while (acknowledged.size() < 300 && read(acks[0], &first, sizeof(first)) == sizeof(first))
    acknowledged.push_back(first);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  while (read(acks[0], &first, sizeof(first)) == sizeof(first)) acknowledged.push_back(first);
  close(acks[0]);
  ASSERT_GE(acknowledged.size(), 300u);
  EventLog log(dir);
  const std::vector<Event> events = ReadAll(dir);
  ASSERT_GE(events.size(), 2 * acknowledged.size());
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    ASSERT_EQ(acknowledged[i], 2 * i);
    EXPECT_EQ(events[2 * i], Follow(i + 1, i + 2));
    EXPECT_EQ(events[2 * i + 1], Follow(i + 1, i + 3));
  }
}

}  // namespace
}  // namespace gr::stream
