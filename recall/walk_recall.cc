#include "recall/walk_recall.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

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

class Walker {
 public:
  Walker(const graph::LiveGraph& g, WalkTarget target, const std::unordered_set<VertexId>& excluded,
         std::vector<VertexId> unfollowed, uint32_t min_visits, uint64_t stop_candidates, uint32_t recent_posts)
      : g_(g),
        target_(target),
        excluded_(excluded),
        unfollowed_(std::move(unfollowed)),
        min_visits_(min_visits),
        stop_candidates_(stop_candidates),
        recent_posts_(recent_posts) {}

  // Visits an author, or a post and its author; counts what is asked for.
  void VisitAuthor(VertexId author) {
    if (target_ == WalkTarget::kAuthors && !Unfollowed(author)) Count(author);
  }
  // A post (and its author, kNoVertex if not looked up yet: the lookup is
  // a cache miss, made only when needed).
  void VisitPost(VertexId post, VertexId author = kNoVertex) {
    if (author == kNoVertex && (target_ == WalkTarget::kAuthors || !unfollowed_.empty())) author = g_.PostAuthor(post);
    if (author != kNoVertex && Unfollowed(author)) return;
    if (target_ == WalkTarget::kPosts) {
      Count(post);
    } else if (author != kNoVertex) {
      Count(author);
    }
  }
  // An author: visit it and one of its posts. Returns the author.
  VertexId AtAuthor(VertexId author, FastRng& rng) {
    VisitAuthor(author);
    const uint64_t posts = g_.AuthoredCount(author);
    const uint64_t choices = recent_posts_ > 0 ? std::min<uint64_t>(posts, recent_posts_) : posts;
    if (posts > 0) VisitPost(g_.AuthoredAt(author, posts - choices + rng.Uniform(choices)), author);
    return author;
  }
  // A post: visit it, then move to one of its engagers (kNoVertex if none).
  VertexId AtPost(VertexId post, FastRng& rng) {
    VisitPost(post);
    const uint64_t engagers = g_.EngagerCount(post);
    return engagers == 0 ? kNoVertex : g_.EngagerAt(post, rng.Uniform(engagers));
  }
  bool done() const { return found_ >= stop_candidates_; }

  std::vector<RecallResult> Top(size_t k, bool posts) const {
    std::vector<std::pair<VertexId, uint32_t>> ranked(visits_.begin(), visits_.end());
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    if (ranked.size() > k) ranked.resize(k);
    std::vector<RecallResult> out;
    for (const auto& [v, count] : ranked)
      out.push_back({posts ? g_.PostId(v) : g_.AccountId(v),
                     static_cast<float>(count) / static_cast<float>(std::max<uint64_t>(1, counted_))});
    return out;
  }

 private:
  bool Unfollowed(VertexId account) const {
    return !unfollowed_.empty() && std::binary_search(unfollowed_.begin(), unfollowed_.end(), account);
  }
  void Count(VertexId v) {
    if (excluded_.contains(v)) return;
    ++counted_;
    if (++visits_[v] == min_visits_) ++found_;
  }

  const graph::LiveGraph& g_;
  const WalkTarget target_;
  const std::unordered_set<VertexId>& excluded_;
  const std::vector<VertexId> unfollowed_;  // sorted
  const uint32_t min_visits_;
  const uint64_t stop_candidates_;
  const uint32_t recent_posts_;
  std::unordered_map<VertexId, uint32_t> visits_;
  uint64_t counted_ = 0;
  uint64_t found_ = 0;
};

}  // namespace

std::vector<RecallResult> WalkRecall(const graph::LiveGraph& g, ExternalId user, WalkTarget target, size_t k,
                                     bool exclude_known, const WalkRecallConfig& config) {
  config.Validate();
  GR_CHECK(k > 0, "k must be > 0");
  const VertexId u = g.FindAccount(user);
  GR_CHECK_CODE(u != kNoVertex, ErrorCode::kNotFound, "account ", user, " is not in the live graph");
  const bool posts = target == WalkTarget::kPosts;
  std::unordered_set<VertexId> excluded;
  if (posts) {
    for (const graph::LiveEdge& e : g.Authored(u)) excluded.insert(e.target);
    if (exclude_known)
      for (const graph::LiveInteraction& i : g.Engagements(u)) excluded.insert(i.post);
  } else {
    excluded.insert(u);
    if (exclude_known)
      for (const graph::LiveEdge& e : g.Followees(u)) excluded.insert(e.target);
  }
  const RootEdges root(g, u, config.half_life_days);
  if (root.edges.empty()) return {};
  Walker walker(g, target, excluded, g.Unfollowed(u), config.min_visits,
                config.stop_candidates > 0 ? config.stop_candidates : 2 * k, config.recent_posts);
  FastRng rng = FastRng::ForItem(config.seed, user, 0x5a1c);
  uint32_t steps = 0;
  while (steps < config.max_steps && !walker.done()) {
    // From the user: a recent follow or interaction.
    const RootEdges::Edge& first = root.Draw(rng);
    VertexId at = first.is_post ? walker.AtPost(first.target, rng) : walker.AtAuthor(first.target, rng);
    ++steps;
    // Onwards from accounts until a restart.
    while (at != kNoVertex && steps < config.max_steps && !walker.done() && rng.UniformDouble() >= config.restart) {
      const uint64_t follows = g.FolloweeCount(at), interactions = g.EngagementCount(at);
      if (follows + interactions == 0) break;
      const uint64_t pick = rng.Uniform(follows + interactions);
      if (pick < follows) {
        const VertexId next = g.FolloweeAt(at, pick);
        at = next == kNoVertex ? kNoVertex : walker.AtAuthor(next, rng);  // an unfollowed edge ends the walk
      } else {
        at = walker.AtPost(g.EngagementAt(at, pick - follows).post, rng);
      }
      ++steps;
    }
  }
  return walker.Top(k, posts);
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
