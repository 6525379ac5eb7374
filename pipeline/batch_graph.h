// Where the nightly batch's graph lives while it runs (issue 20): whole in
// this process (MakeLocalBatchGraph), or partitioned across MPI ranks
// (`graphrec batch` under mpirun builds one with dist/; pipeline/ does not
// depend on dist/). RunBatch holds the table, the indices and the reports;
// every step that reads the graph goes through this, in this order:
// Ingest (or Resume), HoldOut, Train, ScoreHeldOut, FoldIn, IndexItems.
// The ranker stages then reload the snapshot (version::LoadGraph) after
// the BatchGraph is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embed/embedding_table.h"
#include "embed/evaluation.h"
#include "embed/row_refresh.h"
#include "embed/skip_gram.h"
#include "graph/edge_split.h"
#include "graph/ingest.h"
#include "pipeline/nightly_report.h"
#include "recall/recall.h"
#include "walk/walk_config.h"

namespace gr::pipeline {

struct BatchHooks;

// The ingested graph's counts, for the report.
struct GraphSummary {
  uint64_t accounts = 0, posts = 0, follow_edges = 0, interaction_edges = 0;
  DegreeCounts degrees;
};

class BatchGraph {
 public:
  virtual ~BatchGraph() = default;

  // Reads the input files with the event log's `changes` after them
  // (graph::Ingest) on `threads` threads and writes the snapshot into
  // `work_dir` (graph.snap, or its parts: version::LoadGraph reads either).
  virtual GraphSummary Ingest(const graph::InputFiles& files, std::span<const graph::GraphChange> changes,
                              const std::string& work_dir, int threads) = 0;
  // The snapshot Ingest wrote into `work_dir`, for a resumed batch.
  virtual GraphSummary Resume(const std::string& work_dir) = 0;
  // Holds out the follows graph::SplitEdgesForLinkPrediction holds out;
  // returns how many.
  virtual uint64_t HoldOut(const graph::EdgeSplitConfig& config) = 0;
  // embed::EmbedWalks over the graph without the held-out follows,
  // warm-started from `previous` when given (embed::MakeWarmStart;
  // *warm_started gets the rows it copied).
  virtual embed::EmbeddingTable Train(const walk::WalkConfig& walk, const embed::SkipGramConfig& train,
                                      const embed::EmbeddingTable* previous, embed::SkipGramStats* stats,
                                      uint64_t* warm_started) = 0;
  // The link-prediction AUCs of the table's input vectors on the held-out
  // follows against as many non-follows, at most `max_pairs` of each
  // (eval::ScoreHeldOutFollows).
  virtual embed::LinkPredictionScores ScoreHeldOut(const embed::EmbeddingTable& table, size_t max_pairs,
                                                   uint64_t seed) = 0;
  // Folds the held-out follows into `table` (embed::RefreshRows over the
  // full graph with `short_walks`; the rows at either end of a held-out
  // follow), calling `before(rows)` before any row changes; empty rows
  // when there is nothing to fold in.
  virtual embed::RowRefreshStats FoldIn(const walk::WalkConfig& short_walks, const embed::RowRefreshConfig& config,
                                        embed::EmbeddingTable& table,
                                        const std::function<void(std::span<const VertexId> rows)>& before) = 0;
  // The recall indices' items over the graph without the held-out follows
  // (recall::CollectRecallIndexItems with its default rule and kinds).
  virtual recall::RecallIndexItems IndexItems(const embed::EmbeddingTable& table) = 0;
};

// The whole graph in this process; `hooks.train_account_vectors`, when
// set, trains in place of embed::EmbedWalks. Without `fold_in` the
// follower lists are dropped after the hold-out (only the fold-in walks them).
std::unique_ptr<BatchGraph> MakeLocalBatchGraph(const BatchHooks& hooks, bool fold_in);

}  // namespace gr::pipeline
