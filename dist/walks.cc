#include "dist/walks.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/alias_table.h"
#include "core/bulk_vector.h"
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
constexpr size_t kPieceValues = 2;  // a piece: key, position << 32 | token
constexpr size_t kAhead = 16;  // walkers ahead whose memory is requested

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

namespace {

// Walkers travel as their uint64 fields, in declaration order.
template <typename Walker>
void Pack(const Walker& w, std::vector<uint64_t>& to) {
  static_assert(std::is_trivially_copyable_v<Walker> && sizeof(Walker) % sizeof(uint64_t) == 0);
  const size_t at = to.size();
  to.resize(at + sizeof(Walker) / sizeof(uint64_t));
  std::memcpy(to.data() + at, &w, sizeof(Walker));
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

// The per-account alias tables of weighted steps, over the list a step
// reads (followees, then followers for both directions) and laid out as the
// engine's (walk/internal/hop.h): the same weights give the same tables, so
// the same draws pick the same neighbours.
class StepAliasTables {
 public:
  StepAliasTables() = default;
  StepAliasTables(const PartitionedFollows& graph, bool both_directions) : both_(both_directions) {
    const size_t n = graph.accounts.size();
    const uint64_t total = graph.followees.size() + (both_ ? graph.followers.size() : 0);
    prob_.assign(total, 1.0f);
    alias_.assign(total, 0);
    std::vector<double> weights;
    AliasScratch scratch;
    for (size_t a = 0; a < n; ++a) {
      const uint64_t out = graph.following_offsets[a + 1] - graph.following_offsets[a];
      const uint64_t in = both_ ? graph.followers_offsets[a + 1] - graph.followers_offsets[a] : 0;
      if (out + in == 0) continue;
      weights.resize(out + in);
      double sum = 0;
      for (uint64_t i = 0; i < out + in; ++i) {
        const std::vector<float>& w = i < out ? graph.followee_weights : graph.follower_weights;
        const uint64_t e = i < out ? graph.following_offsets[a] + i : graph.followers_offsets[a] + i - out;
        sum += weights[i] = w.empty() ? 1.0 : w[e];
      }
      const uint64_t base = Base(graph, a);
      FillAliasTable(weights, sum, std::span(prob_).subspan(base, out + in),
                     std::span(alias_).subspan(base, out + in), scratch);
    }
  }
  // Slot i, drawn uniformly, becomes the weighted pick (one more draw).
  uint64_t Pick(const PartitionedFollows& graph, size_t a, uint64_t i, FastRng& rng) const {
    const uint64_t slot = Base(graph, a) + i;
    return rng.UniformFloat() >= prob_[slot] ? alias_[slot] : i;
  }

 private:
  uint64_t Base(const PartitionedFollows& graph, size_t a) const {
    return graph.following_offsets[a] + (both_ ? graph.followers_offsets[a] : 0);
  }
  bool both_ = false;
  std::vector<float> prob_;
  std::vector<uint32_t> alias_;
};

// The tokens of the steps taken here, 2 values a step: about the rank's
// share of all steps, reserved at once (growing it copied ~10 % of the
// walk time) on huge pages.
using Pieces = BulkVector<uint64_t>;
Pieces ReservePieces(const PartitionedFollows& graph, const DistributedWalkConfig& config) {
  Pieces pieces;
  pieces.reserve(graph.accounts.size() * config.walks_per_vertex * config.walk_length * kPieceValues);
  return pieces;
}
void AssembleWalks(Pieces& pieces, uint64_t accounts_in_all, const DistributedWalkConfig& config, MPI_Comm comm,
                   DistributedWalks& out);
DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm);
DistributedWalks DistributedNode2vecWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                          MPI_Comm comm);

}  // namespace

DistributedWalks DistributedRandomWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                        MPI_Comm comm) {
  GR_CHECK(config.walks_per_vertex > 0 && config.walk_length > 0,
           "distributed walks: walks_per_vertex and walk_length must be > 0");
  GR_CHECK(config.p > 0 && config.q > 0, "distributed walks: p and q must be > 0");
  GR_CHECK(config.walk_length <= UINT32_MAX / 2, "distributed walks: walk_length too large");
  GR_CHECK(!config.weighted || (config.p == 1 && config.q == 1),
           "distributed walks: weighted node2vec walks are not distributed yet (weighted walks are first order)");
  return config.p == 1 && config.q == 1 ? DistributedUniformWalks(graph, config, comm)
                                        : DistributedNode2vecWalks(graph, config, comm);
}

