// PushEvents through the real server: events are logged durably, reach the
// live graph, survive a restart and a hot reload, and bad ones are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "core/error.h"
#include "service/live_events.h"
#include "service/model.h"
#include "service/refresher.h"
#include "stream/event_log.h"
#include "tests/service/service_fixture.h"
#include "tests/test_util.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;

class EventsTest : public ServiceTest {
 protected:
  void SetUp() override {
    std::filesystem::remove_all(*root_ + "/artifacts/events");  // each test starts with an empty log
    ServiceTest::SetUp();
  }

  void Restart() {
    server_.reset();
    ServiceTest::SetUp();
  }

  static pb::Event Make(pb::EventKind kind, uint64_t actor, uint64_t object, uint32_t interaction = 0) {
    pb::Event e;
    e.set_kind(kind);
    e.set_actor(actor);
    e.set_object(object);
    e.set_time_unix_s(1700000000);
    e.set_interaction(interaction);
    return e;
  }

  grpc::Status Push(const std::vector<pb::Event>& events, pb::PushEventsResponse* response) {
    pb::PushEventsRequest request;
    for (const pb::Event& e : events) *request.add_events() = e;
    return stub_->PushEvents(Context().get(), request, response);
  }

  pb::ModelInfoResponse Info() {
    pb::ModelInfoResponse info;
    EXPECT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
    return info;
  }
};

constexpr uint64_t kNewAccount = 900000000001ULL, kNewPost = 900000000002ULL;

TEST_F(EventsTest, PushedEventsReachTheLiveGraphAndSurviveRestartAndReload) {
  const uint64_t a = built_->g.accounts.ToExternal(0), b = built_->g.accounts.ToExternal(1);
  pb::PushEventsResponse response;
  ASSERT_TRUE(Push({Make(pb::EVENT_ACCOUNT, kNewAccount, 0), Make(pb::EVENT_FOLLOW, kNewAccount, a), Make(pb::EVENT_FOLLOW, kNewAccount, b),
                    Make(pb::EVENT_POST, a, kNewPost), Make(pb::EVENT_INTERACTION, kNewAccount, kNewPost, 1)},
                   &response)
                  .ok());
  EXPECT_EQ(response.first_sequence(), 0u);
  EXPECT_EQ(response.count(), 5u);
  ASSERT_TRUE(Push({Make(pb::EVENT_UNFOLLOW, kNewAccount, b)}, &response).ok());
  EXPECT_EQ(response.first_sequence(), 5u);
  auto check = [&](const char* when) {
    const pb::ModelInfoResponse info = Info();
    EXPECT_EQ(info.event_log_end(), 6u) << when;
    EXPECT_EQ(info.event_log_watermark(), 0u) << when;
    EXPECT_EQ(info.live_new_accounts(), 1u) << when;
    EXPECT_EQ(info.live_new_posts(), 1u) << when;
    EXPECT_EQ(info.live_follows(), 2u) << when;
    EXPECT_EQ(info.live_unfollows(), 1u) << when;
    EXPECT_EQ(info.live_interactions(), 1u) << when;
    EXPECT_GT(info.live_delta_bytes(), 0u) << when;
  };
  check("after the pushes");
  Restart();
  check("after a restart (replayed from the log)");
  // A new version goes live: its live graph is the log replayed on it.
  version::WriteVersion(*root_ + "/artifacts", "v2", built_->g, built_->table, built_->indexes, R"({"version": "v2"})",
                        built_->ranker.get());
  version::PublishVersion(*root_ + "/artifacts", "v2");
  ASSERT_TRUE(server_->PollNow());
  EXPECT_EQ(Info().version(), "v2");
  check("after a hot reload");
  version::PublishVersion(*root_ + "/artifacts", "v1");
  ASSERT_TRUE(server_->PollNow());
}

