#include "embed/graph_vectors.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::embed {
namespace {

TEST(PostVectorsTest, TrainedRowsColdMeansAndNoVector) {
  // Accounts 1, 2, 3; posts 10 (author 1, engaged by 2 then 3), 20 (author 2,
  // no interactions), 30 (author 3, engaged by 1, 2, 3), 40 (unknown author, no interactions).
  const std::string follows = ::gr::testing::WriteTextFile("f.tsv", "1\t2\n2\t3\n");
  const std::string posts = ::gr::testing::WriteTextFile("p.tsv", "10\t1\n20\t2\n30\t3\n");
  const std::string interactions = ::gr::testing::WriteTextFile(
      "i.tsv", "3\t10\tclick\t200\n2\t10\tclick\t100\n1\t30\tlike\t5\n2\t30\tlike\t6\n3\t30\tlike\t7\n");
  const graph::SocialGraph g = graph::Ingest({.follows = follows, .interactions = interactions, .posts = posts}, {});
  EmbeddingTable table;
  table.ids = {1, 2, 3, 30};
  table.kinds = {TokenKind::kAccount, TokenKind::kAccount, TokenKind::kAccount,
                 TokenKind::kPost};
  table.input = FloatMatrix(4, 2);
  const float values[4][2] = {{1, 0}, {0, 1}, {1, 1}, {5, 5}};
  for (size_t r = 0; r < 4; ++r)
    for (size_t x = 0; x < 2; ++x) table.input.At(r, x) = values[r][x];
  const PostVectors pv = BuildPostVectors(g, table, {.min_interactions = 3, .first_engagers = 1, .author_weight = 2});
  EXPECT_EQ(pv.trained, 1u);  // post 30: three interactions and a row
  EXPECT_EQ(pv.cold, 2u);     // posts 10, 20
  ASSERT_EQ(pv.ids.size(), 3u);
  auto row_of = [&](ExternalId id) {
    const size_t r = static_cast<size_t>(std::find(pv.ids.begin(), pv.ids.end(), id) - pv.ids.begin());
    return std::vector<float>(pv.vectors.Row(r).begin(), pv.vectors.Row(r).end());
  };
  // Post 10: (2 x author 1 + first engager 2 (time 100)) / 3.
  EXPECT_FLOAT_EQ(row_of(10)[0], 2.0f / 3);
  EXPECT_FLOAT_EQ(row_of(10)[1], 1.0f / 3);
  EXPECT_EQ(row_of(20), (std::vector<float>{0, 1}));  // author 2 only
  EXPECT_EQ(row_of(30), (std::vector<float>{5, 5}));  // trained row
}

}  // namespace
}  // namespace gr::embed
