// Distributed metapath walks (dist/walks.h): a walker lives on the rank that
// owns its current vertex, an account or a post (both owned by hash of their
// id), and steps along the path's relations in turn.
#include <algorithm>
#include <climits>
#include <span>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/internal/walk_supersteps.h"

namespace gr::dist::internal {
namespace {

struct Walker {
  uint64_t key;       // start's dense id x walks per vertex + round
  uint64_t position;  // token index of `at` in the walk; the step from it takes relation position mod path length
  uint64_t rng_state;
  ExternalId at;      // current vertex, owned by the rank that holds the walker
};

// One relation as this rank holds it: the lists of its own vertices of the
// relation's source kind.
struct LocalHop {
  walk::VertexType from = walk::VertexType::kAccount, to = walk::VertexType::kAccount;
  std::span<const uint64_t> offsets;
  std::span<const ExternalId> targets;
  std::span<const float> weights;  // empty: every weight 1
  StepAliasTables alias;           // weighted walks

  uint64_t Degree(size_t v) const { return offsets[v + 1] - offsets[v]; }
};

LocalHop MakeHop(walk::Relation relation, const PartitionedFollows& follows, const PartitionedPosts& posts,
                 bool weighted, int threads) {
  LocalHop hop{.from = walk::RelationFrom(relation), .to = walk::RelationTo(relation)};
  const auto lists = [&](const PartitionedLists& l) {
    hop.offsets = l.offsets;
    hop.targets = l.targets;
    hop.weights = l.weights;
  };
  switch (relation) {
    case walk::Relation::kFollows:
      hop.offsets = follows.following_offsets;
      hop.targets = follows.followees;
      hop.weights = follows.followee_weights;
      break;
    case walk::Relation::kFollowedBy:
      hop.offsets = follows.followers_offsets;
      hop.targets = follows.followers;
      hop.weights = follows.follower_weights;
      break;
    case walk::Relation::kInteracts: lists(posts.interacts); break;
    case walk::Relation::kAuthored: lists(posts.authored); break;
    case walk::Relation::kEngagedBy: lists(posts.engaged_by); break;
    case walk::Relation::kAuthoredBy: lists(posts.authored_by); break;
  }
  const size_t vertices = hop.from == walk::VertexType::kPost ? posts.posts.size() : follows.accounts.size();
  GR_CHECK_CODE(hop.offsets.size() == vertices + 1, ErrorCode::kInternal, "metapath relation '",
                walk::RelationName(relation), "' has lists for ", hop.offsets.size() - 1, " vertices, the rank owns ",
                vertices);
  if (weighted)
    hop.alias = StepAliasTables(
        vertices, [&](size_t v) { return hop.Degree(v); },
        [&](size_t v, uint64_t i) -> double { return hop.weights.empty() ? 1.0 : hop.weights[hop.offsets[v] + i]; },
        threads);
  return hop;
}

}  // namespace

DistributedWalks DistributedMetapathWalks(const PartitionedFollows& follows, const PartitionedPosts& posts,
                                          const DistributedWalkConfig& config, MPI_Comm comm) {
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0, posts_in_all = 0;
  const std::vector<VertexId> account_dense = GlobalDenseIds(follows.accounts, comm, &accounts_in_all);
  const std::vector<VertexId> post_dense = GlobalDenseIds(posts.posts, comm, &posts_in_all);
  GR_CHECK(accounts_in_all + posts_in_all < kNoVertex, "metapath walks: ", accounts_in_all, " accounts and ",
           posts_in_all, " posts exceed the 2^32 - 1 tokens a walk can name");
  const LocalIndex account_index(follows.accounts), post_index(posts.posts);
  std::vector<LocalHop> hops;
  for (const walk::Relation relation : config.metapath)
    hops.push_back(MakeHop(relation, follows, posts, config.weighted, config.threads));
  const uint64_t path_length = hops.size();
  const bool starts_at_posts = hops.front().from == walk::VertexType::kPost;
  const std::vector<ExternalId>& starts = starts_at_posts ? posts.posts : follows.accounts;
  const std::vector<VertexId>& start_dense = starts_at_posts ? post_dense : account_dense;

  DistributedWalks out;
  out.table_bytes = account_index.MemoryBytes() + post_index.MemoryBytes() +
                    (account_dense.size() + post_dense.size()) * sizeof(VertexId);
  for (const LocalHop& hop : hops) out.table_bytes += hop.alias.MemoryBytes();
  std::vector<Walker> here;
  here.reserve(starts.size() * config.walks_per_vertex);
  for (size_t s = 0; s < starts.size(); ++s)
    for (uint32_t round = 0; round < config.walks_per_vertex; ++round)
      here.push_back({uint64_t{start_dense[s]} * config.walks_per_vertex + round, 0,
                      FastRng::ForItem(config.seed, start_dense[s], round).state(), starts[s]});

  // One step per walker per superstep, as the uniform walks take.
  Pieces pieces = ReservePieces(starts.size() * config.walks_per_vertex, config);
  std::vector<std::vector<uint64_t>> leaving(ranks);
  std::vector<ThreadShare<Walker>> shares;
  std::vector<uint32_t> index_of;
  std::vector<const ExternalId*> next_of;  // where walker k's next vertex is read from; null: its walk ends
  constexpr uint64_t kNoSlot = UINT64_MAX;
  std::vector<uint64_t> slot_of;  // weighted: walker k's uniformly drawn slot, kNoSlot if it takes no step
  const auto hop_of = [&](const Walker& w) -> const LocalHop& { return hops[w.position % path_length]; };
  const auto on_post = [&](const Walker& w) { return hop_of(w).from == walk::VertexType::kPost; };
  // Stages of walker k, kAhead walkers apart (as walks.cc's), after its
  // vertex's index: fetch its list offsets and dense id (and alias base);
  // choose a slot; resolve it through the alias table (weighted: the slot's
  // entry was requested when chosen); step.
  auto fetch = [&](size_t k) {
    const Walker& w = here[k];
    const size_t v = index_of[k];
    const LocalHop& hop = hop_of(w);
    Prefetch(&hop.offsets[v]);
    Prefetch(on_post(w) ? &post_dense[v] : &account_dense[v]);
    if (config.weighted) hop.alias.PrefetchBase(v);
  };
  auto choose = [&](size_t k) {
    Walker& w = here[k];
    const LocalHop& hop = hop_of(w);
    const size_t v = index_of[k];
    next_of[k] = nullptr;
    slot_of[k] = kNoSlot;
    const uint64_t degree = hop.Degree(v);
    if (w.position + 1 >= config.walk_length || degree == 0) return;  // done, or a dead end
    FastRng rng(w.rng_state);
    const uint64_t i = rng.Uniform(degree);
    w.rng_state = rng.state();
    if (config.weighted) {
      slot_of[k] = i;
      hop.alias.PrefetchSlot(v, i);
      return;
    }
    next_of[k] = &hop.targets[hop.offsets[v] + i];
    Prefetch(next_of[k]);
  };
  auto resolve = [&](size_t k) {
    if (slot_of[k] == kNoSlot) return;
    Walker& w = here[k];
    const LocalHop& hop = hop_of(w);
    const size_t v = index_of[k];
    FastRng rng(w.rng_state);
    const uint64_t i = hop.alias.Pick(v, slot_of[k], rng);
    w.rng_state = rng.state();
    next_of[k] = &hop.targets[hop.offsets[v] + i];
    Prefetch(next_of[k]);
  };
  for (;;) {
    const size_t n = here.size();
    index_of.resize(n);
    next_of.resize(n);
    slot_of.resize(n);
    StepOnThreads(config.threads, here, leaving, pieces, out, shares,
                  [&](size_t begin, size_t end, ThreadShare<Walker>& share) {
      for (size_t k = begin; k < end; ++k) {
        if (k + kAhead < end) (on_post(here[k + kAhead]) ? post_index : account_index).Prefetch(here[k + kAhead].at);
        const bool post = on_post(here[k]);
        const int64_t found = (post ? post_index : account_index).Find(here[k].at);
        GR_CHECK_CODE(found >= 0, ErrorCode::kInternal, "distributed walks: ", post ? "post " : "account ",
                      here[k].at, " arrived at rank ", me, ", which does not own it");
        index_of[k] = static_cast<uint32_t>(found);
      }
      for (size_t k = begin; k < std::min(end, begin + 2 * kAhead); ++k) choose(k);
      for (size_t k = begin; k < std::min(end, begin + kAhead); ++k) resolve(k);
      for (size_t k = begin; k < end; ++k) {
        if (k + 3 * kAhead < end) fetch(k + 3 * kAhead);
        if (k + 2 * kAhead < end) choose(k + 2 * kAhead);
        if (k + kAhead < end) resolve(k + kAhead);
        Walker w = here[k];
        const size_t v = index_of[k];
        const uint64_t token = on_post(w) ? accounts_in_all + post_dense[v] : account_dense[v];
        share.pieces.insert(share.pieces.end(), {w.key, w.position << 32 | token});
        ++share.steps;
        if (next_of[k] == nullptr) continue;
        w.at = *next_of[k];
        ++w.position;
        SendWalker(w, w.at, me, share.staying, share.leaving, share.walker_moves_sent);
      }
    });
    if (!NextSuperstep(here, leaving, comm, out)) break;
  }
  AssembleWalks(pieces, starts_at_posts ? posts_in_all : accounts_in_all, accounts_in_all + posts_in_all, config,
                comm, out);
  return out;
}

}  // namespace gr::dist::internal
