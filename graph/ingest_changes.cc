// graph/ingest.h's ApplyChanges and NewestTime.
#include "graph/ingest.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace gr::graph {
namespace {

struct PairHash {
  size_t operator()(const std::pair<ExternalId, ExternalId>& p) const {
    return std::hash<ExternalId>()(p.first * 0x9E3779B97F4A7C15ULL ^ p.second);
  }
};

}  // namespace

std::vector<ExternalId> ApplyChanges(std::span<const GraphChange> changes, BulkVector<FollowRecord>& follows,
                                     BulkVector<InteractionRecord>& interactions, BulkVector<PostRecord>& posts,
                                     IngestReport& rep) {
  std::vector<ExternalId> lone_accounts;
  using Kind = GraphChange::Kind;
  struct PairState {
    bool followed = false;
    bool unfollowed = false;  // at some point: the files' follows of the pair are undone
    bool in_files = false;
    uint32_t time = 0;        // of the last follow
  };
  std::unordered_map<std::pair<ExternalId, ExternalId>, PairState, PairHash> pairs;
  std::vector<PostRecord> new_posts;
  for (const GraphChange& c : changes) {
    switch (c.kind) {
      case Kind::kFollow: {
        PairState& state = pairs[{c.actor, c.object}];
        state.followed = true;
        state.time = c.time;
        break;
      }
      case Kind::kUnfollow: {
        PairState& state = pairs[{c.actor, c.object}];
        state.followed = false;
        state.unfollowed = true;
        break;
      }
      case Kind::kInteraction:
        GR_CHECK(c.interaction < kNumInteractionTypes, "interaction type ", int{c.interaction}, " (expected 0-3)");
        interactions.push_back({c.actor, c.object, c.time, c.dwell_ms, c.interaction});
        break;
      case Kind::kPost: new_posts.push_back({c.object, c.actor, c.time}); break;
      case Kind::kAccount: lone_accounts.push_back(c.actor); break;
    }
  }
  rep.changes = changes.size();
  if (!pairs.empty()) {
    std::erase_if(follows, [&](const FollowRecord& r) {
      const auto it = pairs.find({r.src, r.dst});
      if (it == pairs.end()) return false;
      it->second.in_files = true;
      if (it->second.unfollowed) rep.follows_removed += r.lines;
      return it->second.unfollowed;
    });
    // A follow again after an unfollow is a new edge, with its own time.
    for (const auto& [pair, state] : pairs)
      if (state.followed && (state.unfollowed || !state.in_files)) follows.push_back({pair.first, pair.second, state.time});
  }
  if (!new_posts.empty()) {  // a post the files (or an earlier change) have keeps its first author
    std::unordered_set<ExternalId> known;
    for (const PostRecord& p : posts) known.insert(p.post);
    for (const PostRecord& p : new_posts)
      if (known.insert(p.post).second) posts.push_back(p);
  }
  return lone_accounts;
}

uint32_t NewestTime(const BulkVector<FollowRecord>& follows, const BulkVector<InteractionRecord>& interactions,
                    const BulkVector<PostRecord>& posts) {
  uint32_t newest = 0;
  for (const auto& r : follows) newest = std::max(newest, r.time);
  for (const auto& r : interactions) newest = std::max(newest, r.time);
  for (const auto& r : posts) newest = std::max(newest, r.time);
  return newest;
}


}  // namespace gr::graph
