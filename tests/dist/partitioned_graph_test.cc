// The partitioned follow graph under mpirun (1, 2 and 4 ranks): together the
// ranks hold exactly the single-process graph's follows, each account on its
// owner only, and the edges spread about evenly; a malformed line fails every
// rank with the file and byte named.
#include "dist/partitioned_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"
#include "tests/dist/dist_test_util.h"
#include "dist/walks.h"
#include "graph/ingest.h"
#include "synth/world.h"
#include "walk/random_walk.h"

namespace gr::dist {
namespace {

// Every rank's (account, neighbour) pairs, gathered on rank 0.
std::vector<std::pair<ExternalId, ExternalId>> Gather(const std::vector<ExternalId>& accounts,
                                                      const std::vector<uint64_t>& offsets,
                                                      const std::vector<ExternalId>& neighbours) {
  std::vector<uint64_t> mine;
  for (size_t a = 0; a < accounts.size(); ++a)
    for (uint64_t e = offsets[a]; e < offsets[a + 1]; ++e) {
      mine.push_back(accounts[a]);
      mine.push_back(neighbours[e]);
    }
  const std::vector<uint64_t> all = GatherOnRoot(mine);
  std::vector<std::pair<ExternalId, ExternalId>> pairs;
  for (size_t i = 0; i + 1 < all.size(); i += 2) pairs.emplace_back(all[i], all[i + 1]);
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

TEST(PartitionedFollows, RanksTogetherHoldTheSingleProcessGraph) {
  const std::string follows = SharedWorldFollows("dist_world", 2000);
  const PartitionedFollows part = LoadPartitionedFollows(follows, MPI_COMM_WORLD);
  const int ranks = Size(MPI_COMM_WORLD), me = Rank(MPI_COMM_WORLD);
  for (const ExternalId a : part.accounts) ASSERT_EQ(OwnerOf(a, ranks), me) << a;
  ASSERT_EQ(part.following_offsets.size(), part.accounts.size() + 1);
  ASSERT_EQ(part.followers_offsets.size(), part.accounts.size() + 1);

  // About 1/N of the edges each (hash of 2,000 accounts' ids).
  uint64_t edges = part.followees.size(), total = 0;
  MPI_Allreduce(&edges, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_GT(static_cast<double>(edges), 0.75 * static_cast<double>(total) / ranks);
  EXPECT_LT(static_cast<double>(edges), 1.25 * static_cast<double>(total) / ranks);
  if (ranks > 1) {
    EXPECT_GT(part.bytes_sent, 0u);
  }

  // Global dense ids, as pairs (account, dense id) on rank 0.
  uint64_t accounts_total = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(part.accounts, MPI_COMM_WORLD, &accounts_total);
  ASSERT_EQ(dense.size(), part.accounts.size());
  std::vector<uint64_t> identity(part.accounts.size() + 1);
  for (size_t i = 0; i <= part.accounts.size(); ++i) identity[i] = i;
  const auto numbered = Gather(part.accounts, identity, std::vector<ExternalId>(dense.begin(), dense.end()));
  const auto following = Gather(part.accounts, part.following_offsets, part.followees);
  const auto followers = Gather(part.accounts, part.followers_offsets, part.followers);
  uint64_t lines = part.lines_read, all_lines = 0;
  MPI_Reduce(&lines, &all_lines, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  if (me != 0) return;
  const graph::SocialGraph g = graph::Ingest({.follows = follows}, {});
  std::vector<std::pair<ExternalId, ExternalId>> expected, expected_in;
  for (VertexId u = 0; u < g.num_accounts(); ++u)
    for (const VertexId v : g.following.Neighbors(u)) {
      expected.emplace_back(g.accounts.ToExternal(u), g.accounts.ToExternal(v));
      expected_in.emplace_back(g.accounts.ToExternal(v), g.accounts.ToExternal(u));
    }
  std::sort(expected.begin(), expected.end());
  std::sort(expected_in.begin(), expected_in.end());
  ASSERT_GT(expected.size(), 1000u);
  EXPECT_EQ(following, expected);
  EXPECT_EQ(followers, expected_in);
  ASSERT_EQ(accounts_total, g.num_accounts());
  ASSERT_EQ(numbered.size(), g.num_accounts());
  for (const auto& [account, number] : numbered) ASSERT_EQ(g.accounts.Find(account), number) << account;
  // Every data line was read by exactly one rank (the generator writes no self-follows or duplicates).
  EXPECT_EQ(all_lines, expected.size());
}

// An exchange in rounds of a few values delivers what one round does, in
// the same order (beyond 2^31 values MPI's int counts need the rounds).
TEST(ExchangeValues, InRoundsEqualsOneRound) {
  const int ranks = Size(MPI_COMM_WORLD), me = Rank(MPI_COMM_WORLD);
  std::vector<uint64_t> values, counts(ranks);
  for (int r = 0; r < ranks; ++r) {
    counts[r] = static_cast<uint64_t>((me * 7 + r * 3) % 11);  // 0 to 10 values, some pairs none
    for (uint64_t i = 0; i < counts[r]; ++i) values.push_back(uint64_t(me) << 32 | uint64_t(r) << 16 | i);
  }
  std::vector<uint64_t> received_once, received_in_rounds;
  const std::vector<uint64_t> once = ExchangeValues(values, counts, MPI_COMM_WORLD, &received_once);
  const std::vector<uint64_t> in_rounds =
      ExchangeValues(values, counts, MPI_COMM_WORLD, &received_in_rounds, /*max_values_per_round=*/3);
  EXPECT_EQ(in_rounds, once);
  EXPECT_EQ(received_in_rounds, received_once);
  size_t at = 0;
  for (int r = 0; r < ranks; ++r)
    for (uint64_t i = 0; i < received_once[r]; ++i, ++at)
      ASSERT_EQ(once[at], uint64_t(r) << 32 | uint64_t(me) << 16 | i) << "from rank " << r;
  EXPECT_EQ(at, once.size());
}

// The parts rank 0 sends out of a graph it holds are the parts the ranks
// load from its follows file (graphrec batch under mpirun trains on them).
TEST(PartitionedFollows, ScatteredFromRootEqualsLoaded) {
  const std::string follows = SharedWorldFollows("dist_scatter", 1500);
  const PartitionedFollows loaded = LoadPartitionedFollows(follows, MPI_COMM_WORLD);
  graph::SocialGraph g;
  if (Rank(MPI_COMM_WORLD) == 0) g = graph::Ingest({.follows = follows}, {});
  const PartitionedFollows scattered =
      ScatterFollowsFromRoot(Rank(MPI_COMM_WORLD) == 0 ? &g : nullptr, MPI_COMM_WORLD);
  EXPECT_EQ(scattered.accounts, loaded.accounts);
  EXPECT_EQ(scattered.following_offsets, loaded.following_offsets);
  EXPECT_EQ(scattered.followees, loaded.followees);
  EXPECT_EQ(scattered.followers_offsets, loaded.followers_offsets);
  EXPECT_EQ(scattered.followers, loaded.followers);
  uint64_t accounts = scattered.accounts.size(), total = 0;
  MPI_Allreduce(&accounts, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (Rank(MPI_COMM_WORLD) == 0) {
    EXPECT_EQ(total, g.num_accounts());
  }
}

// Dense ids whatever the spread: every rank's share, one rank holding all, and
// ranks holding none.
TEST(GlobalDenseIds, NumberAllRanksIdsInAscendingOrder) {
  const int ranks = Size(MPI_COMM_WORLD), me = Rank(MPI_COMM_WORLD);
  std::vector<ExternalId> all;
  for (uint64_t i = 0; i < 1000; ++i) all.push_back(MixSeed(i) >> 1);
  std::vector<ExternalId> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (const bool everything_on_rank_0 : {false, true}) {
    SCOPED_TRACE(everything_on_rank_0);
    std::vector<ExternalId> mine;
    for (const ExternalId id : sorted)
      if (everything_on_rank_0 ? me == 0 : OwnerOf(id, ranks) == me) mine.push_back(id);
    uint64_t total = 0;
    const std::vector<VertexId> dense = GlobalDenseIds(mine, MPI_COMM_WORLD, &total);
    EXPECT_EQ(total, sorted.size());
    ASSERT_EQ(dense.size(), mine.size());
    for (size_t i = 0; i < mine.size(); ++i)
      ASSERT_EQ(dense[i], std::lower_bound(sorted.begin(), sorted.end(), mine[i]) - sorted.begin()) << mine[i];
  }
  // Checked before any communication (so on this rank alone).
  const std::vector<ExternalId> unsorted{5, 3};
  EXPECT_THROW(GlobalDenseIds(unsorted, MPI_COMM_SELF), Error);
}

// Gathers the distributed corpus on rank 0 and checks it there, walk for
// walk, against the single-process engine's over `g` (read on rank 0) with
// `single`; *stats gets the engine's counts (rank 0). Collective.
void ExpectTheEnginesCorpus(const DistributedWalks& walks, const graph::SocialGraph& g, const walk::WalkConfig& single,
                            walk::WalkStats* stats) {
  // [key, length, tokens...] per walk, gathered on rank 0.
  std::vector<uint64_t> mine;
  for (size_t i = 0; i < walks.keys.size(); ++i) {
    mine.push_back(walks.keys[i]);
    mine.push_back(walks.offsets[i + 1] - walks.offsets[i]);
    mine.insert(mine.end(), walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i]),
                walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i + 1]));
  }
  const std::vector<uint64_t> all = GatherOnRoot(mine);
  if (Rank(MPI_COMM_WORLD) != 0) return;
  std::map<uint64_t, std::vector<VertexId>> distributed;
  for (size_t at = 0; at < all.size();) {
    const uint64_t key = all[at], length = all[at + 1];
    ASSERT_TRUE(distributed.emplace(key, std::vector<VertexId>(all.begin() + static_cast<int64_t>(at + 2),
                                                                all.begin() + static_cast<int64_t>(at + 2 + length)))
                    .second)
        << "walk " << key << " assembled twice";
    at += 2 + length;
  }
  const walk::RandomWalker walker(g, single);
  ASSERT_EQ(distributed.size(), walker.num_walks());
  const uint64_t starts = walker.num_walks() / single.walks_per_vertex;  // accounts, or posts for some metapaths
  std::vector<VertexId> buffer(single.walk_length);
  uint64_t longer_than_one = 0;
  for (VertexId start = 0; start < starts; ++start)
    for (uint32_t round = 0; round < single.walks_per_vertex; ++round) {
      const size_t n = walker.WalkFrom(start, round, buffer, stats);
      const std::vector<VertexId> expected(buffer.begin(), buffer.begin() + static_cast<int64_t>(n));
      ASSERT_EQ(distributed.at(uint64_t{start} * single.walks_per_vertex + round), expected)
          << "start " << start << " round " << round;
      longer_than_one += n > 1;
    }
  EXPECT_GT(longer_than_one, distributed.size() / 2);
}

// The cases both corpus tests walk: first order, and node2vec with the
// return step drawn as an outlier (p 0.5, q 2) or not (p 2, q 0.5: every
// x != prev tested), both directions and out.
constexpr std::array kWalkCases = {std::tuple{true, 1.0, 1.0}, std::tuple{false, 1.0, 1.0},
                                   std::tuple{true, 0.5, 2.0}, std::tuple{false, 0.5, 2.0},
                                   std::tuple{true, 2.0, 0.5}};

DistributedWalkConfig CaseConfig(bool both, double p, double q, uint64_t seed, bool weighted) {
  DistributedWalkConfig config;
  config.walks_per_vertex = 3;
  config.walk_length = 20;
  config.both_directions = both;
  config.seed = seed;
  config.p = p;
  config.q = q;
  config.weighted = weighted;
  return config;
}

// The single-process engine's settings for the distributed walks of `config`.
walk::WalkConfig SingleProcessConfig(const DistributedWalkConfig& config) {
  walk::WalkConfig single;
  single.walks_per_vertex = config.walks_per_vertex;
  single.walk_length = config.walk_length;
  single.direction = config.both_directions ? walk::Direction::kBoth : walk::Direction::kOut;
  single.seed = config.seed;
  single.p = config.p;
  single.q = config.q;
  const bool first_order = config.p == 1 && config.q == 1;
  single.kind = first_order ? (config.weighted ? walk::WalkKind::kWeighted : walk::WalkKind::kUniform)
                            : walk::WalkKind::kNode2vec;
  single.weighted = config.weighted;
  return single;
}

// Walks `part` and expects the single-process engine's corpus over `g` (the
// same seed, kind and weights), with as many rejected proposals on all ranks
// as the engine's (*stats).
DistributedWalks ExpectTheEnginesWalks(const PartitionedFollows& part, const graph::SocialGraph& g,
                                       const DistributedWalkConfig& config, walk::WalkStats* stats) {
  const DistributedWalks walks = DistributedRandomWalks(part, config, MPI_COMM_WORLD);
  uint64_t rejected = walks.rejected_proposals, rejected_in_all = 0;
  MPI_Allreduce(&rejected, &rejected_in_all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  ExpectTheEnginesCorpus(walks, g, SingleProcessConfig(config), stats);
  if (Rank(MPI_COMM_WORLD) == 0) {
    EXPECT_EQ(rejected_in_all, stats->rejected_proposals);  // the same proposals were drawn and refused
  }
  return walks;
}

// The distributed walk corpus is the single-process engine's, walk for walk
// (same seed, start and round), for every case of kWalkCases.
TEST(DistributedWalks, SameWalksAsTheSingleProcessEngine) {
  const std::string follows = SharedWorldFollows("dist_walks", 1500);
  const PartitionedFollows part = LoadPartitionedFollows(follows, MPI_COMM_WORLD);
  const graph::SocialGraph g = graph::Ingest({.follows = follows}, {});
  for (const auto& [both, p, q] : kWalkCases) {
    SCOPED_TRACE(::testing::Message() << "both " << both << " p " << p << " q " << q);
    walk::WalkStats stats;
    const DistributedWalks walks = ExpectTheEnginesWalks(part, g, CaseConfig(both, p, q, 7, false), &stats);
    // More threads stepping each rank's walkers walk the same walks.
    DistributedWalkConfig threaded = CaseConfig(both, p, q, 7, false);
    threaded.threads = 3;
    const DistributedWalks on_threads = DistributedRandomWalks(part, threaded, MPI_COMM_WORLD);
    EXPECT_EQ(on_threads.tokens, walks.tokens);
    EXPECT_EQ(on_threads.keys, walks.keys);
    EXPECT_EQ(on_threads.walker_moves_sent, walks.walker_moves_sent);
    EXPECT_EQ(on_threads.adjacency_tests_sent, walks.adjacency_tests_sent);
    EXPECT_EQ(on_threads.rejected_proposals, walks.rejected_proposals);
    if (Size(MPI_COMM_WORLD) > 1) {
      EXPECT_GT(walks.walker_moves_sent, 0u);
      EXPECT_GT(walks.supersteps, 0u);
      if (p != 1) {
        EXPECT_GT(walks.adjacency_tests_sent, 0u);
      }
    }
    if (Rank(MPI_COMM_WORLD) == 0 && p != 1) {
      EXPECT_GT(stats.rejected_proposals, 0u);
    }
  }
}

// Walks from chosen starts (each rank asks for its own, some twice, some
// from accounts that follow no one) are the engine's WalkFrom(start, round),
// first order and node2vec, whichever rank asked.
TEST(DistributedWalks, WalksFromChosenStartsAreTheEnginesWalkFrom) {
  const std::string follows = SharedWorldFollows("dist_walks_from", 1500);
  const PartitionedFollows part = LoadPartitionedFollows(follows, MPI_COMM_WORLD);
  const graph::SocialGraph g = graph::Ingest({.follows = follows}, {});
  const int me = Rank(MPI_COMM_WORLD);
  const auto n = static_cast<uint32_t>(g.num_accounts());
  std::vector<WalkRequest> requests;
  for (uint32_t i = 0; i < 300; ++i)
    requests.push_back({.start = g.accounts.ToExternal((i * 37 + static_cast<uint32_t>(me) * 11) % n),
                        .round = (i + static_cast<uint32_t>(me)) % 25});
  requests.push_back(requests.front());  // the same walk twice
  uint64_t dead_ends = 0;
  for (VertexId v = 0; v < n && dead_ends < 3; ++v)
    if (g.following.Degree(v) == 0) {
      requests.push_back({.start = g.accounts.ToExternal(v), .round = 1});
      ++dead_ends;
    }
  // Every rank's requests in rank order, on rank 0.
  std::vector<uint64_t> mine;
  for (const WalkRequest& r : requests) mine.insert(mine.end(), {r.start, r.round});
  const std::vector<uint64_t> asked = GatherOnRoot(mine);

  for (const auto& [both, p, q] : kWalkCases) {
    SCOPED_TRACE(::testing::Message() << "both " << both << " p " << p << " q " << q);
    const DistributedWalkConfig config = CaseConfig(both, p, q, 5, false);
    const DistributedWalks walks = DistributedWalksFrom(part, requests, config, MPI_COMM_WORLD);
    EXPECT_EQ(walks.walks_per_vertex, 1u);
    std::vector<uint64_t> got;
    for (size_t i = 0; i < walks.keys.size(); ++i) {
      got.insert(got.end(), {walks.keys[i], walks.offsets[i + 1] - walks.offsets[i]});
      got.insert(got.end(), walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i]),
                 walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i + 1]));
    }
    const std::vector<uint64_t> all = GatherOnRoot(got);
    if (me != 0) continue;
    std::map<uint64_t, std::vector<VertexId>> by_key;
    for (size_t at = 0; at < all.size(); at += 2 + all[at + 1])
      by_key[all[at]] = std::vector<VertexId>(all.begin() + static_cast<int64_t>(at + 2),
                                              all.begin() + static_cast<int64_t>(at + 2 + all[at + 1]));
    ASSERT_EQ(by_key.size(), asked.size() / 2);
    const walk::RandomWalker walker(g, SingleProcessConfig(config));
    std::vector<VertexId> buffer(config.walk_length);
    walk::WalkStats stats;
    uint64_t longer_than_one = 0;
    for (uint64_t key = 0; key < asked.size() / 2; ++key) {
      const size_t length = walker.WalkFrom(g.accounts.At(asked[2 * key]), static_cast<uint64_t>(asked[2 * key + 1]),
                                            buffer, &stats);
      EXPECT_EQ(by_key.at(key), std::vector<VertexId>(buffer.begin(), buffer.begin() + static_cast<int64_t>(length)))
          << "request " << key;
      longer_than_one += length > 1;
    }
    EXPECT_GT(longer_than_one, by_key.size() / 2);
  }
  // A start no rank has fails every rank; its owner names it.
  const std::vector<WalkRequest> unknown = {{.start = 999999999, .round = 0}};
  const std::string error = ::gr::testing::ErrorOf(
      [&] { DistributedWalksFrom(part, unknown, CaseConfig(true, 1, 1, 5, false), MPI_COMM_WORLD); });
  EXPECT_NE(error.find(OwnerOf(999999999, Size(MPI_COMM_WORLD)) == me
                           ? "account 999999999, which the graph does not have"
                           : "another rank failed: walks from chosen starts"),
            std::string::npos)
      << error;
}

