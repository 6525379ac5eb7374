#include "pipeline/batch.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/shard.h"
#include "embed/embedding_io.h"
#include "graph/snapshot.h"
#include "version/version_store.h"
#include "ranking/ranker.h"
#include "synth/world.h"
#include "tests/test_util.h"

extern char** environ;

namespace gr::pipeline {
namespace {

namespace fs = std::filesystem;

// A small generated world shared by the tests of this process.
const std::string& World() {
  static const std::string* dir = [] {
    // Per process: ctest runs each test in its own process, two at a time.
    auto* d = new std::string((fs::path(::testing::TempDir()) / ("batch_world_" + std::to_string(getpid()))).string());
    fs::remove_all(*d);
    synth::WorldConfig config;
    config.accounts = 800;
    config.days = 3;
    synth::GenerateWorld(config, *d);
    return d;
  }();
  return *dir;
}

BatchConfig SmallConfig(const std::string& artifacts) {
  BatchConfig c;
  c.input_dir = World();
  c.artifacts_dir = artifacts;
  c.walk.walks_per_vertex = 6;
  c.walk.walk_length = 40;
  c.run.threads = 1;  // deterministic vectors, so the AUC thresholds below never flake
  c.train.dim = 32;
  c.recall_sample = 200;
  c.drift_sample = 200;
  c.min_link_auc = 0.5;
  // Three days of impressions: train on two, test on the last; the sample is
  // small (a few thousand rows), so more passes.
  c.ranker_validation_days = 0;
  c.ranker.model.epochs = 20;
  return c;
}

// The live version must load completely.
void ExpectLiveVersionLoads(const std::string& artifacts, const std::string& expected) {
  const std::string live = version::ReadCurrentVersion(artifacts);
  ASSERT_EQ(live, expected);
  const std::string dir = version::VersionDir(artifacts, live);
  EXPECT_NO_THROW(graph::LoadSnapshot(dir + "/" + version::kGraphFile));
  const auto table = embed::LoadEmbeddings(dir + "/" + version::kAccountsEmbeddingFile);
  EXPECT_NO_THROW(version::LoadIndexes(dir, table.dim()));
  EXPECT_TRUE(fs::exists(dir + "/" + version::kManifestFile));
  EXPECT_NO_THROW(ranking::Ranker::Load(dir + "/" + version::kRankerFile));  // the world has impressions
  EXPECT_NE(version::LoadVersion(artifacts, live).consistent_recall, nullptr);
}

// The recall-ranker consistency was measured for every built-in source and
// K: each source's recalled lists nest, so overlap never falls as K grows,
// and K beyond the catalogue recalls all of it (overlap 1).
void ExpectConsistencyMeasured(const BatchReport& report, const std::vector<uint32_t>& ks) {
  ASSERT_FALSE(report.consistency_json.empty()) << report.ToText();
  const nlohmann::json c = nlohmann::json::parse(report.consistency_json);
  const auto catalogue = c.at("catalogue").get<uint64_t>();
  ASSERT_GT(catalogue, 0u);
  ASSERT_EQ(c.at("rows").size(), 5 * ks.size());
  std::map<std::string, double> last;
  for (const auto& row : c.at("rows")) {
    const auto source = row.at("source").get<std::string>();
    const double overlap = row.at("overlap");
    EXPECT_GE(overlap, last[source]) << source;
    last[source] = overlap;
    if (row.at("k").get<uint64_t>() >= catalogue) {
      EXPECT_DOUBLE_EQ(overlap, 1.0) << source;
    }
  }
  EXPECT_EQ(last.size(), 5u);  // embedding, authors, consistent, popular, random
  EXPECT_NE(report.ToText().find("recall consistency"), std::string::npos);
  // The consistent towers were trained and order the ranker's pairs better
  // than their starting point (the mean of the two graph scores).
  ASSERT_FALSE(report.consistent_recall_json.empty()) << report.ToText();
  const nlohmann::json towers = nlohmann::json::parse(report.consistent_recall_json);
  EXPECT_GT(towers.at("pairs").get<uint64_t>(), 0u);
  EXPECT_GT(towers.at("pair_accuracy_after").get<double>(), towers.at("pair_accuracy_before").get<double>());
}

std::string Artifacts(const std::string& name) {
  const std::string dir = ::gr::testing::TempPath(name);
  fs::remove_all(dir);
  return dir;
}

TEST(BatchTest, PublishesThenWarmStartsAndReportsDrift) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.version = "day1";
  const BatchReport first = RunBatch(c);
  ASSERT_TRUE(first.published) << first.ToText();
  EXPECT_EQ(first.previous_version, "");
  EXPECT_GT(first.held_out_edges, 0u);
  EXPECT_GT(first.link_auc_hadamard, 0.6) << first.ToText();
  EXPECT_GE(first.hnsw_recall_at_10, 0.9);
  EXPECT_EQ(first.drift_mean_cosine, -2);
  EXPECT_TRUE(first.has_ranker);
  EXPECT_GT(first.ranker_test_impressions, 1000u);
  EXPECT_GT(first.ranker_auc_click, 0.6) << first.ToText();  // gate default 0.55
  EXPECT_NE(first.ToText().find("ranker (last day"), std::string::npos);
  ExpectLiveVersionLoads(artifacts, "day1");
  ExpectConsistencyMeasured(first, c.consistency.metric.ks);

