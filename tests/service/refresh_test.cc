// The refresher's direction through the real server (issue 19's must-show),
// on a generated world trained well enough for its hidden topics to show in
// the vectors: a new follow moves the follower toward the new author, a new
// account with three follows in one topic finds accounts of that topic, a
// new post is recalled by embedding. The refresh thread runs every second;
// the tests wait for at most a few passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "tests/service/service_fixture.h"

namespace gr::service {
namespace {

class RefreshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(
        (std::filesystem::path(::testing::TempDir()) / ("refresh_test_" + std::to_string(getpid()))).string());
    std::filesystem::remove_all(*root_);
    synth::WorldConfig config;
    config.accounts = 3000;
    config.days = 2;
    config.topics = 10;
    const std::string world = *root_ + "/world";
    synth::GenerateWorld(config, world);
    graph_ = new graph::SocialGraph(graph::Ingest(
        {.follows = world + "/follows.tsv", .interactions = world + "/interactions.tsv", .posts = world + "/posts.tsv"},
        {}));
    walk::WalkConfig walks;
    walks.walks_per_vertex = 10;
    walks.walk_length = 40;
    walks.threads = 1;
    embed::SkipGramConfig train;
    train.dim = 32;
    train.threads = 1;
    const embed::EmbeddingTable table = embed::EmbedWalks(*graph_, walks, train);
    const recall::RecallIndexes indexes =
        recall::BuildRecallIndexes(*graph_, table, {.kind = recall::IndexKind::kExact});
    version::WriteVersion(*root_ + "/artifacts", "v1", *graph_, table, indexes, R"({"version": "v1"})", nullptr);
    version::PublishVersion(*root_ + "/artifacts", "v1");
    topic_ = new std::unordered_map<ExternalId, uint32_t>;
    std::ifstream in(world + "/" + synth::kAccountTopicsFile);
    std::string header;
    std::getline(in, header);
    ExternalId id;
    uint32_t topic;
    while (in >> id >> topic) (*topic_)[id] = topic;
    ASSERT_EQ(topic_->size(), config.accounts);
  }
  static void TearDownTestSuite() {
    delete graph_;
    delete topic_;
    delete root_;
  }