// An edge list "src dst weight" with repeated lines (their weights add up),
// read by every rank's byte range and by graph::LoadEdgeList on rank 0.
// Weights are multiples of 1/4, so sums are exact in any order.
std::string WeightedEdgeList(const std::string& name) {
  const std::string follows = SharedWorldFollows(name, 1200);
  const std::string path = std::filesystem::path(follows).parent_path() / "weighted.txt";
  if (Rank(MPI_COMM_WORLD) == 0) {
    const graph::SocialGraph g = graph::Ingest({.follows = follows}, {});
    std::ofstream out(path);
    out << "src dst weight\n";
    uint64_t line = 0;
    for (VertexId v = 0; v < g.num_accounts(); ++v)
      for (const VertexId u : g.following.Neighbors(v)) {
        const ExternalId a = g.accounts.ToExternal(v), b = g.accounts.ToExternal(u);
        out << a << ' ' << b << ' ' << 0.25 * static_cast<double>(1 + (a * 7 + b) % 16) << '\n';
        if (++line % 5 == 0) out << a << ' ' << b << " 3.5\n";  // a repeated edge
      }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

// Weighted walks: the third field is a weight, repeated edges add up, and the
// per-account alias tables draw what the engine's draw, walk for walk, for
// out and both directions, first order and node2vec; scattered from rank 0,
// the weights arrive as read.
TEST(DistributedWalks, WeightedWalksAreTheSingleProcessEnginesToo) {
  const std::string path = WeightedEdgeList("dist_weighted");
  const PartitionedFollows part = LoadPartitionedFollows(path, MPI_COMM_WORLD, ThirdField::kWeight);
  ASSERT_EQ(part.followee_weights.size(), part.followees.size());
  ASSERT_EQ(part.follower_weights.size(), part.followers.size());
  graph::SocialGraph g;
  if (Rank(MPI_COMM_WORLD) == 0) g = graph::LoadEdgeList(path, /*directed=*/true, {});
  if (Rank(MPI_COMM_WORLD) == 0) {
    ASSERT_TRUE(g.following.has_weights());
  }
  const PartitionedFollows scattered =
      ScatterFollowsFromRoot(Rank(MPI_COMM_WORLD) == 0 ? &g : nullptr, MPI_COMM_WORLD);
  EXPECT_EQ(scattered.followees, part.followees);
  EXPECT_EQ(scattered.followee_weights, part.followee_weights);
  EXPECT_EQ(scattered.follower_weights, part.follower_weights);
  // The repeated edges summed: some weight above the largest single one (4).
  const bool summed = std::ranges::any_of(part.followee_weights, [](float w) { return w > 4; });
  uint8_t any_summed = summed ? 1 : 0, summed_somewhere = 0;
  MPI_Allreduce(&any_summed, &summed_somewhere, 1, MPI_UINT8_T, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(summed_somewhere, 1);
  for (const auto& [both, p, q] : kWalkCases) {
    SCOPED_TRACE(::testing::Message() << "both " << both << " p " << p << " q " << q);
    walk::WalkStats stats;
    DistributedWalkConfig config = CaseConfig(both, p, q, 9, true);
    const DistributedWalks walks = ExpectTheEnginesWalks(part, g, config, &stats);
    // Unweighted walks over the same lists differ: the weights are used.
    config.weighted = false;
    const DistributedWalks unweighted = DistributedRandomWalks(part, config, MPI_COMM_WORLD);
    EXPECT_NE(unweighted.tokens, walks.tokens);
    // The alias tables are counted with the walk's tables: 8 bytes an entry, and more a vertex.
    EXPECT_GE(walks.table_bytes,
              unweighted.table_bytes + 8 * (part.followees.size() + (both ? part.followers.size() : 0)));
  }
}

// Metapath walks: rank 0 scatters the post relations of a generated world
// (interactions weighted by type and age) and the walks along them are the
// single-process engine's, walk for walk, for paths from accounts and from
// posts, over follows and posts, weighted and not.
TEST(DistributedWalks, MetapathWalksAreTheSingleProcessEnginesToo) {
  const std::string follows = SharedWorldFollows("dist_metapath", 1200);
  const std::filesystem::path dir = std::filesystem::path(follows).parent_path();
  const int me = Rank(MPI_COMM_WORLD);
  graph::SocialGraph g;
  if (me == 0) {
    g = graph::Ingest({.follows = follows,
                       .interactions = dir / synth::kInteractionsFile,
                       .posts = dir / synth::kPostsFile},
                      {});
    ASSERT_GT(g.num_posts(), 0u);
    ASSERT_TRUE(g.engagements.has_weights());
  }
  const PartitionedFollows part = ScatterFollowsFromRoot(me == 0 ? &g : nullptr, MPI_COMM_WORLD);
  const PartitionedPosts posts = ScatterPostsFromRoot(me == 0 ? &g : nullptr, part, true, MPI_COMM_WORLD);
  for (const ExternalId p : posts.posts) ASSERT_EQ(OwnerOf(p, Size(MPI_COMM_WORLD)), me) << p;
  ASSERT_EQ(posts.interacts.offsets.size(), part.accounts.size() + 1);
  ASSERT_EQ(posts.engaged_by.offsets.size(), posts.posts.size() + 1);
  ASSERT_EQ(posts.interacts.weights.size(), posts.interacts.targets.size());
  // Together the ranks hold every post, interaction and author once.
  uint64_t held[4] = {posts.posts.size(), posts.interacts.targets.size(), posts.engaged_by.targets.size(),
                      posts.authored_by.targets.size()};
  MPI_Allreduce(MPI_IN_PLACE, held, 4, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (me == 0) {
    EXPECT_EQ(held[0], g.num_posts());
    EXPECT_EQ(held[1], g.engagements.num_edges());
    EXPECT_EQ(held[2], g.engagers.num_edges());
    EXPECT_EQ(held[3], graph::AuthoredByGraph(g).num_edges());
  }
  for (const char* path : {"interacts,engaged_by", "interacts,authored_by,follows", "engaged_by,authored",
                           "follows,followed_by"}) {
    for (const bool weighted : {false, true}) {
      SCOPED_TRACE(::testing::Message() << path << (weighted ? " weighted" : ""));
      DistributedWalkConfig config = CaseConfig(true, 1, 1, 11, weighted);
      config.metapath = walk::ParseMetapath(path);
      const DistributedWalks walks = DistributedRandomWalks(part, config, MPI_COMM_WORLD, &posts);
      if (me == 0) {
        EXPECT_EQ(walks.vocabulary, g.num_accounts() + g.num_posts());
      }
      if (Size(MPI_COMM_WORLD) > 1) {
        EXPECT_GT(walks.walker_moves_sent, 0u);
      }
      walk::WalkConfig single;
      single.kind = walk::WalkKind::kMetapath;
      single.metapath = path;
      single.weighted = weighted;
      single.walks_per_vertex = config.walks_per_vertex;
      single.walk_length = config.walk_length;
      single.seed = config.seed;
      walk::WalkStats stats;
      ExpectTheEnginesCorpus(walks, g, single, &stats);
      config.threads = 3;  // more threads a rank walk the same walks
      const DistributedWalks on_threads = DistributedRandomWalks(part, config, MPI_COMM_WORLD, &posts);
      EXPECT_EQ(on_threads.tokens, walks.tokens);
      EXPECT_EQ(on_threads.keys, walks.keys);
    }
  }
  // Without the post relations, paths along follows walk as with them (a
  // vocabulary of accounts only), and paths along posts are refused.
  DistributedWalkConfig config = CaseConfig(true, 1, 1, 11, false);
  config.metapath = walk::ParseMetapath("follows,followed_by");
  const DistributedWalks with_posts = DistributedRandomWalks(part, config, MPI_COMM_WORLD, &posts);
  const DistributedWalks without = DistributedRandomWalks(part, config, MPI_COMM_WORLD);
  EXPECT_EQ(without.tokens, with_posts.tokens);
  EXPECT_EQ(without.keys, with_posts.keys);
  EXPECT_GT(with_posts.vocabulary, without.vocabulary);
  config.metapath = walk::ParseMetapath("interacts,engaged_by");
  EXPECT_THROW(DistributedRandomWalks(part, config, MPI_COMM_WORLD), Error);
}

// A weight that is not a finite number > 0 fails every rank; the rank that
// read it names the line (its byte, when the ranks split the file) and the
// field. Read as a follows file, the same
// third field is a timestamp and not checked.
TEST(PartitionedFollows, ABadWeightFailsEveryRankNamingIt) {
  const std::string dir = SharedDir("dist_bad_weight");
  const std::string path = dir + "/edges.txt";
  const std::string good = "1 2 0.5\n2 3\n3 1 2\n";
  if (Rank(MPI_COMM_WORLD) == 0) std::ofstream(path) << good << "4 5 -1\n";
  MPI_Barrier(MPI_COMM_WORLD);
  uint64_t lines = LoadPartitionedFollows(path, MPI_COMM_WORLD).lines_read, lines_in_all = 0;
  MPI_Allreduce(&lines, &lines_in_all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(lines_in_all, 4u);
  try {
    LoadPartitionedFollows(path, MPI_COMM_WORLD, ThirdField::kWeight);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    const bool named = message.find(BadLinePlace(path, 4, good.size()) + "bad weight '-1'") != std::string::npos;
    EXPECT_TRUE(named || message.find("another rank failed: reading " + path) != std::string::npos) << message;
    int mine = named ? 1 : 0, namers = 0;
    MPI_Allreduce(&mine, &namers, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(namers, 1);
  }
}

TEST(PartitionedFollows, AMalformedLineFailsEveryRankNamingFileAndByte) {
  const std::string dir = SharedDir("dist_bad");
  const std::string path = dir + "/follows.tsv";
  const std::string good = "follower_id\tfollowee_id\n1\t2\n2\t3\n3\t1\n";
  if (Rank(MPI_COMM_WORLD) == 0) std::ofstream(path) << good << "4\tfive\n";
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    LoadPartitionedFollows(path, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    // The rank that read the line names it; the others say another rank failed.
    const bool named = message.find(BadLinePlace(path, 5, good.size()) + "bad dst 'five'") != std::string::npos;
    EXPECT_TRUE(named || message.find("another rank failed: reading " + path) != std::string::npos) << message;
    int mine = named ? 1 : 0, namers = 0;
    MPI_Allreduce(&mine, &namers, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(namers, 1);
  }
}

}  // namespace
}  // namespace gr::dist

int main(int argc, char** argv) {
  gr::dist::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  // Every rank prints its log (a failure on any rank shows where it was); any failure fails the run.
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
