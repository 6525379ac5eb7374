#include "synth/world.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/error.h"
#include "graph/ingest.h"
#include "graph/stats.h"
#include "tests/test_util.h"

namespace gr::synth {
namespace {

using ::gr::testing::ReadBytes;
using ::gr::testing::TempPath;

std::string Generate(const std::string& name, WorldConfig config) {
  const std::string dir = TempPath(name);
  std::filesystem::remove_all(dir);
  GenerateWorld(config, dir);
  return dir;
}

std::string FileIn(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

TEST(WorldTest, SameSeedSameBytesWhateverTheThreads) {
  WorldConfig one;
  one.accounts = 1500;
  one.threads = 1;
  WorldConfig two = one;
  two.threads = 2;
  const std::string a = Generate("a", one), b = Generate("b", two);
  for (const char* file : {kFollowsFile, kPostsFile, kInteractionsFile, kImpressionsFile,
                           kAccountTopicsFile, kPostTopicsFile}) {
    const std::string bytes = ReadBytes(FileIn(a, file));
    EXPECT_GT(bytes.size(), 20u) << file;
    EXPECT_EQ(bytes, ReadBytes(FileIn(b, file))) << file << " differs between 1 and 2 threads";
  }
  WorldConfig other = one;
  other.seed = 2;
  EXPECT_NE(ReadBytes(FileIn(a, kFollowsFile)), ReadBytes(FileIn(Generate("c", other), kFollowsFile)));
}

TEST(WorldTest, IngestsCleanlyWithExpectedShape) {
  WorldConfig config;
  config.accounts = 3000;
  const std::string dir = Generate("w", config);
  graph::IngestReport report;
  const graph::SocialGraph g = graph::Ingest({.follows = FileIn(dir, kFollowsFile),
                                              .interactions = FileIn(dir, kInteractionsFile),
                                              .posts = FileIn(dir, kPostsFile)},
                                             {}, &report);
  for (const auto& f : report.files) EXPECT_EQ(f.bad_lines, 0u) << f.path;
  EXPECT_EQ(report.posts_without_author, 0u);
  const graph::GraphStats s = graph::ComputeStats(g);
  // Mean follows ~30 plus follow-backs; heavy tails on both sides.
  const double mean_out = static_cast<double>(s.follow_edges) / static_cast<double>(s.accounts);
  EXPECT_GT(mean_out, 25.0);
  EXPECT_LT(mean_out, 45.0);
  const graph::DegreeSummary& out = s.degrees[0];
  const graph::DegreeSummary& in = s.degrees[1];
  EXPECT_GT(out.p99, 3 * out.p50) << "out-degree tail too light";
  EXPECT_GT(in.max, 20 * std::max<uint64_t>(in.p50, 1)) << "in-degree not heavy-tailed";
  EXPECT_GT(s.largest_component, s.accounts * 9 / 10);
  // Clicks far more than likes, likes more than comments and reposts.
  const auto& by_type = s.interactions_by_type;
  EXPECT_GT(by_type[0], 2 * by_type[1]);
  EXPECT_GT(by_type[1], 3 * by_type[2]);
  EXPECT_GT(by_type[1], 3 * by_type[3]);
  EXPECT_GT(by_type[2], 0u);
}

// The hidden topics must be recoverable from the follow graph: a majority
// vote over each account's followees' topics beats chance by far.
TEST(WorldTest, TopicsAreRecoverableFromFollows) {
  WorldConfig config;
  config.accounts = 2000;
  const std::string dir = Generate("t", config);
  const graph::SocialGraph g = graph::Ingest({.follows = FileIn(dir, kFollowsFile)}, {});
  std::map<uint64_t, int> topic;
  {
    std::ifstream in(FileIn(dir, kAccountTopicsFile));
    std::string header;
    std::getline(in, header);
    uint64_t id;
    int t;
    while (in >> id >> t) topic[id] = t;
  }
  ASSERT_EQ(topic.size(), config.accounts);
  int correct = 0, voted = 0;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    std::map<int, int> votes;
    for (VertexId u : g.following.Neighbors(v)) ++votes[topic[g.accounts.ToExternal(u)]];
    if (votes.empty()) continue;
    const auto best = std::max_element(votes.begin(), votes.end(),
                                       [](auto& a, auto& b) { return a.second < b.second; });
    ++voted;
    correct += best->first == topic[g.accounts.ToExternal(v)];
  }
  const double accuracy = static_cast<double>(correct) / voted;
  EXPECT_GT(voted, 1500);
  EXPECT_GT(accuracy, 0.5) << "chance is about 1/" << config.topics;
}

TEST(WorldTest, ImpressionLabelsAreSparseAndSignalBearing) {
  WorldConfig config;
  config.accounts = 2000;
  const std::string dir = Generate("i", config);
  std::ifstream in(FileIn(dir, kImpressionsFile));
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header,
            "account_id\tpost_id\ttimestamp\tclicked\tinteracted\tdwell_ms\tnegative\tprofile_visit\tvideo_ms\tcompleted");
  uint64_t account, post, time, dwell, video_ms;
  int clicked, interacted, negative, visited, completed;
  uint64_t rows = 0, clicks = 0, interactions = 0, bad_dwell = 0, negatives = 0, visits = 0, videos_clicked = 0,
           completions = 0, negatives_clicked = 0;
  while (in >> account >> post >> time >> clicked >> interacted >> dwell >> negative >> visited >> video_ms >> completed) {
    ++rows;
    clicks += clicked;
    interactions += interacted;
    bad_dwell += (clicked == 0) != (dwell == 0);
    EXPECT_TRUE(!interacted || clicked);
    EXPECT_TRUE(!completed || (clicked && video_ms > 0)) << "only clicked videos complete";
    negatives += negative;
    negatives_clicked += negative && clicked;
    visits += visited;
    videos_clicked += clicked && video_ms > 0;
    completions += completed;
  }
  EXPECT_EQ(rows, config.accounts * config.impressions_per_account);
  EXPECT_EQ(bad_dwell, 0u);
  const double ctr = static_cast<double>(clicks) / static_cast<double>(rows);
  EXPECT_GT(ctr, 0.1);
  EXPECT_LT(ctr, 0.6);
  EXPECT_LT(interactions, clicks / 2) << "interaction labels should be sparse";
  // The sparse tasks: a few percent of impressions, negative feedback mostly on unclicked posts.
  EXPECT_GT(negatives, rows / 200);
  EXPECT_LT(negatives, rows / 10);
  EXPECT_LT(negatives_clicked * 10, negatives);
  EXPECT_GT(visits, rows / 500);
  EXPECT_LT(visits, rows / 10);
  EXPECT_GT(videos_clicked, clicks / 10) << "about 30 % of posts are videos";
  EXPECT_GT(completions, videos_clicked / 5);
  EXPECT_LT(completions, videos_clicked);
  EXPECT_GT(interactions, 0u);
}

TEST(WorldTest, InvalidConfigNamesField) {
  WorldConfig config;
  config.author_share = 0;
  try {
    config.Validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("author_share"), std::string::npos);
  }
}

}  // namespace
}  // namespace gr::synth
