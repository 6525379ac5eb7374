// LiveGraph: the graph the server answers from between nightly batches: one
// version's immutable SocialGraph plus what happened since (new accounts and
// posts, follows and unfollows, interactions), as an append-only delta.
//
// One writer thread applies changes (the caller serialises writers); any
// number of readers read at the same time without locks: every delta list
// only grows and is published with release stores, so a reader sees each
// list as it was at some moment during its call. New accounts and posts get
// dense ids after the base's, in arrival order. An unfollow is a tombstone
// (the base stays immutable); following again revives the edge. The next
// batch folds the events into a new base and the delta starts empty.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/social_graph.h"

namespace gr::graph {

struct LiveEdge {
  VertexId target;
  uint32_t time;  // Unix seconds, 0 = unknown
};

struct LiveInteraction {
  VertexId post;
  uint32_t time;
  uint32_t dwell_ms;
  uint8_t type_mask;  // bit t = InteractionType t (a base edge may merge several)
};

// What the writer has applied since the base (for stats and memory figures).
struct LiveGraphCounts {
  uint64_t new_accounts = 0;
  uint64_t new_posts = 0;
  uint64_t follows = 0;        // follow edges added (revivals included)
  uint64_t unfollows = 0;      // follow edges removed
  uint64_t interactions = 0;
  uint64_t ignored = 0;        // no-ops: a follow that exists, an unfollow of none, a self-follow,
                               // a post event naming another author than the one known
};

class LiveGraph {
 public:
  explicit LiveGraph(std::shared_ptr<const SocialGraph> base);
  ~LiveGraph();
  LiveGraph(const LiveGraph&) = delete;
  LiveGraph& operator=(const LiveGraph&) = delete;

  // --- Writer (one thread at a time). Unknown accounts and posts are added.
  VertexId AddAccount(ExternalId account);
  // A new post by `author`. Returns the post's id.
  VertexId AddPost(ExternalId post, ExternalId author, uint32_t time);
  void Follow(ExternalId follower, ExternalId followee, uint32_t time);
  void Unfollow(ExternalId follower, ExternalId followee);
  void Interact(ExternalId account, ExternalId post, InteractionType type, uint32_t time, uint32_t dwell_ms);

  // --- Readers (any thread).
  const SocialGraph& base() const { return *base_; }
  size_t num_accounts() const;
  size_t num_posts() const;
  // Dense id, or kNoVertex if unknown.
  VertexId FindAccount(ExternalId account) const;
  VertexId FindPost(ExternalId post) const;
  // External id of a dense id below num_accounts() / num_posts().
  ExternalId AccountId(VertexId account) const;
  ExternalId PostId(VertexId post) const;
  VertexId PostAuthor(VertexId post) const;  // kNoVertex if unknown
  uint32_t PostTime(VertexId post) const;

  bool Follows(VertexId follower, VertexId followee) const;
  // The current followees / followers of an account (base ones first, each
  // once), the posts it engaged with, a post's engagers, an account's posts.
  std::vector<LiveEdge> Followees(VertexId account) const;
  std::vector<LiveEdge> Followers(VertexId account) const;
  std::vector<LiveInteraction> Engagements(VertexId account) const;
  std::vector<LiveEdge> Engagers(VertexId post) const;
  std::vector<LiveEdge> Authored(VertexId account) const;
  // Accounts this account has unfollowed since the base (and not followed again).
  std::vector<VertexId> Unfollowed(VertexId account) const;

  // For sampling without copying a list: its entries, base then delta, and
  // the i-th (i below a count read earlier stays valid: lists only grow).
  // A followee or follower removed by an unfollow reads as kNoVertex. An
  // author's posts come oldest first (the newest are the last entries).
  uint64_t FolloweeCount(VertexId account) const;
  VertexId FolloweeAt(VertexId account, uint64_t i) const;
  uint64_t FollowerCount(VertexId account) const;
  VertexId FollowerAt(VertexId account, uint64_t i) const;
  uint64_t EngagementCount(VertexId account) const;
  LiveInteraction EngagementAt(VertexId account, uint64_t i) const;
  VertexId EngagedPostAt(VertexId account, uint64_t i) const;  // EngagementAt's post alone: one array read
  uint64_t EngagerCount(VertexId post) const;
  VertexId EngagerAt(VertexId post, uint64_t i) const;
  uint64_t AuthoredCount(VertexId account) const;
  VertexId AuthoredAt(VertexId account, uint64_t i) const;

  // Hints for readers that interleave many walks (recall/walk_recall):
  // start fetching what an accessor will read, without waiting for it.
  // PrefetchAdjacency covers FolloweeCount and EngagementCount (and the
  // lists' delta entries), PrefetchAuthored AuthoredCount, PrefetchPost
  // EngagerCount and PostAuthor. An *At hint is for after its count was
  // read (it needs the offsets the count read). The *Delta hints are a
  // second step, once the first one's data is in: they fetch the delta
  // lists' items, and say whether there are any (else nothing to wait for).
  void PrefetchAdjacency(VertexId account) const;
  void PrefetchAuthored(VertexId account) const;
  void PrefetchPost(VertexId post) const;
  bool PrefetchAdjacencyDelta(VertexId account) const;
  bool PrefetchAuthoredDelta(VertexId account) const;
  bool PrefetchPostDelta(VertexId post) const;
  void PrefetchFolloweeAt(VertexId account, uint64_t i) const;
  void PrefetchEngagedPostAt(VertexId account, uint64_t i) const;
  void PrefetchEngagerAt(VertexId post, uint64_t i) const;
  void PrefetchAuthoredAt(VertexId account, uint64_t i) const;

  LiveGraphCounts counts() const;
  // Bytes the delta holds (the base not included).
  size_t DeltaMemoryBytes() const;

 private:
  struct Delta;
  VertexId NewPost(ExternalId post, VertexId author, uint32_t time);
  std::shared_ptr<const SocialGraph> base_;
  std::vector<VertexId> authored_by_time_;  // base_->authored's targets, each author's oldest first
  std::unique_ptr<Delta> delta_;
};

}  // namespace gr::graph
