// Ranker: the feature configuration with its k-means centroids, the
// multi-task model and the fusion weights; trained from impressions, saved
// as ranker.bin (core/binary_io.h layout, magic "GRRK"), and used to score
// candidate posts for an account (graphrec rank, the service's Rank call).
//
// Training data: the impressions file, split by time (SplitByTime): the last
// `test_days` days are the test set, the `validation_days` before them tune
// the fusion weights, everything earlier trains the model. Impressions whose
// account or post the graph does not know are skipped and counted.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/ingest.h"
#include "ranking/features.h"
#include "ranking/fusion.h"
#include "ranking/model.h"

namespace gr::ranking {

using graph::Impression;

struct TimeSplit {
  std::vector<Impression> train, validation, test;
  uint32_t validation_start = 0;  // Unix seconds: first second of the validation days
  uint32_t test_start = 0;        // first second of the test days
  uint32_t validation_days = 0;   // as asked, or fewer for a short span
};
// Days are counted back from the newest impression (whole 86,400 s days).
// When the impressions span too few days, validation days are dropped (down
// to one) so that training keeps a day; TimeSplit::validation_days says how
// many were used. Throws kInvalidArgument if the training part is still empty.
TimeSplit SplitByTime(std::span<const Impression> impressions, uint32_t test_days, uint32_t validation_days);

// Feature rows and labels of the impressions the graph knows.
Examples BuildExamples(const FeatureSource& features, std::span<const Impression> impressions, int threads,
                       std::vector<Outcome>* outcomes = nullptr, uint64_t* skipped = nullptr);

struct RankingMetrics {
  uint64_t impressions = 0, clicks = 0, interactions = 0;
  double auc_click = 0, auc_interaction = 0;
  // The sparse tasks, each over its sample space (NaN when it has one class or none).
  uint64_t negative_observed = 0, negatives = 0, profile_visit_observed = 0, profile_visits = 0;
  uint64_t completion_observed = 0, completions = 0;
  double auc_negative = 0, auc_profile_visit = 0, auc_completion = 0;
  double gauc_click = 0;     // per-account click AUC weighted by impressions, accounts with both classes
  uint64_t gauc_accounts = 0;
  double dwell_rmse_log = 0;    // clicked impressions: RMSE of log(1 + dwell seconds)
  double dwell_mae_seconds = 0;
  double objective = 0;         // FusionObjectiveValue of the fused scores
  std::string ToText() const;
  std::string ToJson() const;
};

RankingMetrics EvaluateRanking(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes,
                               const FusionWeights& fusion, const FusionObjective& objective);

class Ranker;
// Scores `impressions` with `ranker` (features built for it) and evaluates
// them; impressions whose account or post the graph does not know are
// skipped and counted in *skipped. Throws kInvalidArgument when none is known.
RankingMetrics EvaluateImpressions(const Ranker& ranker, const FeatureSource& features,
                                   std::span<const Impression> impressions, int threads, uint64_t* skipped = nullptr);

struct RankerConfig {
  FeatureConfig features;
  ModelConfig model;
  FusionWeights fusion;         // used as given, or as the search's start
  FusionObjective objective;
  bool search_fusion = true;    // tune fusion on the validation impressions (when there are any)
  FusionSearchConfig search;    // the method, CEM or ES, and its budget

  std::string ToJson() const;  // every setting, for manifests
};

struct RankerTrainReport {
  uint64_t train_examples = 0, validation_examples = 0, skipped = 0;
  TrainingReport training;
  bool fusion_searched = false;
  FusionSearchResult fusion;
  // The held-out guard: the newer half of the validation days, which the search did not see.
  bool fusion_guarded = false, fusion_kept_start = false;
  double guard_start_value = 0, guard_best_value = 0;
  std::array<bool, kNumTasks> task_untrained{};  // no training example: its fusion beta is set to 0
  double feature_seconds = 0;
  std::string ToText() const;
  std::string ToJson() const;  // examples, per-task loss weights, SNR connections, the fusion search and guard
};

class Ranker {
 public:
  struct Scored {
    ExternalId post;
    TaskScores scores;
    float fused;
  };

  // `features` must have been built with config.features (it fitted the centroids).
  static Ranker Train(const FeatureSource& features, std::span<const Impression> train,
                      std::span<const Impression> validation, const RankerConfig& config,
                      RankerTrainReport* report = nullptr);

  // Writes atomically. Load throws kIo / kCorruption naming the file.
  void Save(const std::string& path) const;
  static Ranker Load(const std::string& path);

  // Task scores of each row (rows' accounts and posts must be known to the
  // graph: use BuildExamples first for arbitrary impressions).
  std::vector<TaskScores> Predict(const FeatureSource& features, const Examples& examples, int threads) const;

  // Scores `posts` for `account` at `time`, best fused score first (ties by
  // input order). A post the graph does not know is scored with cold-start
  // features (FeatureSource::ExtractNewPost) when `new_posts` describes it.
  // Throws kNotFound naming an unknown account or a post known to neither,
  // and kInvalidArgument if `features` was not built for this ranker.
  std::vector<Scored> Rank(const FeatureSource& features, ExternalId account, std::span<const ExternalId> posts,
                           uint32_t time, std::span<const NewPost> new_posts = {}) const;

  const FeatureConfig& feature_config() const { return feature_config_; }
  const FloatMatrix& centroids() const { return centroids_; }
  const MultiTaskModel& model() const { return model_; }
  const FusionWeights& fusion() const { return fusion_; }
  const FusionObjective& objective() const { return objective_; }
  void set_fusion(const FusionWeights& fusion);

 private:
  void CheckFeatures(const FeatureSource& features) const;

  FeatureConfig feature_config_;
  FloatMatrix centroids_;
  MultiTaskModel model_;
  FusionWeights fusion_;
  FusionObjective objective_;
};

}  // namespace gr::ranking
