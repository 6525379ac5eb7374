// graphrec rank-train (train the multi-task ranker from impressions),
// graphrec rank-eval (score held-out impressions) and graphrec rank (score
// candidate posts for one account).
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "core/error.h"
#include "core/run_options.h"
#include "embed/embedding_io.h"
#include "ranking/ranker.h"

namespace gr::apps {
namespace {

// What every ranking command reads: the graph snapshot and the embeddings.
struct RankInputs {
  std::string graph, embeddings;
  int workers = 0;
};

void AddInputFlags(CLI::App* cmd, RankInputs& in) {
  cmd->add_option("--graph", in.graph, "graph snapshot (graphrec ingest) with the interactions")->required();
  cmd->add_option("--embeddings", in.embeddings, "account (and post) embeddings, .emb (native) or word2vec")->required();
  cmd->add_option("--workers", in.workers, "threads (0 = all cores)")->capture_default_str();
}

struct Loaded {
  graph::SocialGraph g;
  embed::EmbeddingTable table;
};

Loaded Load(const RankInputs& in) {
  Loaded loaded{LoadGraphInput(in.graph, /*directed=*/true), embed::LoadAnyEmbeddings(in.embeddings)};
  GR_CHECK(loaded.g.num_posts() > 0, in.graph, " has no posts: the ranker needs the interaction graph (graphrec ingest --interactions)");
  return loaded;
}

std::vector<graph::Impression> ReadImpressionFile(const std::string& path, bool skip_bad_lines, int workers) {
  graph::IngestConfig config;
  config.skip_bad_lines = skip_bad_lines;
  config.threads = workers;
  graph::FileReport report;
  std::vector<graph::Impression> impressions = graph::ReadImpressions(path, config, &report);
  spdlog::info("{}: {} impressions{}", path, impressions.size(),
               report.bad_lines > 0 ? fmt::format(", {} bad lines skipped", report.bad_lines) : "");
  for (const std::string& example : report.bad_examples) spdlog::warn("{}", example);
  GR_CHECK(!impressions.empty(), path, " holds no impressions");
  return impressions;
}


struct TrainArgs {
  RankInputs in;
  std::string impressions, output, features = "all", architecture = "mmoe", fusion_search = "cem";
  std::vector<std::string> alpha, beta, task_weights;
  uint32_t test_days = 1, validation_days = 2;
  bool no_fusion_search = false, skip_bad_lines = false;
  uint64_t seed = 1;
  ranking::RankerConfig config;
};

void RunRankTrain(TrainArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const auto architecture = ranking::ParseArchitecture(args.architecture);
  GR_CHECK(architecture.has_value(), "--architecture must be ", ranking::ArchitectureNames(), ", got '",
           Excerpt(args.architecture), "'");
  ranking::RankerConfig& config = args.config;
  config.model.architecture = *architecture;
  if (!args.alpha.empty()) ranking::FusionWeights::ParseInto(args.alpha, "--alpha", config.fusion.alpha);
  if (!args.beta.empty()) ranking::FusionWeights::ParseInto(args.beta, "--beta", config.fusion.beta);
  if (!args.task_weights.empty())
    ranking::FusionWeights::ParseInto(args.task_weights, "--task-weights", config.model.task_weights);
  GR_CHECK(args.fusion_search == "cem" || args.fusion_search == "es",
           "--fusion-search must be cem or es, got '", Excerpt(args.fusion_search), "'");
  config.search.method = args.fusion_search == "es" ? ranking::FusionMethod::kEs : ranking::FusionMethod::kCem;
  config.features.groups = ranking::ParseFeatureGroups(args.features);
  config.model.threads = args.in.workers;
  config.search_fusion = !args.no_fusion_search;
  // One seed for every source of the ranker's randomness, as the batch derives it.
  config.model.seed = config.features.seed = config.search.seed =
      RunOptions{.threads = args.in.workers, .seed = args.seed}.SeedFor(SeedStream::kRanker);
  config.features.Validate();
  config.model.Validate();

  const Loaded loaded = Load(args.in);
  const std::vector<graph::Impression> impressions =
      ReadImpressionFile(args.impressions, args.skip_bad_lines, args.in.workers);
  const ranking::TimeSplit split = ranking::SplitByTime(impressions, args.test_days, args.validation_days);
  spdlog::info("split by time: train {} (before {}), validation {} ({} days), test {} (from {})", split.train.size(),
               split.validation_start, split.validation.size(), split.validation_days, split.test.size(),
               split.test_start);
  if (split.validation_days < args.validation_days)
    spdlog::warn("the impressions span too few days for {} validation days; used {}", args.validation_days,
                 split.validation_days);
  const ranking::FeatureSource features(loaded.g, loaded.table, config.features, {}, args.in.workers);
  ranking::RankerTrainReport report;
  const ranking::Ranker ranker = ranking::Ranker::Train(features, split.train, split.validation, config, &report);
  ranker.Save(args.output);
  uint64_t skipped = 0;
  const ranking::RankingMetrics test = ranking::EvaluateImpressions(ranker, features, split.test, args.in.workers, &skipped);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (JsonOutput()) {
    PrintJson({{"architecture", ranking::ArchitectureName(config.model.architecture)},
               {"features", ranking::FeatureGroupNames(config.features.groups)},
               {"train_examples", report.train_examples}, {"validation_examples", report.validation_examples},
               {"skipped_examples", report.skipped}, {"training", nlohmann::json::parse(report.ToJson())},
               {"fusion", {{"alpha", ranker.fusion().alpha}, {"beta", ranker.fusion().beta}}},
               {"test", nlohmann::json::parse(test.ToJson())},
               {"output", args.output}, {"seconds", seconds}});
    return;
  }
  std::printf("%s# test days (held out by time)\n%s", report.ToText().c_str(), test.ToText().c_str());
  std::printf("ranker (%s, features %s) -> %s in %.1f s\n", ranking::ArchitectureName(config.model.architecture),
              ranking::FeatureGroupNames(config.features.groups).c_str(), args.output.c_str(), seconds);
}

struct EvalArgs {
  RankInputs in;
  std::string impressions, model;
  uint32_t test_days = 1;
  bool all = false, skip_bad_lines = false;
};

void RunRankEval(const EvalArgs& args) {
  const ranking::Ranker ranker = ranking::Ranker::Load(args.model);
  const Loaded loaded = Load(args.in);
  const ranking::FeatureSource features(loaded.g, loaded.table, ranker.feature_config(), ranker.centroids(),
                                        args.in.workers);
  const std::vector<graph::Impression> impressions =
      ReadImpressionFile(args.impressions, args.skip_bad_lines, args.in.workers);
  std::vector<graph::Impression> scored;
  if (args.all) {
    scored = impressions;
  } else {
    scored = ranking::SplitByTime(impressions, args.test_days, 0).test;
  }
  uint64_t skipped = 0;
  const ranking::RankingMetrics m = ranking::EvaluateImpressions(ranker, features, scored, args.in.workers, &skipped);
  if (skipped > 0) spdlog::warn("{} impressions skipped: account or post unknown to the graph", skipped);
  if (JsonOutput()) {
    nlohmann::json out = nlohmann::json::parse(m.ToJson());
    out["scored"] = args.all ? "all" : "last_days";
    out["skipped_impressions"] = skipped;
    PrintJson(out);
  } else {
    std::printf("# %s\n%s", args.all ? "all impressions" : "last days", m.ToText().c_str());
  }
}

struct RankArgs {
  RankInputs in;
  std::string model, posts_file;
  ExternalId account = 0;
  std::vector<ExternalId> posts;
  int64_t time = -1;
};

void RunRank(const RankArgs& args) {
  const ranking::Ranker ranker = ranking::Ranker::Load(args.model);
  const Loaded loaded = Load(args.in);
  const ranking::FeatureSource features(loaded.g, loaded.table, ranker.feature_config(), ranker.centroids(),
                                        args.in.workers);
  std::vector<ExternalId> posts = args.posts;
  if (!args.posts_file.empty()) ReadIdFile(args.posts_file, "a post id", posts);
  GR_CHECK(!posts.empty(), "give --posts or --posts-file");
  const auto time = static_cast<uint32_t>(args.time >= 0 ? args.time : loaded.g.reference_time);
  const auto ranked = ranker.Rank(features, args.account, posts, time);
  if (JsonOutput()) {
    nlohmann::json out = {{"account", JsonId(args.account)}, {"time", time}, {"results", nlohmann::json::array()}};
    for (const auto& r : ranked)
      out["results"].push_back({{"post", JsonId(r.post)}, {"fused", r.fused}, {"click", r.scores[ranking::kClickTask]},
                                {"interaction", r.scores[ranking::kInteractionTask]},
                                {"dwell_seconds", r.scores[ranking::kDwellTask]},
                                {"negative", r.scores[ranking::kNegativeTask]},
                                {"profile_visit", r.scores[ranking::kProfileVisitTask]},
                                {"completion", r.scores[ranking::kCompletionTask]}});
    PrintJson(out);
    return;
  }
  std::printf("# account %llu at %u; fused = %s\n# post\tfused\tclick\tinteraction\tdwell_s\tnegative\tprofile_visit\tcompletion\n",
              static_cast<unsigned long long>(args.account), time, ranker.fusion().ToText().c_str());
  for (const auto& r : ranked)
    std::printf("p%llu\t%.6g\t%.4f\t%.4f\t%.1f\t%.4f\t%.4f\t%.4f\n", static_cast<unsigned long long>(r.post), r.fused,
                r.scores[ranking::kClickTask], r.scores[ranking::kInteractionTask], r.scores[ranking::kDwellTask],
                r.scores[ranking::kNegativeTask], r.scores[ranking::kProfileVisitTask],
                r.scores[ranking::kCompletionTask]);
}

}  // namespace

void AddRankCommands(CLI::App& app) {
  {
    auto args = std::make_shared<TrainArgs>();
    CLI::App* cmd = app.add_subcommand(
        "rank-train", "Train the multi-task ranker (click, interaction, dwell, negative feedback, profile visit, "
                      "video completion) on impressions split by time; "
                      "prints the held-out test days' metrics");
    AddInputFlags(cmd, args->in);
    cmd->add_option("--impressions", args->impressions, "impressions file (account_id, post_id, timestamp, clicked, interacted, dwell_ms[, negative, profile_visit, video_ms, completed])")->required();
    cmd->add_option("--output", args->output, "ranker file to write (ranker.bin)")->required();
    cmd->add_option("--test-days", args->test_days, "last days held out for the test metrics")->capture_default_str();
    cmd->add_option("--validation-days", args->validation_days, "days before the test days that tune the fusion weights (0 = none; with 2 or more the newer half is held out to guard the search)")->capture_default_str();
    cmd->add_option("--features", args->features, "feature groups: all, or a list of counters,social,similarity,embeddings,clusters,matching")->capture_default_str();
    cmd->add_option("--clusters", args->config.features.clusters, "k of the k-means cluster-id feature")->capture_default_str();
    cmd->add_option("--kmeans-iterations", args->config.features.kmeans_iterations, "k-means iterations")->capture_default_str();
    cmd->add_option("--architecture", args->architecture, ranking::ArchitectureNames())->capture_default_str();
    ranking::ModelConfig& m = args->config.model;
    cmd->add_option("--experts", m.experts, "experts (PLE: shared experts per level)")->capture_default_str();
    cmd->add_option("--task-experts", m.task_experts, "PLE: each task's own experts per level")->capture_default_str();
    cmd->add_option("--levels", m.levels, "PLE: CGC levels; SNR: expert layers")->capture_default_str();
    cmd->add_option("--sparsity", m.sparsity, "SNR: L0 penalty per routing connection")->capture_default_str();
    cmd->add_option("--task-weights", args->task_weights,
                    "loss weight per task: 6 numbers (click interaction dwell negative profile_visit completion) or task=value entries (default 1 each)");
    cmd->add_flag("--uncertainty-weighting", m.uncertainty_weighting,
                  "also learn each task's loss weight (Kendall et al.: exp(-s) * loss + s; the weight is --task-weights x exp(-s))");
    cmd->add_option("--expert-units", m.expert_units, "ReLU units per expert")->capture_default_str();
    cmd->add_option("--tower-units", m.tower_units, "ReLU units per task tower")->capture_default_str();
    cmd->add_option("--cluster-dim", m.cluster_dim, "width of the learned cluster-id embedding")->capture_default_str();
    cmd->add_option("--epochs", m.epochs, "passes over the training impressions")->capture_default_str();
    cmd->add_option("--batch-size", m.batch_size, "mini-batch size")->capture_default_str();
    cmd->add_option("--learning-rate", m.learning_rate, "Adam learning rate")->capture_default_str();
    cmd->add_option("--l2", m.l2, "weight decay")->capture_default_str();
    cmd->add_option("--seed", args->seed, "seed of k-means, initialisation, shuffling and the fusion search")->capture_default_str();
    const ranking::FusionWeights defaults;
    const auto listed = [](const std::array<float, ranking::kNumTasks>& v) {
      std::string text;
      for (int t = 0; t < ranking::kNumTasks; ++t) text += StrCat(t ? " " : "", ranking::TaskName(t), "=", v[t]);
      return text;
    };
    cmd->add_option("--alpha", args->alpha,
                    StrCat("fusion alpha per task, the search's start: 6 numbers in task order or task=value entries [",
                           listed(defaults.alpha), "]"));
    cmd->add_option("--beta", args->beta,
                    StrCat("fusion beta per task (0 leaves a task out), the search's start: 6 numbers or task=value entries [",
                           listed(defaults.beta), "]"));
    cmd->add_option("--fusion-search", args->fusion_search,
                    "how to tune the fusion on the validation days: cem (cross-entropy method) or es (evolution strategy); "
                    "the newer half of the validation days guards it")->capture_default_str();
    cmd->add_flag("--no-fusion-search", args->no_fusion_search, "keep --alpha/--beta instead of searching them on the validation days");
    ranking::FusionObjective& o = args->config.objective;
    cmd->add_option("--interaction-weight", o.interaction_weight, "objective: value of an interaction (a click is 1)")->capture_default_str();
    cmd->add_option("--dwell-weight", o.dwell_weight, "objective: value of a minute of dwell")->capture_default_str();
    cmd->add_option("--negative-weight", o.negative_weight, "objective: cost of a negative feedback")->capture_default_str();
    cmd->add_option("--profile-visit-weight", o.profile_visit_weight, "objective: value of a profile visit")->capture_default_str();
    cmd->add_option("--completion-weight", o.completion_weight, "objective: value of a completed video")->capture_default_str();
    cmd->add_option("--top-fraction", o.top_fraction, "objective: share of each account's impressions ranked first that counts")->capture_default_str();
    cmd->add_flag("--skip-bad-lines", args->skip_bad_lines, "skip (and count) malformed impression lines");
    cmd->callback([args] { RunRankTrain(*args); });
  }
  {
    auto args = std::make_shared<EvalArgs>();
    CLI::App* cmd = app.add_subcommand("rank-eval", "Score impressions with a trained ranker: per-task AUC, click GAUC, dwell error, fusion objective");
    AddInputFlags(cmd, args->in);
    cmd->add_option("--impressions", args->impressions, "impressions file")->required();
    cmd->add_option("--model", args->model, "ranker file (graphrec rank-train)")->required();
    cmd->add_option("--test-days", args->test_days, "evaluate the last N days")->capture_default_str();
    cmd->add_flag("--all", args->all, "evaluate every impression instead of the last days");
    cmd->add_flag("--skip-bad-lines", args->skip_bad_lines, "skip (and count) malformed impression lines");
    cmd->callback([args] { RunRankEval(*args); });
  }
  {
    auto args = std::make_shared<RankArgs>();
    CLI::App* cmd = app.add_subcommand("rank", "Score candidate posts for one account, best first");
    AddInputFlags(cmd, args->in);
    cmd->add_option("--model", args->model, "ranker file (graphrec rank-train)")->required();
    cmd->add_option("--account", args->account, "account id")->required();
    cmd->add_option("--posts", args->posts, "candidate post ids");
    cmd->add_option("--posts-file", args->posts_file, "file of candidate post ids, one per line");
    cmd->add_option("--time", args->time, "Unix seconds of the request (default: the graph's newest timestamp)");
    cmd->callback([args] { RunRank(*args); });
  }
}

}  // namespace gr::apps