  c.version = "day2";
  c.index_shards = 2;  // this version also holds its recall indices in two shards
  const BatchReport second = RunBatch(c);
  ASSERT_TRUE(second.published) << second.ToText();
  {
    const version::LoadedVersion whole = version::LoadVersion(artifacts, "day2");
    size_t sharded_accounts = 0, sharded_posts = 0;
    for (uint32_t k = 0; k < 2; ++k) {
      const version::LoadedVersion shard = version::LoadVersion(artifacts, "day2", {.index = k, .count = 2});
      for (const auto* index : {shard.indexes.accounts.get(), shard.indexes.authors.get(), shard.indexes.posts.get()}) {
        ASSERT_NE(index, nullptr);
        for (const ExternalId id : index->ids()) ASSERT_EQ(ShardOf(id, 2), k) << id;
      }
      EXPECT_NE(shard.indexes.consistent_posts, nullptr);  // not sharded: every shard has it whole
      sharded_accounts += shard.indexes.accounts->size();
      sharded_posts += shard.indexes.posts->size();
    }
    EXPECT_EQ(sharded_accounts, whole.indexes.accounts->size());
    EXPECT_EQ(sharded_posts, whole.indexes.posts->size());
    EXPECT_EQ(::gr::testing::CodeOf([&] { version::LoadVersion(artifacts, "day2", {.index = 0, .count = 3}); }),
              ErrorCode::kNotFound);
  }
  c.index_shards = 0;
  EXPECT_EQ(second.previous_version, "day1");
  EXPECT_EQ(second.warm_started_accounts, second.accounts);
  EXPECT_GT(second.drift_mean_cosine, 0.8);        // warm start keeps the vectors close
  EXPECT_GT(second.drift_neighbour_overlap, 0.3);  // and the neighbourhoods recognisable
  ExpectLiveVersionLoads(artifacts, "day2");
  EXPECT_NE(second.ToJson().find("\"drift_neighbour_overlap\""), std::string::npos);
  EXPECT_NE(second.ToText().find("drift vs day1"), std::string::npos);

  // Retention: with keep_versions 2 the oldest goes, the live one stays.
  // This run also stores its HNSW vectors at half precision: the recall
  // gate still passes and the live indices load as float16.
  c.version = "day3";
  c.keep_versions = 2;
  c.index.precision = recall::VectorPrecision::kFloat16;
  const BatchReport third = RunBatch(c);
  ASSERT_TRUE(third.published) << third.ToText();
  EXPECT_GE(third.hnsw_recall_at_10, 0.9);
  EXPECT_FALSE(fs::exists(artifacts + "/day1"));
  EXPECT_TRUE(fs::exists(artifacts + "/day2"));
  ExpectLiveVersionLoads(artifacts, "day3");
  const std::string day3 = version::VersionDir(artifacts, "day3");
  const auto indexes = version::LoadIndexes(day3, c.train.dim);
  for (const auto* index : {indexes.accounts.get(), indexes.authors.get(), indexes.posts.get()}) {
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->config().precision, recall::VectorPrecision::kFloat16);
  }
  EXPECT_NE(::gr::testing::ReadBytes(day3 + "/" + version::kManifestFile).find("\"precision\": \"float16\""), std::string::npos);
}

