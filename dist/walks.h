// Distributed uniform random walks (issue 20): KnightKing's walker-centric
// model over the partitioned follow graph. A walker lives on the rank that
// owns its current account; each superstep every rank advances its walkers
// until they end or step onto another rank's account, then the walkers that
// left are exchanged in one batched all-to-all. Each rank records the tokens
// of the steps taken on its accounts; at the end the pieces go to the rank
// that assembles the walk (walk key modulo ranks).
//
// The corpus is the same multiset of walks as the single-process engine's
// (walk/random_walk.h) for the same seed: walk `round` of a start is seeded
// by FastRng::ForItem(seed, start's dense id, round) and picks neighbour i of
// the list (followees, then followers for both directions) with the same
// draws, the lists sorted by external id as the engine's are by dense id.
// Not built yet: weighted, node2vec and metapath walks.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <vector>

#include "core/ids.h"
#include "dist/partitioned_graph.h"

namespace gr::dist {

struct DistributedWalkConfig {
  uint32_t walks_per_vertex = 10;
  uint32_t walk_length = 80;
  bool both_directions = true;  // followees and followers (walk/'s kBoth); false: followees only (kOut)
  uint64_t seed = 1;
};

// The walks this rank assembled: walk i is tokens[offsets[i] .. offsets[i+1])
// (global dense account ids), its key keys[i] = start's dense id x
// walks_per_vertex + round; ascending keys.
struct DistributedWalks {
  std::vector<VertexId> tokens;
  std::vector<uint64_t> offsets{0};
  std::vector<uint64_t> keys;
  // This rank's share of the traffic.
  uint64_t steps = 0;             // steps taken on this rank's accounts (tokens recorded)
  uint64_t walker_moves_sent = 0; // walkers sent to another rank
  uint64_t bytes_sent = 0;        // walkers and token pieces sent to other ranks
  uint32_t supersteps = 0;
};

// Collective over `comm`: walks from every account of `graph` (each rank's
// part, as LoadPartitionedFollows gave it). Throws kInvalidArgument for a
// zero walk count or length.
DistributedWalks DistributedUniformWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                         MPI_Comm comm);

}  // namespace gr::dist
