#include "ranking/ranker.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "embed/evaluation.h"

namespace gr::ranking {
namespace {

constexpr uint32_t kRankerMagic = 0x4b525247;  // "GRRK" little-endian
constexpr uint32_t kRankerVersion = 2;  // 2: six tasks, architectures by name
static_assert(kUnobserved == graph::kUnobservedOutcome);
constexpr uint32_t kDay = 86400;

double Auc(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes, int task,
           std::span<const uint32_t> rows) {
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  uint64_t positives = 0;
  for (const uint32_t i : rows) {
    if (!outcomes[i].Observed(task)) continue;
    scores.push_back(predictions[i][task]);
    const uint8_t label = outcomes[i].Label(task);
    labels.push_back(label);
    positives += label;
  }
  if (positives == 0 || positives == labels.size()) return std::nan("");
  return embed::RocAuc(scores, labels);
}

nlohmann::json FeatureConfigToJson(const FeatureConfig& c) {
  return {{"groups", FeatureGroupNames(c.groups)}, {"clusters", c.clusters},
          {"kmeans_iterations", c.kmeans_iterations}, {"kmeans_sample", c.kmeans_sample}, {"seed", c.seed},
          {"post_min_interactions", c.post_rule.min_interactions},
          {"post_first_engagers", c.post_rule.first_engagers}, {"post_author_weight", c.post_rule.author_weight}};
}

FeatureConfig FeatureConfigFromJson(const nlohmann::json& j) {
  FeatureConfig c;
  c.groups = ParseFeatureGroups(j.at("groups").get<std::string>());
  c.clusters = j.at("clusters");
  c.kmeans_iterations = j.at("kmeans_iterations");
  c.kmeans_sample = j.at("kmeans_sample");
  c.seed = j.at("seed");
  c.post_rule.min_interactions = j.at("post_min_interactions");
  c.post_rule.first_engagers = j.at("post_first_engagers");
  c.post_rule.author_weight = j.at("post_author_weight");
  return c;
}

}  // namespace

std::string FeatureConfig::ToJson() const { return FeatureConfigToJson(*this).dump(); }

std::string RankerConfig::ToJson() const {
  return nlohmann::json{{"features", nlohmann::json::parse(features.ToJson())},
                        {"model", nlohmann::json::parse(model.ToJson())},
                        {"fusion", {{"alpha", fusion.alpha}, {"beta", fusion.beta}}},
                        {"objective",
                         {{"interaction_weight", objective.interaction_weight},
                          {"dwell_weight", objective.dwell_weight},
                          {"negative_weight", objective.negative_weight},
                          {"profile_visit_weight", objective.profile_visit_weight},
                          {"completion_weight", objective.completion_weight},
                          {"top_fraction", objective.top_fraction}}},
                        {"search_fusion", search_fusion},
                        {"search",
                         {{"method", FusionMethodName(search.method)},
                          {"iterations", search.iterations},
                          {"population", search.population},
                          {"elite", search.elite},
                          {"seed", search.seed}}}}
      .dump();
}

TimeSplit SplitByTime(std::span<const Impression> impressions, uint32_t test_days, uint32_t validation_days) {
  GR_CHECK(!impressions.empty(), "no impressions to split");
  GR_CHECK(test_days >= 1, "test_days must be >= 1");
  uint32_t newest = 0, oldest = UINT32_MAX;
  for (const Impression& i : impressions) {
    newest = std::max(newest, i.time);
    oldest = std::min(oldest, i.time);
  }
  // The test days end with the newest impression's day.
  const uint32_t end_of_day = (newest / kDay + 1) * kDay;
  const auto back = [&](uint64_t days) {
    return static_cast<uint32_t>(days * kDay >= end_of_day ? 0 : end_of_day - days * kDay);
  };
  // A short span keeps at least one training day by giving up validation days
  // (down to one; the fusion guard then has no day of its own).
  while (validation_days > 1 && back(uint64_t{test_days} + validation_days) <= oldest) --validation_days;
  TimeSplit split;
  split.test_start = back(test_days);
  split.validation_start = back(uint64_t{test_days} + validation_days);
  split.validation_days = validation_days;
  for (const Impression& i : impressions) {
    if (i.time >= split.test_start) {
      split.test.push_back(i);
    } else if (i.time >= split.validation_start) {
      split.validation.push_back(i);
    } else {
      split.train.push_back(i);
    }
  }
  GR_CHECK(!split.train.empty(), "no impressions before the last ", test_days + validation_days,
           " days (test + validation) are left for training");
  return split;
}

Examples BuildExamples(const FeatureSource& features, std::span<const Impression> impressions, int threads,
                       std::vector<Outcome>* outcomes, uint64_t* skipped) {
  const graph::SocialGraph& g = features.graph();
  std::vector<uint32_t> known;
  for (uint32_t i = 0; i < impressions.size(); ++i)
    if (g.accounts.Find(impressions[i].account) != kNoVertex && g.posts.Find(impressions[i].post) != kNoVertex)
      known.push_back(i);
  if (skipped != nullptr) *skipped = impressions.size() - known.size();
  Examples ex;
  ex.dense_dim = features.dense_dim();
  ex.cluster_slots = static_cast<size_t>(features.cluster_slots());
  const size_t n = known.size();
  ex.dense.resize(n * ex.dense_dim);
  ex.clusters.resize(n * ex.cluster_slots);
  ex.clicked.resize(n);
  ex.interacted.resize(n);
  ex.dwell_seconds.resize(n);
  ex.negative.resize(n);
  ex.profile_visit.resize(n);
  ex.completed.resize(n);
  ParallelFor(static_cast<int64_t>(n), threads, 256, [&](int64_t k) {
    const Impression& i = impressions[known[k]];
    features.Extract(i.account, i.post, i.time, ex.dense.data() + k * ex.dense_dim, ex.clusters.data() + k * ex.cluster_slots);
    ex.clicked[k] = i.clicked;
    ex.interacted[k] = i.interacted;
    ex.dwell_seconds[k] = i.clicked ? static_cast<float>(i.dwell_ms) / 1000.0f : 0.0f;
    ex.negative[k] = i.negative;
    ex.profile_visit[k] = i.profile_visit;
    ex.completed[k] = i.clicked && i.video_ms > 0 ? i.completed : kUnobserved;
  });
  if (outcomes != nullptr) {
    outcomes->clear();
    for (size_t k = 0; k < n; ++k)
      outcomes->push_back({impressions[known[k]].account, ex.clicked[k], ex.interacted[k], ex.dwell_seconds[k],
                           ex.negative[k], ex.profile_visit[k], ex.completed[k]});
  }
  return ex;
}

RankingMetrics EvaluateImpressions(const Ranker& ranker, const FeatureSource& features,
                                   std::span<const Impression> impressions, int threads, uint64_t* skipped) {
  std::vector<Outcome> outcomes;
  const Examples examples = BuildExamples(features, impressions, threads, &outcomes, skipped);
  GR_CHECK(examples.size() > 0, "none of the ", impressions.size(), " impressions to evaluate is known to the graph");
  return EvaluateRanking(ranker.Predict(features, examples, threads), outcomes, ranker.fusion(), ranker.objective());
}

RankingMetrics EvaluateRanking(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes,
                               const FusionWeights& fusion, const FusionObjective& objective) {
  GR_CHECK(predictions.size() == outcomes.size(), "predictions and outcomes differ in length");
  RankingMetrics m;
  m.impressions = outcomes.size();
  std::vector<uint32_t> all(outcomes.size());
  std::iota(all.begin(), all.end(), 0u);
  double dwell_se = 0, dwell_ae = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    m.clicks += outcomes[i].clicked;
    m.interactions += outcomes[i].interacted;
    if (outcomes[i].clicked) {
      const double error = std::log1p(predictions[i][kDwellTask]) - std::log1p(outcomes[i].dwell_seconds);
      dwell_se += error * error;
      dwell_ae += std::abs(predictions[i][kDwellTask] - outcomes[i].dwell_seconds);
    }
  }
  for (const Outcome& o : outcomes) {
    m.negative_observed += o.Observed(kNegativeTask);
    m.negatives += o.Observed(kNegativeTask) && o.Label(kNegativeTask);
    m.profile_visit_observed += o.Observed(kProfileVisitTask);
    m.profile_visits += o.Observed(kProfileVisitTask) && o.Label(kProfileVisitTask);
    m.completion_observed += o.Observed(kCompletionTask);
    m.completions += o.Observed(kCompletionTask) && o.Label(kCompletionTask);
  }
  m.auc_click = Auc(predictions, outcomes, kClickTask, all);
  m.auc_interaction = Auc(predictions, outcomes, kInteractionTask, all);
  m.auc_negative = Auc(predictions, outcomes, kNegativeTask, all);
  m.auc_profile_visit = Auc(predictions, outcomes, kProfileVisitTask, all);
  m.auc_completion = Auc(predictions, outcomes, kCompletionTask, all);
  if (m.clicks > 0) {
    m.dwell_rmse_log = std::sqrt(dwell_se / static_cast<double>(m.clicks));
    m.dwell_mae_seconds = dwell_ae / static_cast<double>(m.clicks);
  }
  // GAUC: click AUC per account, weighted by its impressions.
  std::vector<uint32_t> order = all;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return outcomes[a].account < outcomes[b].account; });
  double weighted = 0, weight = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && outcomes[order[j]].account == outcomes[order[i]].account) ++j;
    const double auc = Auc(predictions, outcomes, kClickTask, std::span(order).subspan(i, j - i));
    if (!std::isnan(auc)) {
      weighted += auc * static_cast<double>(j - i);
      weight += static_cast<double>(j - i);
      ++m.gauc_accounts;
    }
    i = j;
  }
  m.gauc_click = weight > 0 ? weighted / weight : std::nan("");
  std::vector<float> fused(predictions.size());
  for (size_t i = 0; i < predictions.size(); ++i) fused[i] = FusedScore(predictions[i], fusion);
  m.objective = FusionObjectiveValue(fused, outcomes, objective);
  return m;
}

