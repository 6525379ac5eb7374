// The batch's stages but the ranker's (ranker_stage.cc), in run order.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <span>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/process_memory.h"
#include "embed/embedding_io.h"
#include "embed/row_refresh.h"
#include "eval/drift.h"
#include "eval/index_recall.h"
#include "pipeline/internal/batch_run.h"
#include "pipeline/nightly_report.h"
#include "recall/index_io.h"
#include "stream/event_log.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::pipeline::internal {

namespace {

// The log position the live version contains (0 without a version, a
// manifest or the key: then the whole log is new).
uint64_t PreviousWatermark(const BatchRun& run) {
  if (run.report.previous_version.empty()) return 0;
  try {
    return version::EventLogWatermarkOf(version::ReadManifest(run.c.artifacts_dir, run.report.previous_version));
  } catch (const std::exception&) {
    return 0;
  }
}

graph::GraphChange ToChange(const stream::Event& e) {
  using Kind = graph::GraphChange::Kind;
  static constexpr Kind kKinds[] = {Kind::kFollow, Kind::kFollow, Kind::kUnfollow, Kind::kInteraction, Kind::kPost,
                                    Kind::kAccount};
  return {kKinds[static_cast<size_t>(e.kind)], e.interaction, e.time, e.dwell_ms, e.actor, e.object};
}

// The server's events since the live version, up to the log's end now.
std::vector<graph::GraphChange> ReadEventsSincePrevious(BatchRun& run) {
  BatchReport& r = run.report;
  r.event_log_from = PreviousWatermark(run);
  r.event_log_watermark = r.event_log_from;
  const std::string dir = version::PathIn(run.c.artifacts_dir, version::kEventLogDir);
  std::vector<graph::GraphChange> changes;
  if (!std::filesystem::exists(dir)) return changes;
  try {
    r.event_log_watermark = stream::ReadEventLog(dir, r.event_log_from, UINT64_MAX, [&](uint64_t, const stream::Event& e) {
      changes.push_back(ToChange(e));
    });
  } catch (const Error& e) {
    // The batch is the source of truth: go on with the files, say so.
    r.event_log_error = e.what();
    spdlog::warn("event log not folded in: {}", e.what());
    changes.clear();
    r.event_log_watermark = r.event_log_from;
  }
  r.event_log_events = changes.size();
  if (!changes.empty())
    spdlog::info("event log: {} events since sequence {} folded into the graph", changes.size(), r.event_log_from);
  return changes;
}

// Folds the held-out follows into `table`: the accounts at either end get
// short walks over the full graph (the batch's walk settings, window + 1
// long; a share of them first along a held-out follow) and skip-gram
// updates of their rows; the rest stays as trained.
void FoldIn(BatchRun& run, BatchGraph& graph, embed::EmbeddingTable& table) {
  const BatchConfig& c = run.c;
  BatchReport& r = run.report;
  // The fold-in trains account rows along follows.
  if (c.walk.kind == walk::WalkKind::kMetapath) {
    spdlog::info("fold-in skipped: it walks follows, and the vectors came from metapath walks");
    return;
  }
  const walk::WalkConfig short_walks = FoldInWalks(c);
  std::vector<VertexId> rows;
  FloatMatrix before;
  const embed::RowRefreshStats stats =
      graph.FoldIn(short_walks, c.fold_in, table, [&](std::span<const VertexId> refreshed) {
        rows.assign(refreshed.begin(), refreshed.end());
        before = FloatMatrix(rows.size(), table.dim());
        for (size_t i = 0; i < rows.size(); ++i) std::ranges::copy(table.input.Row(rows[i]), before.Row(i).begin());
      });
  double cosine = 0;
  for (size_t i = 0; i < rows.size(); ++i) cosine += Cosine(before.Row(i), table.input.Row(rows[i]));
  r.fold_in_accounts = rows.size();
  r.fold_in_mean_cosine = rows.empty() ? 1.0 : cosine / static_cast<double>(rows.size());
  r.fold_in_seconds = stats.seconds;
  spdlog::info("fold-in: {} held-out follows into the rows of {} accounts ({} walks, {} pairs) in {:.1f} s; mean "
               "cosine to the rows before {:.4f}",
               r.held_out_edges, rows.size(), stats.walks, stats.pairs, stats.seconds, r.fold_in_mean_cosine);
}

}  // namespace