// Copies the world's follows, posts and interactions into `to` without the
// records stamped at or after `cut` (column `time_column` of each file):
// the world as it was the night before.
void CopyWorldBefore(const std::string& from, const std::string& to, int64_t cut) {
  fs::create_directories(to);
  for (const auto& [file, time_column] : {std::pair{synth::kFollowsFile, 2}, std::pair{synth::kPostsFile, 2},
                                          std::pair{synth::kInteractionsFile, 3}}) {
    std::ifstream in(from + "/" + file);
    std::ofstream out(to + "/" + file);
    std::string line;
    std::getline(in, line);
    out << line << "\n";  // header
    while (std::getline(in, line)) {
      size_t field = 0;
      for (int column = 0; column < time_column; ++column) field = line.find('\t', field) + 1;
      if (std::stoll(line.substr(field)) < cut) out << line << "\n";
    }
  }
}

// The nightly claim: after one new day, a run warm-started from yesterday's
// version reaches with one epoch the link-prediction AUC that a cold run
// needs three epochs for, and keeps neighbourhoods stable. The walk budget
// is the 1M benchmark's (2 walks of 40 per account per epoch), where a
// single cold epoch is far from converged.
TEST(BatchTest, NextDayWarmStartReachesColdAucInFewerEpochs) {
  const std::string today = ::gr::testing::TempPath("next_day_today");
  const std::string yesterday = ::gr::testing::TempPath("next_day_yesterday");
  fs::remove_all(today);
  fs::remove_all(yesterday);
  synth::WorldConfig world;
  world.accounts = 1500;
  world.days = 4;
  synth::GenerateWorld(world, today);
  CopyWorldBefore(today, yesterday, world.start_time + 3 * 86400);

  auto run = [&](const std::string& input, const std::string& artifacts, uint32_t epochs, const char* version) {
    BatchConfig c = SmallConfig(artifacts);
    c.input_dir = input;
    c.version = version;
    c.walk.walks_per_vertex = 2;
    c.walk.walk_length = 40;
    c.train.epochs = epochs;
    c.train_ranker = false;
    c.min_link_auc = 0;
    const BatchReport report = RunBatch(c);
    EXPECT_TRUE(report.published) << report.ToText();
    return report;
  };
  const std::string warm_artifacts = Artifacts("next_day_warm");
  run(yesterday, warm_artifacts, 3, "yesterday");
  const BatchReport warm = run(today, warm_artifacts, 1, "today-warm");
  const BatchReport cold1 = run(today, Artifacts("next_day_cold1"), 1, "today-cold1");
  const BatchReport cold3 = run(today, Artifacts("next_day_cold3"), 3, "today-cold3");
  EXPECT_EQ(warm.previous_version, "yesterday");
  EXPECT_GT(warm.warm_started_accounts, warm.accounts * 9 / 10);
  EXPECT_EQ(cold3.warm_started_accounts, 0u);
  EXPECT_GE(warm.link_auc_hadamard, cold3.link_auc_hadamard - 0.02)
      << "warm 1 epoch " << warm.link_auc_hadamard << ", cold 3 epochs " << cold3.link_auc_hadamard;
  EXPECT_GT(warm.link_auc_hadamard, cold1.link_auc_hadamard + 0.1)
      << "warm 1 epoch " << warm.link_auc_hadamard << ", cold 1 epoch " << cold1.link_auc_hadamard;
  EXPECT_GT(warm.drift_neighbour_overlap, 0.5);
  std::printf("next day, Hadamard AUC: warm 1 epoch %.4f, cold 1 epoch %.4f, cold 3 epochs %.4f; top-10 overlap %.3f\n",
              warm.link_auc_hadamard, cold1.link_auc_hadamard, cold3.link_auc_hadamard, warm.drift_neighbour_overlap);
}

