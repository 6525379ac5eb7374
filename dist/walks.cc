#include "dist/walks.h"

#include <algorithm>
#include <climits>
#include <span>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/internal/walk_supersteps.h"

namespace gr::dist {

namespace {

void CheckWalkConfig(const DistributedWalkConfig& config) {
  GR_CHECK(config.walks_per_vertex > 0 && config.walk_length > 0,
           "distributed walks: walks_per_vertex and walk_length must be > 0");
  GR_CHECK(config.p > 0 && config.q > 0, "distributed walks: p and q must be > 0");
  GR_CHECK(config.walk_length <= UINT32_MAX / 2, "distributed walks: walk_length too large");
}

}  // namespace

DistributedWalks DistributedRandomWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                        MPI_Comm comm, const PartitionedPosts* posts) {
  CheckWalkConfig(config);
  if (!config.metapath.empty()) {
    if (posts != nullptr) return internal::DistributedMetapathWalks(graph, *posts, config, comm);
    const bool follows_only = std::ranges::all_of(config.metapath, [](walk::Relation r) {
      return r == walk::Relation::kFollows || r == walk::Relation::kFollowedBy;
    });
    GR_CHECK(follows_only, "metapath walks along posts' relations need the posts' part of the graph (interactions "
             "and authorship), which only the follows were given");
    // No posts, and no lists of them for the accounts.
    const PartitionedPosts no_posts{.interacts = {.offsets = std::vector<uint64_t>(graph.accounts.size() + 1, 0)},
                                    .authored = {.offsets = std::vector<uint64_t>(graph.accounts.size() + 1, 0)}};
    return internal::DistributedMetapathWalks(graph, no_posts, config, comm);
  }
  return config.p == 1 && config.q == 1 ? internal::DistributedUniformWalks(graph, config, comm)
                                        : internal::DistributedNode2vecWalks(graph, config, comm);
}

DistributedWalks DistributedWalksFrom(const PartitionedFollows& graph, std::span<const WalkRequest> requests,
                                      const DistributedWalkConfig& config, MPI_Comm comm) {
  OnEveryRankIfAnyFails(comm, "walks from chosen starts", [&] {
    CheckWalkConfig(config);
    GR_CHECK(config.metapath.empty(), "walks from chosen starts: metapath walks are not supported");
  });
  const int ranks = Size(comm);
  // Every rank's requests numbered in rank order.
  uint64_t here = requests.size(), before = 0, in_all = 0;
  MPI_Exscan(&here, &before, 1, MPI_UINT64_T, MPI_SUM, comm);
  if (Rank(comm) == 0) before = 0;  // MPI_Exscan leaves rank 0's undefined
  MPI_Allreduce(&here, &in_all, 1, MPI_UINT64_T, MPI_SUM, comm);
  // Each request to its start's owner, as (key, start, round).
  constexpr size_t kRequestValues = 3;
  std::vector<uint64_t> counts(ranks, 0), at(ranks, 0);
  for (const WalkRequest& r : requests) counts[OwnerOf(r.start, ranks)] += kRequestValues;
  for (int r = 1; r < ranks; ++r) at[r] = at[r - 1] + counts[r - 1];
  std::vector<uint64_t> flat(requests.size() * kRequestValues);
  for (size_t i = 0; i < requests.size(); ++i) {
    uint64_t& to = at[OwnerOf(requests[i].start, ranks)];
    flat[to] = before + i;
    flat[to + 1] = requests[i].start;
    flat[to + 2] = requests[i].round;
    to += kRequestValues;
  }
  const std::vector<uint64_t> arrived = ExchangeValues(flat, counts, comm);
  std::vector<internal::WalkStart> starts;
  starts.reserve(arrived.size() / kRequestValues);
  OnEveryRankIfAnyFails(comm, "walks from chosen starts", [&] {
    const internal::LocalIndex local(graph.accounts);
    for (size_t i = 0; i < arrived.size(); i += kRequestValues) {
      const int64_t a = local.Find(arrived[i + 1]);
      GR_CHECK(a >= 0, "a walk from account ", arrived[i + 1], ", which the graph does not have");
      starts.push_back({.key = arrived[i], .account = static_cast<uint64_t>(a), .round = static_cast<uint32_t>(arrived[i + 2])});
    }
  });
  DistributedWalkConfig one_each = config;
  one_each.walks_per_vertex = 1;  // key = request number
  const internal::WalkStarts chosen{.chosen = &starts, .chosen_in_all = in_all};
  return config.p == 1 && config.q == 1 ? internal::DistributedUniformWalks(graph, one_each, comm, chosen)
                                        : internal::DistributedNode2vecWalks(graph, one_each, comm, chosen);
}

