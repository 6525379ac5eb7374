#include "recall/walk_recall.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "core/rng.h"

namespace gr::recall {

void WalkRecallConfig::Validate() const {
  GR_CHECK(max_steps >= 1, "walk recall max_steps must be >= 1");
  GR_CHECK(restart > 0.0 && restart <= 1.0, "walk recall restart must be in (0, 1], got ", restart);
  GR_CHECK(min_visits >= 1, "walk recall min_visits must be >= 1");
  GR_CHECK(half_life_days >= 0.0 && std::isfinite(half_life_days), "walk recall half_life_days must be >= 0");
}

namespace {

// The user's own edges with their recency weights, as one list to draw from.
struct RootEdges {
  struct Edge {
    VertexId target;
    bool is_post;  // an interaction (target a post) or a follow (target an account)
  };
  std::vector<Edge> edges;
  std::vector<double> cumulative;  // cumulative weights

  RootEdges(const graph::LiveGraph& g, VertexId user, double half_life_days) {
    std::vector<std::pair<Edge, uint32_t>> timed;
    for (const graph::LiveEdge& e : g.Followees(user)) timed.push_back({{e.target, false}, e.time});
    for (const graph::LiveInteraction& i : g.Engagements(user)) timed.push_back({{i.post, true}, i.time});
    uint32_t newest = 0;
    for (const auto& [edge, time] : timed) newest = std::max(newest, time);
    double total = 0;
    for (const auto& [edge, time] : timed) {
      const double age_days = time == 0 ? 0.0 : static_cast<double>(newest - time) / 86400.0;
      total += half_life_days > 0 ? std::exp2(-age_days / half_life_days) : 1.0;
      edges.push_back(edge);
      cumulative.push_back(total);
    }
  }
  const Edge& Draw(FastRng& rng) const {
    const double x = rng.UniformDouble() * cumulative.back();
    const size_t i = static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin());
    return edges[std::min(i, edges.size() - 1)];
  }
};

// Visit counts of one query's walks, and the vertices it must not count:
// open addressing over a power-of-two table (a node-based map allocated per
// new vertex and cost a cache miss per visit), excluded vertices held with
// a marker count so that one probe answers both questions.
class VisitCounts {
 public:
  static constexpr uint32_t kExcluded = ~uint32_t{0};

  VisitCounts() : slots_(kInitialSlots) {}

  void Exclude(VertexId v) { *Slot(v) = kExcluded; }
  // Counts a visit of v; returns its new count, or kExcluded.
  uint32_t Visit(VertexId v) {
    uint32_t* count = Slot(v);
    return *count == kExcluded ? kExcluded : ++*count;
  }
  // (vertex, count) of every counted vertex.
  std::vector<std::pair<VertexId, uint32_t>> Counted() const {
    std::vector<std::pair<VertexId, uint32_t>> out;
    for (const Entry& e : slots_)
      if (e.key_plus_one != 0 && e.count != kExcluded && e.count != 0) out.emplace_back(e.key_plus_one - 1, e.count);
    return out;
  }

 private:
  static constexpr size_t kInitialSlots = 4096;
  struct Entry {
    VertexId key_plus_one = 0;  // 0 = empty
    uint32_t count = 0;
  };
  static size_t Hash(VertexId v) { return static_cast<size_t>((uint64_t{v} * 0x9E3779B97F4A7C15ULL) >> 32); }

  uint32_t* Slot(VertexId v) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(v) & mask;; i = (i + 1) & mask) {
      Entry& e = slots_[i];
      if (e.key_plus_one == v + 1) return &e.count;
      if (e.key_plus_one == 0) {
        if (2 * (used_ + 1) > slots_.size()) {
          Grow();
          return Slot(v);
        }
        ++used_;
        e.key_plus_one = v + 1;
        return &e.count;
      }
    }
  }
  void Grow() {
    std::vector<Entry> old(2 * slots_.size());
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Entry& e : old) {
      if (e.key_plus_one == 0) continue;
      size_t i = Hash(e.key_plus_one - 1) & mask;
      while (slots_[i].key_plus_one != 0) i = (i + 1) & mask;
      slots_[i] = e;
    }
  }

  std::vector<Entry> slots_;
  size_t used_ = 0;
};

// What the walks have visited: counts, exclusions, early stopping.
class Visits {
 public:
  Visits(const graph::LiveGraph& g, WalkTarget target, const std::vector<VertexId>& excluded,
         std::vector<VertexId> unfollowed, uint32_t min_visits, uint64_t stop_candidates)
      : g_(g),
        target_(target),
        unfollowed_(std::move(unfollowed)),
        min_visits_(min_visits),
        stop_candidates_(stop_candidates) {
    for (const VertexId v : excluded) counts_.Exclude(v);
  }

