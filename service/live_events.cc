#include "service/live_events.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "core/error.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::service {

LiveEvents::LiveEvents(const std::string& artifacts_dir, const stream::EventLogOptions& options, Role role)
    : log_dir_(version::PathIn(artifacts_dir, version::kEventLogDir)) {
  if (role == Role::kWrite) {
    try {
      log_.emplace(log_dir_, options);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kInvalidArgument) throw;
      GR_THROW(ErrorCode::kInvalidArgument, e.what(), "; a server beside the writer follows the log "
               "(serve --events follow)");
    }
  }
  applied_end_ = log_ ? log_->end() : kNotRead;
  applied_events_ = log_ ? applied_end_ : 0;
}

uint64_t LiveEvents::WatermarkOf(const Model& model) { return version::EventLogWatermarkOf(model.manifest_json); }

void LiveEvents::Apply(graph::LiveGraph& graph, const stream::Event& e, Touched& touched) {
  using stream::EventKind;
  touched.accounts.insert(e.actor);
  if (e.kind == EventKind::kFollow || e.kind == EventKind::kUnfollow) touched.accounts.insert(e.object);
  if (e.kind == EventKind::kInteraction || e.kind == EventKind::kPost) touched.posts.insert(e.object);
  if (e.time > newest_event_time_.load(std::memory_order_relaxed)) newest_event_time_.store(e.time);  // one writer
  try {
    switch (e.kind) {
      case EventKind::kFollow: graph.Follow(e.actor, e.object, e.time); break;
      case EventKind::kUnfollow: graph.Unfollow(e.actor, e.object); break;
      case EventKind::kInteraction:
        graph.Interact(e.actor, e.object, static_cast<graph::InteractionType>(e.interaction), e.time, e.dwell_ms);
        break;
      case EventKind::kPost: graph.AddPost(e.object, e.actor, e.time); break;
      case EventKind::kAccount: graph.AddAccount(e.actor); break;
    }
  } catch (const Error& error) {
    // The event is durable; the live graph cannot hold it (ids exhausted).
    // Never fail a replay on it: the next batch is the source of truth.
    if (failed_applies_.fetch_add(1) == 0) spdlog::error("live graph: cannot apply an event: {}", error.what());
  }
}

void LiveEvents::Rebuild(const std::shared_ptr<const Model>& model) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t watermark = WatermarkOf(*model);
  auto graph = std::make_shared<graph::LiveGraph>(std::shared_ptr<const graph::SocialGraph>(model, &model->graph));
  std::lock_guard lock(mutex_);
  // Events up to applied_end_ are durable; later ones are still pending and
  // reach this graph when drained. A version older than the retained log
  // (a rollback far back) goes live without the dropped events.
  uint64_t from = std::min(watermark, applied_end_);  // a follower's first: the watermark
  Touched replayed;
  if (!log_) {
    applied_end_ = ReadLogInto(*graph, from, replayed);
    applied_events_ = applied_end_;
  } else {
    if (from < log_->begin()) {
      spdlog::warn("version {} contains the event log up to sequence {}, but the log now starts at {}: the events "
                   "between were dropped by retention and are missing from its live graph",
                   model->version, watermark, log_->begin());
      from = log_->begin();
    }
    const uint64_t end = stream::ReadEventLog(log_->dir(), from, applied_end_,
                                              [&](uint64_t, const stream::Event& e) { Apply(*graph, e, replayed); });
    GR_CHECK_CODE(end == applied_end_, ErrorCode::kCorruption, "event log ", log_->dir(), " ends at sequence ", end,
                  " but events up to ", applied_end_, " were acknowledged");
  }
  auto state = std::make_shared<LiveState>();
  state->model = model;
  state->graph = std::move(graph);
  state->watermark = watermark;
  const std::shared_ptr<const LiveState> old = state_.exchange(std::move(state));
  touched_ = std::move(replayed);  // what was touched before is superseded by the new version
  // Retention: the segments neither this version nor the one before it
  // (kept for a rollback) still needs.
  if (old != nullptr && log_) {
    const size_t dropped = log_->DropSegmentsBefore(std::min(old->watermark, watermark));
    if (dropped > 0) spdlog::info("event log: {} old segments dropped (before sequence {})", dropped,
                                  std::min(old->watermark, watermark));
  }
  const graph::LiveGraphCounts counts = state_.load()->graph->counts();
  spdlog::info("live graph of version {}: {} events replayed from sequence {} in {:.2f} s ({} new accounts, {} new "
               "posts, {} follows, {} unfollows, {} interactions)",
               model->version, applied_end_ - from, from,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), counts.new_accounts,
               counts.new_posts, counts.follows, counts.unfollows, counts.interactions);
}

