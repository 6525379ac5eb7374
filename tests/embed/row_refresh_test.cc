#include "embed/row_refresh.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::embed {
namespace {

// Two communities of 30 accounts (1..30, 31..60), each account following 6
// others of its own; `extra` lines appended.
std::string TwoCommunities(const std::string& extra) {
  std::string edges;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 30; ++i)
      for (int k : {1, 2, 3, 5, 8, 13}) edges += StrCat(1 + c * 30 + i, " ", 1 + c * 30 + (i + k) % 30, "\n");
  return edges + extra;
}

TEST(RowRefreshTest, NewFollowsPullOnlyTheRefreshedRowTowardTheirCommunity) {
  const graph::SocialGraph before =
      graph::LoadEdgeList(::gr::testing::WriteTextFile("before.txt", TwoCommunities("")), /*directed=*/true, {});
  // Account 1 (community A) follows three accounts of community B.
  const graph::SocialGraph after = graph::LoadEdgeList(
      ::gr::testing::WriteTextFile("after.txt", TwoCommunities("1 31\n1 40\n1 50\n")), /*directed=*/true, {});
  ASSERT_EQ(before.num_accounts(), after.num_accounts());
  for (VertexId v = 0; v < before.num_accounts(); ++v)
    ASSERT_EQ(before.accounts.ToExternal(v), after.accounts.ToExternal(v));
  walk::WalkConfig walks;
  walks.walks_per_vertex = 20;
  walks.walk_length = 20;
  walks.direction = walk::Direction::kBoth;
  SkipGramConfig train;
  train.dim = 16;
  train.epochs = 3;
  train.threads = 1;
  const EmbeddingTable trained = EmbedWalks(before, walks, train);
  const VertexId a = after.accounts.Find(1);
  const auto community_b_cosine = [&](const FloatMatrix& input) {
    double sum = 0;
    for (ExternalId b = 31; b <= 60; ++b) sum += Cosine(input.Row(a), input.Row(after.accounts.Find(b)));
    return sum / 30;
  };
  walk::WalkConfig short_walks = walks;
  short_walks.walk_length = 6;
  const walk::RandomWalker walker(after, short_walks);
  RowRefreshConfig config;
  config.walks_per_row = 40;
  config.passes = 2;
  const std::vector<VertexId> rows{a};
  std::vector<FloatMatrix> refreshed;
  for (const int threads : {1, 2}) {
    config.threads = threads;
    FloatMatrix input = trained.input;
    const RowRefreshStats stats = RefreshRows(walker, rows, DegreeNegativeWeights(after, walk::Direction::kBoth), config, input, trained.output);
    EXPECT_EQ(stats.rows, 1u);
    EXPECT_EQ(stats.walks, 80u);
    EXPECT_GT(stats.pairs, 0u);
    refreshed.push_back(std::move(input));
  }
  // The same whatever the thread count; only row a changed.
  for (size_t r = 0; r < trained.rows(); ++r) {
    const std::span<const float> one = refreshed[0].Row(r), two = refreshed[1].Row(r), old = trained.input.Row(r);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), two.begin())) << "row " << r;
    EXPECT_EQ(std::equal(one.begin(), one.end(), old.begin()), r != a) << "row " << r;
  }
  const double cosine_before = community_b_cosine(trained.input);
  const double cosine_after = community_b_cosine(refreshed[0]);
  EXPECT_GT(cosine_after, cosine_before + 0.05) << cosine_before << " -> " << cosine_after;
}

TEST(RowRefreshTest, BadInputIsNamed) {
  const graph::SocialGraph g =
      graph::LoadEdgeList(::gr::testing::WriteTextFile("g.txt", TwoCommunities("")), /*directed=*/true, {});
  const walk::RandomWalker walker(g, {});
  FloatMatrix input(g.num_accounts(), 4), output(g.num_accounts(), 4);
  const std::vector<double> weights(g.num_accounts(), 1.0);
  const std::vector<VertexId> twice{3, 3}, outside{static_cast<VertexId>(g.num_accounts())};
  EXPECT_THROW(RefreshRows(walker, twice, weights, {}, input, output), Error);
  EXPECT_THROW(RefreshRows(walker, outside, weights, {}, input, output), Error);
  EXPECT_THROW(RefreshRows(walker, {}, std::vector<double>(3, 1.0), {}, input, output), Error);
  EXPECT_THROW(RefreshRows(walker, {}, weights, {.window = 0}, input, output), Error);
}

}  // namespace
}  // namespace gr::embed
