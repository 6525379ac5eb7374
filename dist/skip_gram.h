// Distributed skip-gram (issue 20): data-parallel, pWord2Vec's MPI scheme.
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
// the vocabulary must fit one machine; a model partitioned by account
// (PyTorch-BigGraph's buckets) is the way past that (not built).
#pragma once

#include <mpi.h>

#include <cstdint>

#include "dist/walks.h"
#include "embed/skip_gram.h"

namespace gr::dist {

enum class SyncRule { kSumChanges, kAverageChanges };

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
};

// Collective over `comm`: trains vectors for tokens [0, walks.accounts) from
// every rank's `walks`. Every rank returns the same vectors. `warm` as in
// embed::TrainSkipGram (the same on every rank). Throws kInvalidArgument on
// every rank for a bad setting or a token outside the vocabulary on any rank.
embed::SkipGramResult DistributedSkipGram(const DistributedWalks& walks, const embed::SkipGramConfig& config,
                                          const DistributedTrainingConfig& sync, MPI_Comm comm,
                                          DistributedTrainingStats* stats = nullptr,
                                          const embed::WarmStart* warm = nullptr);

}  // namespace gr::dist
