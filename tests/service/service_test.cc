// Integration tests: the real server on a free loopback port, artifacts
// built from a small generated world, every rpc through a real channel.
#include "service/server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <unistd.h>

#include "core/error.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "version/version_store.h"
#include "proto/graphrec.grpc.pb.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/vector_index.h"
#include "synth/world.h"
#include "tests/service/service_fixture.h"
#include "tests/test_util.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;

TEST_F(ServiceTest, RecallRpcsMatchTheLibrary) {
  const recall::Recaller recaller(built_->g, built_->table, built_->indexes);
  for (VertexId u = 0; u < built_->g.num_accounts(); u += 97) {
    const ExternalId id = built_->g.accounts.ToExternal(u);
    auto check = [&](const pb::RecallResponse& response, const grpc::Status& status, recall::RecallKind kind) {
      ASSERT_TRUE(status.ok()) << status.error_message();
      const auto expected = recaller.Recall(kind, id, 10, true);
      ASSERT_EQ(response.ids_size(), static_cast<int>(expected.size()));
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(response.ids(static_cast<int>(i)), expected[i].id);
        EXPECT_FLOAT_EQ(response.scores(static_cast<int>(i)), expected[i].score);
      }
      EXPECT_EQ(response.version(), "v1");
    };
    {
      pb::SimilarAccountsRequest r;
      r.set_account_id(id);
      r.set_k(10);
      r.set_exclude_followed(true);
      pb::RecallResponse a;
      check(a, stub_->SimilarAccounts(Context().get(), r, &a), recall::RecallKind::kSimilarAccounts);
    }
    {
      pb::RecallAuthorsRequest r;
      r.set_user_id(id);
      r.set_k(10);
      r.set_exclude_followed(true);
      pb::RecallResponse a;
      check(a, stub_->RecallAuthors(Context().get(), r, &a), recall::RecallKind::kAuthors);
    }
    {
      pb::RecallPostsRequest r;
      r.set_user_id(id);
      r.set_k(10);
      r.set_exclude_seen(true);
      pb::RecallResponse a;
      check(a, stub_->RecallPosts(Context().get(), r, &a), recall::RecallKind::kPosts);
    }
  }
}

TEST_F(ServiceTest, EmbeddingsInfoStatsAndHealth) {
  pb::GetEmbeddingsRequest r;
  const ExternalId a = built_->g.accounts.ToExternal(3), b = built_->g.accounts.ToExternal(5);
  r.add_ids(a);
  r.add_ids(b);
  r.set_kind(pb::ACCOUNT_OUTPUT);
  pb::GetEmbeddingsResponse e;
  ASSERT_TRUE(stub_->GetEmbeddings(Context().get(), r, &e).ok());
  ASSERT_EQ(e.embeddings_size(), 2);
  EXPECT_EQ(e.dimension(), 16u);
  EXPECT_EQ(e.embeddings(1).id(), b);
  for (int x = 0; x < 16; ++x) EXPECT_EQ(e.embeddings(1).values(x), built_->table.output.At(5, static_cast<size_t>(x)));

  pb::ModelInfoResponse info;
  ASSERT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.version(), "v1");
  EXPECT_EQ(info.accounts(), built_->g.num_accounts());
  EXPECT_EQ(info.posts(), built_->g.num_posts());
  EXPECT_EQ(info.indexed_posts(), built_->indexes.posts->size());
  EXPECT_NE(info.manifest_json().find("\"v1\""), std::string::npos);

  pb::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(Context().get(), pb::StatsRequest(), &stats).ok());
  bool found = false;
  for (const auto& m : stats.methods()) {
    if (m.method() == "GetEmbeddings") {
      EXPECT_EQ(m.requests(), 1u);
      EXPECT_GT(m.p50_ms(), 0.0);
      found = true;
    }
  }
  EXPECT_TRUE(found);

  grpc::ClientContext context;
  grpc::ByteBuffer request_buffer, response_buffer;  // the standard health service, called generically
  grpc::GenericStub generic(channel_);
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message.
  grpc::Slice empty("", 0);
  request_buffer = grpc::ByteBuffer(&empty, 1);
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  grpc::Status health;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer, &response_buffer,
                    [&](grpc::Status s) {
                      std::lock_guard lock(mutex);
                      health = s;
                      finished = true;
                      done.notify_all();
                    });
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return finished; });
  EXPECT_TRUE(health.ok()) << health.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response_buffer.Dump(&slices).ok());
  ASSERT_FALSE(slices.empty());
  // HealthCheckResponse{status: SERVING (1)} = field 1 varint 1 = bytes 08 01.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(slices[0].begin()), slices[0].size()), std::string("\x08\x01", 2));
}

