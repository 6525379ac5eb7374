// The batch's hold-out (graph::SplitEdgesForLinkPrediction) on a follow
// graph partitioned across ranks (issue 20): the same held-out follows, the
// same training graph, without any rank holding the follows of another.
//
// Each rank orders the follows it owns (by follower) as graph::HeldOutBefore
// does: that order depends on each follow alone. The spanning forest that is
// never held out is Kruskal's over that order; a forest of a union of edge
// sets is the forest of their forests (the cycle property of a strict
// order), so each rank reduces its follows to its forest, and the forests
// merge pairwise up a binary tree to rank 0's forest of the whole graph. The
// held-out follows are then the first `requested` non-forest follows: the
// boundary is found by a binary search over the order, one all-reduced count
// a step, and each rank removes its own.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "dist/partitioned_graph.h"
#include "graph/edge_split.h"

namespace gr::dist {

struct PartitionedSplit {
  // This rank's part without the held-out follows (from both lists: a
  // followee list here, the follower list at the followee's owner).
  PartitionedFollows train;
  // The held-out follows whose follower this rank owns, ascending.
  std::vector<std::pair<ExternalId, ExternalId>> test_edges;
  // Of the whole graph, as graph::EdgeSplit's.
  uint64_t candidate_edges = 0, forest_edges = 0, requested = 0;
  uint64_t bytes_sent = 0;  // forest edges and removals this rank sent
};

// Collective over `comm`. `part` comes from IngestPartitioned (for
// HoldOutOrder::kNewest it needs the follows' times; without them every
// follow has time 0, as in a graph without times). The held-out follows and
// the training graph are those of graph::SplitEdgesForLinkPrediction over the
// whole graph with the same config (no test non-edges: those are sampled
// where they are scored). Memory: rank 0 holds the forest of the whole graph
// (up to one edge per account, 32 bytes each) while it is merged.
// Throws kInvalidArgument for a bad config.
PartitionedSplit SplitPartitioned(PartitionedFollows part, const graph::EdgeSplitConfig& config, MPI_Comm comm);

}  // namespace gr::dist
