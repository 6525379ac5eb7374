#include "graph/live_graph.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include "core/error.h"
#include "graph/internal/concurrent_append.h"

namespace gr::graph {
namespace {

using internal::AppendList;
using internal::ConcurrentIdTable;
using internal::GrowingTable;

// An unfollow (removed = 1) or a follow again (removed = 0) of `target`; the
// latest entry for a target decides.
struct Tombstone {
  VertexId target;
  uint32_t removed;
};

// One append-only list per vertex, in place in a table of them (8 bytes a
// vertex): a reader goes from the vertex to its items in two hops.
template <typename T>
class VertexLists {
 public:
  std::span<const T> Items(VertexId v) const {
    const AppendList<T>* list = table_.Find(v);
    return list == nullptr ? std::span<const T>() : list->Items();
  }
  void Append(VertexId v, const T& value) {
    list_bytes_.fetch_add(table_.At(v).Append(value), std::memory_order_relaxed);
  }
  // Hints to fetch v's table entry, then (once that is in) its items.
  void PrefetchEntry(VertexId v) const { table_.Prefetch(v); }
  bool PrefetchItems(VertexId v) const {
    const AppendList<T>* list = table_.Find(v);
    return list != nullptr && list->Prefetch();
  }
  size_t MemoryBytes() const { return table_.MemoryBytes() + list_bytes_.load(std::memory_order_relaxed); }