namespace {

DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm) {
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts_in_all);
  const LocalIndex local(graph.accounts);
  DistributedWalks out;
  const StepAliasTables alias = config.weighted ? StepAliasTables(graph, config.both_directions) : StepAliasTables();

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
  Pieces pieces = ReservePieces(graph, config);  // (key, position << 32 | token) of each step taken here
  std::vector<int64_t> index_of;
  std::vector<const ExternalId*> next_of;  // where walker k's next account is read from; null: its walk ends
  std::vector<std::vector<uint64_t>> leaving(ranks);
  std::vector<Walker> staying;
  for (;;) {
    staying.clear();
    const size_t n = here.size();
    index_of.resize(n);
    next_of.resize(n);
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) local.Prefetch(here[k + kAhead].at);
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
      if (config.weighted) i = alias.Pick(graph, a, i, rng);
      w.rng_state = rng.state();
      next_of[k] = i < out_degree ? &graph.followees[graph.following_offsets[a] + i]
                                  : &graph.followers[graph.followers_offsets[a] + i - out_degree];
      Prefetch(next_of[k]);
    };
    for (size_t k = 0; k < std::min(n, kAhead); ++k) draw(k);
    for (size_t k = 0; k < n; ++k) {
      if (k + 2 * kAhead < n) {
        const auto a = static_cast<size_t>(index_of[k + 2 * kAhead]);
        Prefetch(&graph.following_offsets[a]);
        Prefetch(&graph.followers_offsets[a]);
      }
      if (k + kAhead < n) draw(k + kAhead);
      Walker w = here[k];
      pieces.insert(pieces.end(), {w.key, w.position << 32 | dense[static_cast<size_t>(index_of[k])]});
      ++out.steps;
      if (next_of[k] == nullptr) continue;
      w.at = *next_of[k];
      ++w.position;
      const int owner = OwnerOf(w.at, ranks);
      if (owner == me) {
        staying.push_back(w);
      } else {
        Pack(w, leaving[owner]);
        ++out.walker_moves_sent;
      }
    }
    here.swap(staying);
    if (!NextSuperstep(here, leaving, comm, out)) break;  // one superstep's moves in one exchange
  }
  AssembleWalks(pieces, accounts_in_all, config, comm, out);
  return out;
}

// node2vec (p, q) as walk::RandomWalker draws it, step for step: the return
// to prev as an outlier drawn first (its excess mass bounded by 1 or 2 edges
// back, counted on cur's lists when the draw falls between the bounds), then
// a uniform candidate x accepted with probability bias / envelope. Only the
// test "is x adjacent to prev" needs another rank's lists: the walker goes to
// prev's owner with its candidate and draw (KnightKing routes the query the
// same way), which accepts (the walker goes on to x's owner) or rejects (it
// returns to cur's owner and proposes again). Draws the test cannot change
// (below min(1, 1/q), or above 1 for x != prev) never travel.
struct Node2vecWalker {
  enum Phase : uint64_t { kArrive, kResume, kTest };
  uint64_t key, position, rng_state;
  ExternalId at, prev;  // cur and the account before it (at == start, prev unused, at position 0)
  ExternalId candidate; // kTest: proposed next account
  uint64_t draw_bits;   // kTest: its acceptance draw
  uint64_t phase;
};

// The parts of walk/'s node2vec rule the walk needs, from p and q (walker_impl.h).
struct Node2vecRule {
  double inv_p, inv_q, envelope, lower, return_excess;
  uint32_t back_min, back_max;  // edges from cur back to prev: 1-2 in the both view, 0-1 along followees
  explicit Node2vecRule(const DistributedWalkConfig& c)
      : inv_p(1.0 / c.p),
        inv_q(1.0 / c.q),
        envelope(std::max(1.0, inv_q)),
        lower(std::min(1.0, inv_q)),
        return_excess(std::max(0.0, inv_p - envelope)),
        back_min(c.both_directions ? 1 : 0),
        back_max(c.both_directions ? 2 : 1) {}
  double BackExcess(uint64_t back_edges, uint64_t degree) const {
    return static_cast<double>(back_edges) * (return_excess / static_cast<double>(degree));
  }
};