uint64_t LiveEvents::ReadLogInto(graph::LiveGraph& graph, uint64_t from, Touched& touched) {
  for (int attempt = 0;; ++attempt) {
    try {
      return stream::ReadEventLog(log_dir_, from, UINT64_MAX,
                                  [&](uint64_t, const stream::Event& e) { Apply(graph, e, touched); });
    } catch (const Error& e) {
      // The writer's retention dropped `from` (it went a version ahead, or
      // this server lagged): go on from what is stored. ReadEventLog fails
      // so before applying anything.
      if (e.code() != ErrorCode::kNotFound || attempt == 3) throw;
      const uint64_t first = stream::FirstStoredSequence(log_dir_);
      spdlog::warn("event log {}: the events from sequence {} to {} were dropped by retention before this server "
                   "read them; its live graph misses them", log_dir_, from, first);
      from = std::max(from, first);
    }
  }
}

uint64_t LiveEvents::CatchUp() {
  if (log_) return 0;
  std::lock_guard lock(mutex_);
  const std::shared_ptr<const LiveState> state = state_.load();
  if (state == nullptr) return 0;
  const uint64_t before = applied_end_;
  applied_end_ = ReadLogInto(*state->graph, applied_end_, touched_);
  applied_events_ = applied_end_;
  if (applied_end_ > before)
    last_push_time_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return applied_end_ - before;
}

uint64_t LiveEvents::Push(std::span<const stream::Event> events) {
  GR_CHECK(log_.has_value(), "this server follows the event log in ", log_dir_, "; push events to its writer");
  const uint64_t first = log_->Append(events);  // durable from here
  last_push_time_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (events.empty()) return first;
  std::lock_guard lock(mutex_);
  pending_.emplace(first, std::vector<stream::Event>(events.begin(), events.end()));
  DrainLocked();
  return first;
}

void LiveEvents::DrainLocked() {
  const std::shared_ptr<const LiveState> state = state_.load();
  while (!pending_.empty() && pending_.begin()->first == applied_end_) {
    for (const stream::Event& e : pending_.begin()->second) Apply(*state->graph, e, touched_);
    applied_end_ += pending_.begin()->second.size();
    pending_.erase(pending_.begin());
  }
  applied_events_ = applied_end_;
}

Touched LiveEvents::TakeTouched() {
  std::lock_guard lock(mutex_);
  return std::exchange(touched_, {});
}

std::vector<ranking::NewPost> NewPostsOf(const LiveState& live, const graph::SocialGraph& version_graph,
                                         std::span<const ExternalId> ids) {
  std::vector<ranking::NewPost> fresh;
  for (const ExternalId id : ids) {
    if (version_graph.posts.Find(id) != kNoVertex) continue;
    const VertexId p = live.graph->FindPost(id);
    if (p == kNoVertex) continue;  // known to neither: Rank answers NOT_FOUND
    ranking::NewPost post{.id = id, .time = live.graph->PostTime(p)};
    if (const VertexId author = live.graph->PostAuthor(p); author != kNoVertex) post.author = live.graph->AccountId(author);
    fresh.push_back(post);
  }
  return fresh;
}

}  // namespace gr::service
