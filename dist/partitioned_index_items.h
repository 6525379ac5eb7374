// What the batch's recall indices hold (recall::CollectRecallIndexItems),
// collected on rank 0 from a graph partitioned across ranks (issue 20): rank
// 0 holds the trained vectors, the ranks hold the graph. Each rank sends
// rank 0 its accounts (and whether each posted) and, for each of its posts,
// what its vector depends on: its interaction count, its author and its
// earliest engagers. Rank 0 then builds the same items one process builds
// from the whole graph, vector for vector.
#pragma once

#include <mpi.h>

#include "dist/partitioned_graph.h"
#include "embed/embedding_table.h"
#include "embed/graph_vectors.h"
#include "recall/recall.h"

namespace gr::dist {

// Collective over `comm`. `follows` and `posts` are this rank's part from
// IngestPartitioned (with posts, for the engagers' times); `table` is read on
// rank 0 only (null elsewhere). Returns on rank 0 (empty elsewhere)
// recall::CollectRecallIndexItems(whole graph, *table, rule, kinds) with
// kinds.shard whole. Throws kInvalidArgument on rank 0 as AccountVectors
// does (no output vectors for the authors index, or a table that misses
// more than half the accounts), after every rank has sent its part.
recall::RecallIndexItems CollectIndexItemsOnRoot(const PartitionedFollows& follows, const PartitionedPosts& posts,
                                                 const embed::EmbeddingTable* table,
                                                 const embed::PostVectorRule& rule,
                                                 const recall::RecallIndexKinds& kinds, MPI_Comm comm);

}  // namespace gr::dist
