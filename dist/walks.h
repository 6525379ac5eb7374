// Distributed random walks (issue 20), uniform, node2vec and metapath:
// KnightKing's walker-centric model over the partitioned graph. A walker
// lives on the rank that owns its current account (or post: metapath walks); each superstep every rank advances its walkers
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
// node2vec draws as the engine does too; its test "is x adjacent to prev"
// travels to prev's owner (walks.cc says how). Weighted walks (first order
// and node2vec) draw by per-account alias tables over the same lists and
// weights, as the engine's do. Metapath walks step along the relations of
// walk/walk_config.h in turn over the follows and the post relations
// (PartitionedPosts), from every account or every post as the path starts,
// and draw as the engine's metapath walks do (weighted or not).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

#include "core/ids.h"
#include "dist/partitioned_graph.h"
#include "walk/walk_config.h"

namespace gr::dist {

struct DistributedWalkConfig {
  uint32_t walks_per_vertex = 10;
  uint32_t walk_length = 80;
  bool both_directions = true;  // followees and followers (walk/'s kBoth); false: followees only (kOut)
  uint64_t seed = 1;
  double p = 1, q = 1;          // node2vec return and in-out parameters; both 1: uniform walks
  // Step (and propose, for node2vec) by edge weight (the graph's weights,
  // every weight 1 without any).
  bool weighted = false;
  // Not empty: metapath walks along these relations, repeated (both_directions, p and q unused).
  std::vector<walk::Relation> metapath;
  // Threads stepping a rank's walkers (0: all cores). The walks are the
  // same whatever it is.
  int threads = 1;
};

// The walks this rank assembled: walk i is tokens[offsets[i] .. offsets[i+1])
// (global dense account ids; for metapath walks posts too, after the
// accounts: account count + the post's dense id), its key keys[i] = start's
// dense id (among accounts, or posts when the path starts at posts) x
// walks_per_vertex + round; ascending keys.
struct DistributedWalks {
  std::vector<VertexId> tokens;
  std::vector<uint64_t> offsets{0};
  std::vector<uint64_t> keys;
  uint64_t vocabulary = 0;  // tokens are below it: accounts on all ranks (and posts, metapath walks)
  uint32_t walks_per_vertex = 0;  // as configured: key = start x walks_per_vertex + round
  // This rank's share of the traffic.
  uint64_t steps = 0;             // steps taken on this rank's accounts (tokens recorded)
  uint64_t walker_moves_sent = 0; // walkers sent to another rank
  uint64_t adjacency_tests_sent = 0;  // node2vec: of those, walkers sent to prev's owner for its lists
  uint64_t rejected_proposals = 0;    // node2vec rejection-sampling misses (as walk::WalkStats counts them)
  // node2vec: adjacency tests sent that a 384-bit neighbour filter of prev
  // carried by the walker (48 bytes a move) would have settled without
  // travelling; counted to weigh that design against routing the test.
  uint64_t tests_a_filter_would_settle = 0;
  uint64_t bytes_sent = 0;        // walkers and token pieces sent to other ranks
  // What the walk held here besides the graph and the walkers: the index of
  // the owned vertices, their dense ids, weighted steps' alias tables
  // (node2vec: also the filters it counts with).
  uint64_t table_bytes = 0;
  uint32_t supersteps = 0;
};

// Collective over `comm`: walks from every account of `graph` (each rank's
// part, as LoadPartitionedFollows gave it). Throws kInvalidArgument for a
// zero walk count or length, or p or q not > 0. Metapath walks need `posts`
// (this rank's, from ScatterPostsFromRoot) unless every relation of the path
// is a follow relation; kInvalidArgument without them.
DistributedWalks DistributedRandomWalks(const PartitionedFollows& graph, const DistributedWalkConfig& config,
                                        MPI_Comm comm, const PartitionedPosts* posts = nullptr);

// One walk to take: walk `round` from account `start` (any rank's).
struct WalkRequest {
  ExternalId start = 0;
  uint32_t round = 0;
};

// Collective over `comm`: the walks of every rank's `requests` instead of
// walks from every account: request i of all ranks' requests (rank 0's in
// order, then rank 1's, ...) is the walk with key i, the single-process
// engine's WalkFrom(start, round) over the same graph and seed (uniform,
// weighted or node2vec; walks_per_vertex is unused and 1 in the result).
// A walk is assembled on rank key % N, as DistributedRandomWalks' are. The
// same request twice gives the same walk twice. Throws kInvalidArgument on
// every rank for metapath walks, a bad config or a start no rank owns (the
// start's owner names it).
DistributedWalks DistributedWalksFrom(const PartitionedFollows& graph, std::span<const WalkRequest> requests,
                                      const DistributedWalkConfig& config, MPI_Comm comm);

}  // namespace gr::dist