namespace internal {
namespace {

struct Walker {
  uint64_t key;       // start's dense id x walks per vertex + round
  uint64_t position;  // token index of `at` in the walk
  uint64_t rng_state;
  ExternalId at;      // current account, owned by the rank that holds the walker
};

}  // namespace

StepAliasTables FollowAliasTables(const PartitionedFollows& graph, bool both_directions, int threads) {
  const auto out_degree = [&](size_t a) { return graph.following_offsets[a + 1] - graph.following_offsets[a]; };
  const auto in_degree = [&](size_t a) {
    return both_directions ? graph.followers_offsets[a + 1] - graph.followers_offsets[a] : 0;
  };
  return StepAliasTables(
      graph.accounts.size(), [&](size_t a) { return out_degree(a) + in_degree(a); },
      [&](size_t a, uint64_t i) -> double {
        const uint64_t out = out_degree(a);
        const std::vector<float>& w = i < out ? graph.followee_weights : graph.follower_weights;
        const uint64_t e = i < out ? graph.following_offsets[a] + i : graph.followers_offsets[a] + i - out;
        return w.empty() ? 1.0 : w[e];
      },
      threads);
}

DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm, const WalkStarts& starts) {
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts_in_all);
  const LocalIndex local(graph.accounts);
  DistributedWalks out;
  const StepAliasTables alias = config.weighted ? FollowAliasTables(graph, config.both_directions, config.threads) : StepAliasTables();
  out.table_bytes = local.MemoryBytes() + dense.size() * sizeof(VertexId) + alias.MemoryBytes();

  std::vector<Walker> here;
  here.reserve(starts.CountHere(graph.accounts.size(), config));
  starts.ForEach(dense, config, [&](uint64_t key, size_t a, uint32_t round) {
    here.push_back({key, 0, FastRng::ForItem(config.seed, dense[a], round).state(), graph.accounts[a]});
  });

  // Every walker takes one step per superstep (KnightKing's rounds): a pass
  // over many independent walkers lets the loads of later ones be requested
  // while earlier ones step (one walker at a time waited ~0.7 us a step on
  // its chain of cache misses).
  // Each thread steps a contiguous share of the walkers (StepOnThreads).
  // (key, position << 32 | token) of each step taken here
  Pieces pieces = ReservePieces(starts.CountHere(graph.accounts.size(), config), config);
  std::vector<int64_t> index_of;
  std::vector<const ExternalId*> next_of;  // where walker k's next account is read from; null: its walk ends
  std::vector<std::vector<uint64_t>> leaving(ranks);
  std::vector<ThreadShare<Walker>> shares;
  for (;;) {
    const size_t n = here.size();
    index_of.resize(n);
    next_of.resize(n);
    StepOnThreads(config.threads, here, leaving, pieces, out, shares,
                  [&](size_t begin, size_t end, ThreadShare<Walker>& share) {
      for (size_t k = begin; k < end; ++k) {
        if (k + kAhead < end) local.Prefetch(here[k + kAhead].at);
        index_of[k] = local.Find(here[k].at);
        GR_CHECK_CODE(index_of[k] >= 0, ErrorCode::kInternal, "distributed walks: account ", here[k].at,
                      " arrived at rank ", me, ", which does not own it");
      }
      // Three stages kAhead walkers apart, so that each walker's loads were
      // requested before it needs them: its list offsets, then (its draw
      // made) the entry it steps to and its dense id, then the step.
      auto draw = [&](size_t k) {
        Walker& w = here[k];
        const auto a = static_cast<size_t>(index_of[k]);
        Prefetch(&dense[a]);
        next_of[k] = nullptr;
        if (w.position + 1 >= config.walk_length) return;
        const uint64_t out_degree = graph.following_offsets[a + 1] - graph.following_offsets[a];
        const uint64_t in_degree =
            config.both_directions ? graph.followers_offsets[a + 1] - graph.followers_offsets[a] : 0;
        if (out_degree + in_degree == 0) return;  // a dead end: the walk ends here
        FastRng rng(w.rng_state);
        uint64_t i = rng.Uniform(out_degree + in_degree);
        if (config.weighted) i = alias.Pick(a, i, rng);
        w.rng_state = rng.state();
        next_of[k] = i < out_degree ? &graph.followees[graph.following_offsets[a] + i]
                                    : &graph.followers[graph.followers_offsets[a] + i - out_degree];
        Prefetch(next_of[k]);
      };
      for (size_t k = begin; k < std::min(end, begin + kAhead); ++k) draw(k);
      for (size_t k = begin; k < end; ++k) {
        if (k + 2 * kAhead < end) {
          const auto a = static_cast<size_t>(index_of[k + 2 * kAhead]);
          Prefetch(&graph.following_offsets[a]);
          Prefetch(&graph.followers_offsets[a]);
        }
        if (k + kAhead < end) draw(k + kAhead);
        Walker w = here[k];
        share.pieces.insert(share.pieces.end(), {w.key, w.position << 32 | dense[static_cast<size_t>(index_of[k])]});
        ++share.steps;
        if (next_of[k] == nullptr) continue;
        w.at = *next_of[k];
        ++w.position;
        SendWalker(w, w.at, me, share.staying, share.leaving, share.walker_moves_sent);
      }
    });
    if (!NextSuperstep(here, leaving, comm, out)) break;  // one superstep's moves in one exchange
  }
  AssembleWalks(pieces, starts.InAll(accounts_in_all), accounts_in_all, config, comm, out);
  return out;
}

