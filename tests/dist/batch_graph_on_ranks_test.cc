// The batch's graph on the ranks (apps/batch_graph_on_ranks.h) against the
// batch's graph in one process (pipeline::MakeLocalBatchGraph), step for
// step at 1, 2 and 4 ranks, with the event log's changes: the same counts
// and degree histograms, a snapshot in parts that loads as the whole one,
// the same held-out count, a table over the same ids from a corpus of as
// many tokens, the same warm start, link AUCs within sampling noise, the
// same fold-in and index items bit for bit, and a resumed graph that is the
// ingested one.
#include "apps/batch_graph_on_ranks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "dist/mpi_session.h"
#include "dist/root_training.h"
#include "graph/ingest.h"
#include "pipeline/nightly_report.h"
#include "synth/world.h"
#include "tests/dist/dist_test_util.h"
#include "version/version_store.h"

namespace gr::apps {
namespace {

void ExpectSameSummary(const pipeline::GraphSummary& expected, const pipeline::GraphSummary& actual) {
  EXPECT_EQ(actual.accounts, expected.accounts);
  EXPECT_EQ(actual.posts, expected.posts);
  EXPECT_EQ(actual.follow_edges, expected.follow_edges);
  EXPECT_EQ(actual.interaction_edges, expected.interaction_edges);
  EXPECT_EQ(actual.degrees.out, expected.degrees.out);
  EXPECT_EQ(actual.degrees.in, expected.degrees.in);
}

void ExpectSameItems(const recall::IndexItems& expected, const recall::IndexItems& actual) {
  EXPECT_EQ(actual.ids, expected.ids);
  EXPECT_TRUE(actual.vectors == expected.vectors);
}

// The event log's changes since the files, among the world's accounts and posts.
std::vector<graph::GraphChange> SomeChanges(const graph::SocialGraph& g) {
  using Kind = graph::GraphChange::Kind;
  const auto time = static_cast<uint32_t>(g.reference_time + 60);
  const ExternalId a = g.accounts.ToExternal(0), b = g.accounts.ToExternal(static_cast<VertexId>(g.num_accounts() - 1));
  VertexId follower = 0;
  while (g.following.Degree(follower) == 0) ++follower;
  const ExternalId followee = g.accounts.ToExternal(g.following.Neighbors(follower)[0]);
  return {{.kind = Kind::kFollow, .time = time, .actor = a, .object = b},
          {.kind = Kind::kUnfollow, .time = time, .actor = g.accounts.ToExternal(follower), .object = followee},
          {.kind = Kind::kAccount, .time = time, .actor = 999'999'999},
          {.kind = Kind::kFollow, .time = time + 1, .actor = 999'999'999, .object = a},
          {.kind = Kind::kInteraction, .interaction = 1, .time = time, .actor = b, .object = g.posts.ToExternal(0)}};
}

TEST(BatchGraphOnRanks, RunsEveryStepAsTheGraphInOneProcess) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = dist::Rank(comm) == 0;
  const std::string dir = dist::SharedDir("dist_batch_graph");
  pipeline::BatchConfig config;
  config.input_dir = dir + "/input";
  config.artifacts_dir = dir + "/artifacts";
  config.run.seed = 5;
  config.run.threads = 1;
  config.walk.walk_length = 10;
  config.train.dim = 16;
  config.train.epochs = 1;
  config = config.WithRunOptions();
  if (root) synth::GenerateWorld({.accounts = 1500, .days = 2}, config.input_dir);
  MPI_Barrier(comm);
  const DistributedTrainingFlags flags;
  if (!root) return FollowBatchGraph(config, flags, comm);

  const graph::InputFiles files = graph::InputFilesIn(config.input_dir);
  const std::vector<graph::GraphChange> changes = SomeChanges(graph::Ingest(files, {}));
  const pipeline::BatchHooks hooks;
  const std::unique_ptr<pipeline::BatchGraph> local = pipeline::MakeLocalBatchGraph(hooks, /*fold_in=*/true);
  const std::unique_ptr<pipeline::BatchGraph> ranks = MakeBatchGraphOnRanks(config, flags, comm);
  const std::string local_work = dir + "/local-work", ranks_work = dir + "/ranks-work";
  std::filesystem::create_directories(local_work);
  std::filesystem::create_directories(ranks_work);