Ranker Ranker::Train(const FeatureSource& features, std::span<const Impression> train,
                     std::span<const Impression> validation, const RankerConfig& config, RankerTrainReport* report) {
  config.fusion.Validate();
  config.objective.Validate();
  GR_CHECK(features.config().groups == config.features.groups, "the feature source was built for other feature groups");
  RankerTrainReport local;
  RankerTrainReport& rep = report != nullptr ? *report : local;
  rep = {};
  const auto start = std::chrono::steady_clock::now();
  uint64_t skipped = 0;
  const Examples examples = BuildExamples(features, train, config.model.threads, nullptr, &skipped);
  rep.skipped += skipped;
  rep.train_examples = examples.size();
  std::vector<Outcome> validation_outcomes;
  const Examples validation_examples =
      BuildExamples(features, validation, config.model.threads, &validation_outcomes, &skipped);
  rep.skipped += skipped;
  rep.validation_examples = validation_examples.size();
  rep.feature_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  GR_CHECK(examples.size() > 0, "none of the ", train.size(), " training impressions has an account and a post the graph knows");

  Ranker ranker;
  ranker.feature_config_ = features.config();
  ranker.centroids_ = features.centroids();
  ranker.objective_ = config.objective;
  ranker.model_ = MultiTaskModel::Train(examples, features.cluster_rows(), config.model, &rep.training);
  // A task no training impression recorded has an untrained head: out of the fusion.
  FusionWeights fusion_start = config.fusion;
  FusionSearchConfig search = config.search;
  for (int t = 0; t < kNumTasks; ++t) {
    if (rep.training.task_examples[t] > 0) continue;
    rep.task_untrained[t] = true;
    fusion_start.beta[t] = 0;
    search.frozen_tasks |= 1u << t;
  }
  ranker.fusion_ = fusion_start;
  if (config.search_fusion && validation_examples.size() > 0) {
    // The newer half of the validation days (the newest day of two) guards
    // the search: it runs on the days before, and its choice is kept only if
    // not worse than the start on the guard days.
    uint32_t newest = 0, oldest = UINT32_MAX;
    for (const Impression& i : validation) {
      newest = std::max(newest, i.time);
      oldest = std::min(oldest, i.time);
    }
    const uint32_t days = newest / kDay - oldest / kDay + 1;
    const uint32_t guard_start = (newest / kDay + 1 - std::max(1u, days / 2)) * kDay;
    std::vector<Impression> searched, guard;
    for (const Impression& i : validation) (i.time < guard_start ? searched : guard).push_back(i);
    const bool guarded = !searched.empty();
    std::vector<Outcome> search_outcomes, guard_outcomes;
    const Examples search_examples =
        guarded ? BuildExamples(features, searched, config.model.threads, &search_outcomes) : Examples{};
    const Examples& search_on = guarded ? search_examples : validation_examples;
    if (!guarded) search_outcomes = validation_outcomes;
    try {
      rep.fusion = SearchFusion(ranker.Predict(features, search_on, config.model.threads), search_outcomes,
                                config.objective, fusion_start, search);
      rep.fusion_searched = true;
      ranker.fusion_ = rep.fusion.best;
    } catch (const Error&) {
      // No account with two validation impressions: keep the given weights.
    }
    if (rep.fusion_searched && guarded) {
      const Examples guard_examples = BuildExamples(features, guard, config.model.threads, &guard_outcomes);
      if (guard_examples.size() > 0) {
        const std::vector<TaskScores> predictions = ranker.Predict(features, guard_examples, config.model.threads);
        std::vector<float> fused(predictions.size());
        const auto value = [&](const FusionWeights& w) {
          for (size_t i = 0; i < predictions.size(); ++i) fused[i] = FusedScore(predictions[i], w);
          return FusionObjectiveValue(fused, guard_outcomes, config.objective);
        };
        rep.fusion_guarded = true;
        rep.guard_start_value = value(fusion_start);
        rep.guard_best_value = value(rep.fusion.best);
        if (rep.guard_best_value < rep.guard_start_value) {
          rep.fusion_kept_start = true;
          ranker.fusion_ = fusion_start;
        }
      }
    }
  }
  return ranker;
}

