#include "graph/graph_parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "core/error.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

using ::gr::testing::ErrorOf;
using ::gr::testing::TempPath;
using ::gr::testing::WriteTextFile;

// A few hundred accounts and posts with every edge field: decayed weights,
// times, interaction types and dwell, posts with and without authors,
// accounts with no follows.
SocialGraph MixedWorld() {
  std::mt19937_64 rng(7);
  std::string follows, interactions, posts;
  for (int i = 0; i < 1500; ++i)
    follows += std::to_string(rng() % 300) + "\t" + std::to_string(rng() % 300) + "\t" +
               std::to_string(1000 + rng() % 500000) + "\n";
  for (int i = 0; i < 2000; ++i)
    interactions += std::to_string(rng() % 350) + "\t" + std::to_string(10000 + rng() % 400) + "\t" +
                    std::to_string(rng() % 4) + "\t" + std::to_string(1000 + rng() % 900000) + "\t" +
                    std::to_string(rng() % 5000) + "\n";
  for (int p = 10000; p < 10300; ++p)
    posts += std::to_string(p) + "\t" + std::to_string(rng() % 320) + "\t" + std::to_string(1000 + rng() % 900000) + "\n";
  return Ingest({.follows = WriteTextFile("f.tsv", follows),
                 .interactions = WriteTextFile("i.tsv", interactions),
                 .posts = WriteTextFile("p.tsv", posts)},
                {});
}

// g cut into `count` parts, each saved and loaded again, in reverse order.
std::vector<SocialGraph> SavedParts(const SocialGraph& g, uint32_t count) {
  std::vector<SocialGraph> parts;
  for (uint32_t k = count; k-- > 0;) {
    const std::string path = TempPath("part-" + std::to_string(k) + ".snap");
    SaveSnapshot(CutGraphPart(g, {.index = k, .count = count}), path);
    parts.push_back(LoadSnapshot(path));
  }
  return parts;
}

TEST(GraphPartsTest, TheMergedPartsAreTheGraph) {
  const SocialGraph g = MixedWorld();
  ASSERT_TRUE(g.following.has_weights() || g.engagements.has_weights());
  ASSERT_FALSE(g.engagements.dwell_ms.empty());
  for (const uint32_t count : {1u, 2u, 3u, 5u}) {
    SCOPED_TRACE(count);
    const std::vector<SocialGraph> parts = SavedParts(g, count);
    EXPECT_EQ(MergeGraphParts(parts), g);
    for (const SocialGraph& part : parts) {
      EXPECT_EQ(part.part.count, count);
      if (count > 1) {
        EXPECT_LT(part.num_accounts(), g.num_accounts());
        EXPECT_LT(part.engagers.num_edges(), g.engagers.num_edges());
      }
      // Every list of its accounts is here, whole.
      for (VertexId v = 0; v < g.num_accounts(); ++v) {
        const ExternalId id = g.accounts.ToExternal(v);
        if (!part.part.Holds(id)) continue;
        const VertexId here = part.accounts.At(id);
        EXPECT_EQ(part.following.Degree(here), g.following.Degree(v));
        EXPECT_EQ(part.followers.Degree(here), g.followers.Degree(v));
        EXPECT_EQ(part.engagements.Degree(here), g.engagements.Degree(v));
      }
    }
  }
}

TEST(GraphPartsTest, AnUndirectedGraphsPartsMergeToIt) {
  const SocialGraph g = LoadEdgeList(WriteTextFile("e.txt", "1 2 0.5\n2 3\n5 5\n7 1 2\n9 8\n"), /*directed=*/false, {});
  EXPECT_EQ(MergeGraphParts(SavedParts(g, 3)), g);
}

TEST(GraphPartsTest, AllWeightsOneMeansNoWeights) {
  // Only part 0 or 1 holds the one weighted follow; the merge keeps the
  // weights, and drops them when they are all 1 (as ingest builds it).
  const SocialGraph weighted = LoadEdgeList(WriteTextFile("w.txt", "1 2 3\n2 3\n4 1\n"), /*directed=*/true, {});
  ASSERT_TRUE(weighted.following.has_weights());
  EXPECT_EQ(MergeGraphParts(SavedParts(weighted, 2)), weighted);
  const SocialGraph plain = LoadEdgeList(WriteTextFile("u.txt", "1 2\n2 3\n4 1\n"), /*directed=*/true, {});
  ASSERT_FALSE(plain.following.has_weights());
  EXPECT_EQ(MergeGraphParts(SavedParts(plain, 2)), plain);
  std::vector<SocialGraph> ones = SavedParts(plain, 2);
  ones[0].following.weights.assign(ones[0].following.num_edges(), 1.0f);
  ASSERT_GT(ones[0].following.num_edges(), 0u);
  EXPECT_EQ(MergeGraphParts(ones), plain);
}

TEST(GraphPartsTest, PartsThatDoNotFitAreRejected) {
  const SocialGraph g = MixedWorld();
  std::vector<SocialGraph> parts = SavedParts(g, 3);
  const auto merge_error = [](std::vector<SocialGraph> given) {
    return ErrorOf([&] { MergeGraphParts(given); });
  };
  EXPECT_NE(merge_error({parts[0], parts[1]}).find("2 graph parts given, but part 2 is one of 3"), std::string::npos);
  EXPECT_NE(merge_error({parts[0], parts[1], parts[1]}).find("do not fit together: shard-1-of-3"), std::string::npos);
  EXPECT_NE(merge_error({}).find("no graph parts"), std::string::npos);
  std::vector<SocialGraph> later = parts;
  later[2].reference_time += 1;
  EXPECT_NE(merge_error(later).find("differ in their reference time"), std::string::npos);

  // Shard 1's lists labelled as shard 2 (parts are in reverse order): its
  // own check names them, and the merge finds them in two parts.
  SocialGraph relabelled = parts[1];
  relabelled.part.index = 2;
  EXPECT_NE(ErrorOf([&] { relabelled.Validate(); }).find("has lists of account"), std::string::npos);
  const std::string twice = merge_error({parts[2], parts[1], relabelled});
  EXPECT_NE(twice.find("list of account"), std::string::npos) << twice;
  EXPECT_NE(twice.find("is in graph parts 1 and 2"), std::string::npos) << twice;
}

}  // namespace
}  // namespace gr::graph