TEST_F(EventsTest, ANewAccountGetsWalkRecallFromItsEventsAndAnUnfollowTakesEffect) {
  // A new account follows three authors; one of them then publishes a post.
  const graph::SocialGraph& g = built_->g;
  std::vector<uint64_t> authors;
  for (VertexId a = 0; a < g.num_accounts() && authors.size() < 3; ++a)
    if (g.authored.Degree(a) > 0) authors.push_back(g.accounts.ToExternal(a));
  ASSERT_EQ(authors.size(), 3u);
  pb::PushEventsResponse response;
  ASSERT_TRUE(Push({Make(pb::EVENT_FOLLOW, kNewAccount, authors[0]), Make(pb::EVENT_FOLLOW, kNewAccount, authors[1]),
                    Make(pb::EVENT_FOLLOW, kNewAccount, authors[2]), Make(pb::EVENT_POST, authors[2], kNewPost)},
                   &response)
                  .ok());
  auto recall = [&](pb::RecallSource source, bool exclude = false) {
    pb::RecallPostsRequest request;
    request.set_user_id(kNewAccount);
    request.set_k(50);
    request.set_source(source);
    request.set_exclude_seen(exclude);
    pb::RecallResponse answer;
    const grpc::Status status = stub_->RecallPosts(Context().get(), request, &answer);
    return std::pair{status, std::set<uint64_t>(answer.ids().begin(), answer.ids().end())};
  };
  auto [walks_status, walks] = recall(pb::RECALL_SOURCE_WALKS);
  ASSERT_TRUE(walks_status.ok()) << walks_status.error_message();
  EXPECT_TRUE(walks.contains(kNewPost));
  auto [mixed_status, mixed] = recall(pb::RECALL_SOURCE_MIXED);  // no vector yet: walks alone
  ASSERT_TRUE(mixed_status.ok()) << mixed_status.error_message();
  EXPECT_TRUE(mixed.contains(kNewPost));
  {  // The embedding has no vector for it before a refresh pass: the popularity fallback answers.
    pb::RecallPostsRequest request;
    request.set_user_id(kNewAccount);
    request.set_k(50);
    pb::RecallResponse answer;
    ASSERT_TRUE(stub_->RecallPosts(Context().get(), request, &answer).ok());
    EXPECT_TRUE(answer.popularity_fallback());
    const recall::PopularItems popular = recall::FindPopularItems(g, 50);
    ASSERT_EQ(answer.ids_size(), 50);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(answer.ids(i), popular.posts[static_cast<size_t>(i)].id) << i;
    // One that nobody knows is still NOT_FOUND.
    request.set_user_id(123456789012345ULL);
    EXPECT_EQ(stub_->RecallPosts(Context().get(), request, &answer).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // The author is unfollowed: the post has no other way in.
  ASSERT_TRUE(Push({Make(pb::EVENT_UNFOLLOW, kNewAccount, authors[2])}, &response).ok());
  EXPECT_FALSE(recall(pb::RECALL_SOURCE_WALKS).second.contains(kNewPost));
  // And a restart keeps all of it.
  Restart();
  EXPECT_FALSE(recall(pb::RECALL_SOURCE_WALKS).second.contains(kNewPost));
  ASSERT_TRUE(Push({Make(pb::EVENT_FOLLOW, kNewAccount, authors[2])}, &response).ok());
  EXPECT_TRUE(recall(pb::RECALL_SOURCE_WALKS).second.contains(kNewPost));
}

TEST_F(EventsTest, EmbeddingRecallFiltersReadTheLiveGraph) {
  // An existing user's top embedding post, then an event saying it was seen.
  const uint64_t user = built_->g.accounts.ToExternal(0);
  pb::RecallPostsRequest request;
  request.set_user_id(user);
  request.set_k(5);
  request.set_exclude_seen(true);
  pb::RecallResponse before;
  ASSERT_TRUE(stub_->RecallPosts(Context().get(), request, &before).ok());
  ASSERT_EQ(before.ids_size(), 5);
  pb::PushEventsResponse response;
  ASSERT_TRUE(Push({Make(pb::EVENT_INTERACTION, user, before.ids(0), 0)}, &response).ok());
  pb::RecallResponse after;
  ASSERT_TRUE(stub_->RecallPosts(Context().get(), request, &after).ok());
  ASSERT_EQ(after.ids_size(), 5);
  EXPECT_EQ(std::count(after.ids().begin(), after.ids().end(), before.ids(0)), 0);
  EXPECT_EQ(after.ids(0), before.ids(1));
}

TEST_F(EventsTest, RankScoresAPostNewerThanTheVersionWithColdStartFeatures) {
  const graph::SocialGraph& g = built_->g;
  VertexId author = 0;
  while (g.authored.Degree(author) == 0) ++author;
  const ExternalId user = g.accounts.ToExternal(author == 0 ? 1 : 0);
  const ExternalId known_post = g.posts.ToExternal(0);
  pb::RankRequest rank;
  rank.set_user_id(user);
  rank.add_post_ids(known_post);
  rank.add_post_ids(kNewPost);
  pb::RankResponse ranked;
  EXPECT_EQ(stub_->Rank(Context().get(), rank, &ranked).error_code(), grpc::StatusCode::NOT_FOUND);  // not yet
  pb::PushEventsResponse response;
  ASSERT_TRUE(Push({Make(pb::EVENT_POST, g.accounts.ToExternal(author), kNewPost)}, &response).ok());
  ranked.Clear();
  ASSERT_TRUE(stub_->Rank(Context().get(), rank, &ranked).ok());
  ASSERT_EQ(ranked.posts_size(), 2);
  std::set<uint64_t> scored;
  for (const auto& p : ranked.posts()) {
    scored.insert(p.post_id());
    EXPECT_TRUE(std::isfinite(p.score()));
    EXPECT_GT(p.click(), 0.0f);
    EXPECT_LT(p.click(), 1.0f);
  }
  EXPECT_EQ(scored, (std::set<uint64_t>{known_post, kNewPost}));
  // A post nobody has heard of is still NOT_FOUND, naming it.
  rank.add_post_ids(kNewPost + 1);
  const grpc::Status unknown = stub_->Rank(Context().get(), rank, &ranked);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find(std::to_string(kNewPost + 1)), std::string::npos);
}

TEST_F(EventsTest, AVersionReplaysFromItsWatermarkAndOldSegmentsAreDropped) {
  // Small segments (4 events each), so that retention has whole ones to drop.
  ServerOptions options = BaseOptions();
  options.event_segment_bytes = stream::kSegmentHeaderBytes + 4 * stream::kEventRecordBytes;
  Start(options);
  pb::PushEventsResponse response;
  for (uint64_t i = 0; i < 12; ++i)  // sequences 0..11, three segments
    ASSERT_TRUE(Push({Make(pb::EVENT_FOLLOW, kNewAccount + i, 1)}, &response).ok());
  EXPECT_EQ(Info().live_follows(), 12u);
  // A batch folded the first 9 in and says so in its manifest.
  auto publish = [&](const std::string& version, uint64_t watermark) {
    version::WriteVersion(*root_ + "/artifacts", version, built_->g, built_->table, built_->indexes,
                          StrCat(R"({"version": ")", version, R"(", "event_log_watermark": )", watermark, "}"),
                          built_->ranker.get());
    version::PublishVersion(*root_ + "/artifacts", version);
    ASSERT_TRUE(server_->PollNow());
  };
  publish("v9", 9);
  pb::ModelInfoResponse info = Info();
  EXPECT_EQ(info.event_log_watermark(), 9u);
  EXPECT_EQ(info.live_follows(), 3u);  // 9, 10, 11 replayed on top of v9
  // v1's watermark (0) still needs every segment; the next version's does not.
  const std::string events = *root_ + "/artifacts/events/";
  EXPECT_TRUE(std::filesystem::exists(events + "00000000000000000000.events"));
  publish("v10", 10);
  EXPECT_EQ(Info().live_follows(), 2u);
  EXPECT_FALSE(std::filesystem::exists(events + "00000000000000000000.events"));  // [0, 4)
  EXPECT_TRUE(std::filesystem::exists(events + "00000000000000000008.events"));   // holds 9 and 10
  // A rollback past the retained log still goes live, without the dropped events.
  version::PublishVersion(*root_ + "/artifacts", "v1");
  ASSERT_TRUE(server_->PollNow());
  EXPECT_EQ(Info().live_follows(), 4u);  // 8..11
}

TEST_F(EventsTest, MalformedRequestsAreRefusedWhole) {
  pb::PushEventsResponse response;
  const uint64_t a = built_->g.accounts.ToExternal(0);
  grpc::Status status = Push({Make(pb::EVENT_FOLLOW, kNewAccount, a), Make(pb::EVENT_KIND_UNSPECIFIED, 1, 2)}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("event 1"), std::string::npos) << status.error_message();
  status = Push({Make(pb::EVENT_INTERACTION, kNewAccount, kNewPost, 7)}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = Push({Make(pb::EVENT_ACCOUNT, kNewAccount, 5)}, &response);  // an account event has no object
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("no object"), std::string::npos) << status.error_message();
  EXPECT_EQ(Push({}, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Info().event_log_end(), 0u);
  EXPECT_EQ(Info().live_follows(), 0u);
}

TEST_F(EventsTest, ConcurrentPushersGetDisjointSequencesAndEveryEventApplies) {
  constexpr int kThreads = 4, kPushes = 40;
  std::vector<std::set<uint64_t>> firsts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPushes; ++i) {
        const uint64_t follower = kNewAccount + 1000 * static_cast<uint64_t>(t) + static_cast<uint64_t>(i);
        pb::PushEventsResponse response;
        ASSERT_TRUE(Push({Make(pb::EVENT_FOLLOW, follower, 1), Make(pb::EVENT_FOLLOW, follower, 2)}, &response).ok());
        firsts[t].insert(response.first_sequence());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const auto& f : firsts) all.insert(f.begin(), f.end());
  ASSERT_EQ(all.size(), size_t{kThreads * kPushes});
  for (const uint64_t first : all) EXPECT_EQ(first % 2, 0u);
  const pb::ModelInfoResponse info = Info();
  EXPECT_EQ(info.event_log_end(), 2u * kThreads * kPushes);
  EXPECT_EQ(info.live_follows(), 2u * kThreads * kPushes);
  EXPECT_EQ(info.live_new_accounts(), kThreads * kPushes + 2u);  // the followers, and accounts 1 and 2
}

// What an incremental refresh starts from: the accounts and posts events
// touched, taken once; after a new version, those of the replayed events.
TEST_F(EventsTest, TouchedAccountsAndPostsAreTakenOnceAndReplayedWithANewVersion) {
  server_.reset();  // this test drives the live events itself
  const std::string artifacts = *root_ + "/artifacts";
  const std::shared_ptr<const Model> model = Model::Load(artifacts, "v1");
  LiveEvents live(artifacts, {});
  live.Rebuild(model);
  EXPECT_TRUE(live.TakeTouched().accounts.empty());
  const ExternalId a = built_->g.accounts.ToExternal(0), b = built_->g.accounts.ToExternal(1);
  using stream::EventKind;
  const std::vector<stream::Event> events{
      {.kind = EventKind::kFollow, .time = 1700000000, .actor = a, .object = b},
      {.kind = EventKind::kPost, .time = 1700000001, .actor = b, .object = kNewPost},
      {.kind = EventKind::kAccount, .time = 1700000002, .actor = kNewAccount}};
  live.Push(events);
  const Touched touched = live.TakeTouched();
  EXPECT_EQ(touched.accounts, (std::unordered_set<ExternalId>{a, b, kNewAccount}));
  EXPECT_EQ(touched.posts, (std::unordered_set<ExternalId>{kNewPost}));
  EXPECT_TRUE(live.TakeTouched().accounts.empty());  // taken
  live.Rebuild(model);  // as a new version would: the events replay on top of it
  EXPECT_EQ(live.TakeTouched().accounts, touched.accounts);
}

// One writer, followers beside it: a follower applies what the writer
// logged, in log order, whenever it catches up, and a follower that starts
// later replays the log from the version's watermark. Neither a second
// writer nor a push to a follower is taken.
TEST_F(EventsTest, AFollowerTakesTheWritersEventsInLogOrder) {
  server_.reset();  // this test drives the live events itself
  const std::string artifacts = *root_ + "/artifacts";
  const std::shared_ptr<const Model> model = Model::Load(artifacts, "v1");
  LiveEvents writer(artifacts, {});
  LiveEvents follower(artifacts, {}, LiveEvents::Role::kFollow);
  writer.Rebuild(model);
  follower.Rebuild(model);
  EXPECT_FALSE(follower.writes_log());
  const ExternalId a = built_->g.accounts.ToExternal(0), b = kNewAccount, c = kNewAccount + 1;
  using stream::EventKind;
  writer.Push(std::vector<stream::Event>{{.kind = EventKind::kFollow, .time = 1700000000, .actor = a, .object = b},
                                         {.kind = EventKind::kUnfollow, .time = 1700000001, .actor = a, .object = b}});
  writer.Push(std::vector<stream::Event>{{.kind = EventKind::kFollow, .time = 1700000002, .actor = a, .object = c}});
  EXPECT_EQ(follower.applied_end(), 0u);
  EXPECT_EQ(follower.CatchUp(), 3u);
  EXPECT_EQ(follower.CatchUp(), 0u);
  EXPECT_EQ(follower.applied_end(), 3u);
  EXPECT_EQ(follower.log_end(), 3u);
  EXPECT_EQ(writer.CatchUp(), 0u);  // a writer applies as it pushes
  const auto same_graph = [](const LiveEvents& x, const LiveEvents& y) {
    const graph::LiveGraphCounts cx = x.state()->graph->counts(), cy = y.state()->graph->counts();
    EXPECT_EQ(cx.follows, cy.follows);
    EXPECT_EQ(cx.unfollows, cy.unfollows);
    EXPECT_EQ(cx.new_accounts, cy.new_accounts);
    const graph::LiveGraph& gx = *x.state()->graph;
    const graph::LiveGraph& gy = *y.state()->graph;
    EXPECT_EQ(gx.FolloweeCount(gx.FindAccount(built_->g.accounts.ToExternal(0))),
              gy.FolloweeCount(gy.FindAccount(built_->g.accounts.ToExternal(0))));
  };
  same_graph(writer, follower);
  EXPECT_EQ(follower.state()->graph->counts().unfollows, 1u);  // the unfollow came after its follow
  EXPECT_EQ(follower.TakeTouched().accounts, (std::unordered_set<ExternalId>{a, b, c}));
  // A follower started now replays everything after the version's watermark (0).
  LiveEvents late(artifacts, {}, LiveEvents::Role::kFollow);
  late.Rebuild(model);
  EXPECT_EQ(late.applied_end(), 3u);
  same_graph(writer, late);
  // Pushes go to the writer; a second writer is refused, saying what to do.
  const std::string pushed = ::gr::testing::ErrorOf([&] {
    follower.Push(std::vector<stream::Event>{{.kind = EventKind::kAccount, .time = 1, .actor = 5}});
  });
  EXPECT_NE(pushed.find("push events to its writer"), std::string::npos) << pushed;
  const std::string second = ::gr::testing::ErrorOf([&] { LiveEvents another(artifacts, {}); });
  EXPECT_NE(second.find("--events follow"), std::string::npos) << second;
}

// The same through servers: a follower server's live graph gets the
// writer's events within its follow interval; PushEvents to it is refused.
TEST_F(EventsTest, AFollowerServerAppliesTheWritersEventsAndRefusesPushes) {
  ServerOptions options = BaseOptions();
  options.event_log = ServerOptions::EventLogRole::kFollow;
  options.event_follow_ms = 10;
  Server follower(options);
  auto follower_stub = pb::Graphrec::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(follower.port()), grpc::InsecureChannelCredentials()));
  const ExternalId a = built_->g.accounts.ToExternal(0);
  pb::PushEventsResponse response;
  ASSERT_TRUE(Push({Make(pb::EVENT_FOLLOW, kNewAccount, a), Make(pb::EVENT_FOLLOW, kNewAccount + 1, a)}, &response).ok());
  pb::ModelInfoResponse info;
  for (int attempt = 0; attempt < 500; ++attempt) {
    ASSERT_TRUE(follower_stub->ModelInfo(Context().get(), {}, &info).ok());
    if (info.live_follows() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(info.live_follows(), 2u);
  EXPECT_EQ(info.live_new_accounts(), 2u);
  EXPECT_EQ(info.event_log_end(), 2u);
  pb::PushEventsRequest request;
  *request.add_events() = Make(pb::EVENT_ACCOUNT, kNewAccount + 2, 0);
  const grpc::Status refused = follower_stub->PushEvents(Context().get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("push events to the server that writes it"), std::string::npos)
      << refused.error_message();
  // A second writer beside the fixture's server does not start.
  const std::string second = ::gr::testing::ErrorOf([&] { Server another(BaseOptions()); });
  EXPECT_NE(second.find("--events follow"), std::string::npos) << second;
}

// Real time, part 2 (mechanics only: whether a pass moves recall the right
// way is not shown yet, see bench/README.md): a refresh pass changes the
// vector (and the SimilarAccounts answer) of an account that followed
// someone, gives a new account a vector,
// and to the accounts it followed (they gained a follower), and leaves the
// rest alone.
TEST_F(EventsTest, ARefreshPassRefreshesVectorsAndUpdatesTheIndicesInPlace) {
  ServerOptions options = BaseOptions();
  options.max_k = 1000;  // answers over every account
  Start(options);
  const graph::SocialGraph& g = built_->g;
  const ExternalId a = g.accounts.ToExternal(0);
  const bool a_was_author = g.authored.Degree(0) > 0;
  std::vector<ExternalId> followed;
  for (VertexId v = 1; v < g.num_accounts() && followed.size() < 3; ++v) {
    const auto followees = g.following.Neighbors(0);
    if (std::find(followees.begin(), followees.end(), v) == followees.end()) followed.push_back(g.accounts.ToExternal(v));
  }
  ASSERT_EQ(followed.size(), 3u);
  const auto embeddings = [&](std::vector<ExternalId> ids, pb::EmbeddingKind kind) {
    pb::GetEmbeddingsRequest request;
    for (const ExternalId id : ids) request.add_ids(id);
    request.set_kind(kind);
    pb::GetEmbeddingsResponse response;
    const grpc::Status status = stub_->GetEmbeddings(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::vector<float>> vectors;
    for (const auto& e : response.embeddings()) vectors.emplace_back(e.values().begin(), e.values().end());
    return vectors;
  };
  const std::vector<float> before = embeddings({a}, pb::ACCOUNT_INPUT)[0];
  const std::vector<float> before_followee = embeddings({followed[0]}, pb::ACCOUNT_INPUT)[0];
  const ExternalId untouched = g.accounts.ToExternal(static_cast<VertexId>(g.num_accounts() - 1));
  const std::vector<float> before_untouched = embeddings({untouched}, pb::ACCOUNT_INPUT)[0];
  const pb::ModelInfoResponse info_before = Info();
  // a follows three accounts and posts; a new account follows the same three and posts too.
  constexpr ExternalId kSecondPost = kNewPost + 1;
  std::vector<pb::Event> events;
  for (const ExternalId b : followed) events.push_back(Make(pb::EVENT_FOLLOW, a, b));
  events.push_back(Make(pb::EVENT_ACCOUNT, kNewAccount, 0));
  for (const ExternalId b : followed) events.push_back(Make(pb::EVENT_FOLLOW, kNewAccount, b));
  events.push_back(Make(pb::EVENT_POST, a, kNewPost));
  events.push_back(Make(pb::EVENT_POST, kNewAccount, kSecondPost));
  pb::PushEventsResponse pushed;
  ASSERT_TRUE(Push(events, &pushed).ok());
  // Before a pass the new account has no vector: NOT_FOUND for its vector,
  // the popularity fallback for its recall.
  {
    pb::GetEmbeddingsRequest request;
    request.add_ids(kNewAccount);
    pb::GetEmbeddingsResponse response;
    EXPECT_EQ(stub_->GetEmbeddings(Context().get(), request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  const auto similar = [&](ExternalId account, uint32_t k = 20, bool exclude_followed = false) {
    pb::SimilarAccountsRequest request;
    request.set_account_id(account);
    request.set_k(k);
    request.set_exclude_followed(exclude_followed);
    pb::RecallResponse response;
    const grpc::Status status = stub_->SimilarAccounts(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  {
    const pb::RecallResponse fallback = similar(kNewAccount, 10, true);
    EXPECT_TRUE(fallback.popularity_fallback());
    ASSERT_EQ(fallback.ids_size(), 10);
    const recall::PopularItems popular = recall::FindPopularItems(g, 20);
    size_t next = 0;  // the most followed accounts in order, but those it follows
    for (const ExternalId id : fallback.ids()) {
      while (std::find(followed.begin(), followed.end(), popular.accounts[next].id) != followed.end()) ++next;
      EXPECT_EQ(id, popular.accounts[next++].id);
    }
  }
  const pb::RecallResponse similar_before = similar(a);

  const RefreshPassReport report = server_->RefreshNow();
  EXPECT_EQ(report.refreshed, 5u);  // a, its three new followees, the new account
  EXPECT_EQ(report.new_accounts, 1u);
  EXPECT_EQ(report.new_authors, a_was_author ? 1u : 2u);  // the new account posted (and a)
  EXPECT_EQ(report.posts_indexed, 2u);  // both new posts
  EXPECT_FALSE(report.drift.has_value());
  EXPECT_GT(report.training_seconds, 0.0);
  EXPECT_GT(report.index_seconds, 0.0);
  EXPECT_LE(report.setup_seconds + report.training_seconds + report.index_seconds + report.publish_seconds,
            report.seconds);  // parts of the whole
  const pb::RecallResponse similar_after = similar(a);
  EXPECT_NE(std::vector<float>(similar_after.scores().begin(), similar_after.scores().end()),
            std::vector<float>(similar_before.scores().begin(), similar_before.scores().end()));
  const std::vector<float> after = embeddings({a}, pb::ACCOUNT_INPUT)[0];
  EXPECT_NE(after, before);
  const std::vector<float> followee_after = embeddings({followed[0]}, pb::ACCOUNT_INPUT)[0];
  EXPECT_NE(followee_after, before_followee);  // it gained followers
  EXPECT_EQ(embeddings({untouched}, pb::ACCOUNT_INPUT)[0], before_untouched);
  const std::vector<float> new_account = embeddings({kNewAccount}, pb::ACCOUNT_INPUT)[0];
  EXPECT_EQ(new_account.size(), before.size());

  // The indices hold the refreshed vectors: others find a and the new
  // account by them (scores are the cosines of the served vectors).
  const pb::ModelInfoResponse info_after = Info();
  EXPECT_EQ(info_after.indexed_accounts(), info_before.indexed_accounts() + 1);
  EXPECT_EQ(info_after.indexed_authors(), info_before.indexed_authors() + report.new_authors);
  EXPECT_EQ(info_after.indexed_posts(), info_before.indexed_posts() + 2);
  const pb::RecallResponse everyone = similar(followed[0], static_cast<uint32_t>(g.num_accounts() + 1));
  std::map<ExternalId, float> score_of;
  for (int i = 0; i < everyone.ids_size(); ++i) score_of[everyone.ids(i)] = everyone.scores(i);
  ASSERT_TRUE(score_of.contains(a) && score_of.contains(kNewAccount));
  EXPECT_NEAR(score_of[a], CosineOf(followee_after, after), 1e-5);
  EXPECT_NEAR(score_of[kNewAccount], CosineOf(followee_after, new_account), 1e-5);
  {
    const pb::RecallResponse own = similar(kNewAccount, 10);
    EXPECT_FALSE(own.popularity_fallback());
    EXPECT_EQ(own.ids_size(), 10);
    for (const ExternalId id : own.ids()) EXPECT_NE(id, kNewAccount);
    // Its follows (all made since the version) are left out on request.
    const pb::RecallResponse unfollowed = similar(kNewAccount, 10, true);
    EXPECT_EQ(unfollowed.ids_size(), 10);
    for (const ExternalId id : unfollowed.ids())
      EXPECT_TRUE(std::find(followed.begin(), followed.end(), id) == followed.end()) << id;
    // So are an existing account's new follows.
    const pb::RecallResponse from_a = similar(a, 50, true);
    for (const ExternalId id : from_a.ids())
      EXPECT_TRUE(std::find(followed.begin(), followed.end(), id) == followed.end()) << id;
  }
  // A new post without engagers has its author's vector: a's own top post.
  {
    const std::vector<float> post = embeddings({kNewPost}, pb::POST)[0];
    EXPECT_NEAR(CosineOf(post, after), 1.0, 1e-5);
    pb::RecallPostsRequest request;
    request.set_user_id(a);
    request.set_k(5);
    request.set_source(pb::RECALL_SOURCE_EMBEDDING);
    pb::RecallResponse answer;
    ASSERT_TRUE(stub_->RecallPosts(Context().get(), request, &answer).ok());
    ASSERT_GT(answer.ids_size(), 0);
    EXPECT_EQ(answer.ids(0), kNewPost);
  }
  {  // The new author is recallable.
    pb::RecallAuthorsRequest request;
    request.set_user_id(a);
    request.set_k(static_cast<uint32_t>(info_after.indexed_authors()));
    pb::RecallResponse answer;
    ASSERT_TRUE(stub_->RecallAuthors(Context().get(), request, &answer).ok());
    EXPECT_TRUE(std::find(answer.ids().begin(), answer.ids().end(), kNewAccount) != answer.ids().end());
  }
  EXPECT_EQ(server_->RefreshNow().refreshed, 0u);  // nothing new since
  // Touched again (an interaction; its follows changed since the version),
  // a is refreshed again from the version's vector over the same
  // neighbourhood: the same vector, refreshes do not pile up on each other.
  ASSERT_TRUE(Push({Make(pb::EVENT_INTERACTION, a, kSecondPost, 1)}, &pushed).ok());
  EXPECT_EQ(server_->RefreshNow().refreshed, 1u);
  EXPECT_EQ(embeddings({a}, pb::ACCOUNT_INPUT)[0], after);

  // A new version supersedes the refreshed vectors; the first pass over it
  // reports how far they were from its own. Here it has the same vectors as
  // the old one: the old version's are at cosine 1, the refreshed ones below.
  version::WriteVersion(*root_ + "/artifacts", "v2", g, built_->table, built_->indexes, R"({"version": "v2"})",
                        built_->ranker.get());
  version::PublishVersion(*root_ + "/artifacts", "v2");
  ASSERT_TRUE(server_->PollNow());
  const RefreshPassReport superseded = server_->RefreshNow();
  ASSERT_TRUE(superseded.drift.has_value());
  EXPECT_EQ(superseded.drift->from_version, "v1");
  EXPECT_EQ(superseded.drift->to_version, "v2");
  EXPECT_EQ(superseded.drift->accounts, 4u);  // the new account is not in v2
  EXPECT_EQ(superseded.drift->stale_accounts, 4u);
  EXPECT_NEAR(superseded.drift->stale_cosine, 1.0, 1e-9);
  EXPECT_LT(superseded.drift->refreshed_cosine, superseded.drift->stale_cosine - 1e-6);
  EXPECT_GT(superseded.drift->refreshed_cosine, 0.0);
  // v2 replayed the events: the same accounts are refreshed again over it.
  EXPECT_EQ(superseded.refreshed, 5u);
  EXPECT_EQ(Info().indexed_accounts(), info_before.indexed_accounts() + 1);
  version::PublishVersion(*root_ + "/artifacts", "v1");
  ASSERT_TRUE(server_->PollNow());

  // An account nobody knows is still NOT_FOUND.
  pb::GetEmbeddingsRequest unknown;
  unknown.add_ids(123456789012345ULL);
  pb::GetEmbeddingsResponse response;
  EXPECT_EQ(stub_->GetEmbeddings(Context().get(), unknown, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  pb::SimilarAccountsRequest request;
  request.set_account_id(123456789012345ULL);
  request.set_k(5);
  pb::RecallResponse answer;
  EXPECT_EQ(stub_->SimilarAccounts(Context().get(), request, &answer).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace gr::service