 private:
  GrowingTable<AppendList<T>> table_;
  std::atomic<size_t> list_bytes_{0};  // blocks, replaced ones included
};

// The targets whose latest tombstone says removed.
std::unordered_map<VertexId, bool> LatestTombstones(std::span<const Tombstone> tombstones) {
  std::unordered_map<VertexId, bool> latest;
  for (const Tombstone& t : tombstones) latest[t.target] = t.removed != 0;
  return latest;
}

// The latest tombstone for `target`: 1 removed, 0 revived, -1 none.
int LatestTombstone(std::span<const Tombstone> tombstones, VertexId target) {
  for (size_t i = tombstones.size(); i-- > 0;)
    if (tombstones[i].target == target) return static_cast<int>(tombstones[i].removed);
  return -1;
}

uint64_t PackPost(VertexId author, uint32_t time) { return uint64_t{author} << 32 | time; }

}  // namespace

struct LiveGraph::Delta {
  VertexLists<LiveEdge> following, followers, engagers, authored;
  VertexLists<Tombstone> following_tombstones, follower_tombstones;
  VertexLists<LiveInteraction> engagements;
  ConcurrentIdTable account_ids, post_ids;                  // new ids only
  GrowingTable<ExternalId> new_accounts, new_posts;         // by id - base count; written before publication
  GrowingTable<std::atomic<uint64_t>> new_post_info;        // PackPost(author, time)
  std::atomic<uint64_t> num_accounts{0}, num_posts{0};
  std::atomic<uint64_t> follows{0}, unfollows{0}, interactions{0}, ignored{0};
};

LiveGraph::LiveGraph(std::shared_ptr<const SocialGraph> base)
    : base_(std::move(base)), delta_(std::make_unique<Delta>()) {
  GR_CHECK(base_ != nullptr, "LiveGraph needs a base graph");
  delta_->num_accounts.store(base_->num_accounts());
  delta_->num_posts.store(base_->num_posts());
  // Each author's base posts oldest first (the CSR lists them by id), so
  // that with the delta's, appended as they come, the newest are last.
  const CsrGraph& authored = base_->authored;
  authored_by_time_ = authored.targets;
  if (!base_->post_time.empty()) {
    for (size_t a = 0; a + 1 < authored.offsets.size(); ++a) {
      std::stable_sort(authored_by_time_.begin() + static_cast<std::ptrdiff_t>(authored.offsets[a]),
                       authored_by_time_.begin() + static_cast<std::ptrdiff_t>(authored.offsets[a + 1]),
                       [&](VertexId x, VertexId y) { return base_->post_time[x] < base_->post_time[y]; });
    }
  }
}

LiveGraph::~LiveGraph() = default;

size_t LiveGraph::num_accounts() const { return delta_->num_accounts.load(std::memory_order_acquire); }
size_t LiveGraph::num_posts() const { return delta_->num_posts.load(std::memory_order_acquire); }

VertexId LiveGraph::FindAccount(ExternalId account) const {
  const VertexId v = base_->accounts.Find(account);
  return v != kNoVertex ? v : delta_->account_ids.Find(account);
}

VertexId LiveGraph::FindPost(ExternalId post) const {
  const VertexId p = base_->posts.Find(post);
  return p != kNoVertex ? p : delta_->post_ids.Find(post);
}

ExternalId LiveGraph::AccountId(VertexId account) const {
  const size_t base = base_->num_accounts();
  GR_CHECK(account < num_accounts(), "account ", account, " out of range");
  return account < base ? base_->accounts.ToExternal(account) : *delta_->new_accounts.Find(account - base);
}

ExternalId LiveGraph::PostId(VertexId post) const {
  const size_t base = base_->num_posts();
  GR_CHECK(post < num_posts(), "post ", post, " out of range");
  return post < base ? base_->posts.ToExternal(post) : *delta_->new_posts.Find(post - base);
}

VertexId LiveGraph::PostAuthor(VertexId post) const {
  const size_t base = base_->num_posts();
  if (post < base) return base_->post_author[post];
  return static_cast<VertexId>(delta_->new_post_info.Find(post - base)->load(std::memory_order_acquire) >> 32);
}

uint32_t LiveGraph::PostTime(VertexId post) const {
  const size_t base = base_->num_posts();
  if (post < base) return base_->post_time.empty() ? 0 : base_->post_time[post];
  return static_cast<uint32_t>(delta_->new_post_info.Find(post - base)->load(std::memory_order_acquire));
}

VertexId LiveGraph::AddAccount(ExternalId account) {
  const VertexId known = FindAccount(account);
  if (known != kNoVertex) return known;
  Delta& d = *delta_;
  const uint64_t id = d.num_accounts.load(std::memory_order_relaxed);
  GR_CHECK_CODE(id < kMaxVertices, ErrorCode::kInvalidArgument, "too many accounts (", kMaxVertices, ")");
  d.new_accounts.At(id - base_->num_accounts()) = account;
  d.account_ids.Insert(account, static_cast<VertexId>(id));
  d.num_accounts.store(id + 1, std::memory_order_release);
  return static_cast<VertexId>(id);
}

VertexId LiveGraph::NewPost(ExternalId post, VertexId author, uint32_t time) {
  Delta& d = *delta_;
  const uint64_t id = d.num_posts.load(std::memory_order_relaxed);
  GR_CHECK_CODE(id < kMaxVertices, ErrorCode::kInvalidArgument, "too many posts (", kMaxVertices, ")");
  d.new_posts.At(id - base_->num_posts()) = post;
  d.new_post_info.At(id - base_->num_posts()).store(PackPost(author, time), std::memory_order_relaxed);
  d.post_ids.Insert(post, static_cast<VertexId>(id));
  d.num_posts.store(id + 1, std::memory_order_release);
  return static_cast<VertexId>(id);
}

VertexId LiveGraph::AddPost(ExternalId post, ExternalId author, uint32_t time) {
  Delta& d = *delta_;
  const VertexId a = AddAccount(author);
  VertexId p = FindPost(post);
  if (p == kNoVertex) {
    p = NewPost(post, a, time);
  } else if (PostAuthor(p) == kNoVertex && p >= base_->num_posts()) {
    // A post first seen through an interaction: its author arrives now.
    d.new_post_info.At(p - base_->num_posts()).store(PackPost(a, time), std::memory_order_release);
  } else {
    d.ignored.fetch_add(1, std::memory_order_relaxed);  // known already (or another author: the first stays)
    return p;
  }
  d.authored.Append(a, {p, time});
  return p;
}

bool LiveGraph::Follows(VertexId follower, VertexId followee) const {
  const int latest = LatestTombstone(delta_->following_tombstones.Items(follower), followee);
  if (latest >= 0) return latest == 0;  // only an existing edge is ever tombstoned
  if (follower < base_->num_accounts() && followee < base_->num_accounts() &&
      base_->following.HasEdge(follower, followee))
    return true;
  for (const LiveEdge& e : delta_->following.Items(follower))
    if (e.target == followee) return true;
  return false;
}

void LiveGraph::Follow(ExternalId follower, ExternalId followee, uint32_t time) {
  Delta& d = *delta_;
  if (follower == followee) {
    d.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const VertexId a = AddAccount(follower), b = AddAccount(followee);
  if (Follows(a, b)) {
    d.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (LatestTombstone(d.following_tombstones.Items(a), b) == 1) {  // followed before: revive
    d.following_tombstones.Append(a, {b, 0});
    d.follower_tombstones.Append(b, {a, 0});
  } else {
    d.following.Append(a, {b, time});
    d.followers.Append(b, {a, time});
  }
  d.follows.fetch_add(1, std::memory_order_relaxed);
}

void LiveGraph::Unfollow(ExternalId follower, ExternalId followee) {
  Delta& d = *delta_;
  const VertexId a = FindAccount(follower), b = FindAccount(followee);
  if (a == kNoVertex || b == kNoVertex || !Follows(a, b)) {
    d.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  d.following_tombstones.Append(a, {b, 1});
  d.follower_tombstones.Append(b, {a, 1});
  d.unfollows.fetch_add(1, std::memory_order_relaxed);
}

void LiveGraph::Interact(ExternalId account, ExternalId post, InteractionType type, uint32_t time,
                         uint32_t dwell_ms) {
  Delta& d = *delta_;
  const VertexId a = AddAccount(account);
  VertexId p = FindPost(post);
  if (p == kNoVertex) p = NewPost(post, kNoVertex, 0);  // its author comes with its post event
  d.engagements.Append(a, {p, time, dwell_ms, static_cast<uint8_t>(1u << static_cast<unsigned>(type))});
  d.engagers.Append(p, {a, time});
  d.interactions.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Base edges of v (times if stored) then the delta's, minus tombstoned targets.
std::vector<LiveEdge> Merge(const CsrGraph& base, size_t base_vertices, VertexId v, std::span<const LiveEdge> added,
                            std::span<const Tombstone> tombstones) {
  const auto latest = LatestTombstones(tombstones);
  auto removed = [&](VertexId target) {
    const auto it = latest.find(target);
    return it != latest.end() && it->second;
  };
  std::vector<LiveEdge> out;
  if (v < base_vertices) {
    for (EdgeIndex e = base.Begin(v); e < base.End(v); ++e)
      if (!removed(base.targets[e])) out.push_back({base.targets[e], base.times.empty() ? 0u : base.times[e]});
  }
  for (const LiveEdge& e : added)
    if (!removed(e.target)) out.push_back(e);
  return out;
}

}  // namespace

std::vector<LiveEdge> LiveGraph::Followees(VertexId account) const {
  return Merge(base_->following, base_->num_accounts(), account, delta_->following.Items(account),
               delta_->following_tombstones.Items(account));
}

std::vector<LiveEdge> LiveGraph::Followers(VertexId account) const {
  return Merge(base_->followers, base_->num_accounts(), account, delta_->followers.Items(account),
               delta_->follower_tombstones.Items(account));
}

std::vector<LiveEdge> LiveGraph::Engagers(VertexId post) const {
  return Merge(base_->engagers, base_->num_posts(), post, delta_->engagers.Items(post), {});
}

std::vector<LiveEdge> LiveGraph::Authored(VertexId account) const {
  std::vector<LiveEdge> out;
  if (account < base_->num_accounts()) {
    for (const VertexId p : base_->authored.Neighbors(account)) out.push_back({p, PostTime(p)});
  }
  for (const LiveEdge& e : delta_->authored.Items(account)) out.push_back(e);
  return out;
}

std::vector<VertexId> LiveGraph::Unfollowed(VertexId account) const {
  std::vector<VertexId> out;
  for (const auto& [target, removed] : LatestTombstones(delta_->following_tombstones.Items(account)))
    if (removed) out.push_back(target);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<LiveInteraction> LiveGraph::Engagements(VertexId account) const {
  std::vector<LiveInteraction> out;
  const CsrGraph& base = base_->engagements;
  if (account < base_->num_accounts()) {
    for (EdgeIndex e = base.Begin(account); e < base.End(account); ++e)
      out.push_back({base.targets[e], base.times.empty() ? 0u : base.times[e],
                     base.dwell_ms.empty() ? 0u : base.dwell_ms[e], base.type_masks.empty() ? uint8_t{0} : base.type_masks[e]});
  }
  for (const LiveInteraction& i : delta_->engagements.Items(account)) out.push_back(i);
  return out;
}

namespace {

uint64_t BaseDegree(const CsrGraph& g, size_t vertices, VertexId v) { return v < vertices ? g.Degree(v) : 0; }

// Entry i of a follow list (followees or followers): the base's entries,
// then the delta's; kNoVertex if that follow was undone since.
VertexId FollowListAt(const CsrGraph& base, size_t base_vertices, std::span<const LiveEdge> added,
                      std::span<const Tombstone> tombstones, VertexId account, uint64_t i) {
  const uint64_t in_base = BaseDegree(base, base_vertices, account);
  const VertexId other = i < in_base ? base.Neighbors(account)[i] : added[i - in_base].target;
  return LatestTombstone(tombstones, other) == 1 ? kNoVertex : other;
}

}  // namespace

uint64_t LiveGraph::FolloweeCount(VertexId account) const {
  return BaseDegree(base_->following, base_->num_accounts(), account) + delta_->following.Items(account).size();
}

VertexId LiveGraph::FolloweeAt(VertexId account, uint64_t i) const {
  return FollowListAt(base_->following, base_->num_accounts(), delta_->following.Items(account),
                      delta_->following_tombstones.Items(account), account, i);
}

uint64_t LiveGraph::FollowerCount(VertexId account) const {
  return BaseDegree(base_->followers, base_->num_accounts(), account) + delta_->followers.Items(account).size();
}

VertexId LiveGraph::FollowerAt(VertexId account, uint64_t i) const {
  return FollowListAt(base_->followers, base_->num_accounts(), delta_->followers.Items(account),
                      delta_->follower_tombstones.Items(account), account, i);
}

uint64_t LiveGraph::EngagementCount(VertexId account) const {
  return BaseDegree(base_->engagements, base_->num_accounts(), account) + delta_->engagements.Items(account).size();
}

LiveInteraction LiveGraph::EngagementAt(VertexId account, uint64_t i) const {
  const CsrGraph& g = base_->engagements;
  const uint64_t base = BaseDegree(g, base_->num_accounts(), account);
  if (i >= base) return delta_->engagements.Items(account)[i - base];
  const EdgeIndex e = g.Begin(account) + i;
  return {g.targets[e], g.times.empty() ? 0u : g.times[e], g.dwell_ms.empty() ? 0u : g.dwell_ms[e],
          g.type_masks.empty() ? uint8_t{0} : g.type_masks[e]};
}

VertexId LiveGraph::EngagedPostAt(VertexId account, uint64_t i) const {
  const CsrGraph& g = base_->engagements;
  const uint64_t base = BaseDegree(g, base_->num_accounts(), account);
  return i < base ? g.targets[g.Begin(account) + i] : delta_->engagements.Items(account)[i - base].post;
}

uint64_t LiveGraph::EngagerCount(VertexId post) const {
  return BaseDegree(base_->engagers, base_->num_posts(), post) + delta_->engagers.Items(post).size();
}

VertexId LiveGraph::EngagerAt(VertexId post, uint64_t i) const {
  const uint64_t base = BaseDegree(base_->engagers, base_->num_posts(), post);
  return i < base ? base_->engagers.Neighbors(post)[i] : delta_->engagers.Items(post)[i - base].target;
}

uint64_t LiveGraph::AuthoredCount(VertexId account) const {
  return BaseDegree(base_->authored, base_->num_accounts(), account) + delta_->authored.Items(account).size();
}

VertexId LiveGraph::AuthoredAt(VertexId account, uint64_t i) const {
  const uint64_t base = BaseDegree(base_->authored, base_->num_accounts(), account);
  return i < base ? authored_by_time_[base_->authored.Begin(account) + i] : delta_->authored.Items(account)[i - base].target;
}

namespace {

// Prefetches entry i of v's list: the base CSR's target, else the delta's
// item (its block is in cache after the *Delta hint).
template <typename Lists>
void PrefetchListEntry(const CsrGraph& g, size_t vertices, const Lists& delta, VertexId v, uint64_t i) {
  const uint64_t base = BaseDegree(g, vertices, v);
  if (i < base) {
    __builtin_prefetch(&g.targets[g.Begin(v) + i]);
  } else if (const auto items = delta.Items(v); i - base < items.size()) {
    __builtin_prefetch(&items[i - base]);
  }
}

}  // namespace

void LiveGraph::PrefetchAdjacency(VertexId account) const {
  if (account < base_->num_accounts()) {
    __builtin_prefetch(&base_->following.offsets[account]);
    __builtin_prefetch(&base_->engagements.offsets[account]);
  }
  delta_->following.PrefetchEntry(account);
  delta_->engagements.PrefetchEntry(account);
  delta_->following_tombstones.PrefetchEntry(account);
}

void LiveGraph::PrefetchAuthored(VertexId account) const {
  if (account < base_->num_accounts()) __builtin_prefetch(&base_->authored.offsets[account]);
  delta_->authored.PrefetchEntry(account);
}

void LiveGraph::PrefetchPost(VertexId post) const {
  if (post < base_->num_posts()) {
    __builtin_prefetch(&base_->engagers.offsets[post]);
    __builtin_prefetch(&base_->post_author[post]);
  }
  delta_->engagers.PrefetchEntry(post);
}

bool LiveGraph::PrefetchAdjacencyDelta(VertexId account) const {
  const Delta& d = *delta_;
  // Each list with items gets its hint (no short circuit).
  const bool follows = d.following.PrefetchItems(account);
  const bool engagements = d.engagements.PrefetchItems(account);
  const bool tombstones = d.following_tombstones.PrefetchItems(account);
  return follows || engagements || tombstones;
}

bool LiveGraph::PrefetchAuthoredDelta(VertexId account) const { return delta_->authored.PrefetchItems(account); }

bool LiveGraph::PrefetchPostDelta(VertexId post) const { return delta_->engagers.PrefetchItems(post); }

void LiveGraph::PrefetchFolloweeAt(VertexId account, uint64_t i) const {
  PrefetchListEntry(base_->following, base_->num_accounts(), delta_->following, account, i);
}

void LiveGraph::PrefetchEngagedPostAt(VertexId account, uint64_t i) const {
  PrefetchListEntry(base_->engagements, base_->num_accounts(), delta_->engagements, account, i);
}

void LiveGraph::PrefetchEngagerAt(VertexId post, uint64_t i) const {
  PrefetchListEntry(base_->engagers, base_->num_posts(), delta_->engagers, post, i);
}

void LiveGraph::PrefetchAuthoredAt(VertexId account, uint64_t i) const {
  const uint64_t base = BaseDegree(base_->authored, base_->num_accounts(), account);
  if (i < base) {
    __builtin_prefetch(&authored_by_time_[base_->authored.Begin(account) + i]);
  } else if (const auto items = delta_->authored.Items(account); i - base < items.size()) {
    __builtin_prefetch(&items[i - base]);
  }
}

LiveGraphCounts LiveGraph::counts() const {
  const Delta& d = *delta_;
  return {num_accounts() - base_->num_accounts(), num_posts() - base_->num_posts(),
          d.follows.load(std::memory_order_relaxed), d.unfollows.load(std::memory_order_relaxed),
          d.interactions.load(std::memory_order_relaxed), d.ignored.load(std::memory_order_relaxed)};
}

size_t LiveGraph::DeltaMemoryBytes() const {
  const Delta& d = *delta_;
  return d.following.MemoryBytes() + d.followers.MemoryBytes() + d.engagers.MemoryBytes() +
         d.authored.MemoryBytes() + d.following_tombstones.MemoryBytes() + d.follower_tombstones.MemoryBytes() +
         d.engagements.MemoryBytes() + d.account_ids.MemoryBytes() + d.post_ids.MemoryBytes() +
         d.new_accounts.MemoryBytes() + d.new_posts.MemoryBytes() + d.new_post_info.MemoryBytes();
}

}  // namespace gr::graph
