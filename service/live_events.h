// The server's real-time side: the durable event log in <artifacts>/events
// (stream/event_log.h) and a LiveGraph (graph/live_graph.h) over the live
// version's graph that every acknowledged event reaches.
//
// A request's events are logged first (concurrent requests share one write
// and one sync), then applied to the live graph in log order: batches wait
// in sequence order until the ones before them are applied, so a follow and
// an unfollow of the same pair land as logged. A version's live graph is
// built before the version goes live, by replaying the log from the
// version's watermark (manifest key "event_log_watermark": the log position
// the batch folded in; 0 when absent, and the whole log is replayed).
//
// Servers that share one artifact directory share its log: one writes it
// (Push), the others follow it (CatchUp, every few ms on the server's
// follower thread), so every server's live graph takes the same events in
// the same order: an unsharded server or shard 0 writes, and the other
// shards of a sharded deployment follow (service/front.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph/live_graph.h"
#include "ranking/features.h"
#include "service/model.h"
#include "stream/event_log.h"

namespace gr::service {

// The live graph of one version, as requests see it.
struct LiveState {
  std::shared_ptr<const Model> model;  // the version it is built on (kept alive by it)
  std::shared_ptr<graph::LiveGraph> graph;
  uint64_t watermark = 0;  // log sequence the version already contains
};

// The posts among `ids` that `version_graph` does not know but the live
// graph does (new since the version), with author and time: Rank scores
// them with cold-start features.
std::vector<ranking::NewPost> NewPostsOf(const LiveState& live, const graph::SocialGraph& version_graph,
                                         std::span<const ExternalId> ids);

// Accounts and posts whose neighbourhoods changed: what an incremental
// refresh of their vectors starts from.
struct Touched {
  std::unordered_set<ExternalId> accounts, posts;
};

class LiveEvents {
 public:
  // A log has one writer (stream::EventLog's lock); the servers beside it
  // that share the artifact directory follow it.
  enum class Role {
    kWrite,   // opens (recovering) the log for appending: Push logs and applies
    kFollow,  // reads what the writer appended (CatchUp); Push is refused
  };

  // Opens the log in artifacts_dir/events in `role`; the first Rebuild
  // builds a live graph. A writer throws kInvalidArgument when another
  // process writes the log.
  LiveEvents(const std::string& artifacts_dir, const stream::EventLogOptions& options, Role role = Role::kWrite);

  // Logs `events` durably (after the first Rebuild), then applies them (and any earlier batches now
  // complete). Returns the sequence of the first. Thread-safe. Requires writes_log().
  uint64_t Push(std::span<const stream::Event> events);

  // A follower: applies the events the writer appended since the last call
  // (whole records only: one being written waits for the next call) and
  // returns how many. After the first Rebuild; thread-safe. A writer's
  // events are applied as they are pushed: 0.
  uint64_t CatchUp();

  // Builds the live graph of a version about to go live: its base plus the
  // log from its watermark. Requests keep the old one until it is done.
  // A writer then drops the log segments before both this version's
  // watermark and the previous one's (retention with one version of margin).
  void Rebuild(const std::shared_ptr<const Model>& model);

  // The current live graph; null before the first Rebuild.
  std::shared_ptr<const LiveState> state() const { return state_.load(); }
  bool writes_log() const { return log_.has_value(); }
  const std::string& log_dir() const { return log_dir_; }
  // The log's end: a writer's, or as far as a follower has read it.
  uint64_t log_end() const { return log_ ? log_->end() : applied_events_.load(); }
  // Events the live graph could not take (an id space overflow); logged.
  uint64_t failed_applies() const { return failed_applies_.load(); }
  // Events in the live graph (log sequence; log_end() - this are logged,
  // not yet applied), the newest event time it holds (Unix seconds, 0 =
  // none), and when a push last arrived (Unix seconds, 0 = none; a
  // follower: when it last applied new events).
  uint64_t applied_end() const { return applied_events_.load(); }
  uint32_t newest_event_time() const { return newest_event_time_.load(); }
  double last_push_time() const { return last_push_time_.load(); }

  // The accounts and posts touched since the last call (or, after a
  // Rebuild, by the events it replayed on top of the new version): both ends
  // of a follow or unfollow, an interaction's account and post, a new post
  // and its author, a new account. Clears them.
  Touched TakeTouched();

  // The watermark a version's manifest records (0 if none).
  static uint64_t WatermarkOf(const Model& model);

 private:
  // Applies `event` to `graph` and records what it touched in `touched`.
  void Apply(graph::LiveGraph& graph, const stream::Event& event, Touched& touched);
  void DrainLocked();
  // Applies the log's events [from, its end now) to `graph`; returns the end.
  // A follower whose `from` retention already dropped starts at the first
  // stored event (warned: those events are missing from the live graph).
  uint64_t ReadLogInto(graph::LiveGraph& graph, uint64_t from, Touched& touched);

  const std::string log_dir_;
  std::optional<stream::EventLog> log_;  // the writer's
  std::atomic<std::shared_ptr<const LiveState>> state_;
  std::mutex mutex_;  // the single writer of the live graph: guards applied_end_, pending_, rebuilds
  // Events before this sequence are in the live graph (a follower before
  // its first Rebuild: none read yet, kNotRead).
  static constexpr uint64_t kNotRead = UINT64_MAX;
  uint64_t applied_end_ = 0;
  std::map<uint64_t, std::vector<stream::Event>> pending_;  // logged batches by first sequence
  Touched touched_;
  std::atomic<uint64_t> failed_applies_{0};
  // For readers without the mutex (/metrics).
  std::atomic<uint64_t> applied_events_{0};
  std::atomic<uint32_t> newest_event_time_{0};
  std::atomic<double> last_push_time_{0};
};

}  // namespace gr::service
