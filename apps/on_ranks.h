// The input read and the vectors trained on the ranks of an mpirun run
// (graphrec embed, graphrec eval link-prediction; built with MPI only):
// no rank holds the whole graph unless the input is a snapshot.
#pragma once

#include <mpi.h>

#include <string>

#include "apps/walk_flags.h"
#include "dist/partitioned_graph.h"
#include "embed/embedding_table.h"
#include "embed/skip_gram.h"

namespace gr::apps {

struct RanksInput {
  dist::PartitionedFollows follows;
  dist::PartitionedPosts posts;  // metapath walks only
  bool snapshot = false;         // read by rank 0 and scattered
  bool directory = false;        // an input directory, read by every rank (with the follows' times)
  bool undirected = false;
};

// Collective. An input directory's files and a text edge list are read by
// every rank, a byte range each; a snapshot by rank 0, then scattered.
// Throws on every rank when any fails.
RanksInput ReadInputOnRanks(const WalkFlags& flags, const walk::WalkConfig& walk_config, MPI_Comm comm);

// Collective: walks over `follows` (input.follows, or a part cut from it)
// and input.posts, then skip-gram, warm-started from rank 0's `previous`
// when it gives one (dist::DistributedWarmStart; null elsewhere, or on rank
// 0 for none; *warm_started, if given, gets the rows copied from it).
// Returns the vectors on rank 0 (accounts, then posts; empty elsewhere);
// `stats` gets this rank's training figures with every rank's tokens.
embed::EmbeddingTable TrainOnRanks(const RanksInput& input, const dist::PartitionedFollows& follows,
                                   const walk::WalkConfig& walk_config, embed::SkipGramConfig train,
                                   const DistributedTrainingFlags& flags, const embed::EmbeddingTable* previous,
                                   MPI_Comm comm, embed::SkipGramStats* stats, uint64_t* warm_started = nullptr);

}  // namespace gr::apps