GraphSummary IngestStage(BatchRun& run, BatchGraph& graph, const graph::InputFiles& files) {
  GraphSummary g;
  BatchReport& r = run.report;
  if (run.work.Done("ingest")) {
    run.Stage("ingest (resumed: load snapshot)", [&] { g = graph.Resume(run.work.dir()); });
    const nlohmann::json& done = run.work.Result("ingest");
    r.event_log_from = done.value("event_log_from", uint64_t{0});
    r.event_log_watermark = done.value("event_log_watermark", uint64_t{0});
    r.event_log_events = done.value("event_log_events", uint64_t{0});
    return g;
  }
  run.Stage("ingest", [&] {
    const std::vector<graph::GraphChange> changes = ReadEventsSincePrevious(run);
    g = graph.Ingest(files, changes, run.work.dir(), run.c.run.threads);
    run.AfterStageWork("ingest");
    run.work.MarkDone("ingest", {{"event_log_from", r.event_log_from},
                                 {"event_log_watermark", r.event_log_watermark},
                                 {"event_log_events", r.event_log_events}});
  });
  return g;
}

void HoldOutStage(BatchRun& run, BatchGraph& graph) {
  run.Stage("hold-out", [&] {
    run.report.held_out_edges = graph.HoldOut({.test_fraction = run.c.holdout_fraction,
                                               .order = graph::HoldOutOrder::kNewest,
                                               .seed = run.c.run.SeedFor(SeedStream::kHoldOut)});
  });
}

PreviousVersion LoadPreviousStage(BatchRun& run) {
  PreviousVersion previous;
  if (run.report.previous_version.empty()) return previous;
  run.Stage("load previous", [&] {
    const std::string dir = version::VersionDir(run.c.artifacts_dir, run.report.previous_version);
    try {
      previous.table = std::make_unique<embed::EmbeddingTable>(
          embed::LoadEmbeddings(version::PathIn(dir, version::kAccountsEmbeddingFile)));
      previous.accounts_index_path = version::PathIn(dir, version::IndexFileName(version::IndexFile::kAccounts));
    } catch (const Error& e) {
      // This run is what replaces a damaged live version: go on without it.
      run.report.previous_version_error = e.what();
      spdlog::warn("live version {} cannot be read ({}): training from random vectors, no drift measured",
                   run.report.previous_version, e.what());
      previous = {};
    }
  });
  return previous;
}

