#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipeline/batch.h"
#include "version/layout.h"

namespace gr::pipeline {

void BatchConfig::Validate() const {
  GR_CHECK(!input_dir.empty(), "input directory is empty");
  GR_CHECK(!artifacts_dir.empty(), "artifacts directory is empty");
  GR_CHECK(version.empty() || version::IsValidVersionName(version),
           "version must be a plain directory name, got '", Excerpt(version), "'");
  GR_CHECK(holdout_fraction > 0 && holdout_fraction < 0.5, "holdout_fraction must be in (0, 0.5), got ",
           holdout_fraction);
  GR_CHECK(keep_versions >= 1, "keep_versions must be >= 1");
  GR_CHECK(recall_sample >= 1 && drift_sample >= 1, "samples must be >= 1");
  GR_CHECK(index_shards <= 4096, "index_shards must be <= 4096, got ", index_shards);
  GR_CHECK(warm_learning_rate_scale > 0 && warm_learning_rate_scale <= 1,
           "warm_learning_rate_scale must be in (0, 1], got ", warm_learning_rate_scale);
  GR_CHECK(ranker_test_days >= 1, "ranker_test_days must be >= 1");
  GR_CHECK(min_ranker_click_auc >= 0 && min_ranker_click_auc <= 1, "min_ranker_click_auc must be in [0, 1]");
  GR_CHECK(run.threads >= 0, "threads must be >= 0, got ", run.threads);
  walk.Validate();
  train.Validate();
  fold_in.Validate();
  GR_CHECK(min_fold_in_cosine >= -1 && min_fold_in_cosine <= 1, "min_fold_in_cosine must be in [-1, 1], got ",
           min_fold_in_cosine);
  index.Validate();
  ranker.features.Validate();
  ranker.model.Validate();
  ranker.fusion.Validate();
  ranker.objective.Validate();
  if (consistency.accounts > 0) consistency.Validate();
  if (train_consistent_recall) consistent_recall.Validate();
}

BatchConfig BatchConfig::WithRunOptions() const {
  BatchConfig c = *this;
  c.walk.threads = c.train.threads = c.index.threads = c.ranker.model.threads = run.threads;
  c.walk.seed = run.SeedFor(SeedStream::kWalks);
  c.train.seed = run.SeedFor(SeedStream::kTraining);
  c.index.seed = run.SeedFor(SeedStream::kIndex);
  c.ranker.model.seed = c.ranker.features.seed = c.ranker.search.seed = run.SeedFor(SeedStream::kRanker);
  c.fold_in.threads = run.threads;
  c.fold_in.seed = run.SeedFor(SeedStream::kFoldIn);
  c.consistency.metric.threads = run.threads;
  c.consistency.seed = run.SeedFor(SeedStream::kConsistencyEval);
  c.consistent_recall.threads = run.threads;
  c.consistent_recall.seed = run.SeedFor(SeedStream::kConsistentRecall);
  return c;
}

std::string BatchConfig::ToJson() const {
  using nlohmann::json;
  json train_json = json::parse(train.ToJson());
  train_json["warm_learning_rate_scale"] = warm_learning_rate_scale;
  return json{{"seed", run.seed},
              {"walk", json::parse(walk.ToJson())},
              {"train", train_json},
              {"index", json::parse(index.ToJson())},
              {"warm_start", warm_start},
              {"holdout_fraction", holdout_fraction},
              {"fold_in",
               {{"held_out", fold_in_held_out},
                {"walks_per_row", fold_in.walks_per_row},
                {"window", fold_in.window},
                {"negatives", fold_in.negatives},
                {"passes", fold_in.passes},
                {"learning_rate", fold_in.learning_rate},
                {"new_edge_share", fold_in.new_edge_share},
                {"min_mean_cosine", min_fold_in_cosine}}},
              {"index_shards", index_shards},
              {"training_ranks", training_ranks},
              {"graph_parts", graph_parts},
              {"training_model", training_model},
              {"sync_tokens_per_row", sync_tokens_per_row},
              {"passes_per_epoch", passes_per_epoch},
              {"recall_sample", recall_sample},
              {"drift_sample", drift_sample},
              {"consistency", json::parse(consistency.ToJson())},
              {"consistent_recall",
               {{"train", train_consistent_recall},
                {"config", json::parse(consistent_recall.ToJson())},
                {"holdout_days", consistent_recall_holdout_days}}},
              {"ranker",
               {{"train", train_ranker},
                {"config", json::parse(ranker.ToJson())},
                {"test_days", ranker_test_days},
                {"validation_days", ranker_validation_days},
                {"max_train_impressions", ranker_max_train_impressions},
                {"max_eval_impressions", ranker_max_eval_impressions}}},
              {"gate",
               {{"min_link_auc", min_link_auc},
                {"min_hnsw_recall", min_hnsw_recall},
                {"min_neighbour_overlap", min_neighbour_overlap},
                {"min_ranker_click_auc", min_ranker_click_auc}}}}
      .dump();
}

walk::WalkConfig FoldInWalks(const BatchConfig& config) {
  walk::WalkConfig short_walks = config.walk;
  short_walks.walk_length = config.fold_in.window + 1;
  return short_walks;
}

}  // namespace gr::pipeline