// Account a's view of the follow graph (followees, then followers for both).
struct LocalLists {
  const PartitionedFollows& g;
  bool both;
  uint64_t OutDegree(size_t a) const { return g.following_offsets[a + 1] - g.following_offsets[a]; }
  uint64_t InDegree(size_t a) const { return both ? g.followers_offsets[a + 1] - g.followers_offsets[a] : 0; }
  ExternalId Neighbour(size_t a, uint64_t i) const {
    const uint64_t out_degree = OutDegree(a);
    return i < out_degree ? g.followees[g.following_offsets[a] + i] : g.followers[g.followers_offsets[a] + i - out_degree];
  }
  // The number of a's lists that hold x (each sorted, without repeats).
  uint64_t Count(size_t a, ExternalId x) const {
    auto holds = [x](auto first, auto last) { return std::binary_search(first, last, x); };
    const auto followees = g.followees.begin();
    uint64_t n = holds(followees + static_cast<int64_t>(g.following_offsets[a]),
                       followees + static_cast<int64_t>(g.following_offsets[a + 1]));
    if (both) {
      const auto followers = g.followers.begin();
      n += holds(followers + static_cast<int64_t>(g.followers_offsets[a]),
                 followers + static_cast<int64_t>(g.followers_offsets[a + 1]));
    }
    return n;
  }
};

