// Account vectors for a driver that runs on rank 0 (issue 20): `graphrec
// batch` under mpirun without shared storage ingests, holds out, evaluates,
// indexes and publishes on rank 0 as a plain run does, and hands its walks
// and training to every rank. Rank 0 sends each rank its accounts' part of
// the training graph
// (dist::ScatterFollowsFromRoot; for metapath walks also the post relations,
// ScatterPostsFromRoot), the walk and training settings and the warm start; every rank then walks (DistributedRandomWalks) and trains
// (DistributedSkipGram) and rank 0 gets the table. The index shards are
// built the same way (SaveIndexShardsOnEveryRank). The other ranks wait in
// FollowRootTraining until rank 0 says stop.
//
// Uniform and node2vec walks over followees (out) or followees and
// followers (both), and metapath walks (of up to 32 relations), as the
// distributed walks; anything else is refused on rank 0 before the other
// ranks are asked.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "dist/skip_gram.h"
#include "embed/embedding_table.h"
#include "embed/skip_gram.h"
#include "recall/recall.h"
#include "recall/vector_index.h"
#include "walk/walk_config.h"

namespace gr::graph {
struct SocialGraph;
}
namespace gr::embed {
struct WarmStart;
}

namespace gr::dist {

// Throws kInvalidArgument naming the walks unless the distributed engine
// runs them: uniform, weighted or node2vec (weighted or not) with direction
// out or both, or metapath walks of up to 32 relations.
void CheckWalksAreDistributed(const walk::WalkConfig& walk);

// Rank 0: embed::EmbedWalks(g, walk, train, stats, warm) on every rank of
// `comm` (the others in FollowRootTraining): the model in sync.layout,
// replicas synchronised every sync.tokens_per_row_between_syncs (summing
// the changes; syncs_per_epoch and rule at their defaults) or partitioned
// with sync.passes_per_epoch. The same table shape and row order (g's
// accounts, then its posts for metapath walks);
// stats count the whole corpus. Throws
// kInvalidArgument (before any other rank is involved) for walks the
// distributed engine does not run, and on every rank if a rank fails.
embed::EmbeddingTable TrainOnEveryRank(const graph::SocialGraph& g, const walk::WalkConfig& walk,
                                       const embed::SkipGramConfig& train, embed::SkipGramStats* stats,
                                       const embed::WarmStart* warm, const DistributedTrainingConfig& sync,
                                       MPI_Comm comm);

// Rank 0: version::SaveIndexShards(items, config, count, dir) with the
// shards built on ranks 1..N-1 (dist/index_shards.h), running `meanwhile` (rank
// 0's other work, e.g. the whole indices) while the other ranks build; only
// rank 0 writes `dir`. Throws if a shard or `meanwhile` failed, after every
// rank answered.
void SaveIndexShardsOnEveryRank(const recall::RecallIndexItems& items, const recall::IndexConfig& config,
                                uint32_t count, const std::string& dir, MPI_Comm comm,
                                const std::function<void()>& meanwhile = {});

// Rank 0: the other ranks' FollowRootTraining calls its `on_step` with
// `step`; every rank then runs the driver's collectives of that step (the
// batch's graph on the ranks: apps/batch_graph_on_ranks.h).
void AskRanksToFollowStep(uint32_t step, MPI_Comm comm);

// Rank 0: the other ranks' FollowRootTraining returns. Call exactly once,
// also when the driver failed.
void StopRanks(MPI_Comm comm);

// Ranks other than 0: take part in each TrainOnEveryRank and
// SaveIndexShardsOnEveryRank of rank 0, and run `on_step` for each
// AskRanksToFollowStep, until StopRanks. A training or step that failed
// (on every rank: their collectives throw everywhere) is logged here, rank 0
// reports it, and the rank waits for the next request.
void FollowRootTraining(MPI_Comm comm, const std::function<void(uint32_t step)>& on_step = {});

}  // namespace gr::dist
