#include "recall/walk_recall.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::recall {
namespace {

using ::gr::testing::CodeOf;
using ::gr::testing::WriteTextFile;

// Accounts 1..6. Authors 2 and 3 post 20, 21 and 30; 1 follows 2; 4 and 5
// liked 20 and 30; 5 follows 3; 6 is unrelated (posts 60).
std::shared_ptr<const graph::SocialGraph> Base() {
  return std::make_shared<const graph::SocialGraph>(graph::Ingest(
      {.follows = WriteTextFile("wr-f.tsv", "1\t2\t100\n5\t3\t100\n4\t2\t100\n6\t3\t100\n"),
       .interactions = WriteTextFile("wr-i.tsv", "4\t20\tlike\t100\n5\t20\tlike\t100\n5\t30\tlike\t100\n"),
       .posts = WriteTextFile("wr-p.tsv", "20\t2\t50\n21\t2\t60\n30\t3\t70\n60\t6\t80\n")},
      {}));
}

std::vector<ExternalId> Ids(const std::vector<RecallResult>& results) {
  std::vector<ExternalId> ids;
  for (const RecallResult& r : results) ids.push_back(r.id);
  return ids;
}

bool Has(const std::vector<RecallResult>& results, ExternalId id) {
  return std::any_of(results.begin(), results.end(), [&](const RecallResult& r) { return r.id == id; });
}

TEST(WalkRecallTest, ANewAccountIsAnsweredFromItsFirstEventsAndAnUnfollowTakesEffect) {
  graph::LiveGraph g(Base());
  EXPECT_EQ(CodeOf([&] { WalkRecall(g, 100, WalkTarget::kPosts, 10, false); }), ErrorCode::kNotFound);
  // A new account follows three authors; one of them posts something new.
  g.Follow(100, 2, 1000);
  g.Follow(100, 6, 1000);
  g.Follow(100, 7, 1000);  // an account that never posted
  g.AddPost(700, 7, 1001);
  const auto posts = WalkRecall(g, 100, WalkTarget::kPosts, 10, false);
  EXPECT_TRUE(Has(posts, 700)) << ::testing::PrintToString(Ids(posts));
  EXPECT_TRUE(Has(posts, 20));
  EXPECT_TRUE(Has(posts, 60));
  float total = 0;
  for (const RecallResult& r : posts) total += r.score;
  EXPECT_LE(total, 1.0001f);
  EXPECT_EQ(Ids(posts), Ids(WalkRecall(g, 100, WalkTarget::kPosts, 10, false)));  // deterministic
  const auto authors = WalkRecall(g, 100, WalkTarget::kAuthors, 10, false);
  EXPECT_TRUE(Has(authors, 7));
  EXPECT_FALSE(Has(authors, 100));  // never the user
  const auto unfollowed_authors = WalkRecall(g, 100, WalkTarget::kAuthors, 10, /*exclude_known=*/true);
  EXPECT_FALSE(Has(unfollowed_authors, 7));
  EXPECT_FALSE(Has(unfollowed_authors, 2));
  // After the unfollow, 7's post has no other way in.
  g.Unfollow(100, 7);
  EXPECT_FALSE(Has(WalkRecall(g, 100, WalkTarget::kPosts, 10, false), 700));
}

TEST(WalkRecallTest, EngagementsLeadToWhatOthersEngagedWithAndKnownPostsCanBeExcluded) {
  graph::LiveGraph g(Base());
  // 1 likes 20; 20's other engagers (4, 5) liked 30 and follow 2 and 3.
  g.Interact(1, 20, graph::InteractionType::kLike, 2000, 0);
  const auto all = WalkRecall(g, 1, WalkTarget::kPosts, 10, false);
  EXPECT_TRUE(Has(all, 30)) << ::testing::PrintToString(Ids(all));
  EXPECT_TRUE(Has(all, 20));
  const auto unseen = WalkRecall(g, 1, WalkTarget::kPosts, 10, /*exclude_known=*/true);
  EXPECT_FALSE(Has(unseen, 20));
  EXPECT_TRUE(Has(unseen, 30));
  // Its own posts never come back.
  g.AddPost(900, 1, 2001);
  g.Interact(4, 900, graph::InteractionType::kClick, 2002, 0);
  EXPECT_FALSE(Has(WalkRecall(g, 1, WalkTarget::kPosts, 10, false), 900));
  EXPECT_EQ(WalkRecall(g, 1, WalkTarget::kPosts, 2, false).size(), 2u);  // k is respected
}

TEST(WalkRecallTest, RecentSignalsWeighMoreAndBadConfigsAreRefused) {
  graph::LiveGraph g(Base());
  // A new account: an old follow of 6 and a fresh follow of 2, a year apart.
  g.Follow(200, 6, 1000);
  g.Follow(200, 2, 1000 + 365 * 86400);
  const auto posts = WalkRecall(g, 200, WalkTarget::kPosts, 10, false);
  ASSERT_FALSE(posts.empty());
  EXPECT_TRUE(posts.front().id == 20 || posts.front().id == 21) << posts.front().id;
  EXPECT_FALSE(Has(posts, 60) && !Has(posts, 20));
  WalkRecallConfig bad;
  bad.restart = 0;
  EXPECT_EQ(CodeOf([&] { WalkRecall(g, 200, WalkTarget::kPosts, 10, false, bad); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { WalkRecall(g, 200, WalkTarget::kPosts, 0, false); }), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace gr::recall
