#include "graph/edge_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "core/error.h"
#include "graph/ingest.h"
#include "graph/stats.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

// Two 8-cliques joined by a path 7 - 100 - 8: 57 undirected edges.
SocialGraph TwoCliques(bool directed) {
  std::ostringstream text;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 8; ++i)
      for (int j = i + 1; j < 8; ++j) text << c * 8 + i << ' ' << c * 8 + j << '\n';
  text << "7 100\n100 8\n";
  return LoadEdgeList(::gr::testing::WriteTextFile("cliques.txt", text.str()), directed, {});
}

uint64_t UndirectedPairs(const SocialGraph& g) {
  uint64_t pairs = 0;
  for (VertexId u = 0; u < g.num_accounts(); ++u)
    for (VertexId v : g.following.Neighbors(u)) pairs += u < v;
  return pairs;
}

TEST(EdgeSplitTest, UndirectedHoldsOutTheFractionAndKeepsComponents) {
  const SocialGraph g = TwoCliques(/*directed=*/false);
  const EdgeSplit s = SplitEdgesForLinkPrediction(g, {.test_fraction = 0.5, .seed = 3});
  EXPECT_EQ(s.candidate_edges, 58u);
  EXPECT_EQ(s.forest_edges, 16u);  // 17 vertices, one component
  EXPECT_EQ(s.requested, 29u);
  ASSERT_EQ(s.test_edges.size(), 29u);
  EXPECT_EQ(UndirectedPairs(s.train), 58u - 29u);
  for (const auto& [u, v] : s.test_edges) {
    EXPECT_LT(u, v);
    EXPECT_TRUE(g.following.HasEdge(u, v));
    EXPECT_FALSE(s.train.following.HasEdge(u, v));
    EXPECT_FALSE(s.train.following.HasEdge(v, u));
  }
  ASSERT_EQ(s.test_non_edges.size(), s.test_edges.size());
  std::set<VertexPair> seen;
  for (const auto& [u, v] : s.test_non_edges) {
    EXPECT_LT(u, v);
    EXPECT_FALSE(g.following.HasEdge(u, v));
    EXPECT_TRUE(seen.insert({u, v}).second) << "repeated non-edge";
  }
  EXPECT_EQ(ComputeStats(s.train).follow_components, 1u);
  EXPECT_EQ(ComputeStats(s.train).isolated_accounts, 0u);
  EXPECT_EQ(s.train.accounts, g.accounts);
  EXPECT_NO_THROW(s.train.Validate());
}

TEST(EdgeSplitTest, SameSeedSameSplitOtherSeedOther) {
  const SocialGraph g = TwoCliques(false);
  const EdgeSplit a = SplitEdgesForLinkPrediction(g, {.seed = 7});
  const EdgeSplit b = SplitEdgesForLinkPrediction(g, {.seed = 7});
  const EdgeSplit c = SplitEdgesForLinkPrediction(g, {.seed = 8});
  EXPECT_EQ(a.test_edges, b.test_edges);
  EXPECT_EQ(a.test_non_edges, b.test_non_edges);
  EXPECT_EQ(a.train, b.train);
  EXPECT_NE(a.test_edges, c.test_edges);
}

TEST(EdgeSplitTest, ATreeHasNothingToHoldOut) {
  const SocialGraph g = LoadEdgeList(::gr::testing::WriteTextFile("path.txt", "1 2\n2 3\n3 4\n"), false, {});
  const EdgeSplit s = SplitEdgesForLinkPrediction(g, {.test_fraction = 0.5});
  EXPECT_EQ(s.requested, 2u);
  EXPECT_TRUE(s.test_edges.empty());
  EXPECT_TRUE(s.test_non_edges.empty());
  EXPECT_EQ(s.train, g);
}

TEST(EdgeSplitTest, DirectedRemovesOneDirectionAndKeepsFollowersInStep) {
  const SocialGraph g = TwoCliques(/*directed=*/true);
  const EdgeSplit s = SplitEdgesForLinkPrediction(g, {.test_fraction = 0.3, .seed = 5});
  ASSERT_FALSE(s.test_edges.empty());
  EXPECT_EQ(s.train.following.num_edges() + s.test_edges.size(), g.following.num_edges());
  for (const auto& [u, v] : s.test_edges) {
    EXPECT_FALSE(s.train.following.HasEdge(u, v));
    EXPECT_FALSE(s.train.followers.HasEdge(v, u));
  }
  for (const auto& [u, v] : s.test_non_edges) EXPECT_FALSE(g.following.HasEdge(u, v));
  EXPECT_NO_THROW(s.train.Validate());
  EXPECT_EQ(ComputeStats(s.train).follow_components, 1u);
}

TEST(EdgeSplitTest, NewestOrderHoldsOutTheNewestFollows) {
  // A 5-cycle (old, times 1..5) plus chords with times 100..104.
  const std::string path = ::gr::testing::WriteTextFile(
      "f.tsv", "1\t2\t1\n2\t3\t2\n3\t4\t3\n4\t5\t4\n5\t1\t5\n1\t3\t100\n1\t4\t101\n2\t4\t102\n2\t5\t103\n3\t5\t104\n");
  const SocialGraph g = Ingest({.follows = path}, {});
  const EdgeSplit s = SplitEdgesForLinkPrediction(g, {.test_fraction = 0.3, .order = HoldOutOrder::kNewest});
  ASSERT_EQ(s.test_edges.size(), 3u);
  for (const auto& [u, v] : s.test_edges) {
    const EdgeIndex e = g.following.Begin(u) + static_cast<EdgeIndex>(
        std::lower_bound(g.following.Neighbors(u).begin(), g.following.Neighbors(u).end(), v) -
        g.following.Neighbors(u).begin());
    EXPECT_GE(g.following.times[e], 102u) << u << "->" << v;
  }
}

TEST(EdgeSplitTest, RejectsBadFractionAndImpossibleNonEdges) {
  const SocialGraph g = TwoCliques(false);
  EXPECT_THROW(SplitEdgesForLinkPrediction(g, {.test_fraction = 0.0}), Error);
  EXPECT_THROW(SplitEdgesForLinkPrediction(g, {.test_fraction = 1.0}), Error);
  // A triangle has no non-edge at all.
  const SocialGraph triangle =
      LoadEdgeList(::gr::testing::WriteTextFile("t.txt", "1 2\n2 3\n1 3\n"), false, {});
  try {
    SampleNonEdges(triangle, 1, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-edges"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gr::graph
