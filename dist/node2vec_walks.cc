// node2vec walks over the partitioned follow graph (dist/walks.h).
#include <algorithm>
#include <bit>
#include <vector>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/internal/walk_supersteps.h"

namespace gr::dist::internal {
namespace {

// node2vec (p, q) as walk::RandomWalker draws it, step for step: the return
// to prev as an outlier drawn first (its excess mass bounded by 1 or 2 edges
// back, counted on cur's lists when the draw falls between the bounds;
// weighted, the exact mass on cur's lists every step), then a candidate x
// (uniform, or by weight) accepted with probability bias / envelope. Only the
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
  // The summed weight of the entries x in a's lists, followees first (as
  // walk/'s StepProbability adds them); 1 an entry without weights.
  double Mass(size_t a, ExternalId x) const {
    double mass = 0;
    const auto add = [&](const std::vector<ExternalId>& list, const std::vector<float>& weights, uint64_t begin,
                         uint64_t end) {
      const auto first = list.begin() + static_cast<int64_t>(begin), last = list.begin() + static_cast<int64_t>(end);
      const auto it = std::lower_bound(first, last, x);
      if (it != last && *it == x) mass += weights.empty() ? 1.0 : weights[static_cast<size_t>(it - list.begin())];
    };
    add(g.followees, g.followee_weights, g.following_offsets[a], g.following_offsets[a + 1]);
    if (both) add(g.followers, g.follower_weights, g.followers_offsets[a], g.followers_offsets[a + 1]);
    return mass;
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

}  // namespace

DistributedWalks DistributedNode2vecWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                          MPI_Comm comm, const WalkStarts& starts) {
  const int ranks = Size(comm), me = Rank(comm);
  uint64_t accounts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts_in_all);
  const LocalIndex local(graph.accounts);
  const Node2vecRule rule(config);
  const LocalLists lists{graph, config.both_directions};
  const StepAliasTables alias = config.weighted ? FollowAliasTables(graph, config.both_directions, config.threads) : StepAliasTables();
  // A neighbour index drawn as walk/'s PickIndex draws it.
  auto pick = [&](size_t a, uint64_t degree, FastRng& rng) {
    const uint64_t i = rng.Uniform(degree);
    return config.weighted ? alias.Pick(a, i, rng) : i;
  };
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
  out.table_bytes = local.MemoryBytes() + dense.size() * sizeof(VertexId) + alias.MemoryBytes() +
                    filters.size() * sizeof(uint64_t);

  std::vector<Node2vecWalker> here;
  here.reserve(starts.CountHere(graph.accounts.size(), config));
  starts.ForEach(dense, config, [&](uint64_t key, size_t a, uint32_t round) {
    here.push_back({.key = key,
                    .position = 0,
                    .rng_state = FastRng::ForItem(config.seed, dense[a], round).state(),
                    .at = graph.accounts[a],
                    .prev = 0,
                    .candidate = 0,
                    .draw_bits = 0,
                    .phase = Node2vecWalker::kArrive});
  });

  auto owned = [&](ExternalId account) {
    const int64_t a = local.Find(account);
    GR_CHECK_CODE(a >= 0, ErrorCode::kInternal, "distributed walks: account ", account, " came to rank ", me,
                  ", which does not own it");
    return static_cast<size_t>(a);
  };
  Pieces pieces = ReservePieces(starts.CountHere(graph.accounts.size(), config), config);
  std::vector<int64_t> index_of;
  std::vector<std::vector<uint64_t>> leaving(ranks);
  std::vector<ThreadShare<Node2vecWalker>> shares;
  // The account each walker works on here (prev for a test).
  auto subject = [&](size_t k) { return here[k].phase == Node2vecWalker::kTest ? here[k].prev : here[k].at; };
  for (;;) {
    index_of.resize(here.size());
    StepOnThreads(config.threads, here, leaving, pieces, out, shares,
                  [&](size_t begin, size_t end, ThreadShare<Node2vecWalker>& share) {
      auto send = [&](const Node2vecWalker& w, ExternalId to) {
        if (w.phase == Node2vecWalker::kTest && OwnerOf(to, ranks) != me) ++share.adjacency_tests_sent;
        SendWalker(w, to, me, share.staying, share.leaving, share.walker_moves_sent);
      };
      auto step_to = [&](Node2vecWalker w, ExternalId next) {
        w.prev = w.at;
        w.at = next;
        ++w.position;
        w.phase = Node2vecWalker::kArrive;
        send(w, next);
      };
      // Looked up with the hash slots requested kAhead walkers before; the
      // list offsets and dense id requested kAhead walkers before the step.
      for (size_t k = begin; k < end; ++k) {
        if (k + kAhead < end) local.Prefetch(subject(k + kAhead));
        index_of[k] = static_cast<int64_t>(owned(subject(k)));
      }
      for (size_t k = begin; k < end; ++k) {
        if (k + kAhead < end) {
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
          share.tests_a_filter_would_settle += (filters[p * kFilterWords + bit / 64] >> (bit % 64) & 1) == 0;
          if (std::bit_cast<double>(w.draw_bits) < (adjacent ? 1.0 : rule.inv_q)) {
            step_to(w, w.candidate);
          } else {
            ++share.rejected_proposals;
            w.phase = Node2vecWalker::kResume;
            send(w, w.at);
          }
          continue;
        }
        const auto a = static_cast<size_t>(index_of[k]);
        if (w.phase == Node2vecWalker::kArrive) {
          share.pieces.insert(share.pieces.end(), {w.key, w.position << 32 | dense[a]});
          ++share.steps;
          if (w.position + 1 >= config.walk_length) continue;
        }
        const uint64_t degree = lists.OutDegree(a) + lists.InDegree(a);
        if (degree == 0) continue;  // a dead end: the walk ends here
        FastRng rng(w.rng_state);
        if (w.position == 0) {  // the first step is first-order
          const ExternalId next = lists.Neighbour(a, pick(a, degree, rng));
          w.rng_state = rng.state();
          step_to(w, next);
          continue;
        }
        for (;;) {
          if (rule.return_excess > 0 && config.weighted) {
            // Weighted: the exact excess, return_excess x P(cur -> prev), every
            // step (walk/ has no bounds then); no draw when it is 0.
            const double excess = rule.return_excess * (lists.Mass(a, w.prev) / alias.WeightSum(a));
            if (excess > 0 && rng.UniformDouble() * (rule.envelope + excess) < excess) {
              w.rng_state = rng.state();
              step_to(w, w.prev);
              break;
            }
          } else if (rule.return_excess > 0) {
            const double low = rule.BackExcess(rule.back_min, degree), high = rule.BackExcess(rule.back_max, degree);
            const double u = rng.UniformDouble() * (rule.envelope + high);
            if (u < high && (u < low || u < rule.BackExcess(lists.Count(a, w.prev), degree))) {
              w.rng_state = rng.state();
              step_to(w, w.prev);
              break;
            }
            if (u < high) continue;  // between the bounds and above the exact excess: drawn again
          }
          const ExternalId x = lists.Neighbour(a, pick(a, degree, rng));
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
          ++share.rejected_proposals;
        }
      }
    });
    if (!NextSuperstep(here, leaving, comm, out)) break;
  }
  AssembleWalks(pieces, starts.InAll(accounts_in_all), accounts_in_all, config, comm, out);
  return out;
}

}  // namespace gr::dist::internal