  void SetUp() override {
    std::filesystem::remove_all(*root_ + "/artifacts/events");  // each test's events alone
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.artifacts = *root_ + "/artifacts";
    options.stats_log_seconds = 0;
    options.refresh_seconds = 1;
    server_ = std::make_unique<Server>(options);
    stub_ = pb::Graphrec::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }
  std::vector<float> Vector(ExternalId account, pb::EmbeddingKind kind = pb::ACCOUNT_INPUT) {
    pb::GetEmbeddingsRequest request;
    request.add_ids(account);
    request.set_kind(kind);
    pb::GetEmbeddingsResponse response;
    if (!stub_->GetEmbeddings(Context().get(), request, &response).ok()) return {};
    return {response.embeddings(0).values().begin(), response.embeddings(0).values().end()};
  }
  std::vector<ExternalId> Similar(ExternalId account, uint32_t k) {
    pb::SimilarAccountsRequest request;
    request.set_account_id(account);
    request.set_k(k);
    pb::RecallResponse response;
    EXPECT_TRUE(stub_->SimilarAccounts(Context().get(), request, &response).ok());
    return {response.ids().begin(), response.ids().end()};
  }
  std::vector<ExternalId> Authors(ExternalId account, uint32_t k) {
    pb::RecallAuthorsRequest request;
    request.set_user_id(account);
    request.set_k(k);
    pb::RecallResponse response;
    EXPECT_TRUE(stub_->RecallAuthors(Context().get(), request, &response).ok());
    return {response.ids().begin(), response.ids().end()};
  }
  void Push(const std::vector<pb::Event>& events) {
    pb::PushEventsRequest request;
    for (const pb::Event& e : events) *request.add_events() = e;
    pb::PushEventsResponse response;
    const grpc::Status status = stub_->PushEvents(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  static pb::Event Event(pb::EventKind kind, ExternalId actor, ExternalId object) {
    pb::Event e;
    e.set_kind(kind);
    e.set_actor(actor);
    e.set_object(object);
    e.set_time_unix_s(static_cast<uint32_t>(graph_->reference_time) + 60);
    return e;
  }
  // Waits until `ready` holds, at most ~5 refresh passes.
  template <typename Ready>
  static bool WaitFor(Ready ready) {
    for (int i = 0; i < 100; ++i) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ready();
  }

  static inline std::string* root_ = nullptr;
  static inline graph::SocialGraph* graph_ = nullptr;
  static inline std::unordered_map<ExternalId, uint32_t>* topic_ = nullptr;  // each account's first topic
  std::unique_ptr<Server> server_;
  std::unique_ptr<pb::Graphrec::Stub> stub_;
};

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += static_cast<double>(a[i]) * b[i];
  return ab;
}

TEST_F(RefreshTest, ANewFollowMovesTheFollowerTowardTheNewAuthorAndChangesItsAnswers) {
  // 30 accounts each follow the most followed account of another topic.
  const graph::SocialGraph& g = *graph_;
  std::map<uint32_t, ExternalId> most_followed;  // per topic
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    const ExternalId id = g.accounts.ToExternal(v);
    auto [it, added] = most_followed.emplace(topic_->at(id), id);
    if (!added && g.followers.Degree(v) > g.followers.Degree(g.accounts.Find(it->second))) it->second = id;
  }
  struct Pair {
    ExternalId follower, author;
    std::vector<float> before, author_input, author_output;
    std::vector<ExternalId> similar_before, authors_before;
    std::vector<float> after;
  };
  std::vector<Pair> pairs;
  for (VertexId v = 0; pairs.size() < 30; v += 37) {
    const ExternalId follower = g.accounts.ToExternal(v);
    const ExternalId author = most_followed.at(static_cast<uint32_t>((topic_->at(follower) + 1) % most_followed.size()));
    const auto followees = g.following.Neighbors(v);
    if (std::find(followees.begin(), followees.end(), g.accounts.Find(author)) != followees.end()) continue;
    pairs.push_back({follower, author, Vector(follower), Vector(author), Vector(author, pb::ACCOUNT_OUTPUT),
                     Similar(follower, 20), Authors(follower, 20), {}});
  }
  std::vector<pb::Event> events;
  for (const Pair& p : pairs) events.push_back(Event(pb::EVENT_FOLLOW, p.follower, p.author));
  Push(events);
  ASSERT_TRUE(WaitFor([&] { return Vector(pairs.back().follower) != pairs.back().before; }));
  size_t closer = 0, score_up = 0, similar_changed = 0, authors_changed = 0;
  double gain = 0;
  for (Pair& p : pairs) {
    p.after = Vector(p.follower);
    ASSERT_NE(p.after, p.before) << p.follower;
    const double change = CosineOf(p.after, p.author_input) - CosineOf(p.before, p.author_input);
    gain += change / static_cast<double>(pairs.size());
    closer += change > 0;
    // The author's RecallAuthors score for the follower: input . output.
    score_up += Dot(p.after, p.author_output) > Dot(p.before, p.author_output);
    similar_changed += Similar(p.follower, 20) != p.similar_before;
    authors_changed += Authors(p.follower, 20) != p.authors_before;
  }
  // The control: a fresh server, each of the same accounts following an
  // account of its own topic instead. The refresh re-trains a row on its
  // whole neighbourhood, which alone moves it away from other topics; the
  // difference between the two is the new follow's own effect.
  server_.reset();
  SetUp();
  events.clear();
  const auto n = static_cast<VertexId>(g.num_accounts());
  for (const Pair& p : pairs) {
    const VertexId v = g.accounts.Find(p.follower);
    const auto followees = g.following.Neighbors(v);
    for (VertexId c = (v + 1) % n;; c = (c + 1) % n)
      if (topic_->at(g.accounts.ToExternal(c)) == topic_->at(p.follower) &&
          std::find(followees.begin(), followees.end(), c) == followees.end()) {
        events.push_back(Event(pb::EVENT_FOLLOW, p.follower, g.accounts.ToExternal(c)));
        break;
      }
  }
  Push(events);
  ASSERT_TRUE(WaitFor([&] { return Vector(pairs.back().follower) != pairs.back().before; }));
  size_t closer_than_control = 0;
  double gain_over_control = 0;
  for (const Pair& p : pairs) {
    const double d = CosineOf(p.after, p.author_input) - CosineOf(Vector(p.follower), p.author_input);
    closer_than_control += d > 0;
    gain_over_control += d / static_cast<double>(pairs.size());
  }
  std::printf("new follows: %zu of %zu followers closer to the new author (mean cosine gain %.4f), %zu closer than "
              "the control (mean %.4f); the author's score for them up for %zu; answers changed: similar %zu, "
              "authors %zu\n",
              closer, pairs.size(), gain, closer_than_control, gain_over_control, score_up, similar_changed,
              authors_changed);
  EXPECT_GE(closer_than_control, pairs.size() * 9 / 10);
  EXPECT_GT(gain_over_control, 0.02);
  EXPECT_GT(gain, 0.0);
  EXPECT_GE(score_up, pairs.size() * 9 / 10);
  EXPECT_GE(similar_changed, pairs.size() * 9 / 10);
  EXPECT_GE(authors_changed, pairs.size() * 9 / 10);
}

