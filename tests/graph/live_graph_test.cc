#include "graph/live_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

using ::gr::testing::WriteTextFile;

std::shared_ptr<const SocialGraph> SmallBase() {
  // 1 follows 2 and 3; 2 follows 3. Post 100 by 2, post 101 by 3; 1 liked 100.
  return std::make_shared<const SocialGraph>(Ingest(
      {.follows = WriteTextFile("live-f.tsv", "1\t2\t10\n1\t3\t11\n2\t3\t12\n"),
       .interactions = WriteTextFile("live-i.tsv", "1\t100\tlike\t20\t500\n"),
       .posts = WriteTextFile("live-p.tsv", "100\t2\t5\n101\t3\t6\n")},
      {}));
}

std::vector<ExternalId> Ids(const LiveGraph& g, const std::vector<LiveEdge>& edges, bool posts = false) {
  std::vector<ExternalId> ids;
  for (const LiveEdge& e : edges) ids.push_back(posts ? g.PostId(e.target) : g.AccountId(e.target));
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(LiveGraphTest, FollowsUnfollowsAndNewAccountsOverTheBase) {
  LiveGraph g(SmallBase());
  const VertexId a1 = g.FindAccount(1), a2 = g.FindAccount(2), a3 = g.FindAccount(3);
  EXPECT_EQ(g.num_accounts(), 3u);
  EXPECT_EQ(g.FindAccount(42), kNoVertex);
  g.Follow(42, 2, 1000);  // a new account
  const VertexId a42 = g.FindAccount(42);
  ASSERT_EQ(a42, 3u);
  EXPECT_EQ(g.num_accounts(), 4u);
  EXPECT_EQ(g.AccountId(a42), 42u);
  EXPECT_TRUE(g.Follows(a42, a2));
  EXPECT_EQ(Ids(g, g.Followers(a2)), (std::vector<ExternalId>{1, 42}));
  EXPECT_EQ(g.Followees(a42).at(0).time, 1000u);

  g.Unfollow(1, 2);  // a base edge
  EXPECT_FALSE(g.Follows(a1, a2));
  EXPECT_EQ(Ids(g, g.Followees(a1)), (std::vector<ExternalId>{3}));
  EXPECT_EQ(Ids(g, g.Followers(a2)), (std::vector<ExternalId>{42}));
  EXPECT_EQ(g.Unfollowed(a1), std::vector<VertexId>{a2});
  g.Follow(1, 2, 2000);  // revived, once
  EXPECT_TRUE(g.Unfollowed(a1).empty());
  EXPECT_TRUE(g.Follows(a1, a2));
  EXPECT_EQ(Ids(g, g.Followees(a1)), (std::vector<ExternalId>{2, 3}));
  g.Unfollow(42, 2);  // a delta edge
  EXPECT_FALSE(g.Follows(a42, a2));
  EXPECT_TRUE(g.Followees(a42).empty());
  g.Follow(42, 2, 3000);
  EXPECT_EQ(Ids(g, g.Followees(a42)), (std::vector<ExternalId>{2}));

  // No-ops are counted, not applied.
  g.Follow(1, 3, 5);      // exists in the base
  g.Follow(7, 7, 5);      // self-follow
  g.Unfollow(3, 1);       // no such edge
  g.Unfollow(999, 1);     // unknown account
  const LiveGraphCounts counts = g.counts();
  EXPECT_EQ(counts.new_accounts, 1u);
  EXPECT_EQ(counts.follows, 3u);  // 42->2, and two revivals
  EXPECT_EQ(counts.unfollows, 2u);
  EXPECT_EQ(counts.ignored, 4u);
  EXPECT_EQ(g.FindAccount(7), kNoVertex);
  EXPECT_TRUE(g.Follows(a2, a3));
  EXPECT_GT(g.DeltaMemoryBytes(), 0u);
  // Sampling by index sees the same followees and followers as the lists
  // (an unfollowed entry reads as kNoVertex; a revived follow may be listed twice).
  for (const VertexId v : {a1, a2, a3, a42}) {
    std::set<VertexId> followees, followers;
    for (uint64_t i = 0; i < g.FolloweeCount(v); ++i)
      if (g.FolloweeAt(v, i) != kNoVertex) followees.insert(g.FolloweeAt(v, i));
    for (uint64_t i = 0; i < g.FollowerCount(v); ++i)
      if (g.FollowerAt(v, i) != kNoVertex) followers.insert(g.FollowerAt(v, i));
    std::set<VertexId> expected_followees, expected_followers;
    for (const LiveEdge& e : g.Followees(v)) expected_followees.insert(e.target);
    for (const LiveEdge& e : g.Followers(v)) expected_followers.insert(e.target);
    EXPECT_EQ(followees, expected_followees) << v;
    EXPECT_EQ(followers, expected_followers) << v;
  }
}

TEST(LiveGraphTest, PostsAndInteractionsJoinTheBase) {
  LiveGraph g(SmallBase());
  const VertexId a1 = g.FindAccount(1), a2 = g.FindAccount(2);
  const VertexId p = g.AddPost(500, 2, 3000);
  EXPECT_EQ(p, 2u);  // after the base's two posts
  EXPECT_EQ(g.PostId(p), 500u);
  EXPECT_EQ(g.PostAuthor(p), a2);
  EXPECT_EQ(g.PostTime(p), 3000u);
  EXPECT_EQ(Ids(g, g.Authored(a2), true), (std::vector<ExternalId>{100, 500}));

  g.Interact(1, 500, InteractionType::kRepost, 3100, 0);
  g.Interact(9, 600, InteractionType::kClick, 3200, 40);  // a new account and a post not seen yet
  const std::vector<LiveInteraction> engaged = g.Engagements(a1);
  ASSERT_EQ(engaged.size(), 2u);
  EXPECT_EQ(g.PostId(engaged[0].post), 100u);
  EXPECT_EQ(engaged[0].type_mask, 1u << 1);  // the base like
  EXPECT_EQ(engaged[1].post, p);
  EXPECT_EQ(engaged[1].type_mask, 1u << 3);
  ASSERT_EQ(g.EngagementCount(a1), 2u);
  for (uint64_t i = 0; i < 2; ++i) EXPECT_EQ(g.EngagedPostAt(a1, i), engaged[i].post);  // base, then delta
  const VertexId p600 = g.FindPost(600);
  ASSERT_NE(p600, kNoVertex);
  EXPECT_EQ(g.PostAuthor(p600), kNoVertex);
  EXPECT_EQ(Ids(g, g.Engagers(p600)), (std::vector<ExternalId>{9}));
  EXPECT_EQ(g.Engagements(g.FindAccount(9)).at(0).dwell_ms, 40u);

  g.AddPost(600, 3, 3150);  // its post event arrives late: the author is filled in
  EXPECT_EQ(g.PostAuthor(p600), g.FindAccount(3));
  g.AddPost(600, 1, 3150);  // another author for a known post: ignored
  g.AddPost(100, 1, 1);     // a base post: ignored
  EXPECT_EQ(g.PostAuthor(p600), g.FindAccount(3));
  EXPECT_EQ(g.PostAuthor(g.FindPost(100)), a2);
  EXPECT_EQ(g.counts().new_posts, 2u);
  EXPECT_EQ(g.counts().interactions, 2u);
  EXPECT_EQ(g.counts().ignored, 2u);
}

TEST(LiveGraphTest, ReadersSeeConsistentPrefixesWhileOneWriterApplies) {
  // The writer adds accounts and follows and removes some; readers check,
  // as they go, what must hold at every moment; at the end the state equals
  // a model applied on one thread.
  auto base = SmallBase();
  LiveGraph g(base);
  constexpr int kOps = 60000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      while (!done.load(std::memory_order_acquire)) {
        const size_t n = g.num_accounts();
        const auto v = static_cast<VertexId>(rng() % n);
        const ExternalId id = g.AccountId(v);
        ASSERT_EQ(g.FindAccount(id), v);
        for (const LiveEdge& e : g.Followees(v)) {
          ASSERT_LT(e.target, g.num_accounts());
          ASSERT_NE(e.target, v);
          // Permanent edges (never unfollowed, below) stay once seen.
          if ((id + g.AccountId(e.target)) % 5 != 0) {
            ASSERT_TRUE(g.Follows(v, e.target));
          }
        }
        checks.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::mt19937_64 rng(99);
  std::set<std::pair<ExternalId, ExternalId>> model = {{1, 2}, {1, 3}, {2, 3}};
  for (int op = 0; op < kOps; ++op) {
    const ExternalId a = 1 + rng() % 3000, b = 1 + rng() % 3000;
    if (a == b) continue;
    if ((a + b) % 5 == 0 && rng() % 2 == 0) {  // only these pairs are ever unfollowed
      g.Unfollow(a, b);
      model.erase({a, b});
    } else {
      g.Follow(a, b, static_cast<uint32_t>(op));
      model.insert({a, b});
    }
  }
  done.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();
  EXPECT_GT(checks.load(), 0u);
  std::set<std::pair<ExternalId, ExternalId>> live;
  std::set<std::pair<ExternalId, ExternalId>> from_followers;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    for (const LiveEdge& e : g.Followees(v)) EXPECT_TRUE(live.insert({g.AccountId(v), g.AccountId(e.target)}).second);
    for (const LiveEdge& e : g.Followers(v)) from_followers.insert({g.AccountId(e.target), g.AccountId(v)});
  }
  EXPECT_EQ(live, model);
  EXPECT_EQ(from_followers, model);
}

}  // namespace
}  // namespace gr::graph
