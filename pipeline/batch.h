// The nightly batch (`graphrec batch`): the day's input files -> graph
// snapshot -> walks streamed into skip-gram training (warm-started from the
// live version) -> recall indices -> ranker (when the input has
// impressions.tsv) -> evaluation -> quality gate -> publish.
//
// Evaluation holds out the newest `holdout_fraction` of the follows (a
// spanning forest is kept, graph/edge_split.h) before training, so the
// published vectors are trained without them and scored on them: link
// prediction AUC on the newest edges. The published snapshot is the full
// graph (filters need every follow). Also measured: HNSW recall@10 against
// exact search on a sample of accounts, and drift against the live version
// (mean cosine of common accounts' vectors; overlap of their top-10
// similar accounts). After the evaluation, the ranker is trained on the impressions before the
// last `ranker_test_days` day(s) (fusion tuned on the day before those) and
// scored on the last day: its click AUC is gated too. Then the
// ranker-consistent recall towers are trained on the ranker's order of
// sampled candidates, and recall's
// agreement with the ranker is measured (eval/consistency.h: overlap of each
// recall source's ranked top 15 with the ranker's top 15 over the last
// week's posts) and reported, not gated.
//
// The version is built in artifacts/.work (names: version/layout.h), each
// stage's output written atomically and its completion recorded in
// .work/state.json (pipeline/internal/work_state.h) with a
// fingerprint of the inputs (CRC-32 of each file), the settings and the live
// version; a rerun after a crash with the same fingerprint skips the
// finished stages. The complete directory is renamed to its version name in
// one step and synced before CURRENT is replaced, so CURRENT always names a
// complete version. A run that fails the gate leaves CURRENT untouched, keeps
// the rejected directory for inspection (named in the report) and returns
// published = false. The newest `keep_versions` directories are kept, the
// live one always. artifacts/.lock keeps two batches apart.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/run_options.h"
#include "embed/skip_gram.h"
#include "eval/consistency.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/vector_index.h"
#include "embed/row_refresh.h"
#include "walk/random_walk.h"

namespace gr::recall {
struct RecallIndexItems;
}  // namespace gr::recall

