// One run of the batch (internal to pipeline/): the state every stage reads
// and writes, and the stages themselves in the order RunBatch calls them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embed/embedding_table.h"
#include "graph/edge_split.h"
#include "graph/ingest.h"
#include "graph/social_graph.h"
#include "pipeline/batch.h"
#include "pipeline/batch_graph.h"
#include "pipeline/nightly_report.h"
#include "pipeline/internal/work_state.h"
#include "recall/recall.h"

namespace gr::pipeline::internal {

// Runs `body` as the named stage: logged with its time and peak memory,
// timed into report.stages.
void RunStage(BatchReport& report, const char* name, const std::function<void()>& body);

struct BatchRun {
  const BatchConfig& c;  // run options already applied (BatchConfig::WithRunOptions)
  const BatchHooks& hooks;
  BatchReport& report;
  WorkState& work;

  void Stage(const char* name, const std::function<void()>& body) { RunStage(report, name, body); }
  // The test hook after a stage's work, before it is recorded as done.
  void AfterStageWork(const char* stage) const {
    if (hooks.after_stage_work) hooks.after_stage_work(stage);
  }
};

// The live version's vectors (warm start, then drift). Its accounts index
// is loaded only by the evaluation, after the new indices are built, and
// the output vectors are dropped after training: a 1M-account warm run
// otherwise held both through the index build (6.8 GB peak against 4.9).
struct PreviousVersion {
  std::unique_ptr<embed::EmbeddingTable> table;
  std::string accounts_index_path;
};

// Each stage resumes from the work directory when it finished before.
GraphSummary IngestStage(BatchRun& run, BatchGraph& graph, const graph::InputFiles& files);
// Holds out the newest follows (report.held_out_edges).
void HoldOutStage(BatchRun& run, BatchGraph& graph);
PreviousVersion LoadPreviousStage(BatchRun& run);
// Trains without the held-out follows, scores their link prediction (the
// gate's honest measure: the vectors never saw them), then folds them in
// (BatchConfig::fold_in_held_out): the published vectors.
embed::EmbeddingTable TrainStage(BatchRun& run, BatchGraph& graph, const PreviousVersion& previous);
// The recall indices (and their shards) over the graph without the held-out follows.
recall::RecallIndexes IndexStage(BatchRun& run, BatchGraph& graph, const embed::EmbeddingTable& table);
// HNSW recall against exact search, and drift from the live version.
void EvaluateStage(BatchRun& run, const embed::EmbeddingTable& table, const recall::RecallIndexes& indexes,
                   const PreviousVersion& previous);
// Trains, scores and writes the ranker (ranker_stage.cc).
// The stages after the evaluation share the full snapshot (`full`, reloaded:
// the batch's working copy dropped its interaction arrays).
void RankerStage(BatchRun& run, const std::string& impressions_file, const graph::SocialGraph& full,
                 const embed::EmbeddingTable& table);
// The ranker-consistent recall towers and their index (ranking/consistent_recall.h).
void ConsistentRecallStage(BatchRun& run, const std::string& impressions_file, const graph::SocialGraph& full,
                           const embed::EmbeddingTable& table);
// Recall's agreement with the ranker the ranker stage wrote (eval/consistency.h).
void ConsistencyStage(BatchRun& run, const graph::SocialGraph& full, const embed::EmbeddingTable& table);
// Why the report must not be published (empty: it passes).
std::vector<std::string> GateFailures(const BatchConfig& c, const BatchReport& r);
// Writes the manifest, renames the work directory to `version_dir` and,
// when the gate passed, makes it live.
// Writes the manifest and the nightly report, moves the version into place,
// publishes it if the gate passed, and appends the run to the history.
void PublishStage(BatchRun& run, const nlohmann::json& inputs, const std::string& version_dir,
                  const DegreeCounts& degrees, const embed::EmbeddingTable& table);

}  // namespace gr::pipeline::internal
