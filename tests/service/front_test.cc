// Sharded serving: index shards written beside a version, shard servers
// (`serve --shard K/N`) and the front that merges them, all real servers on
// loopback ports, compared with one unsharded server on the same version.
#include "service/front.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shard.h"
#include "service/refresher.h"
#include "tests/service/service_fixture.h"
#include "tests/test_util.h"
#include "version/version_store.h"

namespace gr::service {
namespace {

using testing::CodeOf;

TEST(ShardTest, ParseNamesAndOwnership) {
  EXPECT_EQ(Shard::Parse("1/4").index, 1u);
  EXPECT_EQ(Shard::Parse("1/4").count, 4u);
  EXPECT_EQ(Shard::Parse("0/1").Name(), "shard-0-of-1");
  for (const char* bad : {"", "1", "4/4", "1/0", "-1/2", "1/2x", "a/2", "1/5000", " 1/2"})
    EXPECT_EQ(CodeOf([&] { Shard::Parse(bad); }), ErrorCode::kInvalidArgument) << bad;
  // Every id has exactly one shard, and the shards are about even.
  std::vector<int> counts(3);
  for (ExternalId id = 1000; id < 4000; ++id) {
    int holders = 0;
    for (uint32_t k = 0; k < 3; ++k) holders += Shard{k, 3}.Holds(id);
    ASSERT_EQ(holders, 1) << id;
    ++counts[ShardOf(id, 3)];
  }
  for (const int c : counts) EXPECT_NEAR(c, 1000, 100);
  EXPECT_TRUE(Shard{}.Holds(12345));
}

TEST(ShardTest, ShardTargetsJoinReplicasForRoundRobin) {
  EXPECT_EQ(ShardTarget("shard0.internal:50051"), "shard0.internal:50051");
  EXPECT_EQ(ShardTarget("10.0.0.1:1|10.0.0.2:2"), "ipv4:10.0.0.1:1,10.0.0.2:2");
  EXPECT_EQ(ShardTarget("[::1]:1|[::1]:2"), "ipv6:[::1]:1,[::1]:2");
  for (const char* bad : {"", "10.0.0.1:1|", "10.0.0.1|10.0.0.2:2", "10.0.0.1:1|[::1]:2", "a:1|dns:///b:2"})
    EXPECT_EQ(CodeOf([&] { ShardTarget(bad); }), ErrorCode::kInvalidArgument) << bad;
  FrontOptions options;
  EXPECT_EQ(CodeOf([&] { options.Validate(); }), ErrorCode::kInvalidArgument);  // no shards
}

class FrontTest : public ServiceTest {
 protected:
  static std::string Address(const Server& server) { return "127.0.0.1:" + std::to_string(server.port()); }

  // Shard servers 0..count-1 of the fixture's version (its shards written
  // first). Shard 0 writes the event log, so the fixture's unsharded server
  // is restarted as a follower.
  std::vector<std::unique_ptr<Server>> StartShards(uint32_t count) {
    version::SaveIndexShards(recall::CollectRecallIndexItems(built_->g, built_->table),
                             {.kind = recall::IndexKind::kExact}, count, version::VersionDir(*root_ + "/artifacts", "v1"));
    std::filesystem::remove_all(*root_ + "/artifacts/events");  // each test's events alone
    server_.reset();
    ServerOptions follower = BaseOptions();
    follower.event_log = ServerOptions::EventLogRole::kFollow;
    follower.event_follow_ms = 10;
    Start(follower);
    std::vector<std::unique_ptr<Server>> shards;
    for (uint32_t k = 0; k < count; ++k) {
      ServerOptions options = BaseOptions();
      options.shard = {.index = k, .count = count};
      options.event_follow_ms = 10;
      shards.push_back(std::make_unique<Server>(options));
    }
    return shards;
  }

  static std::unique_ptr<pb::Graphrec::Stub> StubOf(int port) {
    return pb::Graphrec::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }

  static void ExpectSameList(const pb::RecallResponse& front, const pb::RecallResponse& whole, ExternalId id) {
    ASSERT_EQ(front.ids_size(), whole.ids_size()) << id;
    for (int i = 0; i < whole.ids_size(); ++i) {
      EXPECT_EQ(front.ids(i), whole.ids(i)) << id << " rank " << i;
      EXPECT_FLOAT_EQ(front.scores(i), whole.scores(i)) << id << " rank " << i;
    }
    EXPECT_EQ(front.version(), "v1");
  }
};

TEST_F(FrontTest, TwoShardsBehindAFrontAnswerAsOneServer) {
  std::vector<std::unique_ptr<Server>> shards = StartShards(2);
  ServerOptions replica_options = BaseOptions();
  replica_options.shard = {.index = 1, .count = 2};
  replica_options.event_follow_ms = 10;
  Server replica(replica_options);  // a second replica of shard 1, behind round_robin
  FrontServer front({.address = "127.0.0.1:0",
                     .shards = {Address(*shards[0]), Address(*shards[1]) + "|" + Address(replica)}});
  auto front_stub = StubOf(front.port());

  // Each shard indexes its own accounts only; together, every account once.
  uint64_t indexed = 0;
  for (uint32_t k = 0; k < 2; ++k) {
    pb::ModelInfoResponse info;
    ASSERT_TRUE(StubOf(shards[k]->port())->ModelInfo(Context().get(), {}, &info).ok());
    EXPECT_GT(info.indexed_accounts(), built_->g.num_accounts() / 4) << k;
    indexed += info.indexed_accounts();
    pb::SimilarAccountsRequest r;
    r.set_account_id(built_->g.accounts.ToExternal(0));
    r.set_k(20);
    pb::RecallResponse a;
    ASSERT_TRUE(StubOf(shards[k]->port())->SimilarAccounts(Context().get(), r, &a).ok());
    for (const uint64_t id : a.ids()) EXPECT_EQ(ShardOf(id, 2), k) << id;
  }
  EXPECT_EQ(indexed, built_->g.num_accounts());

  // The front's answer to `request` equals the unsharded server's.
  auto same_answer = [&](const auto& request, ExternalId id, auto rpc) {
    pb::RecallResponse from_front, from_whole;
    ASSERT_TRUE(rpc(*front_stub, request, &from_front).ok()) << id;
    ASSERT_TRUE(rpc(*stub_, request, &from_whole).ok()) << id;
    ExpectSameList(from_front, from_whole, id);
  };
  auto similar_rpc = [&](pb::Graphrec::Stub& s, const pb::SimilarAccountsRequest& r, pb::RecallResponse* a) {
    return s.SimilarAccounts(Context().get(), r, a);
  };
  auto posts_rpc = [&](pb::Graphrec::Stub& s, const pb::RecallPostsRequest& r, pb::RecallResponse* a) {
    return s.RecallPosts(Context().get(), r, a);
  };
  auto authors_rpc = [&](pb::Graphrec::Stub& s, const pb::RecallAuthorsRequest& r, pb::RecallResponse* a) {
    return s.RecallAuthors(Context().get(), r, a);
  };
  // 100 accounts: the front's embedding answers equal the unsharded server's, id for id.
  int compared = 0;
  for (VertexId u = 0; u < built_->g.num_accounts() && compared < 100; u += 5, ++compared) {
    const ExternalId id = built_->g.accounts.ToExternal(u);
    const bool exclude = u % 2 == 0;
    pb::SimilarAccountsRequest similar;
    similar.set_account_id(id);
    similar.set_k(10);
    similar.set_exclude_followed(exclude);
    same_answer(similar, id, similar_rpc);
    pb::RecallPostsRequest posts;
    posts.set_user_id(id);
    posts.set_k(10);
    posts.set_exclude_seen(exclude);
    same_answer(posts, id, posts_rpc);
    pb::RecallAuthorsRequest authors;
    authors.set_user_id(id);
    authors.set_k(10);
    same_answer(authors, id, authors_rpc);
  }
  EXPECT_EQ(compared, 100);
  // Walk and mixed recall (the walks of the account's shard, fused with the
  // merged embedding list) answer as the whole server's.
  for (VertexId u = 0; u < built_->g.num_accounts(); u += 37) {
    const ExternalId id = built_->g.accounts.ToExternal(u);
    for (const pb::RecallSource source : {pb::RECALL_SOURCE_WALKS, pb::RECALL_SOURCE_MIXED}) {
      pb::RecallPostsRequest posts;
      posts.set_user_id(id);
      posts.set_k(10);
      posts.set_source(source);
      same_answer(posts, id, posts_rpc);
      pb::RecallAuthorsRequest authors;
      authors.set_user_id(id);
      authors.set_k(10);
      authors.set_source(source);
      same_answer(authors, id, authors_rpc);
    }
  }
  // round_robin spread shard 1's calls over both of its replicas.
  for (const Server* server : {shards[1].get(), &replica}) {
    pb::StatsResponse stats;
    ASSERT_TRUE(StubOf(server->port())->Stats(Context().get(), {}, &stats).ok());
    uint64_t similar_requests = 0;
    for (const pb::MethodStats& m : stats.methods())
      if (m.method() == "SimilarAccounts") similar_requests = m.requests();
    EXPECT_GT(similar_requests, 20u) << server->port();
  }

  // Routed rpcs answer as the whole server does.
  pb::GetEmbeddingsRequest embeddings;
  embeddings.add_ids(built_->g.accounts.ToExternal(7));
  pb::GetEmbeddingsResponse e_front, e_whole;
  ASSERT_TRUE(front_stub->GetEmbeddings(Context().get(), embeddings, &e_front).ok());
  ASSERT_TRUE(stub_->GetEmbeddings(Context().get(), embeddings, &e_whole).ok());
  EXPECT_EQ(e_front.SerializeAsString(), e_whole.SerializeAsString());
  pb::RankRequest rank;
  rank.set_user_id(built_->g.accounts.ToExternal(7));
  for (VertexId p = 0; p < 5; ++p) rank.add_post_ids(built_->g.posts.ToExternal(p));
  pb::RankResponse r_front, r_whole;
  ASSERT_TRUE(front_stub->Rank(Context().get(), rank, &r_front).ok());
  ASSERT_TRUE(stub_->Rank(Context().get(), rank, &r_whole).ok());
  EXPECT_EQ(r_front.SerializeAsString(), r_whole.SerializeAsString());

  // Errors keep their codes and name the shard; what is not routed says so.
  pb::SimilarAccountsRequest unknown;
  unknown.set_account_id(999999999999ull);
  unknown.set_k(5);
  pb::RecallResponse ignored;
  const grpc::Status not_found = front_stub->SimilarAccounts(Context().get(), unknown, &ignored);
  EXPECT_EQ(not_found.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(not_found.error_message().find("shard "), std::string::npos) << not_found.error_message();
  pb::StatsResponse stats;
  EXPECT_EQ(front_stub->Stats(Context().get(), {}, &stats).error_code(), grpc::StatusCode::UNIMPLEMENTED);

  // A shard down: the front fails the request, naming the shard, rather
  // than answer from half the accounts.
  shards[0]->Shutdown();
  pb::SimilarAccountsRequest similar;
  similar.set_account_id(built_->g.accounts.ToExternal(1));
  similar.set_k(5);
  auto context = Context();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  const grpc::Status down = front_stub->SimilarAccounts(context.get(), similar, &ignored);
  EXPECT_FALSE(down.ok());
  EXPECT_NE(down.error_message().find("shard 0"), std::string::npos) << down.error_message();
}

// Events in sharded serving: the front sends PushEvents to shard 0, which
// writes the log; shard 1 and its replica follow it. A follow pushed through
// the front then filters the merged answer of every shard at once.
TEST_F(FrontTest, EventsPushedThroughTheFrontReachEveryShard) {
  std::vector<std::unique_ptr<Server>> shards = StartShards(2);
  ServerOptions replica_options = BaseOptions();
  replica_options.shard = {.index = 1, .count = 2};
  replica_options.event_follow_ms = 10;
  Server replica(replica_options);
  FrontServer front({.address = "127.0.0.1:0",
                     .shards = {Address(*shards[0]), Address(*shards[1]) + "|" + Address(replica)}});
  auto front_stub = StubOf(front.port());
  // An account whose top similar accounts live on both shards.
  pb::SimilarAccountsRequest similar;
  similar.set_k(10);
  similar.set_exclude_followed(true);
  pb::RecallResponse before;
  for (VertexId u = 0; u < built_->g.num_accounts(); ++u) {
    similar.set_account_id(built_->g.accounts.ToExternal(u));
    before.Clear();
    ASSERT_TRUE(front_stub->SimilarAccounts(Context().get(), similar, &before).ok());
    std::set<uint32_t> holders;
    for (int i = 0; i < 4; ++i) holders.insert(ShardOf(before.ids(i), 2));
    if (holders.size() == 2) break;
  }
  ASSERT_EQ(before.ids_size(), 10);
  pb::PushEventsRequest push;
  for (int i = 0; i < 4; ++i) {
    pb::Event* follow = push.add_events();
    follow->set_kind(pb::EVENT_FOLLOW);
    follow->set_actor(similar.account_id());
    follow->set_object(before.ids(i));
    follow->set_time_unix_s(1700000000);
  }
  pb::PushEventsResponse pushed;
  ASSERT_TRUE(front_stub->PushEvents(Context().get(), push, &pushed).ok());
  EXPECT_EQ(pushed.count(), 4u);
  // Every server's live graph takes the four follows (the followers within
  // their 10 ms interval), the unsharded one beside them too.
  for (const Server* server : {shards[0].get(), shards[1].get(), &replica, server_.get()}) {
    pb::ModelInfoResponse info;
    for (int attempt = 0; attempt < 500; ++attempt) {
      ASSERT_TRUE(StubOf(server->port())->ModelInfo(Context().get(), {}, &info).ok());
      if (info.live_follows() == 4) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(info.live_follows(), 4u) << server->port();
    EXPECT_EQ(info.event_log_end(), 4u) << server->port();
  }
  // The merged answer drops the four, whichever shard holds them, and equals the unsharded server's.
  pb::RecallResponse after, whole;
  ASSERT_TRUE(front_stub->SimilarAccounts(Context().get(), similar, &after).ok());
  ASSERT_TRUE(stub_->SimilarAccounts(Context().get(), similar, &whole).ok());
  ExpectSameList(after, whole, similar.account_id());
  ASSERT_EQ(after.ids_size(), 10);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(after.ids(i), before.ids(i + 4)) << i;
  // A refresh pass on every server: a new account gets the same vector on
  // each (so the shards search with one query vector) but joins the
  // accounts and authors indices of its own shard only.
  const auto indexed = [&](const Server& server) {
    pb::ModelInfoResponse info;
    EXPECT_TRUE(StubOf(server.port())->ModelInfo(Context().get(), {}, &info).ok());
    return std::pair(info.indexed_accounts(), info.indexed_authors());
  };
  const auto whole_before = indexed(*server_);
  const std::vector<std::pair<uint64_t, uint64_t>> shards_before{indexed(*shards[0]), indexed(*shards[1])};
  constexpr uint64_t kNewAccount = 900000000001ULL, kNewPost = 900000000002ULL;
  pb::PushEventsRequest joins;
  for (const auto& [kind, object] : {std::pair(pb::EVENT_FOLLOW, before.ids(0)), std::pair(pb::EVENT_FOLLOW, before.ids(5)),
                                     std::pair(pb::EVENT_POST, kNewPost)}) {
    pb::Event* e = joins.add_events();
    e->set_kind(kind);
    e->set_actor(kNewAccount);
    e->set_object(object);
    e->set_time_unix_s(1700000001);
  }
  ASSERT_TRUE(front_stub->PushEvents(Context().get(), joins, &pushed).ok());
  for (Server* server : {shards[0].get(), shards[1].get(), &replica, server_.get()}) {
    pb::ModelInfoResponse info;
    for (int attempt = 0; attempt < 500 && info.event_log_end() < 7; ++attempt) {
      ASSERT_TRUE(StubOf(server->port())->ModelInfo(Context().get(), {}, &info).ok());
      if (info.event_log_end() < 7) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(info.event_log_end(), 7u) << server->port();
    EXPECT_EQ(server->RefreshNow().new_accounts, 1u) << server->port();
  }
  const uint32_t home = ShardOf(kNewAccount, 2);
  EXPECT_EQ(indexed(*server_), std::pair(whole_before.first + 1, whole_before.second + 1));
  for (uint32_t k = 0; k < 2; ++k)
    EXPECT_EQ(indexed(*shards[k]), std::pair(shards_before[k].first + (k == home), shards_before[k].second + (k == home)))
        << k;
  EXPECT_EQ(indexed(replica), indexed(*shards[1]));
  pb::SimilarAccountsRequest newcomer;
  newcomer.set_account_id(kNewAccount);
  newcomer.set_k(10);
  pb::RecallResponse from_front, from_whole;
  ASSERT_TRUE(front_stub->SimilarAccounts(Context().get(), newcomer, &from_front).ok());
  ASSERT_TRUE(stub_->SimilarAccounts(Context().get(), newcomer, &from_whole).ok());
  ExpectSameList(from_front, from_whole, kNewAccount);

  // Only the writer takes pushes; the front names it when it refuses.
  EXPECT_EQ(StubOf(shards[1]->port())->PushEvents(Context().get(), push, &pushed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  pb::PushEventsRequest empty;
  const grpc::Status refused = front_stub->PushEvents(Context().get(), empty, &pushed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("event writer: "), std::string::npos) << refused.error_message();
  // --event-writer sends them elsewhere: here to shard 1, a follower, which refuses.
  FrontServer elsewhere({.address = "127.0.0.1:0", .shards = {Address(*shards[0]), Address(*shards[1])},
                         .event_writer = Address(*shards[1])});
  EXPECT_EQ(StubOf(elsewhere.port())->PushEvents(Context().get(), push, &pushed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(FrontTest, AShardTheVersionDoesNotHoldIsNamed) {
  StartShards(2);
  ServerOptions options = BaseOptions();
  options.shard = {.index = 0, .count = 3};
  options.event_log = ServerOptions::EventLogRole::kFollow;  // shard 0 of 2 writes the log
  try {
    Server server(options);
    FAIL() << "a server started on a shard the version does not have";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--index-shards 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gr::service
