// The batch's fold-in of its held-out follows (embed/row_refresh.h) with the
// graph partitioned across ranks (issue 20): the accounts at either end of
// a held-out follow get short walks over the full graph and skip-gram
// updates of their rows, as one process gives them, while no rank holds the
// graph. Rank 0, which holds the table, gathers the held-out follows and
// the accounts' degrees (the negatives' weights), asks the ranks for the
// walks (DistributedWalksFrom: the single-process walker's WalkFrom, start
// for start and round for round), gathers them and refreshes the rows.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "core/matrix.h"
#include "dist/partitioned_graph.h"
#include "embed/row_refresh.h"
#include "walk/walk_config.h"

namespace gr::dist {

struct FoldInOnRanks {
  // Rank 0: the refreshed rows (global dense account ids, the table's row
  // order), ascending, and RefreshRows' counts summed over the rounds.
  std::vector<VertexId> rows;
  embed::RowRefreshStats stats;
  uint64_t bytes_sent = 0;  // this rank's walks, degrees and follows sent
};

// Collective over `comm`. On rank 0, the same as
//   embed::RefreshRows(walk::RandomWalker(whole, walk), embed::EndpointsOf(held out),
//                      embed::DegreeNegativeWeights(whole, walk.direction), config, *input, output, held out)
// over the whole graph of the ranks' `full` parts, bit for bit: `input` and
// `output` (rank 0's; null elsewhere) are the table over every rank's
// accounts in global dense order. `held_out`: this rank's held-out follows
// (follower, followee), as SplitPartitioned gives them; each is a new edge
// of both its accounts. `walk`: uniform, weighted or node2vec over
// followees or both directions (walk.walk_length: the fold-in's short
// walks). The rows are refreshed `rows_per_round` at a time (their walks
// gathered on rank 0 per round), which bounds rank 0's memory and changes
// nothing else. `before` (rank 0's, if given) gets the rows before any of
// them changes. Throws kInvalidArgument on every rank for another walk, a
// bad config or a table of another shape.
FoldInOnRanks FoldInOnRoot(const PartitionedFollows& full, std::span<const std::pair<ExternalId, ExternalId>> held_out,
                           const walk::WalkConfig& walk, const embed::RowRefreshConfig& config, FloatMatrix* input,
                           const FloatMatrix* output, MPI_Comm comm, size_t rows_per_round = size_t{1} << 18,
                           const std::function<void(std::span<const VertexId> rows)>& before = {});

}  // namespace gr::dist