namespace gr::pipeline {

class BatchGraph;  // pipeline/batch_graph.h

struct BatchConfig {
  // Threads and the one seed of the run: RunBatch writes them (and the
  // seeds derived from it) into every stage's config below, whose own
  // threads and seed fields are ignored.
  RunOptions run;
  std::string input_dir;      // follows.tsv (required), interactions.tsv, posts.tsv (optional; .gz too)
  std::string artifacts_dir;  // CURRENT and versions
  std::string version;        // "" = UTC time, vYYYYMMDD-HHMMSS
  walk::WalkConfig walk = BatchWalkDefaults();
  embed::SkipGramConfig train;  // its on_progress (if set) receives training progress
  // ef_construction 100 instead of the index default 200: halves the build,
  // the batch's largest stage at 1M accounts (bench/README.md).
  recall::IndexConfig index{.ef_construction = 100};
  bool warm_start = true;           // start from the live version's vectors when there is one
  // Warm-started training uses learning_rate x this: restarting at the full
  // rate lowered the held-out AUC run after run (bench/README.md).
  float warm_learning_rate_scale = 0.1f;
  double holdout_fraction = 0.05;   // newest follows held out for the link-prediction check
  // After the link-prediction check, fold the held-out follows into the
  // published vectors, so the published model contains every edge of its
  // input: the accounts at either end get short walks over the full graph
  // (a share of them first along a held-out follow) and skip-gram updates
  // of their rows (embed/row_refresh.h). The gate's link AUC stays honest:
  // it was measured on vectors that had not seen those follows. Settings
  // chosen by the fold-in study (bench/README.md).
  bool fold_in_held_out = true;
  embed::RowRefreshConfig fold_in{.walks_per_row = 20};
  // Gate on the fold-in itself: the refreshed rows' mean cosine to what
  // they were before it must be at least this (a fold-in of a few percent
  // of the follows that turns the rows it refreshes around has damaged
  // them; its link AUC on the held-out follows cannot tell, as it trains on
  // them: bench/README.md).
  double min_fold_in_cosine = 0.5;
  // Also write the accounts, authors and posts indices split into this many
  // shards by id (version/layout.h), for `graphrec serve --shard K/N`
  // behind `graphrec serve --front`; 0 or 1 = no shards.
  uint32_t index_shards = 0;
  // How the account vectors were trained, recorded in the manifest: set by
  // `graphrec batch` under mpirun (with BatchHooks::make_graph or
  // train_account_vectors); 1 = one process.
  uint32_t training_ranks = 1;
  // The graph ingested in this many parts, one a rank, each rank reading
  // its share of the input (set by `graphrec batch` under mpirun when every
  // rank sees the input and artifacts); 0 = whole in one process.
  uint32_t graph_parts = 0;
  std::string training_model;       // with training_ranks > 1: replicated | partitioned (dist/skip_gram.h)
  double sync_tokens_per_row = 0;   // replicated
  uint32_t passes_per_epoch = 0;    // partitioned
  uint32_t recall_sample = 1000;    // accounts queried for HNSW recall@10 vs exact
  uint32_t drift_sample = 1000;     // common accounts compared with the live version
  // Quality gate: a run below any threshold is not published.
  double min_link_auc = 0.6;        // Hadamard + LR AUC on the held-out newest follows
  double min_hnsw_recall = 0.9;     // recall@10 of HNSW against exact
  double min_neighbour_overlap = 0; // top-10 similar-account overlap with the live version (0 = off)
  uint32_t keep_versions = 3;       // version directories kept (the live one always)
  // Ranker stage (runs when input_dir has impressions.tsv and train_ranker).
  bool train_ranker = true;
  ranking::RankerConfig ranker = BatchRankerDefaults();
  uint32_t ranker_test_days = 1;        // last days scored (and gated)
  uint32_t ranker_validation_days = 2;  // days before them that tune the fusion weights (the newest guards the search)
  // Impressions sampled down to this many (seeded) for training, and for
  // each of validation and test: bounds on the stage's time and memory at
  // 1M accounts (20M impressions; a feature row is ~1.6 KB); 0 = all.
  uint64_t ranker_max_train_impressions = 500000;
  uint64_t ranker_max_eval_impressions = 200000;
  double min_ranker_click_auc = 0.55;   // gate: click AUC on the test days
  // After the ranker: the ranker-consistent recall towers
  // (ranking/consistent_recall.h) and their post index; trained as of
  // `consistent_recall_holdout_days` days before the version's newest time,
  // so that the consistency below scores posts the towers never saw (0 = as
  // of the newest: production's choice, the freshest towers).
  bool train_consistent_recall = true;
  ranking::ConsistentRecallConfig consistent_recall;
  uint32_t consistent_recall_holdout_days = 0;
  // After the ranker: recall's agreement with it (eval/consistency.h) on
  // this many sampled accounts (0 = not measured); reported, not gated.
  eval::VersionConsistencyConfig consistency{.accounts = 100};

  // The batch's walks: 2 per account of length 40, not DeepWalk's 10 x 80.
  // On generated worlds the held-out link AUC of the newest follows is
  // higher with the smaller budget (0.925-0.928 against 0.819-0.823 at
  // 100k accounts, 2 worlds x 2 seeds; bench/README.md), and a 1M-account nightly fits
  // its budget only with it.
  static walk::WalkConfig BatchWalkDefaults() {
    walk::WalkConfig config;
    config.walks_per_vertex = 2;
    config.walk_length = 40;
    return config;
  }

  // The batch's ranker settings: 2 epochs instead of 4 (the sample is large).
  static ranking::RankerConfig BatchRankerDefaults() {
    ranking::RankerConfig config;
    config.model.epochs = 2;
    return config;
  }

