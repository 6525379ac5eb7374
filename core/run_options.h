// The options every stage of one run shares: how many threads, and one seed
// from which each source of randomness derives its own named seed
// (LightGBM's seed -> data_random_seed, bagging_seed, ... idea). Commands
// parse them once and pass them down; libraries take the derived values.
#pragma once

#include <cstdint>

#include "core/parallel.h"
#include "core/rng.h"

namespace gr {

// Each source of randomness in a run. Walks and skip-gram use the run's seed
// itself, so `graphrec walk --seed S` and `graphrec embed --seed S` reproduce
// the batch's corpus and vectors; the others mix the seed with their name.
enum class SeedStream : uint64_t {
  kWalks,          // walk starts and steps (walk/random_walk.h)
  kTraining,       // skip-gram initialisation and sampling (embed/skip_gram.h)
  kHoldOut,        // which follows are held out, and their non-edges (graph/edge_split.h)
  kIndex,          // HNSW level assignment (recall/vector_index.h)
  kLinkEval,       // pair samples of the hold-out link prediction (eval/link_holdout.h)
  kIndexEval,      // queries of the HNSW recall check (eval/index_recall.h)
  kDriftEval,      // accounts compared with the previous version (eval/drift.h)
  kRanker,         // ranker initialisation, shuffling, k-means and fusion search (ranking/)
  kRankerSample,   // impressions sampled for the ranker stage (pipeline/)
  kFoldIn,         // windows and negatives of folding held-out follows into the vectors (embed/row_refresh.h)
  kConsistencyEval,  // accounts and catalogue of the recall-ranker consistency (eval/consistency.h)
  kConsistentRecall,  // accounts, candidates and pairs of the ranker-consistent towers (ranking/consistent_recall.h)
};

struct RunOptions {
  int threads = 0;    // worker threads for every stage; 0 = all cores
  uint64_t seed = 1;  // the one seed of the run

  int ResolvedThreads() const { return ResolveThreads(threads); }

  uint64_t SeedFor(SeedStream stream) const {
    if (stream == SeedStream::kWalks || stream == SeedStream::kTraining) return seed;
    return MixSeed(seed, 0x5eed5eed00000000ULL | static_cast<uint64_t>(stream));
  }
};

}  // namespace gr
