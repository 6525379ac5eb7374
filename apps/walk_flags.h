// The walk and training flags shared by `graphrec walk`, `embed` and `eval`
// (node2vec / PecanPy names), and their translation into configs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "apps/graph_input.h"
#include "core/run_options.h"
#include "embed/skip_gram.h"
#include "walk/random_walk.h"

namespace gr::apps {

struct WalkFlags {
  std::string input;
  bool directed = false;
  std::string kind = "auto";
  std::string direction;  // empty = out with --directed, else both
  walk::WalkConfig config;  // its threads and seed come from `run`
  RunOptions run;           // --workers, --seed
  std::string ids = "integer", header = "auto";  // how a text edge list is read
  // PecanPy's flags: checked, otherwise without effect (walk_flags.cc).
  std::string pecanpy_mode, delimiter;
  bool implicit_ids = false;
};

// Registers --input (unless with_input is false), --num-walks,
// --walk-length, --p, --q, --weighted/--unweighted, --directed/--undirected,
// --direction, --kind, --metapath, --workers, --seed (--random_state), and
// PecanPy's --mode, --delimiter, --implicit_ids, --verbose on cmd.
void AddWalkFlags(CLI::App* cmd, WalkFlags& flags, bool with_input = true);

// Registers the skip-gram flags (--dimensions, --window-size, --negatives,
// --epochs (node2vec's --iter), --learning-rate, --subsample) on cmd. Shared by embed and eval.
void AddTrainingFlags(CLI::App* cmd, embed::SkipGramConfig& config);

// --sync-tokens-per-row's default: dist::DistributedTrainingConfig's
// (checked where dist/ is built, apps/cmd_embed.cc).
inline constexpr double kDefaultSyncTokensPerRow = 0.1;

// Training under mpirun (dist/skip_gram.h); plain values, so apps/ builds
// without MPI too. Defaults: dist::DistributedTrainingConfig's (checked in
// apps/cmd_embed.cc).
struct DistributedTrainingFlags {
  std::string model = "partitioned";  // replicated | partitioned (the library's default is replicated)
  double sync_tokens_per_row = kDefaultSyncTokensPerRow;  // replicated
  uint32_t passes_per_epoch = 8;                          // partitioned
};

// Registers --training-model, --sync-tokens-per-row and --passes-per-epoch on cmd.
// Shared by embed and batch.
void AddDistributedTrainingFlags(CLI::App* cmd, DistributedTrainingFlags& flags);

// Makes training report its progress (share done, tokens/s, ETA) as every
// long step does (core/progress.h).
void ReportTrainingProgress(embed::SkipGramConfig& config);

// How --input is read (--ids, --header).
GraphInputOptions InputOptions(const WalkFlags& flags);

// The WalkConfig the flags ask for (kind "auto" resolved, direction set,
// threads and walk seed from flags.run).
walk::WalkConfig ResolveWalkConfig(const WalkFlags& flags);

}  // namespace gr::apps
