#include "dist/walks.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "core/error.h"
#include "core/prefetch.h"
#include "core/rng.h"
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"

namespace gr::dist {
namespace {

struct Walker {
  uint64_t key;       // start's dense id x walks per vertex + round
  uint64_t position;  // token index of `at` in the walk
  uint64_t rng_state;
  ExternalId at;      // current account, owned by the rank that holds the walker
};
constexpr size_t kWalkerValues = 4, kPieceValues = 2;  // a piece: key, position << 32 | token

// The local index of an owned account: open addressing over a power-of-two
// table (a binary search of the sorted ids costs ~17 cache misses a step at
// 100k accounts per rank).
class LocalIndex {
 public:
  explicit LocalIndex(const std::vector<ExternalId>& accounts) {
    size_t size = 16;
    while (size < accounts.size() * 2) size *= 2;
    mask_ = size - 1;
    slots_.assign(size, {0, kEmpty});
    for (uint32_t i = 0; i < accounts.size(); ++i) {
      size_t s = MixSeed(accounts[i], 0x1d) & mask_;
      while (slots_[s].second != kEmpty) s = (s + 1) & mask_;
      slots_[s] = {accounts[i], i};
    }
  }
  void Prefetch(ExternalId id) const { ::gr::Prefetch(&slots_[MixSeed(id, 0x1d) & mask_]); }
  // The index, or -1 if the account is not owned here.
  int64_t Find(ExternalId id) const {
    for (size_t s = MixSeed(id, 0x1d) & mask_;; s = (s + 1) & mask_) {
      if (slots_[s].second == kEmpty) return -1;
      if (slots_[s].first == id) return slots_[s].second;
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  size_t mask_ = 0;
  std::vector<std::pair<ExternalId, uint32_t>> slots_;
};

}  // namespace

DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm) {
  GR_CHECK(config.walks_per_vertex > 0 && config.walk_length > 0,
           "distributed walks: walks_per_vertex and walk_length must be > 0");
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts_in_all);
  GR_CHECK(config.walk_length <= UINT32_MAX / 2, "distributed walks: walk_length too large");
  const LocalIndex local(graph.accounts);
  DistributedWalks out;

  std::vector<Walker> here;
  here.reserve(graph.accounts.size() * config.walks_per_vertex);
  for (size_t a = 0; a < graph.accounts.size(); ++a)
    for (uint32_t round = 0; round < config.walks_per_vertex; ++round)
      here.push_back({uint64_t{dense[a]} * config.walks_per_vertex + round, 0,
                      FastRng::ForItem(config.seed, dense[a], round).state(), graph.accounts[a]});

  // Every walker takes one step per superstep (KnightKing's rounds): a pass
  // over many independent walkers lets the loads of later ones be requested
  // while earlier ones step (one walker at a time waited ~0.7 us a step on
  // its chain of cache misses).
  std::vector<uint64_t> pieces;  // (key, position << 32 | token) of each step taken here
  std::vector<int64_t> index_of;
  constexpr size_t kAhead = 16;
  for (;;) {
    std::vector<std::vector<uint64_t>> leaving(ranks);
    std::vector<Walker> staying;
    index_of.resize(here.size());
    for (size_t k = 0; k < here.size(); ++k) {
      if (k + kAhead < here.size()) local.Prefetch(here[k + kAhead].at);
      index_of[k] = local.Find(here[k].at);
    }
    for (size_t k = 0; k < here.size(); ++k) {
      if (k + kAhead < here.size() && index_of[k + kAhead] >= 0) {
        Prefetch(&graph.following_offsets[static_cast<size_t>(index_of[k + kAhead])]);
        Prefetch(&graph.followers_offsets[static_cast<size_t>(index_of[k + kAhead])]);
      }
      Walker w = here[k];
      const int64_t a = index_of[k];
      GR_CHECK_CODE(a >= 0, ErrorCode::kInternal, "distributed walks: account ", w.at, " arrived at rank ", me,
                    ", which does not own it");
      pieces.insert(pieces.end(), {w.key, w.position << 32 | dense[a]});
      ++out.steps;
      if (w.position + 1 >= config.walk_length) continue;
      const uint64_t out_degree = graph.following_offsets[a + 1] - graph.following_offsets[a];
      const uint64_t in_degree =
          config.both_directions ? graph.followers_offsets[a + 1] - graph.followers_offsets[a] : 0;
      if (out_degree + in_degree == 0) continue;  // a dead end: the walk ends here
      FastRng rng(w.rng_state);
      const uint64_t i = rng.Uniform(out_degree + in_degree);
      w.at = i < out_degree ? graph.followees[graph.following_offsets[a] + i]
                            : graph.followers[graph.followers_offsets[a] + i - out_degree];
      w.rng_state = rng.state();
      ++w.position;
      const int owner = OwnerOf(w.at, ranks);
      if (owner == me) {
        staying.push_back(w);
      } else {
        leaving[owner].insert(leaving[owner].end(), {w.key, w.position, w.rng_state, w.at});
        ++out.walker_moves_sent;
      }
    }
    here.swap(staying);
    // One superstep's moves in one exchange; done when no rank sends any.
    std::vector<uint64_t> flat, counts;
    for (int r = 0; r < ranks; ++r) {
      counts.push_back(leaving[r].size());
      flat.insert(flat.end(), leaving[r].begin(), leaving[r].end());
      if (r != me) out.bytes_sent += leaving[r].size() * sizeof(uint64_t);
    }
    uint64_t active = flat.size() + here.size(), active_anywhere = 0;
    MPI_Allreduce(&active, &active_anywhere, 1, MPI_UINT64_T, MPI_SUM, comm);
    if (active_anywhere == 0) break;
    ++out.supersteps;
    const std::vector<uint64_t> arrived = ExchangeValues(flat, counts, comm);
    for (size_t i = 0; i < arrived.size(); i += kWalkerValues)
      here.push_back({arrived[i], arrived[i + 1], arrived[i + 2], arrived[i + 3]});
  }

  // Pieces to the rank that assembles their walk.
  std::vector<std::vector<uint64_t>> by_rank(ranks);
  for (size_t i = 0; i < pieces.size(); i += kPieceValues) {
    auto& to = by_rank[pieces[i] % static_cast<uint64_t>(ranks)];
    to.insert(to.end(), pieces.begin() + static_cast<int64_t>(i), pieces.begin() + static_cast<int64_t>(i + kPieceValues));
  }
  std::vector<uint64_t>().swap(pieces);
  std::vector<uint64_t> flat, counts;
  for (int r = 0; r < ranks; ++r) {
    counts.push_back(by_rank[r].size());
    flat.insert(flat.end(), by_rank[r].begin(), by_rank[r].end());
    if (r != me) out.bytes_sent += by_rank[r].size() * sizeof(uint64_t);
    std::vector<uint64_t>().swap(by_rank[r]);
  }
  const std::vector<uint64_t> mine = ExchangeValues(flat, counts, comm);
  // This rank assembles walks key = me, me + ranks, ...: each piece goes
  // straight to its slot (walk key / ranks, step), no sort.
  const uint64_t all_walks = accounts_in_all * config.walks_per_vertex;
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
  return out;
}

}  // namespace gr::dist