void AssembleWalks(Pieces& pieces, uint64_t starts_in_all, uint64_t vocabulary, const DistributedWalkConfig& config,
                   MPI_Comm comm, DistributedWalks& out) {
  const int ranks = Size(comm), me = Rank(comm);
  out.vocabulary = vocabulary;
  out.walks_per_vertex = config.walks_per_vertex;
  // Pieces to the rank that assembles their walk, placed by destination in one pass.
  std::vector<uint64_t> counts(ranks, 0), at(ranks, 0);
  for (size_t i = 0; i < pieces.size(); i += kPieceValues) counts[pieces[i] % static_cast<uint64_t>(ranks)] += kPieceValues;
  for (int r = 1; r < ranks; ++r) at[r] = at[r - 1] + counts[r - 1];
  std::vector<uint64_t> flat(pieces.size());
  for (size_t i = 0; i < pieces.size(); i += kPieceValues) {
    uint64_t& to = at[pieces[i] % static_cast<uint64_t>(ranks)];
    flat[to] = pieces[i];
    flat[to + 1] = pieces[i + 1];
    to += kPieceValues;
  }
  Pieces().swap(pieces);
  for (int r = 0; r < ranks; ++r)
    if (r != me) out.bytes_sent += counts[r] * sizeof(uint64_t);
  const std::vector<uint64_t> mine = ExchangeValues(flat, counts, comm);
  // This rank assembles walks key = me, me + ranks, ...: each piece goes
  // straight to its slot (walk key / ranks, step), no sort.
  const uint64_t all_walks = starts_in_all * config.walks_per_vertex;
  const uint64_t my_walks = all_walks > static_cast<uint64_t>(me) ? (all_walks - me + ranks - 1) / ranks : 0;
  const uint64_t length = config.walk_length;
  std::vector<VertexId> slots(my_walks * length, kNoVertex);
  std::vector<uint32_t> lengths(my_walks, 0);
  for (size_t i = 0; i < mine.size(); i += kPieceValues) {
    const uint64_t walk = mine[i] / static_cast<uint64_t>(ranks), position = mine[i + 1] >> 32;
    slots[walk * length + position] = static_cast<VertexId>(mine[i + 1] & UINT32_MAX);
    lengths[walk] = std::max(lengths[walk], static_cast<uint32_t>(position + 1));
  }
  out.tokens.reserve(mine.size() / kPieceValues);
  out.keys.reserve(my_walks);
  for (uint64_t walk = 0; walk < my_walks; ++walk) {
    const auto first = slots.begin() + static_cast<int64_t>(walk * length);
    GR_CHECK_CODE(lengths[walk] > 0 && std::find(first, first + lengths[walk], kNoVertex) == first + lengths[walk],
                  ErrorCode::kInternal, "distributed walks: walk ", walk * ranks + me, " is missing a step");
    out.tokens.insert(out.tokens.end(), first, first + lengths[walk]);
    out.offsets.push_back(out.tokens.size());
    out.keys.push_back(walk * ranks + me);
  }
}

}  // namespace internal
}  // namespace gr::dist
