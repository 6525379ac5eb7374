// Distributed skip-gram (issue 20), two layouts of the model.
//
// Partitioned by account (ModelLayout::kPartitioned, PyTorch-BigGraph's
// buckets): dense id t belongs to partition t mod N. Rank k keeps the output
// rows of partition k for the whole training and holds one partition of
// input rows at a time, passing it along a ring after each round (round r:
// partition (k + r) mod N). Where a walk was assembled, each kept centre's
// window becomes a record (centre, its contexts) sent to the centre's rank,
// which trains the pairs whose context is in the partition it holds, with
// negatives drawn from its own partition (unigram^0.75 within it: with ids
// spread over partitions by the modulo, the same distribution up to
// sampling). No two ranks ever train the same row at once, so nothing is
// stale and nothing is merged. A rank holds its output rows, the input
// partition it trains and the one arriving (3/N of a matrix) and one pass's
// records for its centres. An epoch is `passes_per_epoch` passes, each over
// 1/passes of every rank's walks made into records and a ring of N rounds:
// within a pass a centre's output row meets its contexts partition by
// partition, so more passes keep the order closer to one process's
// (bench/README.md). The traffic: the records (~4 bytes per context) and the
// input matrix once around the ring per pass. Rank 0 gathers the vectors at
// the end; the other ranks return empty matrices. Same seed, ranks, passes
// and threads = 1: the same vectors (more threads train Hogwild within a
// rank). Differs from one process beyond the order: a centre's negatives
// come from its own partition.
//
// Replicated (ModelLayout::kReplicated), data-parallel, pWord2Vec's MPI scheme.
// Every rank holds a replica of the whole model and trains it Hogwild on its
// own walks (those DistributedRandomWalks assembled there); `syncs_per_epoch`
// times an epoch the ranks stop together and exchange what changed since the
// last synchronisation: the rows any rank changed (a bitset all-reduced with
// OR), each rank's change of those rows summed by an all-reduce and added to
// the replica they all shared after the last synchronisation. Summing the
// changes keeps every rank's updates at full strength, as threads of one
// process sharing the matrices do (averaging them, pWord2Vec's rule, divides
// a row's update by N when one rank alone touched it; bench/README.md
// compares the two).
//
// The same as single-process training: the token counts (subsampling,
// negatives) are the whole corpus's, all-reduced; a walk's draws are seeded
// by its key, so they do not depend on the number of ranks; the learning rate
// decays with the share of the rank's own walks processed (each rank's
// chunks are the same share of its walks, so all ranks decay together).
// Differs from it: between synchronisations a rank does not see the others'
// updates (the staleness is what the quality test bounds), and replicas are
// equal only after a synchronisation. Same seed, ranks and threads = 1: the
// same vectors.
//
// Memory per rank: the model twice (replica and last synchronised copy), so
// the vocabulary must fit one machine; the partitioned layout is the way
// past that.
//
// Both layouts: every rank also holds the whole corpus's token counts (8
// bytes an account) and, where given, the whole warm start.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "dist/walks.h"
#include "embed/skip_gram.h"

namespace gr::dist {

enum class SyncRule { kSumChanges, kAverageChanges };
enum class ModelLayout { kReplicated, kPartitioned };

// "replicated" / "partitioned"; ParseModelLayout throws kInvalidArgument naming the value otherwise.
const char* ModelLayoutName(ModelLayout layout);
ModelLayout ParseModelLayout(const std::string& name);

struct DistributedTrainingConfig {
  // Tokens of the whole corpus trained between two synchronisations, per
  // row of the vocabulary: the staleness. 1.5 lost 0.013-0.018 of held-out
  // link AUC with 2 ranks on generated worlds and broke the HNSW recall gate
  // with 4 at 100k accounts; 0.1 kept 2 and 4 ranks within 0.005 of one
  // process and cost ~2x the synchronising time, not 15x: fewer rows change
  // between closer synchronisations (bench/README.md).
  double tokens_per_row_between_syncs = 0.1;
  uint32_t syncs_per_epoch = 0;  // > 0: this many instead (the last of the last epoch leaves every replica equal)
  SyncRule rule = SyncRule::kSumChanges;
  ModelLayout layout = ModelLayout::kReplicated;
  // kPartitioned: passes over the records an epoch, each a ring of N rounds.
  uint32_t passes_per_epoch = 8;
};

struct DistributedTrainingStats {
  // corpus_tokens: every rank's; trained_tokens, seconds and tokens_per_second (its own tokens): this rank's
  embed::SkipGramStats training;
  uint64_t local_tokens = 0;      // this rank's walk tokens, one pass
  uint32_t syncs = 0;             // 0 on one rank (it trains its walks in one go)
  uint64_t rows_synced = 0;       // input + output rows exchanged, all synchronisations
  // Values this rank contributed to the all-reduces (changed-row bitsets and
  // row changes), in bytes; a ring all-reduce sends 2 (N-1)/N of it.
  uint64_t reduced_bytes = 0;
  double sync_seconds = 0;        // in synchronisations (waiting for the slowest rank included)
  // kPartitioned (bytes this rank sent to other ranks): the centres' records,
  // the input partitions passed along the ring, the vectors gathered on rank 0.
  uint64_t record_bytes_sent = 0, ring_bytes_sent = 0, gather_bytes_sent = 0;
  uint64_t rounds = 0;            // rounds trained (epochs x passes x N)
  uint64_t model_bytes_held = 0;  // rows held while training (own output rows, one input partition, its buffer)
  uint64_t record_bytes_held = 0; // the centres' records of one epoch, as bucketed here
};

// Collective over `comm`: trains vectors for tokens [0, walks.vocabulary) from
// every rank's `walks`. Replicated: every rank returns the same vectors;
// partitioned: rank 0 returns them, the others empty matrices. `warm` as in
// embed::TrainSkipGram (the same on every rank). Throws kInvalidArgument on
// every rank for a bad setting or a token outside the vocabulary on any rank.
embed::SkipGramResult DistributedSkipGram(const DistributedWalks& walks, const embed::SkipGramConfig& config,
                                          const DistributedTrainingConfig& sync, MPI_Comm comm,
                                          DistributedTrainingStats* stats = nullptr,
                                          const embed::WarmStart* warm = nullptr);

}  // namespace gr::dist
