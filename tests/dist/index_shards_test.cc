// Index shards built on every rank (under mpirun with 1, 2 and 4 ranks):
// the files rank 0 writes are byte for byte those one process writes
// (version::SaveIndexShards), and a shard that fails on any rank fails the
// call on rank 0, naming it, without leaving a rank behind. The indices'
// items collected from a partitioned graph are those of the whole graph.
#include "dist/index_shards.h"
#include "dist/partitioned_index_items.h"
#include "dist/partitioned_ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "core/shard.h"
#include "dist/root_training.h"
#include "graph/ingest.h"
#include "synth/world.h"
#include "tests/dist/dist_test_util.h"
#include "tests/test_util.h"
#include "version/version_store.h"

namespace gr::dist {
namespace {

namespace fs = std::filesystem;

// Every file under `dir` by its relative path, with its bytes.
std::map<std::string, std::string> FilesUnder(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file())
      files[fs::relative(entry.path(), dir).string()] = testing::ReadBytes(entry.path().string());
  return files;
}

TEST(IndexShardsOnEveryRank, WriteTheSameFilesAsOneProcess) {
  const std::string dir = SharedDir("index_shards");
  if (Rank(MPI_COMM_WORLD) != 0) return FollowRootTraining(MPI_COMM_WORLD);
  struct StopRanksAtExit {  // however the test ends, the other ranks move on
    ~StopRanksAtExit() { StopRanks(MPI_COMM_WORLD); }
  } stop_ranks_at_exit;
  synth::WorldConfig world;
  world.accounts = 1200;
  world.days = 2;
  synth::GenerateWorld(world, dir + "/world");
  const graph::SocialGraph g = graph::Ingest(
      {.follows = dir + "/world/follows.tsv", .interactions = dir + "/world/interactions.tsv",
       .posts = dir + "/world/posts.tsv"},
      {});
  ASSERT_GT(g.num_posts(), 0u);
  embed::EmbeddingTable table;
  table.ids.assign(g.accounts.external_ids().begin(), g.accounts.external_ids().end());
  table.kinds.assign(table.ids.size(), embed::TokenKind::kAccount);
  table.input = FloatMatrix(table.ids.size(), 16);
  table.output = FloatMatrix(table.ids.size(), 16);
  Rng rng(5);
  for (FloatMatrix* m : {&table.input, &table.output})
    for (float& x : m->Data()) x = static_cast<float>(rng.UniformDouble() - 0.5);
  const recall::IndexConfig config{.threads = 1};  // one thread: the same HNSW graph every build
  constexpr uint32_t kShards = 5;                  // more than the ranks: some build two

  bool meanwhile_ran = false;
  SaveIndexShardsOnEveryRank(recall::CollectRecallIndexItems(g, table), config, kShards, dir + "/ranks", MPI_COMM_WORLD,
                             [&] { meanwhile_ran = true; });
  EXPECT_TRUE(meanwhile_ran);
  version::SaveIndexShards(recall::CollectRecallIndexItems(g, table), config, kShards, dir + "/one");
  const auto one = FilesUnder(dir + "/one"), ranks = FilesUnder(dir + "/ranks");
  EXPECT_EQ(one.size(), kShards * 3);  // accounts, authors and posts of each shard
  ASSERT_EQ(one.size(), ranks.size());
  for (const auto& [path, bytes] : one) {
    ASSERT_TRUE(ranks.contains(path)) << path;
    EXPECT_TRUE(ranks.at(path) == bytes) << path << " differs";
  }

  // A zero vector cannot go into a cosine index: its shard fails, on
  // whichever rank builds it, and rank 0 names it; the ranks still follow.
  const ExternalId broken = table.ids[7];
  std::fill(table.input.Row(7).begin(), table.input.Row(7).end(), 0.0f);
  const uint32_t broken_shard = ShardOf(broken, kShards);
  const std::string error = testing::ErrorOf(
      [&] { SaveIndexShardsOnEveryRank(recall::CollectRecallIndexItems(g, table), config, kShards, dir + "/broken", MPI_COMM_WORLD); });
  EXPECT_NE(error.find(Shard{.index = broken_shard, .count = kShards}.Name()), std::string::npos) << error;
  EXPECT_NE(error.find(StrCat("rank ", RankOfIndexShard(broken_shard, Size(MPI_COMM_WORLD)))),
            std::string::npos)
      << error;
  table.input.Row(7)[0] = 1.0f;
  SaveIndexShardsOnEveryRank(recall::CollectRecallIndexItems(g, table), config, kShards, dir + "/again", MPI_COMM_WORLD);
  EXPECT_EQ(FilesUnder(dir + "/again").size(), kShards * 3);
  fs::remove_all(dir);
}

void ExpectSameItems(const recall::IndexItems& got, const recall::IndexItems& expected, const char* kind) {
  EXPECT_EQ(got.ids, expected.ids) << kind;
  EXPECT_TRUE(got.vectors == expected.vectors) << kind << ": the vectors differ";
}

TEST(IndexItemsOnRoot, AreTheWholeGraphsItems) {
  const graph::InputFiles files = MessyWorld("index_items");
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  const PartitionedInput in = IngestPartitioned(files, {}, {.with_posts = true}, MPI_COMM_WORLD);
  graph::SocialGraph whole;
  embed::EmbeddingTable table;
  if (root) {
    whole = graph::Ingest(files, {});
    // Vectors for 9 accounts in 10 (the rest have none) and for the posts
    // with an even id: every rule of the post vectors comes up.
    Rng rng(3);
    for (const ExternalId id : whole.accounts.external_ids()) {
      if (rng.Uniform(10) == 0) continue;
      table.ids.push_back(id);
      table.kinds.push_back(embed::TokenKind::kAccount);
    }
    for (const ExternalId id : whole.posts.external_ids()) {
      if (id % 2 != 0) continue;
      table.ids.push_back(id);
      table.kinds.push_back(embed::TokenKind::kPost);
    }
    table.input = FloatMatrix(table.ids.size(), 8);
    table.output = FloatMatrix(table.ids.size(), 8);
    for (FloatMatrix* m : {&table.input, &table.output})
      for (float& x : m->Data()) x = static_cast<float>(rng.UniformDouble() - 0.5);
  }
  const embed::PostVectorRule rule{.min_interactions = 2, .first_engagers = 3, .author_weight = 0.5f};
  const recall::RecallIndexItems got =
      CollectIndexItemsOnRoot(in.follows, in.posts, root ? &table : nullptr, rule, {}, MPI_COMM_WORLD);
  if (!root) return;
  const recall::RecallIndexItems expected = recall::CollectRecallIndexItems(whole, table, rule);
  ASSERT_TRUE(expected.authors && expected.posts);
  ASSERT_GT(expected.posts->ids.size(), 100u);
  ExpectSameItems(got.accounts, expected.accounts, "accounts");
  ASSERT_TRUE(got.authors && got.posts);
  ExpectSameItems(*got.authors, *expected.authors, "authors");
  ExpectSameItems(*got.posts, *expected.posts, "posts");
}

}  // namespace
}  // namespace gr::dist