void Ranker::set_fusion(const FusionWeights& fusion) {
  fusion.Validate();
  fusion_ = fusion;
}

void Ranker::CheckFeatures(const FeatureSource& features) const {
  GR_CHECK(features.config().groups == feature_config_.groups && features.dense_dim() == model_.dense_dim() &&
               static_cast<size_t>(features.cluster_slots()) == model_.cluster_slots(),
           "the features (", FeatureGroupNames(features.config().groups), ", ", features.dense_dim(),
           " dense) do not match the ranker's (", FeatureGroupNames(feature_config_.groups), ", ", model_.dense_dim(),
           " dense): build them from the ranker's feature configuration and an embedding of the same dimension");
}

std::vector<TaskScores> Ranker::Predict(const FeatureSource& features, const Examples& examples, int threads) const {
  CheckFeatures(features);
  std::vector<TaskScores> out(examples.size());
  constexpr size_t kBlock = 512;
  const size_t blocks = (examples.size() + kBlock - 1) / kBlock;
  ParallelFor(static_cast<int64_t>(blocks), threads, 1, [&](int64_t b) {
    const size_t lo = static_cast<size_t>(b) * kBlock, n = std::min(kBlock, examples.size() - lo);
    model_.Predict(examples.dense.data() + lo * examples.dense_dim, examples.clusters.data() + lo * examples.cluster_slots, n,
                   &out[lo]);
  });
  return out;
}