embed::EmbeddingTable TrainStage(BatchRun& run, BatchGraph& graph, const PreviousVersion& previous) {
  const BatchConfig& c = run.c;
  BatchReport& r = run.report;
  embed::EmbeddingTable table;
  if (run.work.Done("train")) {
    run.Stage("train (resumed: load vectors)",
              [&] { table = embed::LoadEmbeddings(run.work.Path(version::kAccountsEmbeddingFile)); });
    const nlohmann::json& done = run.work.Result("train");
    r.warm_started_accounts = done.value("warm_started_accounts", uint64_t{0});
    r.link_auc_dot = done.value("link_auc_dot", 0.0);
    r.link_auc_hadamard = done.value("link_auc_hadamard", 0.0);
    r.fold_in_accounts = done.value("fold_in_accounts", uint64_t{0});
    r.fold_in_mean_cosine = done.value("fold_in_mean_cosine", 1.0);
    r.fold_in_link_auc_hadamard = done.value("fold_in_link_auc_hadamard", 0.0);
    return table;
  }
  run.Stage("walks + training", [&] {
    embed::SkipGramConfig train = c.train;
    const bool warm = c.warm_start && previous.table != nullptr && previous.table->dim() == c.train.dim;
    if (warm) train.learning_rate *= c.warm_learning_rate_scale;
    embed::SkipGramStats stats;
    table = graph.Train(c.walk, train, warm ? previous.table.get() : nullptr, &stats, &r.warm_started_accounts);
    r.train_tokens = stats.corpus_tokens * train.epochs;
    r.train_seconds = stats.seconds;
    r.train_tokens_per_second = stats.tokens_per_second;
    spdlog::info("training: {} tokens in {:.1f} s, {:.0f} tokens/s", r.train_tokens, stats.seconds,
                 stats.tokens_per_second);
  });
  constexpr size_t kMaxPairs = 50000;  // logistic regression sample; plenty for an AUC
  run.Stage("link evaluation", [&] {
    if (r.held_out_edges == 0) return;
    const embed::LinkPredictionScores lp =
        graph.ScoreHeldOut(table, kMaxPairs, c.run.SeedFor(SeedStream::kLinkEval));
    r.link_auc_dot = lp.dot_auc;
    r.link_auc_hadamard = lp.hadamard_auc;
  });
  if (c.fold_in_held_out && r.held_out_edges > 0) {
    run.Stage("fold in held-out follows", [&] {
      FoldIn(run, graph, table);
      if (r.fold_in_accounts == 0) return;
      r.fold_in_link_auc_hadamard =
          graph.ScoreHeldOut(table, kMaxPairs, c.run.SeedFor(SeedStream::kLinkEval)).hadamard_auc;
    });
  }
  run.Stage("save vectors", [&] {
    embed::SaveEmbeddings(table, run.work.Path(version::kAccountsEmbeddingFile), c.ToJson());
    run.AfterStageWork("train");
    run.work.MarkDone("train", {{"warm_started_accounts", r.warm_started_accounts},
                                {"link_auc_dot", r.link_auc_dot},
                                {"link_auc_hadamard", r.link_auc_hadamard},
                                {"fold_in_accounts", r.fold_in_accounts},
                                {"fold_in_mean_cosine", r.fold_in_mean_cosine},
                                {"fold_in_link_auc_hadamard", r.fold_in_link_auc_hadamard}});
  });
  return table;
}

recall::RecallIndexes IndexStage(BatchRun& run, BatchGraph& graph, const embed::EmbeddingTable& table) {
  recall::RecallIndexes indexes;
  if (run.work.Done("index")) {
    run.Stage("index (resumed: load)", [&] { indexes = version::LoadIndexes(run.work.dir(), table.dim()); });
    return indexes;
  }
  run.Stage("index", [&] {
    const recall::RecallIndexItems items = graph.IndexItems(table);
    const auto build_whole = [&] {
      indexes = recall::BuildRecallIndexes(items, run.c.index);
      version::SaveIndexes(indexes, run.work.dir());
    };
    if (run.c.index_shards > 1 && run.hooks.save_index_shards) {
      run.hooks.save_index_shards(items, run.c.index, run.c.index_shards, run.work.dir(), build_whole);
    } else {
      build_whole();
      if (run.c.index_shards > 1) version::SaveIndexShards(items, run.c.index, run.c.index_shards, run.work.dir());
    }
    run.AfterStageWork("index");
    run.work.MarkDone("index", nlohmann::json::object());
  });
  return indexes;
}

void EvaluateStage(BatchRun& run, const embed::EmbeddingTable& table, const recall::RecallIndexes& indexes,
                   const PreviousVersion& previous) {
  BatchReport& r = run.report;
  if (run.work.Done("evaluate")) {
    const auto& m = run.work.Result("evaluate");
    r.hnsw_recall_at_10 = m.at("hnsw_recall_at_10");
    r.drift_mean_cosine = m.at("drift_mean_cosine");
    r.drift_neighbour_overlap = m.at("drift_neighbour_overlap");
    return;
  }
  run.Stage("evaluate", [&] {
    const RunOptions& o = run.c.run;
    r.hnsw_recall_at_10 =
        eval::IndexRecallAtK(*indexes.accounts, table, run.c.recall_sample, 10, o.SeedFor(SeedStream::kIndexEval));
    if (previous.table != nullptr) {
      std::unique_ptr<recall::VectorIndex> previous_accounts;
      try {
        previous_accounts = recall::LoadIndex(previous.accounts_index_path);
      } catch (const Error& e) {
        r.previous_version_error = e.what();
        spdlog::warn("live version {} cannot be read ({}): no drift measured", r.previous_version, e.what());
      }
      if (previous_accounts != nullptr) {
        const eval::Drift drift = eval::MeasureDrift(*previous.table, *previous_accounts, table, *indexes.accounts,
                                                     run.c.drift_sample, o.SeedFor(SeedStream::kDriftEval));
        if (drift.compared > 0) {
          r.drift_mean_cosine = drift.mean_cosine;
          r.drift_neighbour_overlap = drift.neighbour_overlap;
        }
      }
    }
    run.AfterStageWork("evaluate");
    run.work.MarkDone("evaluate", {{"hnsw_recall_at_10", r.hnsw_recall_at_10},
                                   {"drift_mean_cosine", r.drift_mean_cosine},
                                   {"drift_neighbour_overlap", r.drift_neighbour_overlap}});
  });
}

