// The superstep machinery both distributed walks share (internal to dist/):
// the local index of owned vertices, walker packing and the per-superstep
// exchange, weighted steps' alias tables and the assembly of the walks from
// the pieces each rank recorded. Uniform walks are in walks.cc, node2vec's in
// node2vec_walks.cc.
#pragma once

#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <span>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/alias_table.h"
#include "core/bulk_vector.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "core/rng.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_graph.h"
#include "dist/walks.h"

namespace gr::dist::internal {

constexpr size_t kPieceValues = 2;  // a piece: key, position << 32 | token
constexpr size_t kAhead = 16;  // walkers ahead whose memory is requested

// The tokens of the steps taken here, 2 values a step: about the rank's
// share of all steps, reserved at once (growing it copied ~10 % of the
// walk time) on huge pages.
using Pieces = BulkVector<uint64_t>;

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
  size_t MemoryBytes() const { return slots_.size() * sizeof(slots_[0]); }
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

// Walkers travel as their uint64 fields, in declaration order.
template <typename Walker>
void Pack(const Walker& w, std::vector<uint64_t>& to) {
  static_assert(std::is_trivially_copyable_v<Walker> && sizeof(Walker) % sizeof(uint64_t) == 0);
  const size_t at = to.size();
  to.resize(at + sizeof(Walker) / sizeof(uint64_t));
  std::memcpy(to.data() + at, &w, sizeof(Walker));
}

// Sends walker w on to the owner of `to` (its current vertex): kept in
// `staying` when that is this rank (`me`), else packed for its owner and
// counted in `moves_sent`.
template <typename Walker>
void SendWalker(const Walker& w, ExternalId to, int me, std::vector<Walker>& staying,
                std::vector<std::vector<uint64_t>>& leaving, uint64_t& moves_sent) {
  const int owner = OwnerOf(to, static_cast<int>(leaving.size()));
  if (owner == me) return staying.push_back(w);
  Pack(w, leaving[owner]);
  ++moves_sent;
}

// What one thread's share of a superstep's walkers produced.
template <typename Walker>
struct ThreadShare {
  std::vector<Walker> staying;                 // walkers that stay on this rank
  std::vector<std::vector<uint64_t>> leaving;  // packed walkers, per rank
  std::vector<uint64_t> pieces;                // (key, position << 32 | token) of each step taken
  // As DistributedWalks counts them.
  uint64_t steps = 0, walker_moves_sent = 0, adjacency_tests_sent = 0, rejected_proposals = 0,
           tests_a_filter_would_settle = 0;
};

// One superstep's steps on up to `threads` threads (0: all cores):
// body(begin, end, share) steps walkers [begin, end) of `here`, a
// contiguous share each thread. Then `here` holds the walkers that stay,
// `leaving` gets those for each rank, `pieces` the tokens recorded and
// `out` the counts. A walker's steps depend on it alone, so the thread
// count changes no walk. `shares` keeps the threads' buffers between
// supersteps.
template <typename Walker, typename Body>
void StepOnThreads(int threads, std::vector<Walker>& here, std::vector<std::vector<uint64_t>>& leaving,
                   Pieces& pieces, DistributedWalks& out, std::vector<ThreadShare<Walker>>& shares, Body&& body) {
  constexpr size_t kWalkersPerThread = 1024;  // fewer are not worth a thread's start
  const size_t n = here.size();
  const size_t worth = std::min<size_t>(n / kWalkersPerThread + 1, 1024);
  const auto count = std::min(static_cast<size_t>(std::max(1, ResolveThreads(threads))), worth);
  shares.resize(count);
  for (ThreadShare<Walker>& share : shares) {
    share.staying.clear();
    share.leaving.resize(leaving.size());
    for (std::vector<uint64_t>& to : share.leaving) to.clear();
    share.pieces.clear();
    share.steps = share.walker_moves_sent = share.adjacency_tests_sent = share.rejected_proposals =
        share.tests_a_filter_would_settle = 0;
  }
  std::exception_ptr failure;
#pragma omp parallel num_threads(static_cast<int>(count))
  {
    const auto t = static_cast<size_t>(omp_get_thread_num());
    try {
      body(n * t / count, n * (t + 1) / count, shares[t]);
    } catch (...) {
#pragma omp critical(gr_dist_step_failure)
      failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  if (count == 1) {
    here.swap(shares[0].staying);
  } else {
    here.clear();
    for (const ThreadShare<Walker>& share : shares) here.insert(here.end(), share.staying.begin(), share.staying.end());
  }
  for (const ThreadShare<Walker>& share : shares) {
    for (size_t r = 0; r < leaving.size(); ++r)
      leaving[r].insert(leaving[r].end(), share.leaving[r].begin(), share.leaving[r].end());
    pieces.insert(pieces.end(), share.pieces.begin(), share.pieces.end());
    out.steps += share.steps;
    out.walker_moves_sent += share.walker_moves_sent;
    out.adjacency_tests_sent += share.adjacency_tests_sent;
    out.rejected_proposals += share.rejected_proposals;
    out.tests_a_filter_would_settle += share.tests_a_filter_would_settle;
  }
}

// Ends a superstep: `here` holds the walkers that stayed, `leaving[r]` those
// packed for rank r. False once no rank has a walker left; otherwise the
// leaving walkers are exchanged in one all-to-all and those that arrive
// appended to `here`.
template <typename Walker>
bool NextSuperstep(std::vector<Walker>& here, std::vector<std::vector<uint64_t>>& leaving, MPI_Comm comm,
                   DistributedWalks& out) {
  const int me = Rank(comm);
  std::vector<uint64_t> flat, counts;
  uint64_t moving = here.size();
  for (size_t r = 0; r < leaving.size(); ++r) {
    moving += leaving[r].size();
    counts.push_back(leaving[r].size());
    flat.insert(flat.end(), leaving[r].begin(), leaving[r].end());
    if (static_cast<int>(r) != me) out.bytes_sent += leaving[r].size() * sizeof(uint64_t);
    leaving[r].clear();
  }
  uint64_t moving_anywhere = 0;
  MPI_Allreduce(&moving, &moving_anywhere, 1, MPI_UINT64_T, MPI_SUM, comm);
  if (moving_anywhere == 0) return false;
  ++out.supersteps;
  const std::vector<uint64_t> arrived = ExchangeValues(flat, counts, comm);
  constexpr size_t kValues = sizeof(Walker) / sizeof(uint64_t);
  for (size_t i = 0; i < arrived.size(); i += kValues) {
    Walker w;
    std::memcpy(&w, arrived.data() + i, sizeof(Walker));
    here.push_back(w);
  }
  return true;
}

// The per-vertex alias tables of weighted steps over the lists a step reads,
// as the engine's (walk/internal/hop.h): the same weights in the same order
// give the same tables, so the same draws pick the same neighbours.
class StepAliasTables {
 public:
  StepAliasTables() = default;
  // Over vertices [0, n): vertex a's list has degree(a) entries, entry i
  // weighing weight(a, i). Built on `threads` threads (0: all cores), each
  // vertex's table alone.
  template <typename Degree, typename Weight>
  StepAliasTables(size_t n, Degree&& degree, Weight&& weight, int threads) {
    base_.assign(n + 1, 0);
    for (size_t a = 0; a < n; ++a) base_[a + 1] = base_[a] + degree(a);
    prob_.assign(base_[n], 1.0f);
    alias_.assign(base_[n], 0);
    weight_sum_.assign(n, 0.0);
    FillAliasTablesOfLists(
        n, [&](size_t a) { return base_[a]; }, [&](size_t a) { return base_[a + 1] - base_[a]; }, weight, prob_,
        alias_, weight_sum_, threads);
  }
  // Slot i, drawn uniformly, becomes the weighted pick (one more draw).
  uint64_t Pick(size_t a, uint64_t i, FastRng& rng) const {
    const uint64_t slot = base_[a] + i;
    return rng.UniformFloat() >= prob_[slot] ? alias_[slot] : i;
  }
  // The summed weight of a's list (the engine's step denominator).
  double WeightSum(size_t a) const { return weight_sum_[a]; }
  size_t MemoryBytes() const {
    return base_.size() * sizeof(uint64_t) + prob_.size() * sizeof(float) + alias_.size() * sizeof(uint32_t) +
           weight_sum_.size() * sizeof(double);
  }
  // Fetch what Pick(a, i) reads: a's base, then (once it is there) slot i.
  void PrefetchBase(size_t a) const { Prefetch(&base_[a]); }
  void PrefetchSlot(size_t a, uint64_t i) const {
    Prefetch(&prob_[base_[a] + i]);
    Prefetch(&alias_[base_[a] + i]);
  }

 private:
  std::vector<uint64_t> base_;  // vertex a's entries are [base_[a], base_[a + 1])
  std::vector<float> prob_;
  std::vector<uint32_t> alias_;
  std::vector<double> weight_sum_;
};

// The tables of a follow step: followees, then followers for both directions (walks.cc).
StepAliasTables FollowAliasTables(const PartitionedFollows& graph, bool both_directions, int threads);

// One walk a rank starts: walk `round` from its account `account` (index in
// its part), assembled under `key`.
struct WalkStart {
  uint64_t key = 0;
  uint64_t account = 0;
  uint32_t round = 0;
};

// Where the walkers start: from every owned account, walks_per_vertex
// rounds each (key = dense id x walks_per_vertex + round), or, when
// `chosen` is set, the walks it lists (DistributedWalksFrom; the config's
// walks_per_vertex is then 1 and the keys number every rank's requests).
struct WalkStarts {
  const std::vector<WalkStart>* chosen = nullptr;
  uint64_t chosen_in_all = 0;  // over all ranks

  // Calls start(key, account index, round) for each walk this rank starts.
  template <typename Start>
  void ForEach(std::span<const VertexId> dense, const DistributedWalkConfig& config, Start&& start) const {
    if (chosen != nullptr) {
      for (const WalkStart& w : *chosen) start(w.key, static_cast<size_t>(w.account), w.round);
      return;
    }
    for (size_t a = 0; a < dense.size(); ++a)
      for (uint32_t round = 0; round < config.walks_per_vertex; ++round)
        start(uint64_t{dense[a]} * config.walks_per_vertex + round, a, round);
  }
  size_t CountHere(size_t accounts, const DistributedWalkConfig& config) const {
    return chosen != nullptr ? chosen->size() : accounts * config.walks_per_vertex;
  }
  // The start vertices AssembleWalks counts (walks_per_vertex each).
  uint64_t InAll(uint64_t accounts_in_all) const { return chosen != nullptr ? chosen_in_all : accounts_in_all; }
};

// The pieces of `walks_here` walks, reserved at once.
inline Pieces ReservePieces(size_t walks_here, const DistributedWalkConfig& config) {
  Pieces pieces;
  pieces.reserve(walks_here * config.walk_length * kPieceValues);
  return pieces;
}

// Sends each piece to the rank that assembles its walk and builds that
// rank's walks (walks.cc): walks_per_vertex from each of `starts_in_all`
// start vertices, tokens below `vocabulary`.
void AssembleWalks(Pieces& pieces, uint64_t starts_in_all, uint64_t vocabulary, const DistributedWalkConfig& config,
                   MPI_Comm comm, DistributedWalks& out);

DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm, const WalkStarts& starts = {});
DistributedWalks DistributedNode2vecWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                          MPI_Comm comm, const WalkStarts& starts = {});
DistributedWalks DistributedMetapathWalks(const PartitionedFollows& follows, const PartitionedPosts& posts,
                                          const DistributedWalkConfig& config, MPI_Comm comm);

}  // namespace gr::dist::internal
