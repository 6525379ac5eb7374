// Index shards built on every rank (issue 20): under mpirun the batch's rank
// 0 collects each index's items (recall::CollectRecallIndexItems: the post
// vectors need the whole graph, which only rank 0 holds), sends each shard's
// items to the rank that builds it (RankOfIndexShard), builds the whole
// indices meanwhile, and writes each shard's index files into the version
// (dir/shard-K-of-N, as version::SaveIndexShards) as they come back. The
// HNSW builds, the expensive part, run on every rank at once; only rank 0
// needs the artifacts directory. Driven by dist/root_training.h's command
// loop.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "recall/recall.h"

namespace gr::dist {

// The rank that builds index shard `shard` of N ranks: with more than one
// rank, ranks 1..N-1 in turn (rank 0 builds the whole indices, as much work
// as all the shards); with one, rank 0.
int RankOfIndexShard(uint32_t shard, int ranks);

// Rank 0, after the other ranks were told to call BuildIndexShardsForRoot
// with the same config and count: sends the other ranks their shards' items,
// runs `meanwhile` (if given: other work of rank 0 while they build), builds
// its own shards (a run of one rank) and writes all of them under `dir`. Throws
// gr::Error naming the shard and rank if any failed, after every rank
// answered (no rank is left waiting).
void SaveIndexShardsFromRoot(const recall::RecallIndexItems& items, const recall::IndexConfig& config,
                             uint32_t count, const std::string& dir, MPI_Comm comm,
                             const std::function<void()>& meanwhile = {});

// Ranks other than 0: receives this rank's shards' items, builds their
// indices and sends the files back; a failure is reported to rank 0 (and
// logged), not thrown.
void BuildIndexShardsForRoot(const recall::IndexConfig& config, uint32_t count, MPI_Comm comm);

}  // namespace gr::dist
