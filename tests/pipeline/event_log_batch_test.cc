// The batch folds the server's event log since the live version into its
// graph and records where it stopped (the watermark a server replays from).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "graph/snapshot.h"
#include "pipeline/batch.h"
#include "stream/event_log.h"
#include "synth/world.h"
#include "tests/test_util.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::pipeline {
namespace {

namespace fs = std::filesystem;

BatchConfig TinyConfig(const std::string& artifacts, const std::string& world) {
  BatchConfig c;
  c.input_dir = world;
  c.artifacts_dir = artifacts;
  c.walk.walks_per_vertex = 1;
  c.walk.walk_length = 10;
  c.run.threads = 1;
  c.train.dim = 8;
  c.train_ranker = false;
  c.min_link_auc = 0;
  c.min_hnsw_recall = 0;
  return c;
}

nlohmann::json Manifest(const std::string& artifacts, const std::string& version) {
  std::ifstream in(version::PathIn(version::VersionDir(artifacts, version), version::kManifestFile));
  return nlohmann::json::parse(in);
}

TEST(EventLogBatchTest, EventsSinceTheLiveVersionAreFoldedInAndTheWatermarkRecorded) {
  const std::string world = ::gr::testing::TempPath("elb_world_" + std::to_string(getpid()));
  fs::remove_all(world);
  synth::WorldConfig wc;
  wc.accounts = 300;
  wc.days = 2;
  synth::GenerateWorld(wc, world);
  const std::string artifacts = ::gr::testing::TempPath("elb_artifacts");
  fs::remove_all(artifacts);
  BatchConfig c = TinyConfig(artifacts, world);

  // Before any version: events already logged go into the first one.
  const std::string log_dir = version::PathIn(artifacts, version::kEventLogDir);
  const graph::SocialGraph files_only = graph::Ingest(
      {.follows = world + "/follows.tsv", .interactions = world + "/interactions.tsv", .posts = world + "/posts.tsv"}, {});
  const ExternalId a = files_only.accounts.ToExternal(0), b = files_only.accounts.ToExternal(1);
  {
    stream::EventLog log(log_dir);
    log.Append(std::vector<stream::Event>{{.kind = stream::EventKind::kAccount, .actor = 990001},
                                          {.kind = stream::EventKind::kFollow, .time = 5, .actor = 990002, .object = a}});
  }
  // Runs the batch as `name`; checks the log range it folded in; its graph.
  auto run = [&](const std::string& name, uint64_t from, uint64_t watermark, uint64_t events) {
    c.version = name;
    const BatchReport report = RunBatch(c);
    EXPECT_TRUE(report.published) << name;
    EXPECT_EQ(report.event_log_from, from) << name;
    EXPECT_EQ(report.event_log_watermark, watermark) << name;
    EXPECT_EQ(report.event_log_events, events) << name;
    EXPECT_EQ(Manifest(artifacts, name)[version::kEventLogWatermarkKey], watermark) << name;
    return graph::LoadSnapshot(version::PathIn(version::VersionDir(artifacts, name), version::kGraphFile));
  };
  const graph::SocialGraph g1 = run("v1", 0, 2, 2);
  EXPECT_NE(g1.accounts.Find(990001), kNoVertex);
  EXPECT_TRUE(g1.following.HasEdge(g1.accounts.At(990002), g1.accounts.At(a)));

  // The next batch reads only what came after: an unfollow of a file edge.
  ASSERT_TRUE(files_only.following.Degree(0) > 0);
  const ExternalId followed = files_only.accounts.ToExternal(files_only.following.Neighbors(0)[0]);
  {
    stream::EventLog log(log_dir);
    log.Append(std::vector<stream::Event>{{.kind = stream::EventKind::kUnfollow, .actor = a, .object = followed},
                                          {.kind = stream::EventKind::kFollow, .time = 6, .actor = b, .object = 990001}});
  }
  const graph::SocialGraph g2 = run("v2", 2, 4, 2);
  EXPECT_FALSE(g2.following.HasEdge(g2.accounts.At(a), g2.accounts.At(followed)));
  EXPECT_TRUE(g2.following.HasEdge(g2.accounts.At(b), g2.accounts.At(990001)));
  // Events before v1's watermark are not read again: by the next day's run
  // the platform's input files are expected to hold them (here they do not).
  EXPECT_EQ(g2.accounts.Find(990002), kNoVertex);

  // A damaged log is reported, not fatal.
  std::ofstream(version::PathIn(log_dir, "00000000000000000000.events"), std::ios::binary | std::ios::trunc) << "junk";
  c.version = "v3";
  const BatchReport third = RunBatch(c);
  EXPECT_TRUE(third.published);
  EXPECT_FALSE(third.event_log_error.empty());
  EXPECT_EQ(third.event_log_watermark, 4u);  // unchanged: nothing was folded in
}

}  // namespace
}  // namespace gr::pipeline
