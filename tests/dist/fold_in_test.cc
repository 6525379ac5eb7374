// What the batch does to its vectors around training with the graph on the
// ranks (1, 2 and 4 ranks): the warm start (embed::MakeWarmStart's rows,
// posts too) and the fold-in of held-out follows (embed::RefreshRows' over
// the whole graph), bit for bit, whatever the ranks and rounds.
#include "dist/fold_in.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "dist/partitioned_ingest.h"
#include "dist/warm_start.h"
#include "embed/warm_start.h"
#include "graph/ingest.h"
#include "tests/dist/dist_test_util.h"
#include "tests/test_util.h"
#include "walk/random_walk.h"

namespace gr::dist {
namespace {

// About one follow in six counts as held out (new), chosen by the pair.
bool HeldOut(ExternalId follower, ExternalId followee) { return MixSeed(follower, followee) % 6 == 0; }

FloatMatrix RandomMatrix(size_t rows, size_t cols, uint64_t seed) {
  FloatMatrix m(rows, cols);
  Rng rng(seed);
  for (size_t r = 0; r < rows; ++r)
    for (float& x : m.Row(r)) x = static_cast<float>(rng.UniformDouble() - 0.5) * 0.4f;
  return m;
}

TEST(FoldInOnRoot, RefreshesRank0sRowsAsOneProcessDoes) {
  const std::string follows = SharedWorldFollows("dist_fold_in", 1500);
  const PartitionedFollows part = LoadPartitionedFollows(follows, MPI_COMM_WORLD);
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  std::vector<std::pair<ExternalId, ExternalId>> mine;
  for (size_t a = 0; a < part.accounts.size(); ++a)
    for (uint64_t e = part.following_offsets[a]; e < part.following_offsets[a + 1]; ++e)
      if (HeldOut(part.accounts[a], part.followees[e])) mine.emplace_back(part.accounts[a], part.followees[e]);

  graph::SocialGraph g;
  std::vector<graph::VertexPair> new_edges;
  if (root) {
    g = graph::Ingest({.follows = follows}, {});
    for (VertexId u = 0; u < g.num_accounts(); ++u)
      for (const VertexId v : g.following.Neighbors(u))
        if (HeldOut(g.accounts.ToExternal(u), g.accounts.ToExternal(v))) new_edges.emplace_back(v, u);  // any order
    std::reverse(new_edges.begin(), new_edges.end());
    ASSERT_GT(new_edges.size(), 100u);
  }
  const embed::RowRefreshConfig refresh{.walks_per_row = 6, .new_edge_share = 0.5, .seed = 3, .threads = 2};
  const walk::WalkConfig node2vec{.kind = walk::WalkKind::kNode2vec, .direction = walk::Direction::kOut,
                                  .walk_length = 6, .p = 0.5, .q = 2, .seed = 9, .threads = 1};
  const walk::WalkConfig uniform{.walk_length = 6, .seed = 9, .threads = 1};
  for (const walk::WalkConfig& walk : {uniform, node2vec}) {
    SCOPED_TRACE(walk.kind == walk::WalkKind::kUniform ? "uniform" : "node2vec");
    FloatMatrix expected, input, output;
    std::vector<VertexId> rows;
    embed::RowRefreshStats single;
    if (root) {
      output = RandomMatrix(g.num_accounts(), 16, 1);
      expected = input = RandomMatrix(g.num_accounts(), 16, 2);
      rows = embed::EndpointsOf(new_edges);
      single = embed::RefreshRows(walk::RandomWalker(g, walk), rows, embed::DegreeNegativeWeights(g, walk.direction),
                                  refresh, expected, output, new_edges);
      ASSERT_NE(expected, input);
    }
    for (const size_t rows_per_round : {size_t{37}, size_t{1} << 18}) {
      FloatMatrix refreshed = input;
      std::vector<VertexId> seen;
      const FoldInOnRanks folded = FoldInOnRoot(
          part, mine, walk, refresh, root ? &refreshed : nullptr, root ? &output : nullptr, MPI_COMM_WORLD,
          rows_per_round, [&](std::span<const VertexId> rows_before) {
            seen.assign(rows_before.begin(), rows_before.end());
            EXPECT_TRUE(refreshed == input) << "a row changed before the callback";
          });
      if (!root) continue;
      EXPECT_EQ(seen, rows);
      EXPECT_EQ(folded.rows, rows);
      EXPECT_EQ(folded.stats.walks, single.walks);
      EXPECT_EQ(folded.stats.pairs, single.pairs);
      EXPECT_TRUE(refreshed == expected) << "rows per round " << rows_per_round;
    }
  }
  // A table of another shape is refused on every rank.
  FloatMatrix small(3, 16), small_output(3, 16);
  const std::string error = ::gr::testing::ErrorOf([&] {
    FoldInOnRoot(part, mine, uniform, refresh, root ? &small : nullptr, root ? &small_output : nullptr, MPI_COMM_WORLD);
  });
  EXPECT_NE(error.find(root ? "a table of 3 rows for the" : "another rank failed"), std::string::npos) << error;
}

// The warm start for metapath walks: every account's and post's row as
// embed::MakeWarmStart(..., with_posts) gives it from a previous table that
// has some of the accounts and posts and some the graph lacks.
TEST(DistributedWarmStart, IsMakeWarmStartsRowsWithPosts) {
  const graph::InputFiles files = MessyWorld("dist_warm_posts");
  const PartitionedInput in = IngestPartitioned(files, {}, {.with_posts = true}, MPI_COMM_WORLD);
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  graph::SocialGraph g;
  embed::EmbeddingTable previous;
  if (root) {
    g = graph::Ingest(files, {});
    ASSERT_GT(g.num_posts(), 10u);
    for (VertexId v = 0; v < g.num_accounts(); v += 2) previous.ids.push_back(g.accounts.ToExternal(v));
    previous.ids.push_back(999999001);  // an account the graph lacks
    previous.kinds.assign(previous.ids.size(), embed::TokenKind::kAccount);
    for (VertexId p = 0; p < g.num_posts(); p += 3) previous.ids.push_back(g.posts.ToExternal(p));
    previous.ids.push_back(999999002);  // a post the graph lacks
    previous.kinds.resize(previous.ids.size(), embed::TokenKind::kPost);
    previous.input = RandomMatrix(previous.ids.size(), 8, 5);
    previous.output = RandomMatrix(previous.ids.size(), 8, 6);
  }
  const embed::WarmStart warm = DistributedWarmStart(root ? &previous : nullptr, in.follows, MPI_COMM_WORLD, &in.posts);
  if (!root) return;
  const embed::WarmStart expected = embed::MakeWarmStart(previous, g, /*with_posts=*/true);
  EXPECT_EQ(warm.copied, expected.copied);
  EXPECT_EQ(warm.averaged, expected.averaged);
  EXPECT_EQ(warm.copied_posts, expected.copied_posts);
  EXPECT_GT(warm.copied_posts, 0u);
  EXPECT_EQ(warm.known, expected.known);
  EXPECT_TRUE(warm.input == expected.input);
  EXPECT_TRUE(warm.output == expected.output);
}

}  // namespace
}  // namespace gr::dist
