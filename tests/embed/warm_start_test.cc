#include "embed/warm_start.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::embed {
namespace {

graph::SocialGraph Graph(const std::string& text) {
  return graph::LoadEdgeList(::gr::testing::WriteTextFile("g.txt", text), false, {});
}

// Previous version: accounts 1, 2, 3 (and a post that must be ignored).
EmbeddingTable Previous() {
  EmbeddingTable t;
  t.ids = {1, 2, 3, 1};
  t.kinds = {TokenKind::kAccount, TokenKind::kAccount, TokenKind::kAccount, TokenKind::kPost};
  t.input = FloatMatrix(4, 2);
  t.output = FloatMatrix(4, 2);
  const float values[4][2] = {{1, 0}, {0, 1}, {3, 3}, {9, 9}};
  for (size_t r = 0; r < 4; ++r) {
    for (size_t x = 0; x < 2; ++x) {
      t.input.At(r, x) = values[r][x];
      t.output.At(r, x) = -values[r][x];
    }
  }
  return t;
}

TEST(WarmStartTest, CopiesKnownAccountsAndAveragesNewOnesFromNeighbours) {
  // Account 3 left; 4 is new and follows 1 and 2; 5 is new with no known neighbour.
  const graph::SocialGraph g = Graph("1 2\n4 1\n4 2\n5 6\n");
  const WarmStart warm = MakeWarmStart(Previous(), g);
  EXPECT_EQ(warm.copied, 2u);
  EXPECT_EQ(warm.averaged, 1u);
  const VertexId a1 = g.accounts.At(1), a4 = g.accounts.At(4), a5 = g.accounts.At(5);
  EXPECT_TRUE(warm.known[a1]);
  EXPECT_EQ(warm.input.At(a1, 0), 1.0f);
  EXPECT_EQ(warm.output.At(a1, 0), -1.0f);
  EXPECT_TRUE(warm.known[a4]);
  EXPECT_FLOAT_EQ(warm.input.At(a4, 0), 0.5f);  // mean of (1,0) and (0,1)
  EXPECT_FLOAT_EQ(warm.input.At(a4, 1), 0.5f);
  EXPECT_FLOAT_EQ(warm.output.At(a4, 1), -0.5f);
  EXPECT_FALSE(warm.known[a5]);
}

TEST(WarmStartTest, TrainingStartsFromTheWarmVectorsAndChecksShape) {
  const graph::SocialGraph g = Graph("1 2\n2 3\n3 1\n");
  walk::WalkConfig walks;
  walks.walks_per_vertex = 2;
  walks.walk_length = 5;
  const walk::RandomWalker walker(g, walks);
  SkipGramConfig config;
  config.dim = 2;
  config.threads = 1;
  config.learning_rate = 1e-6f;  // barely moves: the result stays near the warm vectors
  const WarmStart warm = MakeWarmStart(Previous(), g);
  const SkipGramResult result = TrainSkipGram(WalkerSource(walker), g.num_accounts(), config, nullptr, &warm);
  EXPECT_NEAR(result.input.At(g.accounts.At(3), 0), 3.0f, 1e-3);
  EXPECT_NEAR(result.output.At(g.accounts.At(2), 1), -1.0f, 1e-3);
  config.dim = 3;
  EXPECT_THROW(TrainSkipGram(WalkerSource(walker), g.num_accounts(), config, nullptr, &warm), Error);
}

// Metapath walks' vocabulary: the posts' rows follow the accounts'; a post
// of the previous table is copied, a new one left to start random.
TEST(WarmStartTest, WithPostsCopiesKnownPostsAfterTheAccounts) {
  const std::string follows = ::gr::testing::WriteTextFile("warm_follows.tsv", "1\t2\n2\t3\n");
  const std::string posts = ::gr::testing::WriteTextFile("warm_posts.tsv", "1\t1\n8\t2\n");
  const graph::SocialGraph g = graph::Ingest({.follows = follows, .posts = posts}, {});
  ASSERT_EQ(g.num_posts(), 2u);
  const WarmStart warm = MakeWarmStart(Previous(), g, /*with_posts=*/true);
  ASSERT_EQ(warm.input.rows(), g.num_accounts() + g.num_posts());
  ASSERT_EQ(warm.known.size(), warm.input.rows());
  EXPECT_EQ(warm.copied, 3u);
  EXPECT_EQ(warm.copied_posts, 1u);
  const size_t post1 = g.num_accounts() + g.posts.At(1), post8 = g.num_accounts() + g.posts.At(8);
  EXPECT_TRUE(warm.known[post1]);
  EXPECT_EQ(warm.input.At(post1, 0), 9.0f);
  EXPECT_EQ(warm.output.At(post1, 1), -9.0f);
  EXPECT_FALSE(warm.known[post8]);
  EXPECT_EQ(warm.input.At(g.accounts.At(1), 0), 1.0f);  // account 1's row, not post 1's
  // Without posts, account rows only, as for account walks.
  EXPECT_EQ(MakeWarmStart(Previous(), g).input.rows(), g.num_accounts());
}

}  // namespace
}  // namespace gr::embed