// The gate's link AUC is measured on vectors that never saw the newest
// follows; with the fold-in the published vectors then take them in: the
// accounts at their ends are refreshed (here one with three new follows of
// another topic), the others keep the vectors they were trained to.
TEST(BatchTest, ThePublishedVectorsContainTheHeldOutFollows) {
  const std::string input = ::gr::testing::TempPath("fold_in_world");
  fs::remove_all(input);
  fs::copy(World(), input, fs::copy_options::recursive);
  std::map<ExternalId, int> topic;
  {
    std::ifstream topics(input + "/" + synth::kAccountTopicsFile);
    std::string header;
    std::getline(topics, header);
    ExternalId id;
    int t;
    while (topics >> id >> t) topic[id] = t;
  }
  const ExternalId a = topic.begin()->first;
  std::vector<ExternalId> others;
  for (const auto& [id, t] : topic)
    if (t != topic[a] && others.size() < 3) others.push_back(id);
  ASSERT_EQ(others.size(), 3u);
  {
    std::ofstream follows(input + "/" + synth::kFollowsFile, std::ios::app);
    for (size_t i = 0; i < others.size(); ++i) follows << a << "\t" << others[i] << "\t" << 2000000000 + i << "\n";
  }
  auto run = [&](bool fold_in, const char* name) {
    BatchConfig c = SmallConfig(Artifacts(name));
    c.input_dir = input;
    c.version = name;
    c.train_ranker = false;
    c.fold_in_held_out = fold_in;
    c.walk.walks_per_vertex = 20;  // trained well enough for the scores below to mean something
    const BatchReport report = RunBatch(c);
    EXPECT_TRUE(report.published) << report.ToText();
    return std::pair{report, embed::LoadEmbeddings(version::VersionDir(c.artifacts_dir, name) + "/" +
                                                   version::kAccountsEmbeddingFile)};
  };
  const auto [with, folded] = run(true, "fold-in");
  const auto [without, trained] = run(false, "no-fold-in");
  EXPECT_EQ(with.link_auc_hadamard, without.link_auc_hadamard);  // the gate saw the same vectors
  EXPECT_GT(with.fold_in_accounts, 3u);
  EXPECT_LT(with.fold_in_mean_cosine, 1.0);
  EXPECT_EQ(without.fold_in_accounts, 0u);
  // The account with the new follows was refreshed.
  size_t a_row = trained.rows();
  for (size_t r = 0; r < trained.rows(); ++r)
    if (trained.ids[r] == a) a_row = r;
  ASSERT_LT(a_row, trained.rows());
  EXPECT_FALSE(std::ranges::equal(trained.input.Row(a_row), folded.input.Row(a_row)));
  // Rows the fold-in did not touch are the trained rows, bit for bit.
  size_t unchanged = 0;
  for (size_t r = 0; r < trained.rows(); ++r) {
    const auto x = trained.input.Row(r), y = folded.input.Row(r);
    unchanged += std::equal(x.begin(), x.end(), y.begin());
  }
  EXPECT_EQ(unchanged, trained.rows() - with.fold_in_accounts);
  // The published vectors score the held-out follows they took in higher
  // than the gate's vectors, which had not seen them.
  EXPECT_GT(with.fold_in_link_auc_hadamard, with.link_auc_hadamard + 0.005)
      << with.fold_in_link_auc_hadamard << " vs " << with.link_auc_hadamard;
  EXPECT_TRUE(with.gate_failures.empty());
}

// A fold-in that damages the vectors it refreshes (here a learning rate of
// 1) is refused by the gate, whatever the gate's own link AUC said (its
// link AUC on the held-out follows rises: it memorised them).
TEST(BatchTest, AFoldInThatDamagesTheVectorsIsRefused) {
  const std::string artifacts = Artifacts("broken_fold_in");
  BatchConfig c = SmallConfig(artifacts);
  c.version = "good";
  c.train_ranker = false;
  ASSERT_TRUE(RunBatch(c).published);
  c.version = "broken";
  c.fold_in.learning_rate = 1.0f;
  c.fold_in.walks_per_row = 300;
  const BatchReport r = RunBatch(c);
  EXPECT_FALSE(r.published) << r.ToText();
  EXPECT_LT(r.fold_in_mean_cosine, c.min_fold_in_cosine);
  ASSERT_EQ(r.gate_failures.size(), 1u) << r.ToText();
  EXPECT_NE(r.gate_failures[0].find("the fold-in moved the rows"), std::string::npos);
  EXPECT_EQ(version::ReadCurrentVersion(artifacts), "good");
}

