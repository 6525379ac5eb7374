// The batch's stages after the evaluation, over the full snapshot and the
// new vectors: the ranker (trained on the impressions before the last test
// day(s), scored on the last, ranker.bin), the ranker-consistent recall
// towers and their post index, and recall's consistency with the ranker.
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/rng.h"
#include "eval/consistency.h"
#include "pipeline/internal/batch_run.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/index_io.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::pipeline::internal {

void RankerStage(BatchRun& run, const std::string& impressions_file, const graph::SocialGraph& full,
                 const embed::EmbeddingTable& table) {
  const BatchConfig& c = run.c;
  BatchReport& r = run.report;
  WorkState& work = run.work;
  const int threads = c.run.threads;
  const auto record = [&](const nlohmann::json& m) {
    r.has_ranker = true;
    r.ranker_train_impressions = m.at("train_impressions");
    r.ranker_test_impressions = m.at("test_impressions");
    r.ranker_auc_click = m.at("auc_click");
    r.ranker_auc_interaction = m.at("auc_interaction");
    r.ranker_gauc_click = m.at("gauc_click");
    r.ranker_dwell_rmse_log = m.at("dwell_rmse_log");
  };
  if (work.Done("rank")) {
    record(work.Result("rank"));
    return;
  }
  run.Stage("ranker", [&] {
    graph::IngestConfig read;
    read.threads = threads;
    ranking::TimeSplit split;
    {
      const std::vector<graph::Impression> impressions = graph::ReadImpressions(impressions_file, read);
      GR_CHECK(!impressions.empty(), impressions_file, " holds no impressions");
      split = ranking::SplitByTime(impressions, c.ranker_test_days, c.ranker_validation_days);
      if (split.validation_days < c.ranker_validation_days)
        spdlog::warn("the impressions span too few days for {} ranker validation days; used {}",
                     c.ranker_validation_days, split.validation_days);
    }
    // Seeded samples bound the stage's time and memory (a feature row is ~1.6 KB at dim 128).
    const auto sample = [&](std::vector<graph::Impression>& rows, uint64_t max, uint64_t salt) {
      if (max == 0 || rows.size() <= max) return;
      Rng rng(MixSeed(c.run.SeedFor(SeedStream::kRankerSample), salt));
      rows.resize(ShuffleFront(rows, max, rng));
      rows.shrink_to_fit();
    };
    sample(split.train, c.ranker_max_train_impressions, 1);
    sample(split.validation, c.ranker_max_eval_impressions, 2);
    sample(split.test, c.ranker_max_eval_impressions, 3);
    const ranking::RankerConfig& config = c.ranker;
    const ranking::FeatureSource features(full, table, config.features, {}, threads);
    ranking::RankerTrainReport train_report;
    const ranking::Ranker ranker = ranking::Ranker::Train(features, split.train, split.validation, config, &train_report);
    spdlog::info("ranker trained: {}", train_report.ToText());
    uint64_t skipped = 0;
    const ranking::RankingMetrics m =
        ranking::EvaluateImpressions(ranker, features, split.test, threads, &skipped);
    const uint64_t test_impressions = split.test.size() - skipped;
    ranker.Save(work.Path(version::kRankerFile));
    run.AfterStageWork("rank");
    const auto finite = [](double v) { return std::isnan(v) ? 0.0 : v; };  // no positives: fails the gate
    const nlohmann::json result = {{"train_impressions", train_report.train_examples}, {"test_impressions", test_impressions},
                                   {"auc_click", finite(m.auc_click)}, {"auc_interaction", finite(m.auc_interaction)},
                                   {"gauc_click", finite(m.gauc_click)}, {"dwell_rmse_log", finite(m.dwell_rmse_log)}};
    work.MarkDone("rank", result);
    record(result);
  });
}

void ConsistentRecallStage(BatchRun& run, const std::string& impressions_file, const graph::SocialGraph& full,
                           const embed::EmbeddingTable& table) {
  const BatchConfig& c = run.c;
  BatchReport& r = run.report;
  WorkState& work = run.work;
  if (work.Done("consistent recall")) {
    r.consistent_recall_json = work.Result("consistent recall").dump();
    return;
  }
  run.Stage("consistent recall", [&] {
    const ranking::Ranker ranker = ranking::Ranker::Load(work.Path(version::kRankerFile));
    const ranking::FeatureSource features(full, table, ranker.feature_config(), ranker.centroids(), c.run.threads);
    const auto time = static_cast<uint32_t>(full.reference_time + 1 -
                                            int64_t{c.consistent_recall_holdout_days} * 86400);
    std::vector<graph::Impression> impressions;
    if (c.consistent_recall.causal_weight > 0) {
      graph::IngestConfig read;
      read.threads = c.run.threads;
      impressions = graph::ReadImpressions(impressions_file, read);
    }
    ranking::ConsistentRecallReport report;
    const ranking::ConsistentRecall towers = ranking::ConsistentRecall::Train(
        full, table, ranker, features, time, impressions, c.consistent_recall, &report);
    spdlog::info("{}", report.ToText());
    towers.Save(work.Path(version::kConsistentRecallFile));
    // The index holds every post's row at the version's counts (the newest).
    const ranking::ConsistentRecall::PostRows rows =
        towers.PostVectors(full, table, ranker.feature_config().post_rule);
    recall::IndexConfig index_config = c.index;
    index_config.metric = recall::Metric::kInnerProduct;
    recall::SaveIndex(*recall::VectorIndex::Build(rows.ids, rows.vectors, index_config),
                      work.Path(version::IndexFileName(version::IndexFile::kConsistentPosts)));
    run.AfterStageWork("consistent recall");
    r.consistent_recall_json = report.ToJson();
    work.MarkDone("consistent recall", nlohmann::json::parse(r.consistent_recall_json));
  });
}

void ConsistencyStage(BatchRun& run, const graph::SocialGraph& full, const embed::EmbeddingTable& table) {
  BatchReport& r = run.report;
  WorkState& work = run.work;
  if (work.Done("consistency")) {
    r.consistency_json = work.Result("consistency").dump();
    return;
  }
  run.Stage("consistency", [&] {
    const ranking::Ranker ranker = ranking::Ranker::Load(work.Path(version::kRankerFile));
    const recall::RecallIndexes indexes = version::LoadIndexes(work.dir(), table.dim());
    std::unique_ptr<ranking::ConsistentRecall> towers;
    if (const std::string path = work.Path(version::kConsistentRecallFile); std::filesystem::exists(path))
      towers = std::make_unique<ranking::ConsistentRecall>(ranking::ConsistentRecall::Load(path));
    const eval::VersionConsistencyConfig& config = run.c.consistency;
    const ranking::FeatureSource features(full, table, ranker.feature_config(), ranker.centroids(),
                                          config.metric.threads);
    const eval::ConsistencyReport report =
        eval::MeasureVersionConsistency(full, indexes, table, ranker, features, config, towers.get());
    spdlog::info("{}", report.ToText());
    r.consistency_json = report.ToJson();
    work.MarkDone("consistency", nlohmann::json::parse(r.consistency_json));
  });
}

}  // namespace gr::pipeline::internal
