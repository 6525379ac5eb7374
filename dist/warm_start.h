// Warm start for distributed training (issue 20): embed::MakeWarmStart's
// rows, built without any rank holding the whole graph. Rank 0's previous
// table goes to every rank; each rank fills the rows of the accounts it
// owns (copied, or the mean of the copied rows of its followees and
// followers), and a sum over the ranks gives every rank the whole start.
#pragma once

#include <mpi.h>

#include "dist/partitioned_graph.h"
#include "embed/embedding_table.h"
#include "embed/warm_start.h"

namespace gr::dist {

// Collective over `comm`: `previous` is read on rank 0 only (null
// elsewhere); `graph` is this rank's part. Rows in global dense order
// (GlobalDenseIds), the same on every rank. With `posts` (this rank's, the
// vocabulary of metapath walks; given on every rank or on none) every
// rank's posts follow the accounts, in global dense order too, each copied
// from `previous` when it has the post (embed::MakeWarmStart's with_posts).
// Throws kInvalidArgument on every rank if the previous table is empty.
embed::WarmStart DistributedWarmStart(const embed::EmbeddingTable* previous, const PartitionedFollows& graph,
                                      MPI_Comm comm, const PartitionedPosts* posts = nullptr);

}  // namespace gr::dist
