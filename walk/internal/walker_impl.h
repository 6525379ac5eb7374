// RandomWalker's state (internal to walk/): the hops of a walk, where walks
// start, and node2vec's acceptance rule, shared by the reference walk
// (random_walk.cc) and the interleaved engine (walk_engine.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "walk/internal/hop.h"
#include "walk/random_walk.h"

namespace gr::walk {
namespace internal {

// A bijection of [0, n) keyed by `key` (4-round Feistel network with cycle
// walking): the start order of one round, with O(1) memory.
inline uint64_t Permute(uint64_t x, uint64_t n, uint64_t key) {
  if (n <= 1) return 0;
  int bits = 1;
  while ((uint64_t{1} << bits) < n) ++bits;
  const int half = (bits + 1) / 2;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  do {
    uint64_t left = x >> half, right = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = MixSeed(key, round, right) & mask;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= n);
  return x;
}

inline void Accumulate(WalkStats& total, const WalkStats& part) {
  total.walks += part.walks;
  total.steps += part.steps;
  total.ended_early += part.ended_early;
  total.isolated_starts += part.isolated_starts;
  total.rejected_proposals += part.rejected_proposals;
}

}  // namespace internal

struct RandomWalker::Impl {
  const graph::SocialGraph* graph = nullptr;
  std::vector<internal::Hop> hops;  // one for account walks; the cycle for metapaths
  graph::CsrGraph authored_by;      // post -> author, built for metapaths that need it
  VertexType start_type = VertexType::kAccount;
  uint64_t num_starts = 0;
  bool node2vec = false;
  bool metapath = false;
  // node2vec acceptance: a candidate x != prev has bias 1 (x adjacent to
  // prev) or 1/q; the envelope is max(1, 1/q). When 1/p exceeds it, the
  // return step is an outlier (KnightKing): its excess mass
  // (1/p - envelope) x P(step to prev) is drawn first, so the envelope stays
  // tight. Candidates with bias >= `lower` (draw below it) skip the
  // adjacency test.
  double inv_p = 1, inv_q = 1, envelope = 1, lower = 1, return_excess = 0;

  // The hop that step k (>= 1) of a walk takes.
  const internal::Hop& HopOfStep(uint64_t k) const {
    return hops.size() == 1 ? hops.front() : hops[(k - 1) % hops.size()];
  }

  VertexId TokenOf(VertexId v, VertexType type) const {
    return type == VertexType::kPost ? static_cast<VertexId>(graph->num_accounts() + v)
                                               : v;
  }

  VertexId StartOf(uint64_t index, uint64_t seed, FastRng* rng) const {
    const uint64_t round = index / num_starts;
    const auto start = static_cast<VertexId>(
        internal::Permute(index % num_starts, num_starts, MixSeed(seed, 0x5747, round)));
    *rng = FastRng::ForItem(seed, start, round);
    return start;
  }

  // The return step as an outlier (KnightKing): its excess mass X =
  // return_excess x (edges from cur back to prev) / degree is drawn first.
  // Unweighted, with no repeated list entries, that edge count lies in
  // [back_min, back_max] (both view: 1 or 2, as the follow is reciprocated
  // or not), so the draw is made against X's upper bound and the count is
  // looked up only when the draw falls between the bounds (about once per
  // degree draws); a draw there that the exact X rejects is drawn again,
  // which leaves every step's probability as with the exact X. Weighted, or
  // with repeats, X is looked up every step (low == high).
  bool bounded_return = false;
  uint32_t back_min = 0, back_max = 0;
  struct ReturnBounds {
    double low = 0, high = 0;
  };
  double BackExcess(uint64_t back_edges, uint64_t degree) const {
    return static_cast<double>(back_edges) * (return_excess / static_cast<double>(degree));
  }
  ReturnBounds ReturnExcessBounds(const internal::Hop& hop, VertexId cur, VertexId prev,
                                  uint64_t degree) const {
    if (return_excess <= 0) return {};
    if (bounded_return) return {BackExcess(back_min, degree), BackExcess(back_max, degree)};
    const double exact = return_excess * hop.StepProbability(cur, prev, degree);
    return {exact, exact};
  }
  // In parts, so that the interleaved engine can let the count wait for
  // its memory: the draw (kNeedsCount: between the bounds, *u kept); the
  // verdict with the count.
  enum class ReturnDraw { kPropose, kReturn, kRedraw, kNeedsCount };
  ReturnDraw DrawReturnWithoutCount(ReturnBounds bounds, FastRng& rng, double* u) const {
    if (bounds.high <= 0) return ReturnDraw::kPropose;
    *u = rng.UniformDouble() * (envelope + bounds.high);
    if (*u < bounds.low) return ReturnDraw::kReturn;
    return *u < bounds.high ? ReturnDraw::kNeedsCount : ReturnDraw::kPropose;
  }
  ReturnDraw ReturnWithCount(double u, uint64_t back_edges, uint64_t degree) const {
    return u < BackExcess(back_edges, degree) ? ReturnDraw::kReturn : ReturnDraw::kRedraw;
  }
  ReturnDraw DrawReturn(const internal::Hop& hop, VertexId cur, VertexId prev, uint64_t degree,
                        ReturnBounds bounds, FastRng& rng) const {
    double u = 0;
    const ReturnDraw draw = DrawReturnWithoutCount(bounds, rng, &u);
    return draw == ReturnDraw::kNeedsCount ? ReturnWithCount(u, hop.BackEdges(cur, prev), degree)
                                           : draw;
  }
  // node2vec acceptance of candidate x proposed from cur after prev, in
  // parts so that the interleaved engine can let the adjacency test wait
  // for its memory: the draw; the verdict without the test; the verdict
  // with it.
  double AcceptanceDraw(FastRng& rng) const { return rng.UniformDouble() * envelope; }
  enum class Verdict { kReject, kAccept, kNeedsTest };
  Verdict VerdictWithoutTest(VertexId prev, VertexId x, double draw) const {
    if (x == prev) return draw < std::min(inv_p, envelope) ? Verdict::kAccept : Verdict::kReject;
    return draw < lower ? Verdict::kAccept : Verdict::kNeedsTest;
  }
  bool VerdictWithTest(bool adjacent_to_prev, double draw) const {
    return draw < (adjacent_to_prev ? 1.0 : inv_q);
  }
  bool Accept(const internal::Hop& hop, VertexId prev, VertexId x, FastRng& rng) const {
    const double draw = AcceptanceDraw(rng);
    const Verdict verdict = VerdictWithoutTest(prev, x, draw);
    return verdict == Verdict::kNeedsTest ? VerdictWithTest(hop.Contains(prev, x), draw)
                                          : verdict == Verdict::kAccept;
  }
};

}  // namespace gr::walk