  void Validate() const;  // throws kInvalidArgument naming the field
  // This config with `run` applied to every stage's config.
  BatchConfig WithRunOptions() const;
  // Every setting that shapes the version (not directories or threads);
  // the manifest's "parameters", and part of the resume fingerprint.
  std::string ToJson() const;
};

// Test hooks: `after_stage_work` runs after a stage has written its output
// and before it is recorded as done (the crash tests kill the process there).
struct BatchHooks {
  std::function<void(std::string_view stage)> after_stage_work;
  // Trains the account vectors in place of embed::EmbedWalks (same
  // arguments, same result): `graphrec batch` under mpirun spreads the walks
  // and training over the ranks with it (dist/root_training.h).
  std::function<embed::EmbeddingTable(const graph::SocialGraph& train_graph, const walk::WalkConfig& walk,
                                      const embed::SkipGramConfig& train, embed::SkipGramStats* stats,
                                      const embed::WarmStart* warm)>
      train_account_vectors;
  // Writes the index shards (--index-shards) in place of
  // version::SaveIndexShards (same arguments, same files), calling
  // `build_whole` (the whole indices) while it waits: under mpirun every
  // rank builds its shards (dist/root_training.h).
  std::function<void(const recall::RecallIndexItems& items, const recall::IndexConfig& config, uint32_t count,
                     const std::string& dir, const std::function<void()>& build_whole)>
      save_index_shards;
  // Where the graph lives while the batch runs, in place of
  // MakeLocalBatchGraph (`graphrec batch` under mpirun: partitioned across
  // the ranks, apps/batch_graph_on_ranks.h). Given the run's config.
  std::function<std::unique_ptr<BatchGraph>(const BatchConfig& config)> make_graph;
};

// The fold-in's short walks: the batch's walks, fold_in.window + 1 long.
walk::WalkConfig FoldInWalks(const BatchConfig& config);

struct StageTime {
  std::string stage;
  double seconds = 0;
};

struct BatchReport {
  std::string version;
  std::string previous_version;  // live before this run ("" if none)
  // Why the live version could not be read, if it could not: the run then
  // trains from random vectors and measures no drift (a batch must be able
  // to replace a damaged version).
  std::string previous_version_error;
  bool published = false;
  std::vector<std::string> gate_failures;  // why it was not published
  std::vector<StageTime> stages;
  // The server's event log folded into this version: events [from,
  // watermark); the watermark is where a server replays from on top of it.
  // event_log_error: why the log could not be read in full (the run goes on
  // with the input files alone).
  uint64_t event_log_from = 0, event_log_watermark = 0, event_log_events = 0;
  std::string event_log_error;
  // Counts.
  uint64_t accounts = 0, posts = 0, follow_edges = 0, interaction_edges = 0;
  uint64_t held_out_edges = 0, warm_started_accounts = 0;
  // The held-out follows folded into the published vectors: accounts whose
  // rows were refreshed, the mean cosine of those rows before and after
  // (1 = unchanged), and the time it took.
  uint64_t fold_in_accounts = 0;
  double fold_in_mean_cosine = 1, fold_in_seconds = 0;
  double fold_in_link_auc_hadamard = 0;  // the published vectors on the held-out follows (they contain them)
  // Skip-gram training of this run (0 when resumed past it): corpus tokens
  // over all epochs and the training passes' time (embed's own measure).
  uint64_t train_tokens = 0;
  double train_seconds = 0, train_tokens_per_second = 0;
  // Metrics.
  double link_auc_dot = 0, link_auc_hadamard = 0;
  double hnsw_recall_at_10 = 0;
  double drift_mean_cosine = -2;      // -2 = no previous version
  double drift_neighbour_overlap = -1;  // -1 = no previous version
  bool has_ranker = false;
  uint64_t ranker_train_impressions = 0, ranker_test_impressions = 0;
  double ranker_auc_click = 0, ranker_auc_interaction = 0, ranker_gauc_click = 0, ranker_dwell_rmse_log = 0;
  std::string consistent_recall_json;  // ranking::ConsistentRecallReport::ToJson(), "" when not trained
  std::string consistency_json;  // eval::ConsistencyReport::ToJson(), "" when not measured
  double peak_rss_mb = 0;

  std::string ToText() const;  // the human-readable summary
  std::string ToJson() const;  // the JSON report (also written as the manifest's "report")
  // The run's figures in Prometheus' text format, for a node exporter's
  // textfile collector; `finished_unix_seconds` = when the run ended.
  std::string ToPrometheus(double finished_unix_seconds) const;
};

// Runs the whole batch. Throws gr::Error for bad input or I/O failure (CURRENT
// untouched); a failed gate is not an exception: see BatchReport::published.
BatchReport RunBatch(const BatchConfig& config, const BatchHooks& hooks = {});

}  // namespace gr::pipeline