  const pipeline::GraphSummary summary = local->Ingest(files, changes, local_work, 1);
  EXPECT_EQ(summary.accounts, graph::Ingest(files, {}).num_accounts() + 1);  // the changes' new account
  ExpectSameSummary(summary, ranks->Ingest(files, changes, ranks_work, 1));
  // The parts merge to the snapshot one process writes.
  const graph::SocialGraph merged = version::LoadGraph(ranks_work);
  EXPECT_EQ(merged.part, Shard{});
  EXPECT_EQ(pipeline::CountDegrees(merged).out, summary.degrees.out);
  EXPECT_EQ(merged.engagements.num_edges(), summary.interaction_edges);
  EXPECT_EQ(merged.reference_time, version::LoadGraph(local_work).reference_time);

  const graph::EdgeSplitConfig split{.test_fraction = 0.1, .order = graph::HoldOutOrder::kNewest, .seed = 7};
  const uint64_t held_out = local->HoldOut(split);
  EXPECT_GT(held_out, 100u);
  EXPECT_EQ(ranks->HoldOut(split), held_out);

  embed::SkipGramStats local_stats, ranks_stats;
  uint64_t local_warm = 0, ranks_warm = 0;
  const embed::EmbeddingTable table = local->Train(config.walk, config.train, nullptr, &local_stats, &local_warm);
  const embed::EmbeddingTable trained = ranks->Train(config.walk, config.train, nullptr, &ranks_stats, &ranks_warm);
  EXPECT_EQ(trained.ids, table.ids);
  EXPECT_EQ(trained.input.rows(), table.input.rows());
  EXPECT_EQ(ranks_stats.corpus_tokens, local_stats.corpus_tokens);  // the same walks, on the ranks
  // Warm-started from the one-process table: every account's row copied.
  ranks->Train(config.walk, config.train, &table, &ranks_stats, &ranks_warm);
  EXPECT_EQ(ranks_warm, summary.accounts);

  // The pairs are drawn from each rank's share: the AUCs agree within noise.
  const embed::LinkPredictionScores expected = local->ScoreHeldOut(table, 5000, 11);
  const embed::LinkPredictionScores scored = ranks->ScoreHeldOut(table, 5000, 11);
  EXPECT_GT(expected.hadamard_auc, 0.6);
  EXPECT_NEAR(scored.hadamard_auc, expected.hadamard_auc, 0.03);
  EXPECT_NEAR(scored.dot_auc, expected.dot_auc, 0.03);

  embed::EmbeddingTable local_folded = table, ranks_folded = table;
  std::vector<VertexId> local_rows, ranks_rows;
  const auto keep = [](std::vector<VertexId>& rows) {
    return [&rows](std::span<const VertexId> before) { rows.assign(before.begin(), before.end()); };
  };
  const embed::RowRefreshStats local_fold =
      local->FoldIn(pipeline::FoldInWalks(config), config.fold_in, local_folded, keep(local_rows));
  const embed::RowRefreshStats ranks_fold =
      ranks->FoldIn(pipeline::FoldInWalks(config), config.fold_in, ranks_folded, keep(ranks_rows));
  EXPECT_GT(local_rows.size(), 100u);
  EXPECT_EQ(ranks_rows, local_rows);
  EXPECT_EQ(ranks_fold.pairs, local_fold.pairs);
  EXPECT_FALSE(local_folded.input == table.input);
  EXPECT_TRUE(ranks_folded.input == local_folded.input);

  const recall::RecallIndexItems local_items = local->IndexItems(local_folded);
  const recall::RecallIndexItems ranks_items = ranks->IndexItems(local_folded);
  ExpectSameItems(local_items.accounts, ranks_items.accounts);
  // (No ASSERT before StopRanks: the other ranks wait for it.)
  EXPECT_TRUE(local_items.authors.has_value() && ranks_items.authors.has_value());
  if (local_items.authors && ranks_items.authors) ExpectSameItems(*local_items.authors, *ranks_items.authors);
  EXPECT_TRUE(local_items.posts.has_value() && ranks_items.posts.has_value());
  if (local_items.posts && ranks_items.posts) {
    EXPECT_FALSE(local_items.posts->ids.empty());
    ExpectSameItems(*local_items.posts, *ranks_items.posts);
  }

  // A resumed batch: the ranks read their parts back.
  const std::unique_ptr<pipeline::BatchGraph> resumed = MakeBatchGraphOnRanks(config, flags, comm);
  ExpectSameSummary(summary, resumed->Resume(ranks_work));
  EXPECT_EQ(resumed->HoldOut(split), held_out);
  dist::StopRanks(comm);
}

}  // namespace
}  // namespace gr::apps
