// The distributed training flags as dist/'s configuration (built with MPI only).
#pragma once

#include "apps/walk_flags.h"
#include "dist/skip_gram.h"

namespace gr::apps {

static_assert(kDefaultSyncTokensPerRow == dist::DistributedTrainingConfig{}.tokens_per_row_between_syncs,
              "the CLI's default synchronisation interval is the library's");
static_assert(DistributedTrainingFlags{}.passes_per_epoch == dist::DistributedTrainingConfig{}.passes_per_epoch,
              "the CLI's default passes per epoch are the library's");

inline dist::DistributedTrainingConfig DistributedTrainingFromFlags(const DistributedTrainingFlags& flags) {
  dist::DistributedTrainingConfig config;
  config.layout = dist::ParseModelLayout(flags.model);
  config.tokens_per_row_between_syncs = flags.sync_tokens_per_row;
  config.passes_per_epoch = flags.passes_per_epoch;
  return config;
}

}  // namespace gr::apps
