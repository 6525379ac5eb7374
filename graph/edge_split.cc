#include "graph/edge_split.h"

#include <boost/pending/disjoint_sets.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/error.h"
#include "core/rng.h"
#include "graph/internal/csr_build.h"
#include "graph/internal/id_table.h"

namespace gr::graph {
namespace {

struct Candidate {
  HoldOutCandidate key;
  EdgeIndex edge;  // index into g.following
  VertexId src, dst;
};

uint64_t PairKey(VertexId u, VertexId v) { return (static_cast<uint64_t>(u) << 32) | v; }

}  // namespace

void EdgeSplitConfig::Validate() const {
  GR_CHECK_CODE(test_fraction > 0.0 && test_fraction < 1.0, ErrorCode::kInvalidArgument,
                "test fraction must be in (0, 1), got ", test_fraction);
}

uint64_t HoldOutTie(uint64_t seed, ExternalId src, ExternalId dst) { return MixSeed(MixSeed(seed, 0x5b1175b1u), src, dst); }

bool HeldOutBefore(const HoldOutCandidate& a, const HoldOutCandidate& b) {
  if (a.time != b.time) return a.time > b.time;
  if (a.tie != b.tie) return a.tie < b.tie;
  if (a.src != b.src) return a.src < b.src;
  if (a.dst != b.dst) return a.dst < b.dst;
  return a.index < b.index;
}

std::vector<uint8_t> SpanningForestFromBack(std::span<const VertexPair> ordered, size_t n) {
  std::vector<uint8_t> in_forest(ordered.size(), 0);
  boost::disjoint_sets_with_storage<> sets(n);
  for (size_t u = 0; u < n; ++u) sets.make_set(u);
  for (size_t i = ordered.size(); i-- > 0;) {
    const size_t a = sets.find_set(ordered[i].first), b = sets.find_set(ordered[i].second);
    if (a == b) continue;
    sets.link(a, b);
    in_forest[i] = 1;
  }
  return in_forest;
}

std::vector<uint8_t> SpanningForestFromBack(std::span<const HoldOutCandidate> ordered) {
  // Dense ids in order of first sight: the forest does not depend on them.
  internal::IdTable dense(ordered.size() / 8 + 16);
  const auto dense_id = [&](ExternalId id) {
    VertexId v = dense.Find(id);
    if (v == kNoVertex) dense.Insert(id, v = static_cast<VertexId>(dense.size()));
    return v;
  };
  std::vector<VertexPair> pairs(ordered.size());
  for (size_t i = 0; i < ordered.size(); ++i) pairs[i] = {dense_id(ordered[i].src), dense_id(ordered[i].dst)};
  return SpanningForestFromBack(pairs, dense.size());
}

std::vector<VertexPair> FollowPairs(const SocialGraph& g) {
  std::vector<VertexPair> pairs;
  for (VertexId u = 0; u < g.num_accounts(); ++u)
    for (VertexId v : g.following.Neighbors(u))
      if (u != v && !(g.undirected && v < u)) pairs.emplace_back(u, v);
  return pairs;
}

std::vector<VertexPair> SampleNonEdges(const SocialGraph& g, size_t count, uint64_t seed,
                                       const std::vector<VertexPair>& exclude) {
  const size_t n = g.num_accounts();
  std::unordered_set<uint64_t> taken;
  for (const auto& [u, v] : exclude) taken.insert(g.undirected ? PairKey(std::min(u, v), std::max(u, v)) : PairKey(u, v));
  std::vector<VertexPair> pairs;
  pairs.reserve(count);
  Rng rng(seed);
  // A graph so dense that random pairs keep hitting edges has no use for
  // link prediction; give up after a generous number of tries.
  const uint64_t max_tries = 100 * static_cast<uint64_t>(count) + 1000;
  uint64_t tries = 0;
  while (pairs.size() < count) {
    GR_CHECK_CODE(n >= 2 && ++tries <= max_tries, ErrorCode::kInvalidArgument, "could not sample ", count,
                  " non-edges among ", n, " accounts (graph too small or too dense); found ", pairs.size());
    auto u = static_cast<VertexId>(rng.Uniform(n)), v = static_cast<VertexId>(rng.Uniform(n));
    if (u == v) continue;
    if (g.undirected && u > v) std::swap(u, v);
    if (g.following.HasEdge(u, v) || !taken.insert(PairKey(u, v)).second) continue;
    pairs.emplace_back(u, v);
  }
  return pairs;
}

EdgeSplit SplitEdgesForLinkPrediction(const SocialGraph& g, const EdgeSplitConfig& config) {
  config.Validate();
  const CsrGraph& f = g.following;
  const size_t n = g.num_accounts();
  const std::span<const ExternalId> ids = g.accounts.external_ids();
  const bool newest = config.order == HoldOutOrder::kNewest && !f.times.empty();
  std::vector<Candidate> candidates;
  for (VertexId u = 0; u < n; ++u) {
    for (EdgeIndex e = f.Begin(u); e < f.End(u); ++e) {
      const VertexId v = f.targets[e];
      if (u == v || (g.undirected && v < u)) continue;
      candidates.push_back({.key = {.src = ids[u],
                                    .dst = ids[v],
                                    .tie = HoldOutTie(config.seed, ids[u], ids[v]),
                                    .time = newest ? f.times[e] : 0u,
                                    .index = static_cast<uint32_t>(e - f.Begin(u))},
                            .edge = e,
                            .src = u,
                            .dst = v});
    }
  }
  // The first candidates are held out first.
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return HeldOutBefore(a.key, b.key); });
  std::vector<VertexPair> ordered(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) ordered[i] = {candidates[i].src, candidates[i].dst};
  const std::vector<uint8_t> in_forest = SpanningForestFromBack(ordered, n);
  std::vector<VertexPair>().swap(ordered);
  EdgeSplit split;
  split.forest_edges = static_cast<uint64_t>(std::count(in_forest.begin(), in_forest.end(), 1));
  split.candidate_edges = candidates.size();
  split.requested = static_cast<uint64_t>(std::llround(config.test_fraction * static_cast<double>(candidates.size())));
  std::vector<uint8_t> held_out_edge(f.num_edges(), 0);
  for (size_t i = 0; i < candidates.size() && split.test_edges.size() < split.requested; ++i) {
    if (in_forest[i]) continue;
    held_out_edge[candidates[i].edge] = 1;
    split.test_edges.emplace_back(candidates[i].src, candidates[i].dst);
  }
  std::sort(split.test_edges.begin(), split.test_edges.end());
  split.test_non_edges = SampleNonEdges(g, split.test_edges.size(), MixSeed(config.seed, 0x90ed6e5u, 1));

  // Rebuild the follow CSRs without the held-out edges.
  internal::EdgeRows rows;
  rows.reserve(f.num_edges() - (g.undirected ? 2 : 1) * split.test_edges.size());
  for (VertexId u = 0; u < n; ++u) {
    for (EdgeIndex e = f.Begin(u); e < f.End(u); ++e) {
      const VertexId v = f.targets[e];
      // An undirected pair is held out as (min, max); drop its reverse too.
      if (held_out_edge[e] || (g.undirected && v < u &&
                               std::binary_search(split.test_edges.begin(), split.test_edges.end(), VertexPair{v, u})))
        continue;
      rows.push_back({u, v, f.Weight(e), f.times.empty() ? 0u : f.times[e], 0, 0});
    }
  }
  split.train = g;  // accounts, posts, interactions unchanged
  auto grouped = internal::GroupAndSort(std::move(rows), n, 0);
  split.train.following = internal::BuildCsr(grouped, {.weights = true, .times = !f.times.empty()}, 0);
  if (g.undirected) {
    split.train.followers = split.train.following;
  } else {
    grouped = internal::Reverse(std::move(grouped), n, 0);
    split.train.followers = internal::BuildCsr(grouped, {.weights = true, .times = !g.followers.times.empty()}, 0);
  }
  return split;
}

}  // namespace gr::graph
