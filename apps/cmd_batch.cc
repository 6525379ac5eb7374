// graphrec batch: the nightly job (pipeline/batch.h).
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "apps/commands.h"
#include "apps/config_file.h"
#include "apps/output.h"
#include "apps/walk_flags.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/process_memory.h"
#include "pipeline/batch.h"
#ifdef GR_WITH_MPI
#include "apps/batch_graph_on_ranks.h"
#include "apps/distributed_training.h"
#include "dist/mpi_session.h"
#include "dist/root_training.h"
#endif

namespace gr::apps {
namespace {

struct BatchArgs {
  WalkFlags walk;
  pipeline::BatchConfig config;
  bool no_warm_start = false, no_ranker = false, no_consistent_recall = false;
  std::string report, metrics_file, ranker_features = "all", index_precision = "float32";
  DistributedTrainingFlags distributed;  // under mpirun
  bool index_shards_given = false;  // --index-shards (else one shard per rank under mpirun)
};

// Exit code of a run whose quality gate failed (not published).
constexpr int kGateFailedExit = 3;

// The crash tests (tests/pipeline) run this binary with
// GR_BATCH_KILL_IN_STAGE=<stage>: it SIGKILLs itself after that stage's
// work, before the stage is recorded as done.
pipeline::BatchHooks CrashTestHooks() {
  pipeline::BatchHooks hooks;
  const char* target = std::getenv("GR_BATCH_KILL_IN_STAGE");
  if (target == nullptr) return hooks;
  hooks.after_stage_work = [stage_to_kill = std::string(target)](std::string_view stage) {
    if (stage != stage_to_kill) return;
    spdlog::warn("GR_BATCH_KILL_IN_STAGE={}: killing this process", stage_to_kill);
    std::raise(SIGKILL);
  };
  return hooks;
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A run that threw still tells the node exporter it ended and failed.
void WriteFailedRunMetrics(const std::string& path) {
  try {
    pipeline::BatchReport failed;
    failed.gate_failures.push_back("the run failed");
    WriteFileAtomically(path, [&](std::FILE* out) { std::fputs(failed.ToPrometheus(UnixNow()).c_str(), out); });
  } catch (const std::exception& e) {
    spdlog::warn("cannot write {}: {}", path, e.what());
  }
}

// Runs the batch and prints its report; false if the gate kept it from being published.
bool RunAndReport(const pipeline::BatchConfig& config, const BatchArgs& args, const pipeline::BatchHooks& hooks) {
  const std::string metrics_file =
      args.metrics_file.empty() ? (std::filesystem::path(config.artifacts_dir) / "batch.prom").string()
                                : args.metrics_file;
  pipeline::BatchReport report;
  try {
    report = pipeline::RunBatch(config, hooks);
  } catch (const std::exception&) {
    WriteFailedRunMetrics(metrics_file);
    throw;
  }
  WriteFileAtomically(metrics_file, [&](std::FILE* out) { std::fputs(report.ToPrometheus(UnixNow()).c_str(), out); });
  std::printf("%s", JsonOutput() ? (report.ToJson() + "\n").c_str() : report.ToText().c_str());
  if (!args.report.empty())
    WriteFileAtomically(args.report, [&](std::FILE* out) { std::fprintf(out, "%s\n", report.ToJson().c_str()); });
  return report.published;
}

void CheckInputDirectory(const std::string& dir) {
  if (!std::filesystem::is_directory(dir))
    throw Error(ErrorCode::kInvalidArgument, StrCat("--input: ", dir, " is not a directory"));
}

#ifdef GR_WITH_MPI
// Under mpirun, when every rank sees the input and the artifacts: every
// rank ingests its part of the graph and runs the batch's graph steps with
// rank 0 (apps/batch_graph_on_ranks.h), which runs the rest as a plain run
// does. Otherwise rank 0 holds the graph and shares only its walks and
// training (dist/root_training.h). Either way the other ranks follow rank 0
// until it is done, however it ends.
void RunBatchOnRanks(const pipeline::BatchConfig& config, const BatchArgs& args) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  // Checked on every rank (they parsed the same flags), so all stop together.
  dist::CheckWalksAreDistributed(config.walk);
  // Rank 0 reads the input at least; all stop together if it is missing.
  dist::OnEveryRankIfAnyFails(comm, "--input", [&] {
    if (dist::Rank(comm) == 0) CheckInputDirectory(config.input_dir);
  });
  const bool graph_on_ranks = EveryRankSeesTheFiles(config, comm);
  pipeline::BatchConfig recorded = config;
  recorded.training_ranks = static_cast<uint32_t>(dist::Size(comm));
  if (graph_on_ranks) recorded.graph_parts = recorded.training_ranks;
  if (!args.index_shards_given) recorded.index_shards = recorded.training_ranks;
  const dist::DistributedTrainingConfig sync = DistributedTrainingFromFlags(args.distributed);
  recorded.training_model = args.distributed.model;
  if (sync.layout == dist::ModelLayout::kReplicated) recorded.sync_tokens_per_row = sync.tokens_per_row_between_syncs;
  else recorded.passes_per_epoch = sync.passes_per_epoch;
  if (dist::Rank(comm) != 0) {
    if (graph_on_ranks) FollowBatchGraph(recorded.WithRunOptions(), args.distributed, comm);
    else dist::FollowRootTraining(comm);
    // Rank 0's is in its report (peak_rss_mb).
    spdlog::info("rank {} of {}: done; peak RSS {:.0f} MB", dist::Rank(comm), dist::Size(comm), PeakRssMb());
    return;
  }
  pipeline::BatchHooks hooks = CrashTestHooks();
  if (graph_on_ranks) {
    hooks.make_graph = [comm, flags = args.distributed](const pipeline::BatchConfig& c) {
      return MakeBatchGraphOnRanks(c, flags, comm);
    };
  } else {
    hooks.train_account_vectors = [comm, sync](const graph::SocialGraph& g, const walk::WalkConfig& walk,
                                               const embed::SkipGramConfig& train, embed::SkipGramStats* stats,
                                               const embed::WarmStart* warm) {
      return dist::TrainOnEveryRank(g, walk, train, stats, warm, sync, comm);
    };
  }
  hooks.save_index_shards = [comm](const recall::RecallIndexItems& items, const recall::IndexConfig& index,
                                   uint32_t count, const std::string& dir, const std::function<void()>& build_whole) {
    dist::SaveIndexShardsOnEveryRank(items, index, count, dir, comm, build_whole);
  };
  bool published = false;
  try {
    published = RunAndReport(recorded, args, hooks);
  } catch (...) {
    dist::StopRanks(comm);
    throw;
  }
  dist::StopRanks(comm);
  if (!published) throw ExitStatus{kGateFailedExit};
}
#endif

}  // namespace

void AddBatchCommand(CLI::App& app) {
  auto args = std::make_shared<BatchArgs>();
  auto& c = args->config;
  auto* cmd = app.add_subcommand("batch", "The nightly job: ingest, train (warm start), index, evaluate, gate, publish");
  AddConfigFileOption(cmd);
  cmd->add_option("--input", c.input_dir, "directory with follows.tsv[.gz], interactions.tsv, posts.tsv (as graphrec generate writes)")
      ->required();  // checked where it is read (CheckInputDirectory): under mpirun, rank 0 only
  cmd->add_option("--artifacts", c.artifacts_dir, "artifact directory: CURRENT and version directories")->required();
  cmd->add_option("--version", c.version, "name of the new version (default: vYYYYMMDD-HHMMSS, UTC)");
  args->walk.config = c.walk;  // the batch's own walk defaults, shown by --help
  AddWalkFlags(cmd, args->walk, /*with_input=*/false);
  AddTrainingFlags(cmd, c.train);
  AddDistributedTrainingFlags(cmd, args->distributed);
  cmd->add_flag("--no-warm-start", args->no_warm_start, "train from random vectors even when a version is live");
  cmd->add_option("--warm-learning-rate-scale", c.warm_learning_rate_scale,
                  "warm-started training runs at learning-rate x this")->capture_default_str();
  cmd->add_option("--m", c.index.m, "HNSW links per node")->capture_default_str();
  cmd->add_option("--ef-construction", c.index.ef_construction, "HNSW build candidate list")->capture_default_str();
  cmd->add_option("--ef-search", c.index.ef_search, "HNSW search candidate list")->capture_default_str();
  cmd->add_option("--index-precision", args->index_precision,
                  "HNSW vector storage: float32, or float16 (half the vector memory, faster search, scores to ~1e-3)")
      ->check(CLI::IsMember({"float32", "float16"}))->capture_default_str();
  cmd->add_option("--holdout-fraction", c.holdout_fraction, "newest follows held out for the link-prediction check")
      ->capture_default_str();
  cmd->add_flag("--fold-in,!--no-fold-in", c.fold_in_held_out,
                "after the link-prediction check, fold the held-out follows into the published vectors (the accounts "
                "at either end get short walks over the full graph), so they contain every follow; on by default")
      ->capture_default_str();
  cmd->add_option("--fold-in-walks", c.fold_in.walks_per_row, "fold-in: walks from each refreshed account")
      ->capture_default_str();
  cmd->add_option("--fold-in-new-follow-share", c.fold_in.new_edge_share,
                  "fold-in: share of those walks whose first hop is one of the account's held-out follows")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-fold-in-cosine", c.min_fold_in_cosine,
                  "gate: the fold-in's refreshed rows must keep at least this mean cosine to what they were")
      ->capture_default_str();
  cmd->add_option("--min-link-auc", c.min_link_auc, "gate: Hadamard link-prediction AUC on the newest follows")
      ->capture_default_str();
  cmd->add_option("--min-hnsw-recall", c.min_hnsw_recall, "gate: HNSW recall@10 against exact")->capture_default_str();
  cmd->add_option("--min-neighbour-overlap", c.min_neighbour_overlap,
                  "gate: top-10 similar-account overlap with the live version (0 = off)")->capture_default_str();
  auto* index_shards = cmd->add_option("--index-shards", c.index_shards,
                  "also write the recall indices split into N shards by id, for serve --shard K/N behind serve --front "
                  "(0 = none; under mpirun one per rank unless given, each built on its rank)")->capture_default_str();
  cmd->add_option("--recall-sample", c.recall_sample, "accounts queried for the HNSW recall check")->capture_default_str();
  cmd->add_option("--drift-sample", c.drift_sample, "accounts compared with the live version")->capture_default_str();
  cmd->add_option("--keep-versions", c.keep_versions, "version directories kept (the live one always)")
      ->capture_default_str();
  cmd->add_flag("--no-consistent-recall", args->no_consistent_recall,
                "skip the ranker-consistent recall towers (trained after the ranker)");
  cmd->add_option("--consistent-recall-accounts", c.consistent_recall.accounts,
                  "accounts whose ranker-ordered candidates train the consistent recall towers")
      ->capture_default_str();
  cmd->add_option("--consistent-recall-epochs", c.consistent_recall.epochs, "the towers' training epochs")
      ->capture_default_str();
  cmd->add_option("--causal-weight", c.consistent_recall.causal_weight,
                  "weight of the causal pairs (a clicked post over a more popular unclicked impression); 0 = none")
      ->capture_default_str();
  cmd->add_option("--consistent-recall-holdout-days", c.consistent_recall_holdout_days,
                  "train the towers as of this many days before the newest input time, so the consistency "
                  "measurement scores posts they never saw (for evaluation; 0 = freshest)")
      ->capture_default_str();
  cmd->add_option("--consistency-accounts", c.consistency.accounts,
                  "accounts sampled to measure recall's agreement with the ranker after the ranker stage "
                  "(as graphrec eval consistency; reported, not gated); 0 = not measured")
      ->capture_default_str();
  cmd->add_option("--consistency-window-days", c.consistency.window_days,
                  "that measurement's catalogue: posts of this many last days (0 = every post)")
      ->capture_default_str();
  cmd->add_flag("--no-ranker", args->no_ranker, "skip the ranker stage even when the input has impressions.tsv");
  cmd->add_option("--ranker-features", args->ranker_features, "ranker feature groups (as rank-train --features)")
      ->capture_default_str();
  cmd->add_option("--ranker-epochs", c.ranker.model.epochs, "ranker training epochs")->capture_default_str();
  cmd->add_option("--ranker-max-impressions", c.ranker_max_train_impressions,
                  "training impressions sampled down to this many (0 = all)")->capture_default_str();
  cmd->add_option("--ranker-max-eval-impressions", c.ranker_max_eval_impressions,
                  "validation and test impressions each sampled down to this many (0 = all)")->capture_default_str();
  cmd->add_option("--ranker-test-days", c.ranker_test_days, "last days the ranker is scored and gated on")
      ->capture_default_str();
  cmd->add_option("--ranker-validation-days", c.ranker_validation_days, "days before them that tune the fusion weights (the newest, with 2 or more, guards the search)")
      ->capture_default_str();
  cmd->add_option("--min-ranker-auc", c.min_ranker_click_auc, "gate: ranker click AUC on the test days")
      ->capture_default_str();
  cmd->add_option("--report", args->report, "also write the JSON report here");
  cmd->add_option("--metrics-file", args->metrics_file,
                  "the run's figures in Prometheus text format, for a node exporter's textfile collector "
                  "(default: ARTIFACTS/batch.prom; written also when the gate or the run fails)");
  cmd->callback([args, index_shards] {
    args->index_shards_given = index_shards->count() > 0;
    pipeline::BatchConfig config = args->config;
    config.run = args->walk.run;
    config.walk = ResolveWalkConfig(args->walk);
    config.index.precision = recall::ParsePrecision(args->index_precision);
    config.warm_start = !args->no_warm_start;
    config.train_ranker = !args->no_ranker;
    config.train_consistent_recall = !args->no_consistent_recall;
    config.ranker.features.groups = ranking::ParseFeatureGroups(args->ranker_features);
    ReportTrainingProgress(config.train);
#ifdef GR_WITH_MPI
    if (dist::WorldSizeIfStarted() > 1) return RunBatchOnRanks(config, *args);
#endif
    CheckInputDirectory(config.input_dir);
    if (!RunAndReport(config, *args, CrashTestHooks())) throw ExitStatus{kGateFailedExit};
  });
}

}  // namespace gr::apps
