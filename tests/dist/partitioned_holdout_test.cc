// The hold-out on a partitioned graph (1, 2 and 4 ranks): the held-out
// follows and every rank's training lists are those of
// graph::SplitEdgesForLinkPrediction over the whole graph; the pairs its
// link evaluation draws are the split's, and score as one process scores.
#include "dist/partitioned_holdout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>

#include "dist/partitioned_ingest.h"
#include "dist/partitioned_link_eval.h"
#include "core/rng.h"
#include "embed/skip_gram.h"
#include "eval/link_holdout.h"
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
      SplitPartitioned(IngestPartitioned(files, ingest, {}, MPI_COMM_WORLD).follows, config, MPI_COMM_WORLD);
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
  const PartitionedFollows part = IngestPartitioned(files, {}, {}, MPI_COMM_WORLD).follows;
  const PartitionedSplit split =
      SplitPartitioned(part, {.test_fraction = 0.3, .order = graph::HoldOutOrder::kNewest}, MPI_COMM_WORLD);
  EXPECT_EQ(split.candidate_edges, 39u);
  EXPECT_EQ(split.forest_edges, 39u);
  EXPECT_EQ(split.requested, 12u);
  EXPECT_TRUE(split.test_edges.empty());
  EXPECT_EQ(split.train.followees, part.followees);
  EXPECT_EQ(split.train.followers, part.followers);
}

std::vector<AccountPair> Sorted(std::vector<AccountPair> pairs) {
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

std::vector<AccountPair> External(const graph::SocialGraph& g, const std::vector<graph::VertexPair>& pairs) {
  std::vector<AccountPair> out;
  for (const auto& [u, v] : pairs) out.emplace_back(g.accounts.ToExternal(u), g.accounts.ToExternal(v));
  return out;
}

constexpr graph::EdgeSplitConfig kBatchSplit{.test_fraction = 0.1, .order = graph::HoldOutOrder::kNewest, .seed = 7};

TEST(LinkPairs, EveryPairIsTheSplitsAndTheNonEdgesAreNoFollows) {
  const graph::InputFiles files = MessyWorld("dist_link_pairs");
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  graph::SocialGraph whole;
  graph::EdgeSplit expected;
  if (root) {
    whole = graph::Ingest(files, {});
    expected = graph::SplitEdgesForLinkPrediction(whole, kBatchSplit);
  }
  const PartitionedSplit split =
      SplitPartitioned(IngestPartitioned(files, {}, {}, MPI_COMM_WORLD).follows, kBatchSplit, MPI_COMM_WORLD);
  const LinkPairs pairs = SampleLinkPairs(split, 0, 5, MPI_COMM_WORLD);
  const LinkPairs again = SampleLinkPairs(split, 0, 5, MPI_COMM_WORLD);
  if (!root) return;
  EXPECT_EQ(Sorted(pairs.test_edges), Sorted(External(whole, expected.test_edges)));
  EXPECT_EQ(Sorted(pairs.train_edges), Sorted(External(whole, graph::FollowPairs(expected.train))));
  ASSERT_EQ(pairs.test_non_edges.size(), pairs.test_edges.size());
  ASSERT_EQ(pairs.train_non_edges.size(), pairs.train_edges.size());
  std::set<AccountPair> seen;
  for (const auto* list : {&pairs.test_non_edges, &pairs.train_non_edges}) {
    for (const auto& [u, v] : *list) {
      EXPECT_NE(u, v);
      EXPECT_FALSE(whole.following.HasEdge(whole.accounts.At(u), whole.accounts.At(v))) << u << " follows " << v;
      EXPECT_TRUE(seen.insert({u, v}).second) << "repeated non-edge " << u << " " << v;
    }
  }
  EXPECT_EQ(again.train_non_edges, pairs.train_non_edges);  // rank 0's draws from the seed
  EXPECT_EQ(again.test_edges, pairs.test_edges);
}

// 20 communities of 40 accounts, each account following ~30 % of its own
// community and ~0.5 % of the others: vectors that predict follows well.
graph::InputFiles CommunityWorld(const std::string& name) {
  const std::string dir = SharedDir(name);
  if (Rank(MPI_COMM_WORLD) == 0) {
    std::ofstream follows(dir + "/follows.tsv");
    Rng rng(17);
    for (uint64_t u = 0; u < 800; ++u)
      for (uint64_t v = 0; v < 800; ++v)
        if (u != v && rng.UniformDouble() < (u / 40 == v / 40 ? 0.3 : 0.005))
          follows << 1000 + u << '\t' << 1000 + v << '\t' << 1700000000 + rng.Uniform(86400) << '\n';
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return graph::InputFilesIn(dir);
}

TEST(LinkPairs, SampledDownTheyScoreAsOneProcessScores) {
  const graph::InputFiles files = CommunityWorld("dist_link_scores");
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  const graph::EdgeSplitConfig random_split{.test_fraction = 0.3, .seed = 7};
  const PartitionedSplit split =
      SplitPartitioned(IngestPartitioned(files, {}, {}, MPI_COMM_WORLD).follows, random_split, MPI_COMM_WORLD);
  // Other pairs than one process draws: a sample's AUC varies by ~0.01 at
  // this size, so the means of 8 samples are compared.
  constexpr size_t kMaxPairs = 400, kSamples = 8;
  std::vector<LinkPairs> samples;
  for (uint64_t seed = 0; seed < kSamples; ++seed)
    samples.push_back(SampleLinkPairs(split, kMaxPairs, seed, MPI_COMM_WORLD));
  if (!root) return;
  const graph::SocialGraph whole = graph::Ingest(files, {});
  const graph::EdgeSplit expected = graph::SplitEdgesForLinkPrediction(whole, random_split);
  const std::vector<AccountPair> held_out = Sorted(External(whole, expected.test_edges));
  const embed::EmbeddingTable table =
      embed::EmbedWalks(expected.train, {.walk_length = 40, .walks_per_vertex = 10, .threads = 1},
                        {.dim = 32, .epochs = 3, .threads = 1});
  double ranks_dot = 0, ranks_hadamard = 0, one_dot = 0, one_hadamard = 0;
  for (uint64_t seed = 0; seed < kSamples; ++seed) {
    const LinkPairs& pairs = samples[seed];
    EXPECT_EQ(pairs.train_edges.size(), kMaxPairs);
    EXPECT_EQ(pairs.test_edges.size(), kMaxPairs);
    for (const AccountPair& pair : pairs.test_edges)
      EXPECT_TRUE(std::binary_search(held_out.begin(), held_out.end(), pair));
    const embed::LinkPredictionScores ranks = ScoreLinkPairs(pairs, table);
    ranks_dot += ranks.dot_auc / kSamples;
    ranks_hadamard += ranks.hadamard_auc / kSamples;
    const eval::HeldOutLinkScores one = eval::ScoreHeldOutFollows(whole, expected, table.input, kMaxPairs, seed);
    one_dot += one.auc.dot_auc / kSamples;
    one_hadamard += one.auc.hadamard_auc / kSamples;
  }
  EXPECT_GT(one_hadamard, 0.8);  // far from chance, or agreeing would say little
  EXPECT_NEAR(ranks_hadamard, one_hadamard, 0.02);
  EXPECT_NEAR(ranks_dot, one_dot, 0.02);
}

}  // namespace
}  // namespace gr::dist
