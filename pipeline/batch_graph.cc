#include "pipeline/batch_graph.h"

#include <spdlog/spdlog.h>

#include "embed/warm_start.h"
#include "eval/link_holdout.h"
#include "graph/snapshot.h"
#include "pipeline/batch.h"
#include "version/layout.h"
#include "version/version_store.h"
#include "walk/random_walk.h"

namespace gr::pipeline {
namespace {

class LocalBatchGraph final : public BatchGraph {
 public:
  LocalBatchGraph(const BatchHooks& hooks, bool fold_in) : hooks_(hooks), fold_in_(fold_in) {}

  GraphSummary Ingest(const graph::InputFiles& files, std::span<const graph::GraphChange> changes,
                      const std::string& work_dir, int threads) override {
    graph::IngestConfig ingest;
    ingest.threads = threads;
    full_ = graph::Ingest(files, ingest, nullptr, changes);
    graph::SaveSnapshot(full_, version::PathIn(work_dir, version::kGraphFile));
    return Summary();
  }

  GraphSummary Resume(const std::string& work_dir) override {
    full_ = version::LoadGraph(work_dir);
    return Summary();
  }

  uint64_t HoldOut(const graph::EdgeSplitConfig& config) override {
    split_ = graph::SplitEdgesForLinkPrediction(full_, config);
    // From here on split_.train serves everything but the non-edge checks
    // and the fold-in, which need the full follow lists: drop the rest.
    for (graph::CsrGraph* unused : {&full_.engagements, &full_.engagers, &full_.authored}) *unused = {};
    if (!fold_in_) full_.followers = {};
    full_.post_author = {};
    full_.post_time = {};
    return split_.test_edges.size();
  }

  embed::EmbeddingTable Train(const walk::WalkConfig& walk, const embed::SkipGramConfig& train,
                              const embed::EmbeddingTable* previous, embed::SkipGramStats* stats,
                              uint64_t* warm_started) override {
    std::unique_ptr<embed::WarmStart> warm;
    if (previous != nullptr) {
      // Metapath walks train posts' rows too (after the accounts').
      warm = std::make_unique<embed::WarmStart>(
          embed::MakeWarmStart(*previous, split_.train, walk.kind == walk::WalkKind::kMetapath));
      *warm_started = warm->copied;
    }
    return hooks_.train_account_vectors ? hooks_.train_account_vectors(split_.train, walk, train, stats, warm.get())
                                        : embed::EmbedWalks(split_.train, walk, train, stats, warm.get());
  }

  embed::LinkPredictionScores ScoreHeldOut(const embed::EmbeddingTable& table, size_t max_pairs,
                                           uint64_t seed) override {
    return eval::ScoreHeldOutFollows(full_, split_, table.input, max_pairs, seed).auc;
  }

  embed::RowRefreshStats FoldIn(const walk::WalkConfig& short_walks, const embed::RowRefreshConfig& config,
                                embed::EmbeddingTable& table,
                                const std::function<void(std::span<const VertexId> rows)>& before) override {
    const walk::RandomWalker walker(full_, short_walks);
    if (walker.vocabulary_size() != table.rows()) {
      spdlog::warn("fold-in skipped: the walks' vocabulary ({} tokens) is not the table's ({} rows)",
                   walker.vocabulary_size(), table.rows());
      return {};
    }
    const std::vector<VertexId> rows = embed::EndpointsOf(split_.test_edges);
    before(rows);
    return embed::RefreshRows(walker, rows, embed::DegreeNegativeWeights(full_, short_walks.direction), config,
                              table.input, table.output, split_.test_edges);
  }

  recall::RecallIndexItems IndexItems(const embed::EmbeddingTable& table) override {
    return recall::CollectRecallIndexItems(split_.train, table);
  }

 private:
  GraphSummary Summary() const {
    return {.accounts = full_.num_accounts(),
            .posts = full_.num_posts(),
            .follow_edges = full_.following.num_edges(),
            .interaction_edges = full_.engagements.num_edges(),
            .degrees = CountDegrees(full_)};
  }

  const BatchHooks& hooks_;
  const bool fold_in_;
  graph::SocialGraph full_;  // the ingested graph (after HoldOut, its follows only)
  graph::EdgeSplit split_;
};

}  // namespace

std::unique_ptr<BatchGraph> MakeLocalBatchGraph(const BatchHooks& hooks, bool fold_in) {
  return std::make_unique<LocalBatchGraph>(hooks, fold_in);
}

}  // namespace gr::pipeline