  void Author(VertexId author) {
    if (target_ == WalkTarget::kAuthors && !Unfollowed(author)) Count(author);
  }
  // A post (and its author, kNoVertex if not looked up yet: looked up only
  // when needed).
  void Post(VertexId post, VertexId author = kNoVertex) {
    if (author == kNoVertex && (target_ == WalkTarget::kAuthors || !unfollowed_.empty())) author = g_.PostAuthor(post);
    if (author != kNoVertex && Unfollowed(author)) return;
    if (target_ == WalkTarget::kPosts) {
      Count(post);
    } else if (author != kNoVertex) {
      Count(author);
    }
  }
  bool done() const { return found_ >= stop_candidates_; }

  std::vector<RecallResult> Top(size_t k) const {
    std::vector<std::pair<VertexId, uint32_t>> ranked = counts_.Counted();
    const size_t kept = std::min(k, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(kept), ranked.end(),
                      [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    ranked.resize(kept);
    std::vector<RecallResult> out;
    for (const auto& [v, count] : ranked)
      out.push_back({target_ == WalkTarget::kPosts ? g_.PostId(v) : g_.AccountId(v),
                     static_cast<float>(count) / static_cast<float>(std::max<uint64_t>(1, counted_))});
    return out;
  }

 private:
  bool Unfollowed(VertexId account) const {
    return !unfollowed_.empty() && std::binary_search(unfollowed_.begin(), unfollowed_.end(), account);
  }
  void Count(VertexId v) {
    const uint32_t visits = counts_.Visit(v);
    if (visits == VisitCounts::kExcluded) return;
    ++counted_;
    if (visits == min_visits_) ++found_;
  }

  const graph::LiveGraph& g_;
  const WalkTarget target_;
  const std::vector<VertexId> unfollowed_;  // sorted
  const uint32_t min_visits_;
  const uint64_t stop_candidates_;
  VisitCounts counts_;
  uint64_t counted_ = 0;
  uint64_t found_ = 0;
};

// The walks, run as kLanes interleaved lanes. A hop in a graph far larger
// than the cache waits on a miss or two (offsets, then the chosen edge), so
// each lane runs one stage of its hop, prefetches what its next stage
// reads and hands over to the next lane: kLanes misses are in flight at
// once instead of one (asynchronous memory access chaining). The lanes'
// fixed order and their own random streams keep the answer a function of
// the graph, the user and the seed.
class Walks {
 public:
  static constexpr int kLanes = 8;

  Walks(const graph::LiveGraph& g, const RootEdges& root, Visits& visits, const WalkRecallConfig& config,
        ExternalId user)
      : g_(g), root_(root), visits_(visits), config_(config) {
    for (int i = 0; i < kLanes; ++i) lanes_[i].rng = FastRng::ForItem(config.seed, user, 0x5a1c + static_cast<uint64_t>(i));
  }

  void Run() {
    while (true) {
      for (Lane& lane : lanes_) {
        if (steps_ >= config_.max_steps || visits_.done()) return;
        Advance(lane);
      }
    }
  }

 private:
  enum class Stage : uint8_t {
    kRoot,         // draw one of the user's edges
    kAuthorDelta,  // an author's delta list, if it has one
    kAuthor,       // at an author: visit it, pick one of its newest posts
    kAuthorPost,   // visit that post; the walk goes on from the author
    kPostDelta,    // a post's delta list, if it has one
    kPost,         // at a post: visit it, pick an engager
    kEngager,      // the walk goes on from that engager
    kAccountDelta, // an account's delta lists, if it has any
    kAccount,      // at an account: pick a follow or an interaction
    kFollowee,     // move to the followed author
    kEngagedPost,  // move to the post
  };
  struct Lane {
    FastRng rng{0};
    Stage stage = Stage::kRoot;
    VertexId at = kNoVertex;  // the vertex the stage is about
    uint64_t index = 0;       // the entry of its list the stage reads
  };

  void Advance(Lane& lane) {
    switch (lane.stage) {
      case Stage::kRoot: {
        const RootEdges::Edge& edge = root_.Draw(lane.rng);
        lane.at = edge.target;
        if (edge.is_post) {
          g_.PrefetchPost(lane.at);
          lane.stage = Stage::kPostDelta;
        } else {
          g_.PrefetchAuthored(lane.at);
          lane.stage = Stage::kAuthorDelta;
        }
        return;
      }
      // A delta stage waits a turn only when there is a delta list to fetch.
      case Stage::kAuthorDelta:
        lane.stage = Stage::kAuthor;
        if (g_.PrefetchAuthoredDelta(lane.at)) return;
        [[fallthrough]];
      case Stage::kAuthor: {
        visits_.Author(lane.at);
        const uint64_t posts = g_.AuthoredCount(lane.at);
        if (posts == 0) {
          ++steps_;
          GoOnFrom(lane, lane.at);
          return;
        }
        const uint64_t choices = config_.recent_posts > 0 ? std::min<uint64_t>(posts, config_.recent_posts) : posts;
        lane.index = posts - choices + lane.rng.Uniform(choices);
        g_.PrefetchAuthoredAt(lane.at, lane.index);
        lane.stage = Stage::kAuthorPost;
        return;
      }
      case Stage::kAuthorPost:
        visits_.Post(g_.AuthoredAt(lane.at, lane.index), lane.at);
        ++steps_;
        GoOnFrom(lane, lane.at);
        return;
      case Stage::kPostDelta:
        lane.stage = Stage::kPost;
        if (g_.PrefetchPostDelta(lane.at)) return;
        [[fallthrough]];
      case Stage::kPost: {
        visits_.Post(lane.at);
        ++steps_;
        const uint64_t engagers = g_.EngagerCount(lane.at);
        if (engagers == 0) {
          lane.stage = Stage::kRoot;
          return;
        }
        lane.index = lane.rng.Uniform(engagers);
        g_.PrefetchEngagerAt(lane.at, lane.index);
        lane.stage = Stage::kEngager;
        return;
      }
      case Stage::kEngager:
        GoOnFrom(lane, g_.EngagerAt(lane.at, lane.index));
        return;
      case Stage::kAccountDelta:
        lane.stage = Stage::kAccount;
        if (g_.PrefetchAdjacencyDelta(lane.at)) return;
        [[fallthrough]];
      case Stage::kAccount: {
        const uint64_t follows = g_.FolloweeCount(lane.at), interactions = g_.EngagementCount(lane.at);
        if (follows + interactions == 0) {
          lane.stage = Stage::kRoot;
          return;
        }
        const uint64_t pick = lane.rng.Uniform(follows + interactions);
        if (pick < follows) {
          lane.index = pick;
          g_.PrefetchFolloweeAt(lane.at, pick);
          lane.stage = Stage::kFollowee;
        } else {
          lane.index = pick - follows;
          g_.PrefetchEngagedPostAt(lane.at, lane.index);
          lane.stage = Stage::kEngagedPost;
        }
        return;
      }
      case Stage::kFollowee: {
        const VertexId author = g_.FolloweeAt(lane.at, lane.index);
        if (author == kNoVertex) {  // an unfollowed edge ends the walk
          lane.stage = Stage::kRoot;
          return;
        }
        lane.at = author;
        g_.PrefetchAuthored(author);
        lane.stage = Stage::kAuthorDelta;
        return;
      }
      case Stage::kEngagedPost:
        lane.at = g_.EngagedPostAt(lane.at, lane.index);
        g_.PrefetchPost(lane.at);
        lane.stage = Stage::kPostDelta;
        return;
    }
  }

  // After a hop: restart at the user, or go on from `account`.
  void GoOnFrom(Lane& lane, VertexId account) {
    if (lane.rng.UniformDouble() < config_.restart) {
      lane.stage = Stage::kRoot;
      return;
    }
    lane.at = account;
    g_.PrefetchAdjacency(account);
    lane.stage = Stage::kAccountDelta;
  }

  const graph::LiveGraph& g_;
  const RootEdges& root_;
  Visits& visits_;
  const WalkRecallConfig& config_;
  std::array<Lane, kLanes> lanes_;
  uint32_t steps_ = 0;
};

}  // namespace

std::vector<RecallResult> WalkRecall(const graph::LiveGraph& g, ExternalId user, WalkTarget target, size_t k,
                                     bool exclude_known, const WalkRecallConfig& config) {
  config.Validate();
  GR_CHECK(k > 0, "k must be > 0");
  const VertexId u = g.FindAccount(user);
  GR_CHECK_CODE(u != kNoVertex, ErrorCode::kNotFound, "account ", user, " is not in the live graph");
  std::vector<VertexId> excluded;
  if (target == WalkTarget::kPosts) {
    for (const graph::LiveEdge& e : g.Authored(u)) excluded.push_back(e.target);
    if (exclude_known)
      for (const graph::LiveInteraction& i : g.Engagements(u)) excluded.push_back(i.post);
  } else {
    excluded.push_back(u);
    if (exclude_known)
      for (const graph::LiveEdge& e : g.Followees(u)) excluded.push_back(e.target);
  }
  const RootEdges root(g, u, config.half_life_days);
  if (root.edges.empty()) return {};
  Visits visits(g, target, excluded, g.Unfollowed(u), config.min_visits,
                config.stop_candidates > 0 ? config.stop_candidates : 2 * k);
  Walks(g, root, visits, config, user).Run();
  return visits.Top(k);
}

std::vector<RecallResult> FuseByReciprocalRank(const std::vector<std::vector<RecallResult>>& lists, size_t k) {
  std::unordered_map<ExternalId, float> score;
  std::vector<ExternalId> order;
  for (const auto& list : lists) {
    for (size_t rank = 0; rank < list.size(); ++rank) {
      auto [it, added] = score.emplace(list[rank].id, 0.0f);
      if (added) order.push_back(list[rank].id);
      it->second += 1.0f / (60.0f + static_cast<float>(rank + 1));
    }
  }
  std::vector<RecallResult> fused;
  for (const ExternalId id : order) fused.push_back({id, score[id]});
  std::stable_sort(fused.begin(), fused.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  if (fused.size() > k) fused.resize(k);
  return fused;
}

}  // namespace gr::recall
