// Hold-out splits of the follow graph for link-prediction evaluation
// (node2vec's protocol): a fraction of the edges is removed from the graph
// the embeddings are trained on, and as many vertex pairs that are not edges
// are sampled; a good embedding scores the held-out edges above the
// non-edges.
//
// The rest stays connected where possible: a spanning forest of the full
// graph is never held out, so no vertex loses all its edges and no component
// is cut in two. When the forest leaves fewer edges than asked for, fewer are
// held out (reported in EdgeSplit::held_out vs requested).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "graph/social_graph.h"

namespace gr::graph {

using VertexPair = std::pair<VertexId, VertexId>;

enum class HoldOutOrder {
  kRandom,  // any edge may be held out, chosen at random (seeded)
  kNewest,  // the newest follows (by time; ties at random) are held out first
};

struct EdgeSplitConfig {
  double test_fraction = 0.5;  // share of the follow edges held out, in (0, 1)
  HoldOutOrder order = HoldOutOrder::kRandom;
  uint64_t seed = 1;

  void Validate() const;  // throws kInvalidArgument naming the field
};

struct EdgeSplit {
  // The input graph without the held-out edges: same accounts, posts and
  // interactions; weights and times of the kept follows unchanged.
  SocialGraph train;
  // Held-out follows (u follows v; for an undirected graph u < v, both
  // directions removed) and as many sampled pairs that are not edges of the
  // full graph (no self pairs, no repeats).
  std::vector<VertexPair> test_edges;
  std::vector<VertexPair> test_non_edges;
  uint64_t candidate_edges = 0;  // follow edges (undirected: pairs) without self-loops
  uint64_t forest_edges = 0;     // of those, kept to preserve connectivity
  uint64_t requested = 0;        // test_fraction x candidate_edges, rounded
};

// A follow's place in the hold-out order depends on the follow alone: its
// time (newest first, for kNewest), then a seeded hash of its accounts'
// external ids, then the ids, then its place in the follower's list (which
// only tells repeated rows of one pair apart). So ranks that each hold part
// of the follows (dist/partitioned_holdout.h) agree on the order, and on the
// split, without seeing each other's follows.
struct HoldOutCandidate {
  ExternalId src = 0, dst = 0;  // src follows dst
  uint64_t tie = 0;             // HoldOutTie(seed, src, dst)
  uint32_t time = 0;            // 0 for every follow under kRandom
  uint32_t index = 0;           // place in src's followee list
};

uint64_t HoldOutTie(uint64_t seed, ExternalId src, ExternalId dst);

// Whether `a` is held out before `b` (a strict total order on distinct follows).
bool HeldOutBefore(const HoldOutCandidate& a, const HoldOutCandidate& b);

// Kruskal from the back: the edges least wanted in the test set first, each
// kept when it joins two components. `ordered` lists edges over vertices
// [0, n) in hold-out order; the result flags (parallel to it) the spanning
// forest that is never held out. For a strict order the forest is unique,
// and the forest of A and B together is the forest of forest(A) and
// forest(B) together (the cycle property), so parts can be reduced apart.
std::vector<uint8_t> SpanningForestFromBack(std::span<const VertexPair> ordered, size_t n);
// The same over follows named by external ids (ranks that hold parts of a
// graph have no common dense ids).
std::vector<uint8_t> SpanningForestFromBack(std::span<const HoldOutCandidate> ordered);

// Splits g's follow edges. Throws kInvalidArgument for a bad config, and
// when no non-edges can be found (a nearly complete graph).
EdgeSplit SplitEdgesForLinkPrediction(const SocialGraph& g, const EdgeSplitConfig& config);

// Every follow edge of g once, self-loops left out (undirected: u < v),
// ascending: the train edges of a split's training graph.
std::vector<VertexPair> FollowPairs(const SocialGraph& g);

// `count` pairs (u, v), u != v, that are not follow edges of g (for an
// undirected graph, u < v), distinct, not in `exclude`, drawn uniformly with
// the seed. Used for test and for training non-edges.
std::vector<VertexPair> SampleNonEdges(const SocialGraph& g, size_t count, uint64_t seed,
                                       const std::vector<VertexPair>& exclude = {});

}  // namespace gr::graph
