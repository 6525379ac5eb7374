// The service tests' fixture: the real server on a free loopback port over
// artifacts built from a small generated world (one version, v1, with a
// ranker), and a stub on a real channel.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/matrix.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "proto/graphrec.grpc.pb.h"
#include "ranking/ranker.h"
#include "service/server.h"
#include "synth/world.h"
#include "version/version_store.h"

namespace gr::service {

namespace pb = ::graphrec::v1;

struct Built {
  graph::SocialGraph g;
  embed::EmbeddingTable table;
  recall::RecallIndexes indexes;
  std::unique_ptr<ranking::Ranker> ranker;  // only when asked for
};

// A small world, embedded with `seed` (different seeds = different versions),
// with a ranker trained on its impressions if `with_ranker`.
inline Built Build(const std::string& world_dir, uint64_t seed, bool with_ranker = false) {
  Built b;
  b.g = graph::Ingest({.follows = world_dir + "/follows.tsv", .interactions = world_dir + "/interactions.tsv",
                       .posts = world_dir + "/posts.tsv"},
                      {});
  walk::WalkConfig walks;
  walks.walks_per_vertex = 3;
  walks.walk_length = 20;
  walks.seed = seed;
  embed::SkipGramConfig train;
  train.dim = 16;
  b.table = embed::EmbedWalks(b.g, walks, train);
  b.indexes = recall::BuildRecallIndexes(b.g, b.table, {.kind = recall::IndexKind::kExact});
  if (with_ranker) {
    ranking::RankerConfig config;
    config.features.clusters = 8;
    config.model.epochs = 1;
    const ranking::FeatureSource features(b.g, b.table, config.features);
    const auto impressions = graph::ReadImpressions(world_dir + "/impressions.tsv", {});
    b.ranker = std::make_unique<ranking::Ranker>(ranking::Ranker::Train(features, impressions, {}, config));
  }
  return b;
}

// The cosine of two vectors (the similar-accounts score).
inline double CosineOf(const std::vector<float>& a, const std::vector<float>& b) { return Cosine(a, b); }

class ServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: ctest runs each test in its own process, two at a time.
    root_ = new std::string(
        (std::filesystem::path(::testing::TempDir()) / ("service_test_" + std::to_string(getpid()))).string());
    std::filesystem::remove_all(*root_);
    synth::WorldConfig config;
    config.accounts = 600;
    config.days = 2;
    synth::GenerateWorld(config, *root_ + "/world");
    built_ = new Built(Build(*root_ + "/world", 1, /*with_ranker=*/true));
    version::WriteVersion(*root_ + "/artifacts", "v1", built_->g, built_->table, built_->indexes,
                                R"({"version": "v1"})", built_->ranker.get());
    version::PublishVersion(*root_ + "/artifacts", "v1");
  }
  static void TearDownTestSuite() {
    delete built_;
    delete root_;
  }

  void SetUp() override {
    ServerOptions options = BaseOptions();
    options.max_k = 50;
    options.max_ids = 20;
    options.poll_ms = 50;
    options.max_message_bytes = 8192;  // small, so the limit can be tested
    Start(options);
  }

  // What every test server starts from: a free loopback port, the
  // fixture's artifacts, no periodic stats line.
  static ServerOptions BaseOptions() {
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.artifacts = *root_ + "/artifacts";
    options.stats_log_seconds = 0;
    options.refresh_seconds = 0;  // passes only when a test asks (RefreshNow)
    return options;
  }
  // (Re)starts server_ with `options` and connects channel_ and stub_ to it.
  void Start(const ServerOptions& options) {
    server_.reset();
    server_ = std::make_unique<Server>(options);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    stub_ = pb::Graphrec::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  static inline std::string* root_ = nullptr;
  static inline Built* built_ = nullptr;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Graphrec::Stub> stub_;
};

}  // namespace gr::service