std::vector<Ranker::Scored> Ranker::Rank(const FeatureSource& features, ExternalId account,
                                         std::span<const ExternalId> posts, uint32_t time,
                                         std::span<const NewPost> new_posts) const {
  CheckFeatures(features);
  const size_t dd = features.dense_dim(), slots = static_cast<size_t>(features.cluster_slots());
  std::vector<float> dense(posts.size() * dd);
  std::vector<uint32_t> clusters(posts.size() * slots);
  for (size_t i = 0; i < posts.size(); ++i) {
    float* row = dense.data() + i * dd;
    uint32_t* row_clusters = clusters.data() + i * slots;
    const auto fresh = features.graph().posts.Find(posts[i]) != kNoVertex
                           ? new_posts.end()
                           : std::find_if(new_posts.begin(), new_posts.end(),
                                          [&](const NewPost& p) { return p.id == posts[i]; });
    if (fresh == new_posts.end()) {
      features.Extract(account, posts[i], time, row, row_clusters);  // throws for a post known to neither
    } else {
      features.ExtractNewPost(account, *fresh, time, row, row_clusters);
    }
  }
  std::vector<TaskScores> scores(posts.size());
  model_.Predict(dense.data(), clusters.data(), posts.size(), scores.data());
  std::vector<Scored> ranked(posts.size());
  for (size_t i = 0; i < posts.size(); ++i) ranked[i] = {posts[i], scores[i], FusedScore(scores[i], fusion_)};
  std::stable_sort(ranked.begin(), ranked.end(), [](const Scored& a, const Scored& b) { return a.fused > b.fused; });
  return ranked;
}