TEST_F(RefreshTest, ANewAccountWithThreeFollowsFindsAccountsOfTheirTopic) {
  const graph::SocialGraph& g = *graph_;
  // Per topic, its three most followed accounts.
  std::map<uint32_t, std::vector<std::pair<uint64_t, ExternalId>>> by_topic;
  for (VertexId v = 0; v < g.num_accounts(); ++v)
    by_topic[topic_->at(g.accounts.ToExternal(v))].emplace_back(g.followers.Degree(v), g.accounts.ToExternal(v));
  constexpr ExternalId kFirstNew = 800000000000ULL;
  std::vector<pb::Event> events;
  std::map<ExternalId, uint32_t> new_accounts;  // id -> the topic it follows
  for (auto& [topic, accounts] : by_topic) {
    std::partial_sort(accounts.begin(), accounts.begin() + 3, accounts.end(), std::greater<>());
    const ExternalId account = kFirstNew + topic;
    new_accounts[account] = topic;
    events.push_back(Event(pb::EVENT_ACCOUNT, account, 0));
    for (size_t i = 0; i < 3; ++i) events.push_back(Event(pb::EVENT_FOLLOW, account, accounts[i].second));
  }
  Push(events);
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& [account, topic] : new_accounts)
      if (Vector(account).empty()) return false;
    return true;
  }));
  double share = 0;
  for (const auto& [account, topic] : new_accounts) {
    size_t same = 0;
    const std::vector<ExternalId> similar = Similar(account, 20);
    ASSERT_EQ(similar.size(), 20u);
    for (const ExternalId id : similar) same += topic_->contains(id) && topic_->at(id) == topic;
    share += static_cast<double>(same) / 20.0 / static_cast<double>(new_accounts.size());
  }
  std::printf("new accounts: %.3f of their 20 similar accounts share the topic they follow (chance %.3f)\n", share,
              1.0 / static_cast<double>(by_topic.size()));
  EXPECT_GT(share, 0.5);
}

TEST_F(RefreshTest, ANewPostIsRecalledByEmbeddingAfterAPass) {
  const ExternalId author = graph_->accounts.ToExternal(5);
  constexpr ExternalId kNewPost = 810000000000ULL;
  Push({Event(pb::EVENT_POST, author, kNewPost)});
  pb::RecallPostsRequest request;
  request.set_user_id(author);
  request.set_k(10);
  request.set_source(pb::RECALL_SOURCE_EMBEDDING);
  pb::RecallResponse response;
  ASSERT_TRUE(WaitFor([&] {
    EXPECT_TRUE(stub_->RecallPosts(Context().get(), request, &response).ok());
    return std::find(response.ids().begin(), response.ids().end(), kNewPost) != response.ids().end();
  }));
}

}  // namespace
}  // namespace gr::service