DistributedWalks DistributedNode2vecWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                          MPI_Comm comm) {
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts_in_all);
  const LocalIndex local(graph.accounts);
  const Node2vecRule rule(config);
  const LocalLists lists{graph, config.both_directions};
  DistributedWalks out;
  // The alternative to routing the test: each walker carries prev's 384-bit
  // neighbour filter (walk/'s record filter, 48 bytes). Not used, only
  // counted: which routed tests such a filter would have settled at cur.
  constexpr uint32_t kFilterWords = 6;
  auto filter_bit = [](ExternalId x) { return static_cast<uint32_t>((MixSeed(x, 0xf1) % (kFilterWords * 64))); };
  std::vector<uint64_t> filters(graph.accounts.size() * kFilterWords, 0);
  for (size_t a = 0; a < graph.accounts.size(); ++a)
    for (uint64_t i = 0; i < lists.OutDegree(a) + lists.InDegree(a); ++i) {
      const uint32_t bit = filter_bit(lists.Neighbour(a, i));
      filters[a * kFilterWords + bit / 64] |= uint64_t{1} << (bit % 64);
    }

  std::vector<Node2vecWalker> here;
  here.reserve(graph.accounts.size() * config.walks_per_vertex);
  for (size_t a = 0; a < graph.accounts.size(); ++a)
    for (uint32_t round = 0; round < config.walks_per_vertex; ++round)
      here.push_back({.key = uint64_t{dense[a]} * config.walks_per_vertex + round,
                      .position = 0,
                      .rng_state = FastRng::ForItem(config.seed, dense[a], round).state(),
                      .at = graph.accounts[a],
                      .prev = 0,
                      .candidate = 0,
                      .draw_bits = 0,
                      .phase = Node2vecWalker::kArrive});

  auto owned = [&](ExternalId account) {
    const int64_t a = local.Find(account);
    GR_CHECK_CODE(a >= 0, ErrorCode::kInternal, "distributed walks: account ", account, " came to rank ", me,
                  ", which does not own it");
    return static_cast<size_t>(a);
  };
  Pieces pieces = ReservePieces(graph, config);
  std::vector<int64_t> index_of;
  std::vector<std::vector<uint64_t>> leaving(ranks);
  std::vector<Node2vecWalker> staying;
  for (;;) {
    staying.clear();
    auto send = [&](const Node2vecWalker& w, ExternalId to) {
      const int owner = OwnerOf(to, ranks);
      if (owner == me) return staying.push_back(w);
      Pack(w, leaving[owner]);
      ++out.walker_moves_sent;
      if (w.phase == Node2vecWalker::kTest) ++out.adjacency_tests_sent;
    };
    auto step_to = [&](Node2vecWalker w, ExternalId next) {
      w.prev = w.at;
      w.at = next;
      ++w.position;
      w.phase = Node2vecWalker::kArrive;
      send(w, next);
    };
    // The account each walker works on here (prev for a test), looked up
    // with the hash slots requested kAhead walkers before; the list offsets
    // and dense id requested kAhead walkers before the step.
    const size_t n = here.size();
    auto subject = [&](size_t k) { return here[k].phase == Node2vecWalker::kTest ? here[k].prev : here[k].at; };
    index_of.resize(n);
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) local.Prefetch(subject(k + kAhead));
      index_of[k] = static_cast<int64_t>(owned(subject(k)));
    }
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) {
        const auto ahead = static_cast<size_t>(index_of[k + kAhead]);
        Prefetch(&graph.following_offsets[ahead]);
        Prefetch(&graph.followers_offsets[ahead]);
        Prefetch(&dense[ahead]);
      }
      Node2vecWalker w = here[k];
      if (w.phase == Node2vecWalker::kTest) {  // here: prev's owner
        const auto p = static_cast<size_t>(index_of[k]);
        const bool adjacent = lists.Count(p, w.candidate) > 0;
        const uint32_t bit = filter_bit(w.candidate);
        out.tests_a_filter_would_settle += (filters[p * kFilterWords + bit / 64] >> (bit % 64) & 1) == 0;
        if (std::bit_cast<double>(w.draw_bits) < (adjacent ? 1.0 : rule.inv_q)) {
          step_to(w, w.candidate);
        } else {
          ++out.rejected_proposals;
          w.phase = Node2vecWalker::kResume;
          send(w, w.at);
        }
        continue;
      }
      const auto a = static_cast<size_t>(index_of[k]);
      if (w.phase == Node2vecWalker::kArrive) {
        pieces.insert(pieces.end(), {w.key, w.position << 32 | dense[a]});
        ++out.steps;
        if (w.position + 1 >= config.walk_length) continue;
      }
      const uint64_t degree = lists.OutDegree(a) + lists.InDegree(a);
      if (degree == 0) continue;  // a dead end: the walk ends here
      FastRng rng(w.rng_state);
      if (w.position == 0) {  // the first step is first-order
        const ExternalId next = lists.Neighbour(a, rng.Uniform(degree));
        w.rng_state = rng.state();
        step_to(w, next);
        continue;
      }
      for (;;) {
        if (rule.return_excess > 0) {
          const double low = rule.BackExcess(rule.back_min, degree), high = rule.BackExcess(rule.back_max, degree);
          const double u = rng.UniformDouble() * (rule.envelope + high);
          if (u < high && (u < low || u < rule.BackExcess(lists.Count(a, w.prev), degree))) {
            w.rng_state = rng.state();
            step_to(w, w.prev);
            break;
          }
          if (u < high) continue;  // between the bounds and above the exact excess: drawn again
        }
        const ExternalId x = lists.Neighbour(a, rng.Uniform(degree));
        const double draw = rng.UniformDouble() * rule.envelope;
        bool accepted;
        if (x == w.prev) {
          accepted = draw < std::min(rule.inv_p, rule.envelope);
        } else if (draw < rule.lower) {
          accepted = true;
        } else if (OwnerOf(w.prev, ranks) == me) {
          accepted = draw < (lists.Count(owned(w.prev), x) > 0 ? 1.0 : rule.inv_q);
        } else {  // the test needs prev's lists, on another rank
          w.rng_state = rng.state();
          w.candidate = x;
          w.draw_bits = std::bit_cast<uint64_t>(draw);
          w.phase = Node2vecWalker::kTest;
          send(w, w.prev);
          break;
        }
        if (accepted) {
          w.rng_state = rng.state();
          step_to(w, x);
          break;
        }
        ++out.rejected_proposals;
      }
    }
    here.swap(staying);
    if (!NextSuperstep(here, leaving, comm, out)) break;
  }
  AssembleWalks(pieces, accounts_in_all, config, comm, out);
  return out;
}

void AssembleWalks(Pieces& pieces, uint64_t accounts_in_all, const DistributedWalkConfig& config, MPI_Comm comm,
                   DistributedWalks& out) {
  const int ranks = Size(comm), me = Rank(comm);
  out.accounts = accounts_in_all;
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
}

}  // namespace

}  // namespace gr::dist