void Ranker::Save(const std::string& path) const {
  SectionWriter writer(path, kRankerMagic, kRankerVersion);
  writer.AddString("ranker.features", FeatureConfigToJson(feature_config_).dump());
  const std::vector<uint64_t> shape{centroids_.rows(), centroids_.cols()};
  writer.Add("ranker.centroid_shape", shape);
  writer.Add("ranker.centroids", centroids_.Data());
  const nlohmann::json fusion = {{"alpha", fusion_.alpha}, {"beta", fusion_.beta},
                                 {"interaction_weight", objective_.interaction_weight},
                                 {"dwell_weight", objective_.dwell_weight},
                                 {"negative_weight", objective_.negative_weight},
                                 {"profile_visit_weight", objective_.profile_visit_weight},
                                 {"completion_weight", objective_.completion_weight},
                                 {"top_fraction", objective_.top_fraction}};
  writer.AddString("ranker.fusion", fusion.dump());
  model_.Save(writer);
  writer.Commit();
}

Ranker Ranker::Load(const std::string& path) {
  SectionReader reader(path, kRankerMagic, "graphrec ranker");
  if (reader.version() != kRankerVersion)
    reader.Fail(StrCat("ranker format version ", reader.version(), " is not supported (this build reads ", kRankerVersion, ")"));
  Ranker ranker;
  try {
    ranker.feature_config_ = FeatureConfigFromJson(nlohmann::json::parse(reader.ReadString("ranker.features")));
    ranker.feature_config_.Validate();
  } catch (const nlohmann::json::exception& e) {
    reader.Fail(StrCat("bad feature configuration: ", e.what()));
  } catch (const Error& e) {
    reader.Fail(StrCat("bad feature configuration: ", e.what()));
  }
  const std::vector<uint64_t> shape = reader.Read<uint64_t>("ranker.centroid_shape");
  const std::vector<float> centroids = reader.Read<float>("ranker.centroids");
  if (shape.size() != 2 || shape[0] * shape[1] != centroids.size() || shape[0] > 65536 || shape[1] > 65536)
    reader.Fail("bad centroid shape");
  ranker.centroids_ = FloatMatrix(shape[0], shape[1]);
  std::copy(centroids.begin(), centroids.end(), ranker.centroids_.Data().begin());
  try {
    const nlohmann::json fusion = nlohmann::json::parse(reader.ReadString("ranker.fusion"));
    ranker.fusion_.alpha = fusion.at("alpha");
    ranker.fusion_.beta = fusion.at("beta");
    ranker.objective_.interaction_weight = fusion.at("interaction_weight");
    ranker.objective_.dwell_weight = fusion.at("dwell_weight");
    ranker.objective_.negative_weight = fusion.at("negative_weight");
    ranker.objective_.profile_visit_weight = fusion.at("profile_visit_weight");
    ranker.objective_.completion_weight = fusion.at("completion_weight");
    ranker.objective_.top_fraction = fusion.at("top_fraction");
    ranker.fusion_.Validate();
    ranker.objective_.Validate();
  } catch (const nlohmann::json::exception& e) {
    reader.Fail(StrCat("bad fusion weights: ", e.what()));
  } catch (const Error& e) {
    reader.Fail(StrCat("bad fusion weights: ", e.what()));
  }
  ranker.model_ = MultiTaskModel::Load(reader);
  reader.ExpectEnd();
  const bool clusters = (ranker.feature_config_.groups & kClusters) != 0;
  if (ranker.model_.cluster_slots() != (clusters ? static_cast<size_t>(kClusterSlots) : 0u))
    reader.Fail("the model's cluster slots disagree with the feature configuration");
  if ((ranker.feature_config_.groups & (kClusters | kMatching)) != 0 &&
      ranker.centroids_.rows() != ranker.feature_config_.clusters)
    reader.Fail("the centroid count disagrees with the feature configuration");
  return ranker;
}

}  // namespace gr::ranking
