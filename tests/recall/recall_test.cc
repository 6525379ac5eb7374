#include "recall/recall.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>
#include <unordered_map>

#include "core/error.h"
#include "eval/index_recall.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "synth/world.h"
#include "tests/test_util.h"

namespace gr::recall {
namespace {

// One small generated world with trained account vectors, shared by the tests.
struct World {
  std::string dir;
  graph::SocialGraph g;
  embed::EmbeddingTable table;
};

const World& SmallWorld() {
  static const World* world = [] {
    auto* w = new World;
    // Per process: ctest runs each test in its own process, two at a time.
    w->dir = (std::filesystem::path(::testing::TempDir()) / ("recall_world_" + std::to_string(getpid()))).string();
    const std::string& dir = w->dir;
    std::filesystem::remove_all(dir);
    synth::WorldConfig config;
    config.accounts = 1500;
    config.days = 3;
    synth::GenerateWorld(config, dir);
    w->g = graph::Ingest({.follows = dir + "/follows.tsv", .interactions = dir + "/interactions.tsv",
                          .posts = dir + "/posts.tsv"},
                         {});
    walk::WalkConfig walks;
    walks.walks_per_vertex = 5;
    walks.walk_length = 40;
    walks.threads = 2;
    embed::SkipGramConfig train;
    train.dim = 32;
    w->table = embed::EmbedWalks(w->g, walks, train);
    return w;
  }();
  return *world;
}

using ::gr::testing::CodeOf;

TEST(RecallTest, FiltersNeverReturnSelfFollowedOrSeen) {
  const World& w = SmallWorld();
  RecallIndexes indexes = BuildRecallIndexes(w.g, w.table, {});
  ASSERT_TRUE(indexes.accounts && indexes.authors && indexes.posts);
  EXPECT_EQ(indexes.accounts->size(), w.g.num_accounts());
  const Recaller recaller(w.g, w.table, indexes);
  size_t checked_followed = 0, checked_seen = 0;
  for (VertexId u = 0; u < w.g.num_accounts(); u += 37) {
    const ExternalId id = w.g.accounts.ToExternal(u);
    for (RecallKind kind : {RecallKind::kSimilarAccounts, RecallKind::kAuthors}) {
      for (bool exclude : {false, true}) {
        const auto results = recaller.Recall(kind, id, 20, exclude);
        EXPECT_EQ(results.size(), 20u);
        for (size_t i = 0; i < results.size(); ++i) {
          EXPECT_NE(results[i].id, id) << "self returned";
          if (i > 0) {
            EXPECT_GE(results[i - 1].score, results[i].score);
          }
          const VertexId v = w.g.accounts.At(results[i].id);
          if (exclude) {
            EXPECT_FALSE(w.g.following.HasEdge(u, v)) << "followed account returned";
            checked_followed += w.g.following.Degree(u) > 0;
          }
          if (kind == RecallKind::kAuthors) {
            EXPECT_GT(w.g.authored.Degree(v), 0u) << "non-author returned";
          }
        }
      }
    }
    const auto posts = recaller.Recall(RecallKind::kPosts, id, 20, true);
    EXPECT_EQ(posts.size(), 20u);
    for (const auto& r : posts) {
      EXPECT_FALSE(w.g.engagements.HasEdge(u, w.g.posts.At(r.id))) << "seen post returned";
      checked_seen += w.g.engagements.Degree(u) > 0;
    }
  }
  EXPECT_GT(checked_followed, 100u);
  EXPECT_GT(checked_seen, 100u);
}

TEST(RecallTest, HnswRecallOnTrainedVectorsAtDefaultEf) {
  const World& w = SmallWorld();
  const FloatMatrix input = embed::AccountVectors(w.g, w.table, false);
  std::vector<ExternalId> ids(w.g.accounts.external_ids().begin(), w.g.accounts.external_ids().end());
  const auto hnsw = VectorIndex::Build(ids, input, {});
  const auto exact = VectorIndex::Build(ids, input, {.kind = IndexKind::kExact});
  FloatMatrix queries(300, input.cols());
  for (size_t i = 0; i < 300; ++i) std::copy_n(input.Row(i * 5).data(), input.cols(), queries.Row(i).data());
  EXPECT_GE(eval::RecallAtK(*hnsw, *exact, queries, 10), 0.95);
}

TEST(RecallTest, SimilarAccountsShareTheHiddenTopic) {
  // The world's accounts follow mostly within hidden topics (20 of them):
  // an account's nearest neighbours share its main topic far above chance.
  const World& w = SmallWorld();
  std::unordered_map<ExternalId, int> topic;
  std::ifstream in(w.dir + "/account_topics.tsv");
  std::string header;
  std::getline(in, header);
  ExternalId id;
  int t;
  while (in >> id >> t) topic[id] = t;
  ASSERT_EQ(topic.size(), w.g.num_accounts());
  RecallIndexes indexes = BuildRecallIndexes(w.g, w.table, {.kind = IndexKind::kExact});
  const Recaller recaller(w.g, w.table, indexes);
  size_t same = 0, total = 0;
  for (VertexId u = 0; u < w.g.num_accounts(); u += 7) {
    const ExternalId query = w.g.accounts.ToExternal(u);
    for (const auto& r : recaller.Recall(RecallKind::kSimilarAccounts, query, 10, false)) {
      same += topic[r.id] == topic[query];
      ++total;
    }
  }
  // Chance is about 1/20; these lightly trained vectors (5 short walks) reach ~0.29.
  EXPECT_GT(static_cast<double>(same) / static_cast<double>(total), 0.2);
}

TEST(RecallTest, ErrorsHaveTheRightCodes) {
  const World& w = SmallWorld();
  RecallIndexes indexes = BuildRecallIndexes(w.g, w.table, {.kind = IndexKind::kExact});
  const Recaller recaller(w.g, w.table, indexes);
  const ExternalId known = w.g.accounts.ToExternal(0);
  EXPECT_EQ(CodeOf([&] { recaller.Recall(RecallKind::kAuthors, 999999999999999ull, 5, false); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { recaller.Recall(RecallKind::kAuthors, known, 0, false); }), ErrorCode::kInvalidArgument);
  RecallIndexes no_posts;
  FloatMatrix one(1, w.table.dim());
  std::copy_n(w.table.input.Row(0).data(), w.table.dim(), one.Row(0).data());
  no_posts.accounts = VectorIndex::Build({known}, one, {.kind = IndexKind::kExact});
  const Recaller partial(w.g, w.table, no_posts);
  EXPECT_EQ(CodeOf([&] { partial.Recall(RecallKind::kPosts, known, 5, false); }), ErrorCode::kInvalidArgument);
}

TEST(PopularItems, AreTheMostFollowedAccountsAndAuthorsAndTheRecentlyMostEngagedPosts) {
  const World& w = SmallWorld();
  const graph::SocialGraph& g = w.g;
  const PopularItems popular = FindPopularItems(g, 30, 1);
  ASSERT_EQ(popular.accounts.size(), 30u);
  ASSERT_EQ(popular.authors.size(), 30u);
  ASSERT_EQ(popular.posts.size(), 30u);
  // Each list is in descending count order (ties by id), and no item left
  // out has a higher count than the last one in.
  const auto check = [](const std::vector<RecallResult>& list, const std::vector<std::pair<float, ExternalId>>& all) {
    for (size_t i = 1; i < list.size(); ++i)
      EXPECT_TRUE(list[i - 1].score > list[i].score || (list[i - 1].score == list[i].score && list[i - 1].id < list[i].id));
    std::set<ExternalId> in;
    for (const RecallResult& r : list) in.insert(r.id);
    for (const auto& [count, id] : all)
      if (!in.contains(id)) { EXPECT_LE(count, list.back().score) << id; }
  };
  std::vector<std::pair<float, ExternalId>> accounts, authors, recent_posts;
  std::map<ExternalId, float> followers;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    const auto count = static_cast<float>(g.followers.Degree(v));
    accounts.emplace_back(count, g.accounts.ToExternal(v));
    followers[g.accounts.ToExternal(v)] = count;
    if (g.authored.Degree(v) > 0) authors.emplace_back(count, g.accounts.ToExternal(v));
  }
  const uint32_t newest = *std::max_element(g.post_time.begin(), g.post_time.end());
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (g.post_time[p] + 86400 >= newest)
      recent_posts.emplace_back(static_cast<float>(g.engagers.Degree(p)), g.posts.ToExternal(p));
  ASSERT_LT(recent_posts.size(), g.num_posts());  // the window leaves older posts out
  check(popular.accounts, accounts);
  check(popular.authors, authors);
  check(popular.posts, recent_posts);
  for (const RecallResult& r : popular.accounts) EXPECT_EQ(r.score, followers[r.id]);
  std::set<ExternalId> recent;
  for (const auto& [count, id] : recent_posts) recent.insert(id);
  for (const RecallResult& r : popular.posts) EXPECT_TRUE(recent.contains(r.id)) << r.id;
  EXPECT_EQ(&popular.For(RecallKind::kConsistentPosts), &popular.posts);
}

}  // namespace
}  // namespace gr::recall