TEST(BatchTest, FailingGateLeavesThePreviousVersionLive) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.version = "good";
  ASSERT_TRUE(RunBatch(c).published);
  c.version = "bad";
  c.min_link_auc = 0.999;
  const BatchReport r = RunBatch(c);
  EXPECT_FALSE(r.published);
  ASSERT_EQ(r.gate_failures.size(), 1u);
  EXPECT_NE(r.gate_failures[0].find("link-prediction AUC"), std::string::npos);
  EXPECT_NE(r.ToText().find("NOT published"), std::string::npos);
  ExpectLiveVersionLoads(artifacts, "good");
  EXPECT_TRUE(fs::exists(artifacts + "/bad/" + version::kManifestFile));  // kept for inspection
  // The ranker's gate too.
  c.version = "bad-ranker";
  c.min_link_auc = 0.5;
  c.min_ranker_click_auc = 0.999;
  const BatchReport ranker_gate = RunBatch(c);
  EXPECT_FALSE(ranker_gate.published);
  ASSERT_EQ(ranker_gate.gate_failures.size(), 1u);
  EXPECT_NE(ranker_gate.gate_failures[0].find("ranker click AUC"), std::string::npos);
  ExpectLiveVersionLoads(artifacts, "good");
}

// The batch is what replaces a damaged live version: a version whose files
// are unreadable, or a CURRENT that names nothing, must not stop it.
TEST(BatchTest, ADamagedLiveVersionIsReplacedNotABlocker) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.train_ranker = false;
  c.version = "v0";
  ASSERT_TRUE(RunBatch(c).published);
  ::gr::testing::WriteBytes(version::VersionDir(artifacts, "v0") + "/" + version::kAccountsEmbeddingFile, "garbage");
  c.version = "v1";
  const BatchReport repaired = RunBatch(c);
  ASSERT_TRUE(repaired.published) << repaired.ToText();
  EXPECT_EQ(repaired.previous_version, "v0");
  EXPECT_NE(repaired.previous_version_error.find("accounts.emb"), std::string::npos) << repaired.previous_version_error;
  EXPECT_EQ(repaired.warm_started_accounts, 0u);
  EXPECT_NE(repaired.ToText().find("live version unreadable"), std::string::npos);
  // CURRENT naming something that is not a version.
  ::gr::testing::WriteBytes(artifacts + "/" + version::kCurrentFile, "../../etc\n");
  c.version = "v2";
  const BatchReport after_bad_current = RunBatch(c);
  ASSERT_TRUE(after_bad_current.published) << after_bad_current.ToText();
  EXPECT_EQ(after_bad_current.previous_version, "");
  EXPECT_NE(after_bad_current.previous_version_error.find("does not name a version"), std::string::npos);
  EXPECT_EQ(version::ReadCurrentVersion(artifacts), "v2");
}

// A run that dies while writing leaves name.tmp.PID files in the work
// directory; the resumed run must not publish them inside the version.
TEST(BatchTest, TemporaryFilesOfAnInterruptedRunAreNotPublished) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.train_ranker = false;
  c.version = "v1";
  BatchHooks crash;
  crash.after_stage_work = [&](std::string_view stage) {
    if (stage != "index") return;
    ::gr::testing::WriteBytes(artifacts + "/" + version::kWorkDir + "/accounts.hnsw.tmp.12345", "half a file");
    throw std::runtime_error("simulated crash while writing the indices");
  };
  EXPECT_THROW(RunBatch(c, crash), std::runtime_error);
  const BatchReport resumed = RunBatch(c);
  ASSERT_TRUE(resumed.published) << resumed.ToText();
  for (const auto& entry : fs::recursive_directory_iterator(version::VersionDir(artifacts, "v1")))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

