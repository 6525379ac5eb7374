// The hold-out on a partitioned graph (1, 2 and 4 ranks): the held-out
// follows and every rank's training lists are those of
// graph::SplitEdgesForLinkPrediction over the whole graph.
#include "dist/partitioned_holdout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>

#include "dist/partitioned_ingest.h"
#include "graph/social_graph.h"
#include "tests/dist/dist_test_util.h"

namespace gr::dist {
namespace {

// Every list entry as (account, followee list?, place in the list,
// neighbour, weight bits, time): five values each, in one flat vector.
void AppendRow(std::vector<uint64_t>& rows, ExternalId account, bool followee, uint64_t place, ExternalId neighbour,
               float weight, uint32_t time) {
  rows.insert(rows.end(), {account, (followee ? uint64_t{1} << 32 : 0) | place, neighbour,
                           std::bit_cast<uint32_t>(weight), time});
}

std::vector<uint64_t> RowsOf(const PartitionedFollows& part) {
  std::vector<uint64_t> rows;
  for (size_t a = 0; a < part.accounts.size(); ++a) {
    for (uint64_t j = part.following_offsets[a]; j < part.following_offsets[a + 1]; ++j)
      AppendRow(rows, part.accounts[a], true, j - part.following_offsets[a], part.followees[j],
                part.followee_weights.empty() ? 1.0f : part.followee_weights[j],
                part.followee_times.empty() ? 0 : part.followee_times[j]);
    for (uint64_t j = part.followers_offsets[a]; j < part.followers_offsets[a + 1]; ++j)
      AppendRow(rows, part.accounts[a], false, j - part.followers_offsets[a], part.followers[j],
                part.follower_weights.empty() ? 1.0f : part.follower_weights[j], 0);
  }
  return rows;
}

std::vector<uint64_t> RowsOf(const graph::SocialGraph& g) {
  const std::span<const ExternalId> ids = g.accounts.external_ids();
  std::vector<uint64_t> rows;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    for (EdgeIndex e = g.following.Begin(v); e < g.following.End(v); ++e)
      AppendRow(rows, ids[v], true, e - g.following.Begin(v), ids[g.following.targets[e]], g.following.Weight(e),
                g.following.times.empty() ? 0 : g.following.times[e]);
    for (EdgeIndex e = g.followers.Begin(v); e < g.followers.End(v); ++e)
      AppendRow(rows, ids[v], false, e - g.followers.Begin(v), ids[g.followers.targets[e]], g.followers.Weight(e), 0);
  }
  return rows;
}

// Sorted 5-value rows, so that the ranks' parts compare with the whole.
std::vector<std::vector<uint64_t>> Sorted(const std::vector<uint64_t>& flat, size_t width) {
  std::vector<std::vector<uint64_t>> rows;
  for (size_t i = 0; i + width <= flat.size(); i += width) rows.emplace_back(flat.begin() + i, flat.begin() + i + width);
  std::sort(rows.begin(), rows.end());
  return rows;
}

void ExpectTheWholeGraphsSplit(const graph::InputFiles& files, const graph::IngestConfig& ingest,
                               const graph::EdgeSplitConfig& config) {
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  graph::SocialGraph whole;
  graph::EdgeSplit expected;
  if (root) {
    whole = graph::Ingest(files, ingest);
    expected = graph::SplitEdgesForLinkPrediction(whole, config);
  }
  PartitionedSplit got =
      SplitPartitioned(IngestPartitioned(files, ingest, false, false, MPI_COMM_WORLD).follows, config, MPI_COMM_WORLD);
  std::vector<uint64_t> test_edges;
  for (const auto& [src, dst] : got.test_edges) test_edges.insert(test_edges.end(), {src, dst});
  const std::vector<uint64_t> all_test_edges = GatherOnRoot(test_edges), all_rows = GatherOnRoot(RowsOf(got.train));
  if (!root) return;
  EXPECT_EQ(got.candidate_edges, expected.candidate_edges);
  EXPECT_EQ(got.forest_edges, expected.forest_edges);
  EXPECT_EQ(got.requested, expected.requested);
  ASSERT_GT(expected.test_edges.size(), 0u);
  std::vector<uint64_t> expected_test_edges;
  for (const auto& [u, v] : expected.test_edges)
    expected_test_edges.insert(expected_test_edges.end(), {whole.accounts.ToExternal(u), whole.accounts.ToExternal(v)});
  EXPECT_EQ(Sorted(all_test_edges, 2), Sorted(expected_test_edges, 2));
  const std::vector<uint64_t> expected_rows = RowsOf(expected.train);
  EXPECT_EQ(all_rows.size(), expected_rows.size());
  EXPECT_TRUE(Sorted(all_rows, 5) == Sorted(expected_rows, 5)) << "the training lists differ";
}

TEST(SplitPartitioned, TheNewestFollowsAsTheWholeGraphHoldsThemOut) {
  ExpectTheWholeGraphsSplit(MessyWorld("dist_holdout_newest"), {},
                            {.test_fraction = 0.05, .order = graph::HoldOutOrder::kNewest, .seed = 11});
}

TEST(SplitPartitioned, RandomOrderAndRepeatedRowsKept) {
  // Half the follows: the forest decides much of what can go. Repeated
  // lines stay rows of their own, which only their place tells apart.
  ExpectTheWholeGraphsSplit(MessyWorld("dist_holdout_random"), {.duplicates = graph::DuplicatePolicy::kKeep},
                            {.test_fraction = 0.45, .order = graph::HoldOutOrder::kRandom, .seed = 3});
}

TEST(SplitPartitioned, ATreeKeepsEveryFollow) {
  const std::string dir = SharedDir("dist_holdout_tree");
  if (Rank(MPI_COMM_WORLD) == 0) {
    std::ofstream follows(dir + "/follows.tsv");
    for (int v = 2; v <= 40; ++v) follows << v / 2 << '\t' << v << '\t' << 1000 + v << '\n';
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const graph::InputFiles files = graph::InputFilesIn(dir);
  const PartitionedFollows part = IngestPartitioned(files, {}, false, false, MPI_COMM_WORLD).follows;
  const PartitionedSplit split =
      SplitPartitioned(part, {.test_fraction = 0.3, .order = graph::HoldOutOrder::kNewest}, MPI_COMM_WORLD);
  EXPECT_EQ(split.candidate_edges, 39u);
  EXPECT_EQ(split.forest_edges, 39u);
  EXPECT_EQ(split.requested, 12u);
  EXPECT_TRUE(split.test_edges.empty());
  EXPECT_EQ(split.train.followees, part.followees);
  EXPECT_EQ(split.train.followers, part.followers);
}

}  // namespace
}  // namespace gr::dist
