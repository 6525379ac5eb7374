// The model partitioned by account (dist/skip_gram.h says how it trains);
// DistributedSkipGram calls it after checking the settings and walks.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

#include "dist/skip_gram.h"

namespace gr::dist {

// The order a rank trains (or makes records of) its walks in: round by
// round, the walks of a round shuffled by key (skip_gram.cc says why).
std::vector<uint32_t> TrainingOrder(const DistributedWalks& walks, uint64_t seed);

// `counts`: the whole corpus's token counts (all-reduced). Fills `stats`'
// partitioned fields and training figures; rank 0 returns the vectors.
embed::SkipGramResult PartitionedSkipGram(const DistributedWalks& walks, std::span<const uint64_t> counts,
                                          const embed::SkipGramConfig& config, uint32_t passes_per_epoch,
                                          MPI_Comm comm, DistributedTrainingStats& stats,
                                          const embed::WarmStart* warm);

}  // namespace gr::dist