// Runs `graphrec batch` on the world with GR_BATCH_KILL_IN_STAGE=stage;
// returns the wait status.
int RunKilledBatch(const std::string& artifacts, const std::string& stage) {
  std::vector<std::string> args = {GR_GRAPHREC_BINARY, "batch", "--input", World(), "--artifacts", artifacts,
                                   "--num-walks", "6", "--walk-length", "40", "--dimensions", "32", "--workers", "1",
                                   "--recall-sample", "200", "--drift-sample", "200", "--min-link-auc", "0.5",
                                   "--ranker-validation-days", "0", "--ranker-epochs", "20"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("GR_BATCH_KILL_IN_STAGE=" + stage);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, GR_GRAPHREC_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(BatchTest, KilledInEachStageKeepsCurrentCompleteAndTheRerunPublishes) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.version = "v0";
  ASSERT_TRUE(RunBatch(c).published);
  std::string live = "v0";
  for (const std::string stage : {"ingest", "train", "index", "rank", "consistent recall", "evaluate", "publish"}) {
    SCOPED_TRACE(stage);
    const int status = RunKilledBatch(artifacts, stage);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    ExpectLiveVersionLoads(artifacts, live);
    // The rerun (same inputs and settings) resumes and publishes.
    BatchConfig rerun = SmallConfig(artifacts);
    const BatchReport r = RunBatch(rerun);
    ASSERT_TRUE(r.published) << r.ToText();
    size_t resumed = 0;
    for (const auto& s : r.stages) resumed += s.stage.find("resumed") != std::string::npos;
    const size_t expected = stage == "ingest" ? 0 : stage == "train" ? 1 : stage == "index" ? 2 : stage == "rank" || stage == "consistent recall" || stage == "evaluate" ? 3 : 0;
    EXPECT_EQ(resumed, expected) << r.ToText();
    live = r.version;
    ExpectLiveVersionLoads(artifacts, live);
  }
}

// The ranking commands on a version the batch published: rank-train prints
// the test day's metrics, rank-eval of the saved model reproduces them, rank
// orders candidates, and a bad candidate file is named with its line.
TEST(RankCommands, TrainEvaluateAndScoreFromTheCommandLine) {
  const std::string artifacts = Artifacts("artifacts");
  BatchConfig c = SmallConfig(artifacts);
  c.version = "v1";
  c.train_ranker = false;
  ASSERT_TRUE(RunBatch(c).published);
  const std::string v = version::VersionDir(artifacts, "v1");
  const std::string inputs = StrCat(" --graph ", v, "/", version::kGraphFile, " --embeddings ", v, "/", version::kAccountsEmbeddingFile,
                                    " --workers 1");
  const std::string model = ::gr::testing::TempPath("ranker.bin");
  const auto [train_code, train_json] =
      ::gr::testing::RunCommand(StrCat(GR_GRAPHREC_BINARY, " rank-train", inputs, " --impressions ", World(), "/impressions.tsv --output ",
                 model, " --validation-days 0 --epochs 10 --json 2>/dev/null"));
  ASSERT_EQ(train_code, 0) << train_json;
  const nlohmann::json trained = nlohmann::json::parse(train_json)["test"];
  ASSERT_TRUE(trained.contains("auc_click")) << train_json;
  const auto [eval_code, eval_json] = ::gr::testing::RunCommand(StrCat(GR_GRAPHREC_BINARY, " rank-eval", inputs, " --impressions ", World(),
                                                 "/impressions.tsv --model ", model, " --json 2>/dev/null"));
  ASSERT_EQ(eval_code, 0) << eval_json;
  // Same last day, same model: the same metrics.
  const nlohmann::json evaluated = nlohmann::json::parse(eval_json);
  for (const auto& [name, value] : trained.items()) EXPECT_EQ(evaluated[name], value) << name;
  // rank: three posts of the world, best first.
  const graph::SocialGraph g = graph::LoadSnapshot(v + "/" + version::kGraphFile);
  const ExternalId account = g.accounts.ToExternal(0);
  const std::string posts = StrCat(g.posts.ToExternal(0), " ", g.posts.ToExternal(1), " ", g.posts.ToExternal(2));
  const auto [rank_code, ranked] =
      ::gr::testing::RunCommand(StrCat(GR_GRAPHREC_BINARY, " rank", inputs, " --model ", model, " --account ", account, " --posts ", posts,
                 " 2>/dev/null"));
  ASSERT_EQ(rank_code, 0) << ranked;
  EXPECT_EQ(std::count(ranked.begin(), ranked.end(), '\n'), 5) << ranked;  // two header lines + three posts
  const std::string bad = ::gr::testing::WriteTextFile("posts.txt", StrCat("# candidates\n", g.posts.ToExternal(0), "\nnot-an-id\n"));
  const auto [bad_code, message] = ::gr::testing::RunCommand(StrCat(GR_GRAPHREC_BINARY, " rank", inputs, " --model ", model, " --account ",
                                              account, " --posts-file ", bad, " 2>&1"));
  EXPECT_EQ(bad_code, 2) << message;
  EXPECT_NE(message.find(bad + ":3: expected a post id, got 'not-an-id'"), std::string::npos) << message;
}

TEST(BatchTest, HookSeesEachStageOnceAfterItsWorkAndBeforeItIsRecorded) {
  const std::string artifacts = Artifacts("hooks");
  BatchHooks hooks;
  std::vector<std::string> stages;
  hooks.after_stage_work = [&](std::string_view stage) {
    stages.emplace_back(stage);
    // The stage's output exists; state.json does not record it yet.
    if (stage == "publish") return;  // state.json is gone: the directory became the version
    const std::string state = ::gr::testing::ReadBytes(artifacts + "/.work/state.json");
    EXPECT_NE(state.find("\"fingerprint\""), std::string::npos);
    EXPECT_EQ(state.find("\"" + std::string(stage) + "\""), std::string::npos) << stage;
  };
  const BatchReport r = RunBatch(SmallConfig(artifacts), hooks);
  EXPECT_TRUE(r.published);
  // The training's own rate is reported: at most accounts x walks x length x
  // epochs tokens (fewer only for walks that end early).
  const BatchConfig c = SmallConfig(artifacts);
  const uint64_t most = uint64_t{r.accounts} * c.walk.walks_per_vertex * c.walk.walk_length * c.train.epochs;
  EXPECT_LE(r.train_tokens, most);
  EXPECT_GT(r.train_tokens, most / 2);
  EXPECT_GT(r.train_tokens_per_second, 0);
  EXPECT_NE(r.ToJson().find("\"tokens_per_second\""), std::string::npos);
  EXPECT_EQ(stages, (std::vector<std::string>{"ingest", "train", "index", "evaluate", "rank", "consistent recall", "publish"}));
}

TEST(BatchTest, RunOptionsReachEveryStageWithNamedSeeds) {
  BatchConfig c = SmallConfig("unused");
  c.run = {.threads = 3, .seed = 42};
  const BatchConfig applied = c.WithRunOptions();
  EXPECT_EQ(applied.walk.seed, 42u);
  EXPECT_EQ(applied.train.seed, 42u);
  EXPECT_EQ(applied.index.seed, c.run.SeedFor(SeedStream::kIndex));
  EXPECT_NE(applied.index.seed, 42u);
  EXPECT_EQ(applied.ranker.model.seed, c.run.SeedFor(SeedStream::kRanker));
  EXPECT_EQ(applied.ranker.features.seed, applied.ranker.model.seed);
  for (const int threads : {applied.walk.threads, applied.train.threads, applied.index.threads,
                            applied.ranker.model.threads})
    EXPECT_EQ(threads, 3);
  // Every stream is its own.
  std::set<uint64_t> seeds;
  for (const SeedStream s : {SeedStream::kHoldOut, SeedStream::kIndex, SeedStream::kLinkEval, SeedStream::kIndexEval,
                             SeedStream::kDriftEval, SeedStream::kRanker, SeedStream::kRankerSample})
    seeds.insert(c.run.SeedFor(s));
  EXPECT_EQ(seeds.size(), 7u);
  // The manifest's parameters name the seed and the enums by name.
  EXPECT_NE(applied.ToJson().find("\"seed\":42"), std::string::npos);
  EXPECT_NE(applied.ToJson().find("\"kind\":\"uniform\""), std::string::npos);
}

TEST(BatchTest, BadInputIsNamed) {
  BatchConfig c = SmallConfig(Artifacts("artifacts"));
  c.input_dir = ::gr::testing::TempPath("empty");
  fs::create_directories(c.input_dir);
  try {
    RunBatch(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no follows.tsv"), std::string::npos) << e.what();
  }
  c = SmallConfig(Artifacts("artifacts"));
  c.holdout_fraction = 0.7;
  EXPECT_THROW(RunBatch(c), Error);
}

}  // namespace
}  // namespace gr::pipeline
