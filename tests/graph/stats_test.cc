#include "graph/stats.h"

#include <gtest/gtest.h>

#include "graph/csr_graph.h"
#include "graph/id_map.h"

#include <algorithm>
#include "graph/ingest.h"
#include "core/error.h"
#include "core/rng.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

TEST(StatsTest, CountsComponentsReciprocityAndDegrees) {
  // Two components {1,2,3} and {4,5}, plus 6 alone (only a self-loop, dropped).
  const auto path = ::gr::testing::WriteTextFile("f.tsv", "1\t2\n2\t1\n2\t3\n4\t5\n6\t6\n1\t3\n");
  const GraphStats s = ComputeStats(Ingest({.follows = path}, {}));
  EXPECT_EQ(s.accounts, 6u);
  EXPECT_EQ(s.follow_edges, 5u);
  EXPECT_EQ(s.reciprocal_follow_edges, 2u);
  EXPECT_EQ(s.isolated_accounts, 1u);
  EXPECT_EQ(s.follow_components, 3u);
  EXPECT_EQ(s.largest_component, 3u);
  ASSERT_FALSE(s.degrees.empty());
  EXPECT_EQ(s.degrees[0].max, 2u);
  EXPECT_EQ(s.degrees[0].zero, 3u);  // 3, 5 and 6 follow nobody
  EXPECT_NEAR(s.degrees[0].mean, 5.0 / 6.0, 1e-9);
  EXPECT_NE(s.ToText().find("largest: 3 accounts"), std::string::npos) << s.ToText();
  EXPECT_NE(s.ToJson().find("\"largest_component\":3"), std::string::npos);
}

// HasEdge against std::binary_search for every length up to past the
// short-list cut-off and every present and absent target.
TEST(CsrGraphTest, HasEdgeAgreesWithBinarySearch) {
  CsrGraph g;
  g.offsets = {0};
  for (uint32_t n = 0; n < 200; ++n) {
    for (uint32_t i = 0; i < n; ++i) g.targets.push_back(2 * i + 1);
    g.offsets.push_back(g.targets.size());
  }
  for (VertexId u = 0; u < 200; ++u) {
    auto list = g.Neighbors(u);
    for (VertexId v = 0; v < 2 * u + 3; ++v)
      ASSERT_EQ(g.HasEdge(u, v), std::binary_search(list.begin(), list.end(), v)) << "list " << u << " target " << v;
  }
}

// The guided search answers as std::binary_search whatever the guess
// (inside, at either end, past the end), on lists with repeated entries.
TEST(CsrGraphTest, SortedContainsFromAgreesWithBinarySearchForAnyGuess) {
  Rng rng(3);
  for (uint32_t n = 0; n < 150; ++n) {
    std::vector<VertexId> list(n);
    for (VertexId& x : list) x = static_cast<VertexId>(rng.Uniform(3 * n + 2));
    std::sort(list.begin(), list.end());
    for (VertexId v = 0; v < 3 * n + 4; ++v) {
      const bool expected = std::binary_search(list.begin(), list.end(), v);
      for (uint64_t guess : {uint64_t{0}, uint64_t{n} / 3, uint64_t{n} / 2, uint64_t{n} - std::min(n, 1u),
                             uint64_t{n}, uint64_t{n} + 7, GuessPosition(n, v, 3 * n + 2)})
        ASSERT_EQ(SortedContainsFrom(list, v, guess), expected) << "size " << n << " target " << v << " guess " << guess;
    }
  }
  EXPECT_EQ(GuessPosition(100, 50, 1000), 5u);
  EXPECT_EQ(GuessPosition(100, 2000, 1000), 100u);  // clamped to the size
  EXPECT_EQ(GuessPosition(100, 5, 0), 0u);
}

TEST(IdMapTest, DenseIdsFollowSortedExternalIds) {
  const IdMap map = IdMap::FromIds({50, 7, 50, uint64_t{1} << 60, 7});
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map.At(7), 0u);
  EXPECT_EQ(map.At(50), 1u);
  EXPECT_EQ(map.At(uint64_t{1} << 60), 2u);
  EXPECT_EQ(map.Find(8), kNoVertex);
  EXPECT_EQ(map.ToExternal(2), uint64_t{1} << 60);
  try {
    map.At(8);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("unknown id 8"), std::string::npos);
  }
  EXPECT_THROW(IdMap::FromSortedUnique({1, 3, 3}), Error);
}

}  // namespace
}  // namespace gr::graph