// Server reflection is on: a client that knows no .proto can list the
// services (what grpcurl and grpc_cli do first). Called generically, as a
// raw bidirectional stream: ServerReflectionRequest{list_services: ""} is
// field 7, an empty string (bytes 3a 00); the answer names each service.
TEST_F(ServiceTest, ReflectionListsTheServices) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::CompletionQueue queue;
  auto call = generic.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  // Runs one operation (started with tag 1) and waits for its completion.
  auto await = [&](auto start) {
    start(reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  ASSERT_TRUE(await([&](void* tag) { call->StartCall(tag); }));
  grpc::Slice list_services("\x3a\x00", 2);
  const grpc::ByteBuffer request(&list_services, 1);
  ASSERT_TRUE(await([&](void* tag) { call->Write(request, tag); }));
  ASSERT_TRUE(await([&](void* tag) { call->WritesDone(tag); }));
  grpc::ByteBuffer response;
  ASSERT_TRUE(await([&](void* tag) { call->Read(&response, tag); }));
  grpc::Status status;
  ASSERT_TRUE(await([&](void* tag) { call->Finish(&status, tag); }));
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_NE(bytes.find("graphrec.v1.Graphrec"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  queue.Shutdown();
}

TEST_F(ServiceTest, BadRequestsGetTheRightStatus) {
  const ExternalId known = built_->g.accounts.ToExternal(0);
  auto similar = [&](uint64_t id, uint32_t k) {
    pb::SimilarAccountsRequest r;
    r.set_account_id(id);
    r.set_k(k);
    pb::RecallResponse a;
    return stub_->SimilarAccounts(Context().get(), r, &a).error_code();
  };
  EXPECT_EQ(similar(123456789, 5), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(similar(known, 0), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(similar(known, 51), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(similar(known, 50), grpc::StatusCode::OK);

  pb::GetEmbeddingsRequest e;
  pb::GetEmbeddingsResponse ea;
  EXPECT_EQ(stub_->GetEmbeddings(Context().get(), e, &ea).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 21; ++i) e.add_ids(known);
  EXPECT_EQ(stub_->GetEmbeddings(Context().get(), e, &ea).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  e.clear_ids();
  e.add_ids(known);
  e.set_kind(pb::POST);
  EXPECT_EQ(stub_->GetEmbeddings(Context().get(), e, &ea).error_code(), grpc::StatusCode::NOT_FOUND);

  pb::RankRequest rank;
  rank.set_user_id(known);
  pb::RankResponse ra;
  EXPECT_EQ(stub_->Rank(Context().get(), rank, &ra).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  rank.add_post_ids(1);  // no such post
  const grpc::Status unknown_post = stub_->Rank(Context().get(), rank, &ra);
  EXPECT_EQ(unknown_post.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown_post.error_message().find("unknown post 1"), std::string::npos) << unknown_post.error_message();
  rank.set_post_ids(0, built_->g.posts.ToExternal(0));
  rank.set_time_unix_s(uint64_t{1} << 40);
  EXPECT_EQ(stub_->Rank(Context().get(), rank, &ra).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  rank.set_time_unix_s(0);
  rank.set_user_id(12345);  // unknown user
  EXPECT_EQ(stub_->Rank(Context().get(), rank, &ra).error_code(), grpc::StatusCode::NOT_FOUND);

  // A request above the message size limit is refused by gRPC before the handler.
  pb::GetEmbeddingsRequest huge;
  for (int i = 0; i < 2000; ++i) huge.add_ids(known);
  ASSERT_GT(huge.ByteSizeLong(), 8192u);
  EXPECT_EQ(stub_->GetEmbeddings(Context().get(), huge, &ea).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A deadline already in the past is honoured, not served.
  grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  pb::ModelInfoResponse info;
  EXPECT_EQ(stub_->ModelInfo(&late, pb::ModelInfoRequest(), &info).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server is still up.
  EXPECT_EQ(similar(known, 5), grpc::StatusCode::OK);
}

TEST(ServerOptionsTest, ListenAddressesAreChecked) {
  for (const std::string good : {"127.0.0.1:0", "localhost:65535", "[::1]:50051", "0.0.0.0:1", "unix:/tmp/graphrec.sock"})
    EXPECT_NO_THROW(CheckListenAddress(good)) << good;
  // 65536 used to wrap around to another port inside gRPC.
  EXPECT_NE(::gr::testing::ErrorOf([] { CheckListenAddress("127.0.0.1:65536"); }).find("port must be 0 to 65535"),
            std::string::npos);
  for (const std::string bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:80x", ":80", "::1:80", "127.0.0.1:-1"})
    EXPECT_FALSE(::gr::testing::ErrorOf([&] { CheckListenAddress(bad); }).empty()) << bad;
}

// grpc.health.v1.Health/Watch for one service name, called generically (no
// health stubs ship with Debian's gRPC): each Next() is the next status
// sent (1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN), nullopt once the
// stream has ended.
class HealthWatch {
 public:
  HealthWatch(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
    grpc::GenericStub stub(channel);
    call_ = stub.PrepareCall(&context_, "/grpc.health.v1.Health/Watch", &queue_);
    call_->StartCall(this);
    Wait();
    // HealthCheckRequest{service}: field 1, length-delimited.
    const std::string request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
    grpc::Slice slice(request);
    call_->Write(grpc::ByteBuffer(&slice, 1), this);
    Wait();
    call_->WritesDone(this);
    Wait();
  }
  ~HealthWatch() {
    context_.TryCancel();
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }
  std::optional<int> Next() {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, this);
    if (!Wait()) return std::nullopt;
    std::vector<grpc::Slice> slices;
    if (!buffer.Dump(&slices).ok() || slices.empty()) return std::nullopt;
    const std::string bytes(reinterpret_cast<const char*>(slices[0].begin()), slices[0].size());
    if (bytes.empty()) return 0;  // status 0 (UNKNOWN) encodes as no field
    return bytes.size() == 2 && bytes[0] == '\x08' ? std::optional<int>(bytes[1]) : std::nullopt;
  }

 private:
  bool Wait() {
    void* tag;
    bool ok = false;
    return queue_.Next(&tag, &ok) && ok;
  }
  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
};

TEST_F(ServiceTest, WhileLoadingHealthIsNotServingAndRpcsAreUnavailable) {
  ServerOptions options = BaseOptions();
  std::unique_ptr<HealthWatch> watch;
  std::shared_ptr<grpc::Channel> early;
  grpc::Status loading_status;
  options.before_first_load = [&](int port) {
    early = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    watch = std::make_unique<HealthWatch>(early, "graphrec.v1.Graphrec");
    EXPECT_EQ(watch->Next(), 2);  // NOT_SERVING while the version loads
    pb::SimilarAccountsRequest request;
    request.set_account_id(built_->g.accounts.ToExternal(0));
    request.set_k(5);
    pb::RecallResponse response;
    loading_status = pb::Graphrec::NewStub(early)->SimilarAccounts(Context().get(), request, &response);
  };
  Start(options);
  EXPECT_EQ(loading_status.error_code(), grpc::StatusCode::UNAVAILABLE) << loading_status.error_message();
  EXPECT_EQ(watch->Next(), 1);  // SERVING once loaded
  std::thread stopper([&] { server_->Shutdown(); });
  EXPECT_EQ(watch->Next(), 2);  // NOT_SERVING on shutdown
  watch.reset();
  stopper.join();
}

TEST_F(ServiceTest, HealthIsServingForBothNamesAndTurnsNotServingOnShutdown) {
  auto overall = std::make_unique<HealthWatch>(channel_, "");
  auto service = std::make_unique<HealthWatch>(channel_, "graphrec.v1.Graphrec");
  EXPECT_EQ(overall->Next(), 1);
  EXPECT_EQ(service->Next(), 1);
  EXPECT_EQ(HealthWatch(channel_, "no.such.Service").Next(), 3);  // SERVICE_UNKNOWN
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Shutdown(); });
  EXPECT_EQ(overall->Next(), 2);  // NOT_SERVING, sent before the server stops
  EXPECT_EQ(service->Next(), 2);
  // The watches stay open: the shutdown does not wait for them as for a
  // request in flight (that would be its full 5 s).
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(overall->Next(), std::nullopt);  // the stream ended with the server
}

TEST_F(ServiceTest, DuringTheDrainHealthSaysNotServingAndRequestsAreStillAnswered) {
  ServerOptions options = BaseOptions();
  options.drain_ms = 1500;
  Start(options);
  auto watch = std::make_unique<HealthWatch>(channel_, "");
  ASSERT_EQ(watch->Next(), 1);
  std::thread stopper([&] { server_->Shutdown(); });
  ASSERT_EQ(watch->Next(), 2);
  watch.reset();
  pb::SimilarAccountsRequest request;
  request.set_account_id(built_->g.accounts.ToExternal(0));
  request.set_k(3);
  pb::RecallResponse response;
  EXPECT_TRUE(stub_->SimilarAccounts(Context().get(), request, &response).ok());  // still inside the drain
  stopper.join();
}

TEST_F(ServiceTest, ASecondServerCannotShareThePort) {
  ServerOptions options;
  options.address = "127.0.0.1:" + std::to_string(server_->port());
  options.artifacts = *root_ + "/artifacts";
  options.stats_log_seconds = 0;
  options.event_log = ServerOptions::EventLogRole::kFollow;  // the fixture's server writes the log
  // With SO_REUSEPORT the second bind succeeded and took half the connections.
  EXPECT_EQ(::gr::testing::CodeOf([&] { Server second(options); }), ErrorCode::kIo);
}

// gRPC 1.51 deactivates its listening port after one accept error: idle
// clients that exhaust the descriptors wedged the server for good, even after
// they left. The watchdog rebuilds the server on the same port.
TEST_F(ServiceTest, TheListenerComesBackAfterDescriptorsRunOut) {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.artifacts = *root_ + "/artifacts";
  options.stats_log_seconds = 0;
  options.listener_check_ms = 200;
  options.event_log = ServerOptions::EventLogRole::kFollow;  // the fixture's server writes the log
  Server server(options);
  // This test's process only (ctest runs each test alone): a limit close to
  // what is open now, shared by the server and the idle clients below.
  const auto open_now = std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {});
  const rlimit limit{static_cast<rlim_t>(open_now + 64), static_cast<rlim_t>(open_now + 64)};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  std::vector<int> idle;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 1000; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;  // out of descriptors: the server's accept fails the same way
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      close(fd);
      break;
    }
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const int fd : idle) close(fd);
  bool answered = false;
  for (int attempt = 0; attempt < 60 && !answered; ++attempt) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials());
    pb::ModelInfoRequest request;
    pb::ModelInfoResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    answered = pb::Graphrec::NewStub(channel)->ModelInfo(&context, request, &response).ok();
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(answered);
  EXPECT_GE(server.listener_restarts(), 1);  // it did wedge, and came back
}

// A healthy server is never rebuilt, whatever address family it listens on
// (the probe must reach the listener where it is).
TEST_F(ServiceTest, TheListenerWatchdogLeavesAHealthyServerAlone) {
  for (const std::string address : {"127.0.0.1:0", "0.0.0.0:0", "[::1]:0"}) {
    ServerOptions options;
    options.address = address;
    options.artifacts = *root_ + "/artifacts";
    options.stats_log_seconds = 0;
    options.listener_check_ms = 100;
    options.event_log = ServerOptions::EventLogRole::kFollow;  // the fixture's server writes the log
    std::unique_ptr<Server> server;
    try {
      server = std::make_unique<Server>(options);
    } catch (const Error& e) {
      ASSERT_NE(address, "127.0.0.1:0") << e.what();
      continue;  // no IPv6 loopback on this machine
    }
    // A miss takes up to 1 s (the probe's deadline): three of them and a rebuild fit in 4 s.
    std::this_thread::sleep_for(std::chrono::milliseconds(4000));
    EXPECT_EQ(server->listener_restarts(), 0) << address;
  }
}

TEST_F(ServiceTest, HotReloadUnderLoadLosesNoRequest) {
  const std::string artifacts = *root_ + "/artifacts";
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, failed{0};
  std::set<std::string> versions_seen;
  std::mutex seen_mutex;
  std::vector<std::thread> clients;
  const ExternalId id = built_->g.accounts.ToExternal(1);
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        pb::RecallPostsRequest r;
        r.set_user_id(id);
        r.set_k(5);
        pb::RecallResponse a;
        const grpc::Status s = stub_->RecallPosts(Context().get(), r, &a);
        if (s.ok()) {
          ++ok;
          std::lock_guard lock(seen_mutex);
          versions_seen.insert(a.version());
        } else {
          ++failed;
          ADD_FAILURE() << s.error_message();
        }
      }
    });
  }
  // A broken version first: it must not go live.
  std::filesystem::create_directories(artifacts + "/broken");
  ::gr::testing::WriteBytes(artifacts + "/broken/graph.snap", "not a snapshot");
  version::PublishVersion(artifacts, "broken");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const char* version : {"v2", "v3"}) {
    const Built next = Build(*root_ + "/world", version[1] - '0');
    version::WriteVersion(artifacts, version, next.g, next.table, next.indexes, "{}");
    version::PublishVersion(artifacts, version);
    for (int i = 0; i < 100; ++i) {  // the watcher polls every 50 ms
      pb::ModelInfoResponse info;
      ASSERT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
      if (info.version() == version) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : clients) t.join();
  pb::ModelInfoResponse info;
  ASSERT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.version(), "v3");
  EXPECT_EQ(failed.load(), 0u);
  EXPECT_GT(ok.load(), 20u);
  EXPECT_TRUE(versions_seen.count("v3"));
  EXPECT_FALSE(versions_seen.count("broken"));
  pb::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(Context().get(), pb::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.reloads(), 2u);
  EXPECT_EQ(stats.failed_reloads(), 1u);
  // v3 carries no ranker: Rank says so rather than failing.
  EXPECT_FALSE(info.has_ranker());
  pb::RankRequest rank;
  rank.set_user_id(built_->g.accounts.ToExternal(0));
  rank.add_post_ids(built_->g.posts.ToExternal(0));
  pb::RankResponse ranked;
  EXPECT_EQ(stub_->Rank(Context().get(), rank, &ranked).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Leave v1 live for the other tests.
  version::PublishVersion(artifacts, "v1");
}

TEST_F(ServiceTest, RankMatchesTheLibrary) {
  const ranking::FeatureSource features(built_->g, built_->table, built_->ranker->feature_config(),
                                        built_->ranker->centroids());
  pb::ModelInfoResponse info;
  ASSERT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
  EXPECT_TRUE(info.has_ranker());
  for (VertexId u = 0; u < built_->g.num_accounts(); u += 151) {
    pb::RankRequest request;
    request.set_user_id(built_->g.accounts.ToExternal(u));
    std::vector<ExternalId> posts;
    for (VertexId p = u % 7; p < built_->g.num_posts() && posts.size() < 20; p += 7) posts.push_back(built_->g.posts.ToExternal(p));
    for (const ExternalId p : posts) request.add_post_ids(p);
    pb::RankResponse response;
    const grpc::Status status = stub_->Rank(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const auto expected = built_->ranker->Rank(features, request.user_id(), posts,
                                               static_cast<uint32_t>(built_->g.reference_time));
    ASSERT_EQ(response.posts_size(), static_cast<int>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      const pb::RankedPost& got = response.posts(static_cast<int>(i));
      EXPECT_EQ(got.post_id(), expected[i].post);
      EXPECT_FLOAT_EQ(got.score(), expected[i].fused);
      EXPECT_FLOAT_EQ(got.click(), expected[i].scores[ranking::kClickTask]);
      EXPECT_FLOAT_EQ(got.interaction(), expected[i].scores[ranking::kInteractionTask]);
      EXPECT_FLOAT_EQ(got.dwell_seconds(), expected[i].scores[ranking::kDwellTask]);
      EXPECT_FLOAT_EQ(got.negative(), expected[i].scores[ranking::kNegativeTask]);
      EXPECT_FLOAT_EQ(got.profile_visit(), expected[i].scores[ranking::kProfileVisitTask]);
      EXPECT_FLOAT_EQ(got.completion(), expected[i].scores[ranking::kCompletionTask]);
    }
    EXPECT_EQ(response.version(), "v1");
  }
}

// RECALL_SOURCE_CONSISTENT: refused while the live version has no towers;
// once a version with them is published, RecallPosts answers exactly what
// the library's Recaller answers with the user tower's query.
TEST_F(ServiceTest, ConsistentRecallIsServedAndAnswersLikeTheLibrary) {
  auto recall_posts = [&](ExternalId user, pb::RecallSource source, pb::RecallResponse* response) {
    pb::RecallPostsRequest r;
    r.set_user_id(user);
    r.set_k(10);
    r.set_exclude_seen(true);
    r.set_source(source);
    return stub_->RecallPosts(Context().get(), r, response);
  };
  const ExternalId first = built_->g.accounts.ToExternal(0);
  pb::RecallResponse ignored;
  EXPECT_EQ(recall_posts(first, pb::RECALL_SOURCE_CONSISTENT, &ignored).error_code(), grpc::StatusCode::UNIMPLEMENTED);

  // v2: v1 plus the towers and their index.
  const ranking::FeatureSource features(built_->g, built_->table, built_->ranker->feature_config(),
                                        built_->ranker->centroids());
  ranking::ConsistentRecallConfig config;
  config.accounts = 100;
  config.epochs = 2;
  const auto towers = ranking::ConsistentRecall::Train(built_->g, built_->table, *built_->ranker, features,
                                                       static_cast<uint32_t>(built_->g.reference_time + 1), {}, config);
  const auto rows = towers.PostVectors(built_->g, built_->table, built_->ranker->feature_config().post_rule);
  recall::RecallIndexes indexes = recall::BuildRecallIndexes(built_->g, built_->table, {.kind = recall::IndexKind::kExact});
  indexes.consistent_posts = recall::VectorIndex::Build(
      rows.ids, rows.vectors, {.kind = recall::IndexKind::kExact, .metric = recall::Metric::kInnerProduct});
  const std::string artifacts = *root_ + "/artifacts";
  version::WriteVersion(artifacts, "v2", built_->g, built_->table, indexes, R"({"version": "v2"})",
                        built_->ranker.get());
  towers.Save(version::PathIn(version::VersionDir(artifacts, "v2"), version::kConsistentRecallFile));
  version::PublishVersion(artifacts, "v2");
  pb::ModelInfoResponse info;
  for (int i = 0; i < 200 && info.version() != "v2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(stub_->ModelInfo(Context().get(), pb::ModelInfoRequest(), &info).ok());
  }
  ASSERT_EQ(info.version(), "v2");

  const recall::Recaller recaller(built_->g, built_->table, indexes);
  size_t answered = 0;
  for (VertexId u = 0; u < built_->g.num_accounts(); u += 53) {
    const ExternalId id = built_->g.accounts.ToExternal(u);
    size_t row = built_->table.rows();
    for (size_t r = 0; r < built_->table.rows(); ++r)
      if (built_->table.kinds[r] == embed::TokenKind::kAccount && built_->table.ids[r] == id) row = r;
    pb::RecallResponse response;
    const grpc::Status status = recall_posts(id, pb::RECALL_SOURCE_CONSISTENT, &response);
    if (row == built_->table.rows()) {  // no vector: NOT_FOUND, as the embedding source
      EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
      continue;
    }
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::vector<float> query = towers.UserVector(built_->table.input.Row(row));
    const auto expected = recaller.Recall(recall::RecallKind::kConsistentPosts, id, 10, true, query);
    ASSERT_EQ(response.ids_size(), static_cast<int>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(response.ids(static_cast<int>(i)), expected[i].id);
      EXPECT_FLOAT_EQ(response.scores(static_cast<int>(i)), expected[i].score);
    }
    EXPECT_EQ(response.version(), "v2");
    ++answered;
  }
  EXPECT_GT(answered, 5u);
  // Authors have no consistent source.
  pb::RecallAuthorsRequest authors;
  authors.set_user_id(first);
  authors.set_k(10);
  authors.set_source(pb::RECALL_SOURCE_CONSISTENT);
  EXPECT_EQ(stub_->RecallAuthors(Context().get(), authors, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace gr::service

namespace gr::service {
namespace {

// The Python client of examples/, generated from the .proto alone, gets the
// same answer as the C++ stub. Skipped where python3-grpcio is absent.
TEST_F(ServiceTest, PythonClientFromTheProtoCallsSimilarAccounts) {
  if (std::system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0 ||
      std::system("command -v grpc_python_plugin >/dev/null") != 0)
    GTEST_SKIP() << "python3-grpcio or grpc_python_plugin not installed";
  const ExternalId id = built_->g.accounts.ToExternal(2);
  const std::string command = StrCat("/usr/bin/python3 ", GR_SOURCE_DIR, "/examples/python_client.py --address 127.0.0.1:",
                                     server_->port(), " ", id, " 5 2>&1");
  std::FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ASSERT_EQ(pclose(pipe), 0) << output;
  pb::SimilarAccountsRequest r;
  r.set_account_id(id);
  r.set_k(5);
  pb::RecallResponse expected;
  ASSERT_TRUE(stub_->SimilarAccounts(Context().get(), r, &expected).ok());
  for (const uint64_t neighbour : expected.ids())
    EXPECT_NE(output.find("\n" + std::to_string(neighbour) + " "), std::string::npos) << output;
}

}  // namespace
}  // namespace gr::service