std::vector<std::string> GateFailures(const BatchConfig& c, const BatchReport& r) {
  std::vector<std::string> failures;
  if (r.link_auc_hadamard < c.min_link_auc)
    failures.push_back(StrCat("link-prediction AUC ", r.link_auc_hadamard, " < ", c.min_link_auc));
  if (r.fold_in_accounts > 0 && r.fold_in_mean_cosine < c.min_fold_in_cosine)
    failures.push_back(StrCat("the fold-in moved the rows it refreshed to a mean cosine of ", r.fold_in_mean_cosine,
                              " to what they were (< ", c.min_fold_in_cosine, ")"));
  if (r.hnsw_recall_at_10 < c.min_hnsw_recall)
    failures.push_back(StrCat("HNSW recall@10 ", r.hnsw_recall_at_10, " < ", c.min_hnsw_recall));
  if (r.has_ranker && r.ranker_auc_click < c.min_ranker_click_auc)
    failures.push_back(StrCat("ranker click AUC ", r.ranker_auc_click, " < ", c.min_ranker_click_auc));
  if (c.min_neighbour_overlap > 0 && r.drift_neighbour_overlap >= 0 &&
      r.drift_neighbour_overlap < c.min_neighbour_overlap)
    failures.push_back(StrCat("top-10 neighbour overlap with ", r.previous_version, " ", r.drift_neighbour_overlap,
                              " < ", c.min_neighbour_overlap));
  return failures;
}

void PublishStage(BatchRun& run, const nlohmann::json& inputs, const std::string& version_dir,
                  const DegreeCounts& degrees, const embed::EmbeddingTable& table) {
  BatchReport& r = run.report;
  run.Stage("publish", [&] {
    r.peak_rss_mb = PeakRssMb();
    r.published = r.gate_failures.empty();
    nlohmann::json manifest = nlohmann::json::parse(r.ToJson());
    manifest["inputs"] = inputs;
    manifest["parameters"] = nlohmann::json::parse(run.c.ToJson());
    manifest["formats"] = {{version::kGraphFile, 1}, {version::kAccountsEmbeddingFile, 1}, {"*.hnsw", 1}};
    if (r.has_ranker) manifest["formats"][version::kRankerFile] = 1;
    WriteFileAtomically(run.work.Path(version::kManifestFile),
                        [&](std::FILE* f) { std::fputs(manifest.dump(2).c_str(), f); });
    // The report is for people: a failure to render it is logged, not fatal.
    try {
      const std::string html = RenderReport({.artifacts_dir = run.c.artifacts_dir, .manifest_json = manifest.dump(),
                                             .degrees = degrees, .vectors = &table});
      WriteFileAtomically(run.work.Path(version::kReportFile), [&](std::FILE* f) { std::fputs(html.c_str(), f); });
    } catch (const std::exception& e) {
      spdlog::warn("no {} for {}: {}", version::kReportFile, r.version, e.what());
    }
    run.work.Finish();
    // The complete version appears under its name in one rename.
    RenameAndSync(run.work.dir(), version_dir);
    run.AfterStageWork("publish");
    if (r.published) version::PublishVersion(run.c.artifacts_dir, r.version);
    AppendHistory(run.c.artifacts_dir, HistoryLine(manifest.dump(), static_cast<double>(std::time(nullptr))));
  });
}

}  // namespace gr::pipeline::internal
