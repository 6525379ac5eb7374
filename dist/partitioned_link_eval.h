// Link evaluation of a hold-out made on the ranks (dist::SplitPartitioned):
// the pairs eval::ScoreHeldOutFollows scores, drawn where they live, and
// their scores on rank 0, which holds the trained vectors.
//
// The pairs are drawn as one process draws them (uniform samples of the
// training follows and of the held-out ones, and distinct uniform pairs of
// accounts that are not follows of the whole graph), but from each rank's
// share, so not the same pairs: the scores agree within sampling noise.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "dist/partitioned_holdout.h"
#include "embed/embedding_table.h"
#include "embed/evaluation.h"

namespace gr::dist {

using AccountPair = std::pair<ExternalId, ExternalId>;

// On rank 0 (empty elsewhere).
struct LinkPairs {
  std::vector<AccountPair> train_edges;      // follows of split.train
  std::vector<AccountPair> train_non_edges;  // as many pairs that are not follows
  std::vector<AccountPair> test_edges;       // held-out follows
  std::vector<AccountPair> test_non_edges;   // as many others: no pair in both non-edge lists
};

// Collective over `comm`. max_pairs > 0 samples each of the two edge lists
// down to that many (0 = all); every draw is rank 0's, from `seed`. The
// non-edges are pairs (u, v), u != v, distinct, neither a training nor a
// held-out follow. Throws kInvalidArgument on every rank if nothing was
// held out, or if the non-edges cannot be found (a graph too small or too
// dense), as graph::SampleNonEdges does.
LinkPairs SampleLinkPairs(const PartitionedSplit& split, size_t max_pairs, uint64_t seed, MPI_Comm comm);

// Rank 0: node2vec's link prediction (embed::LinkPrediction) of the pairs
// with `table`'s account rows. Throws kInvalidArgument naming an account
// that has no row.
embed::LinkPredictionScores ScoreLinkPairs(const LinkPairs& pairs, const embed::EmbeddingTable& table);

}  // namespace gr::dist
