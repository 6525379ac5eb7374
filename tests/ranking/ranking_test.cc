// Unit tests of ranking/: impressions input, point-in-time features, the
// multi-task model (learning, determinism, save/load), fusion and its search,
// the time split, and corrupt ranker files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"
#include "embed/evaluation.h"
#include "graph/ingest.h"
#include "ranking/ranker.h"
#include "tests/test_util.h"

namespace gr::ranking {
namespace {

using ::gr::testing::ErrorOf;
using ::gr::testing::TempPath;
using ::gr::testing::CodeOf;
using ::gr::testing::WriteTextFile;
using ::testing::HasSubstr;

TEST(ReadImpressions, ParsesRowsAndNamesBadLines) {
  const std::string good = WriteTextFile("imp.tsv",
                                         "account_id\tpost_id\ttimestamp\tclicked\tinteracted\tdwell_ms\n"
                                         "1\t10\t100\t1\t0\t2500\n"
                                         "2\t11\t200\t0\t0\t0\n");
  const auto rows = graph::ReadImpressions(good, {});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].account, 1u);
  EXPECT_EQ(rows[0].post, 10u);
  EXPECT_EQ(rows[0].time, 100u);
  EXPECT_EQ(rows[0].clicked, 1);
  EXPECT_EQ(rows[0].dwell_ms, 2500u);
  EXPECT_EQ(rows[1].clicked, 0);

  const std::string bad_flag = WriteTextFile("bad.tsv", "1\t10\t100\t1\t0\t2500\n1\t10\t100\t2\t0\t0\n");
  const std::string message = ErrorOf([&] { graph::ReadImpressions(bad_flag, {}); });
  EXPECT_THAT(message, HasSubstr(bad_flag + ":2"));
  EXPECT_THAT(message, HasSubstr("clicked '2'"));
  const std::string short_line = WriteTextFile("short.tsv", "1\t10\t100\t1\n");
  EXPECT_THAT(ErrorOf([&] { graph::ReadImpressions(short_line, {}); }), HasSubstr("expected 6-10 fields"));
  const std::string eight = WriteTextFile("eight.tsv", "1\t10\t100\t1\t0\t2500\t0\t1\n");
  EXPECT_THAT(ErrorOf([&] { graph::ReadImpressions(eight, {}); }), HasSubstr("expected 6 (account_id .. dwell_ms) or 10"));
  // Ten columns: the optional outcomes, '-' where unrecorded; completion only counts for clicked videos.
  const std::string ten = WriteTextFile(
      "ten.tsv", "1\t10\t100\t1\t0\t2500\t0\t1\t30000\t1\n2\t10\t100\t0\t0\t0\t1\t-\t30000\t1\n"
                 "3\t11\t100\t1\t0\t900\t-\t0\t0\t1\n");
  const auto full = graph::ReadImpressions(ten, {});
  ASSERT_EQ(full.size(), 3u);
  EXPECT_EQ(full[0].negative, 0);
  EXPECT_EQ(full[0].profile_visit, 1);
  EXPECT_EQ(full[0].video_ms, 30000u);
  EXPECT_EQ(full[0].completed, 1);
  EXPECT_EQ(full[1].negative, 1);
  EXPECT_EQ(full[1].profile_visit, graph::kUnobservedOutcome);
  EXPECT_EQ(full[1].completed, graph::kUnobservedOutcome);  // not clicked
  EXPECT_EQ(full[2].negative, graph::kUnobservedOutcome);
  EXPECT_EQ(full[2].completed, graph::kUnobservedOutcome);  // not a video
  EXPECT_EQ(rows[0].negative, graph::kUnobservedOutcome);   // six-column files leave them unobserved
  graph::IngestConfig skip;
  skip.skip_bad_lines = true;
  graph::FileReport report;
  EXPECT_EQ(graph::ReadImpressions(bad_flag, skip, &report).size(), 1u);
  EXPECT_EQ(report.bad_lines, 1u);
}

// Accounts 1 (follows 2 and 3), 2 (author of post 100), 3; account 3
// interacted with post 100 at t = 1000, account 4 at t = 3000.
graph::SocialGraph TinyGraph() {
  const std::string follows = WriteTextFile("follows.tsv", "1\t2\t10\n1\t3\t10\n4\t2\t10\n");
  const std::string posts = WriteTextFile("posts.tsv", "100\t2\t500\n");
  const std::string interactions = WriteTextFile("inter.tsv", "3\t100\tclick\t1000\t4000\n4\t100\tlike\t3000\n");
  return graph::Ingest({.follows = follows, .interactions = interactions, .posts = posts}, {});
}

TEST(Features, CountersAndSocialArePointInTime) {
  const graph::SocialGraph g = TinyGraph();
  FeatureConfig config;
  config.groups = kCounters | kSocial;
  const embed::EmbeddingTable no_vectors;  // counters and social read none
  const FeatureSource source(g, no_vectors, config);
  ASSERT_EQ(source.dense_dim(), 5u);
  EXPECT_EQ(source.cluster_slots(), 0);
  float f[5];
  // At t = 900, before anyone interacted; the post (t = 500) is 400 s old.
  source.Extract(1, 100, 900, f, nullptr);
  EXPECT_FLOAT_EQ(f[0], std::log1p(2.0f));                    // author followers (accounts 1 and 4)
  EXPECT_NEAR(f[1], std::log1p(400.0 / 3600.0), 1e-6);        // post age in hours
  EXPECT_FLOAT_EQ(f[2], 0.0f);                                // no interaction before t = 900
  EXPECT_FLOAT_EQ(f[3], 1.0f);                                // 1 follows the author
  EXPECT_FLOAT_EQ(f[4], 0.0f);                                // no followee interacted yet
  source.Extract(1, 100, 2000, f, nullptr);
  EXPECT_FLOAT_EQ(f[2], std::log1p(1.0f));  // account 3's click
  EXPECT_FLOAT_EQ(f[4], std::log1p(1.0f));  // ... and 3 is a followee of 1
  source.Extract(1, 100, 5000, f, nullptr);
  EXPECT_FLOAT_EQ(f[2], std::log1p(2.0f));
  EXPECT_FLOAT_EQ(f[4], std::log1p(1.0f));  // 4 is not followed by 1
  source.Extract(3, 100, 5000, f, nullptr);
  EXPECT_FLOAT_EQ(f[3], 0.0f);              // 3 does not follow the author
  EXPECT_EQ(CodeOf([&] { source.Extract(99, 100, 0, f, nullptr); }), ErrorCode::kNotFound);
  EXPECT_THAT(ErrorOf([&] { source.Extract(1, 999, 0, f, nullptr); }), HasSubstr("unknown post 999"));
}

TEST(Features, ANewPostGetsItsAuthorsFeaturesAndZeroCounters) {
  const graph::SocialGraph g = TinyGraph();
  FeatureConfig config;
  config.groups = kCounters | kSocial;
  const embed::EmbeddingTable no_vectors;
  const FeatureSource source(g, no_vectors, config);
  float f[5];
  // Post 555 by account 2, not in the graph, written at t = 500.
  source.ExtractNewPost(1, {.id = 555, .author = 2, .time = 500}, 5000, f, nullptr);
  EXPECT_FLOAT_EQ(f[0], std::log1p(2.0f));                  // its author's followers, as for post 100
  EXPECT_NEAR(f[1], std::log1p(4500.0 / 3600.0), 1e-6);     // its own age
  EXPECT_FLOAT_EQ(f[2], 0.0f);                              // no interactions yet
  EXPECT_FLOAT_EQ(f[3], 1.0f);                              // 1 follows its author
  EXPECT_FLOAT_EQ(f[4], 0.0f);
  for (const std::optional<ExternalId> author : {std::optional<ExternalId>(), std::optional<ExternalId>(77)}) {
    source.ExtractNewPost(1, {.id = 555, .author = author, .time = 0}, 5000, f, nullptr);  // author unknown
    EXPECT_FLOAT_EQ(f[0], 0.0f);
    EXPECT_FLOAT_EQ(f[1], 0.0f);
    EXPECT_FLOAT_EQ(f[3], 0.0f);
  }
  EXPECT_EQ(CodeOf([&] { source.ExtractNewPost(99, {.id = 555, .author = 2}, 0, f, nullptr); }), ErrorCode::kNotFound);
}

TEST(Features, MatchingCountsTheAccountsHistoryWithTheAuthorAndTheClusterPointInTime) {
  // Account 1 interacted with post 100 (by 2) at t = 1000 and post 102 (by 3)
  // at t = 2000; account 4 with post 101 (by 2) at t = 3000.
  const std::string follows = WriteTextFile("m_follows.tsv", "1\t2\t10\n1\t3\t10\n");
  const std::string posts = WriteTextFile("m_posts.tsv", "100\t2\t500\n101\t2\t600\n102\t3\t700\n");
  const std::string interactions =
      WriteTextFile("m_inter.tsv", "1\t100\tclick\t1000\t4000\n1\t102\tclick\t2000\t4000\n4\t101\tlike\t3000\n");
  const graph::SocialGraph g = graph::Ingest({.follows = follows, .interactions = interactions, .posts = posts}, {});
  embed::EmbeddingTable table;  // every account the same direction: one cluster holds every post
  table.input = FloatMatrix(g.num_accounts(), 2);
  for (VertexId a = 0; a < g.num_accounts(); ++a) {
    table.ids.push_back(g.accounts.ToExternal(a));
    table.kinds.push_back(embed::TokenKind::kAccount);
    table.input.At(a, 0) = 1.0f;
  }
  FeatureConfig config;
  config.groups = kMatching;
  config.clusters = 1;
  const FeatureSource source(g, table, config);
  ASSERT_EQ(source.dense_dim(), 6u);
  EXPECT_EQ(source.cluster_slots(), 0);  // the ids themselves are the clusters group's
  float f[6];
  source.Extract(1, 101, 1000, f, nullptr);  // nothing strictly before t = 1000
  for (const float v : f) EXPECT_FLOAT_EQ(v, 0.0f);
  source.Extract(1, 101, 1500, f, nullptr);
  EXPECT_FLOAT_EQ(f[0], std::log1p(1.0f));  // post 100 is by 2, as is 101
  EXPECT_FLOAT_EQ(f[1], 1.0f);              // 1 of 1 interaction
  EXPECT_FLOAT_EQ(f[2], std::log1p(1.0f));  // the one cluster
  EXPECT_FLOAT_EQ(f[3], 1.0f);
  EXPECT_FLOAT_EQ(f[4], std::log1p(1.0f));  // the cluster's day before 1500: the click at 1000
  EXPECT_FLOAT_EQ(f[5], std::log1p(1.0f));
  source.Extract(1, 101, 2500, f, nullptr);
  EXPECT_FLOAT_EQ(f[0], std::log1p(1.0f));
  EXPECT_FLOAT_EQ(f[1], 0.5f);              // post 102 is by 3
  EXPECT_FLOAT_EQ(f[2], std::log1p(2.0f));
  EXPECT_FLOAT_EQ(f[3], 1.0f);
  source.Extract(1, 101, 86400 + 2500, f, nullptr);  // the day is [2500, 88900)
  EXPECT_FLOAT_EQ(f[4], std::log1p(1.0f));  // only account 4's like (t = 3000) is within the day
  EXPECT_FLOAT_EQ(f[5], std::log1p(3.0f));  // all three within the week
  // A new post by 3 takes its author's cluster: the same history counts.
  source.ExtractNewPost(1, {.id = 555, .author = 3, .time = 2400}, 2500, f, nullptr);
  EXPECT_FLOAT_EQ(f[0], std::log1p(1.0f));  // post 102
  EXPECT_FLOAT_EQ(f[2], std::log1p(2.0f));
}

TEST(Features, ParseGroups) {
  EXPECT_EQ(ParseFeatureGroups("all"), kAllFeatureGroups);
  EXPECT_EQ(ParseFeatureGroups("counters,social"), kCounters | kSocial);
  EXPECT_EQ(FeatureGroupNames(kCounters | kClusters), "counters,clusters");
  EXPECT_THAT(ErrorOf([] { ParseFeatureGroups("counters,colour"); }), HasSubstr("unknown feature group 'colour'"));
}

// Examples with a known structure: click depends on x0 and the cluster id,
// interaction (sparse) on x0 and x1 among clicks, dwell on x2, and the
// sparse tasks as noted below.
Examples SyntheticExamples(size_t n, uint64_t seed) {
  Examples ex;
  ex.dense_dim = 4;
  ex.cluster_slots = 1;
  Rng rng(seed);
  for (size_t i = 0; i < n; ++i) {
    float x[4];
    for (float& v : x) v = 2.0f * rng.UniformFloat() - 1.0f;
    const auto cluster = static_cast<uint32_t>(rng.Uniform(5));
    const double click_logit = 3.0 * x[0] + (cluster == 2 ? 1.5 : -0.5);
    const bool clicked = rng.UniformDouble() < 1.0 / (1.0 + std::exp(-click_logit));
    const bool interacted = clicked && rng.UniformDouble() < 1.0 / (1.0 + std::exp(-(4.0 * x[1] - 2.5)));
    ex.dense.insert(ex.dense.end(), x, x + 4);
    ex.clusters.push_back(cluster);
    ex.clicked.push_back(clicked);
    ex.interacted.push_back(interacted);
    ex.dwell_seconds.push_back(clicked ? static_cast<float>(std::exp(2.0 + x[2])) : 0.0f);
    // The sparse tasks: negative feedback on x3 among unclicked rows; profile
    // visits recorded on half the rows only; completion among clicked rows.
    const double negative_logit = clicked ? -5.0 : 3.0 * x[3] - 3.0;
    ex.negative.push_back(rng.UniformDouble() < 1.0 / (1.0 + std::exp(-negative_logit)));
    const bool visit = clicked && rng.UniformDouble() < 1.0 / (1.0 + std::exp(-(4.0 * x[0] + 3.0 * x[3] - 3.0)));
    ex.profile_visit.push_back(i % 2 == 0 ? visit : kUnobserved);
    ex.completed.push_back(rng.UniformDouble() < 1.0 / (1.0 + std::exp(-(4.0 * x[2] - 1.0))));
  }
  return ex;
}

std::vector<TaskScores> PredictAll(const MultiTaskModel& model, const Examples& ex) {
  std::vector<TaskScores> out(ex.size());
  model.Predict(ex.dense.data(), ex.clusters.data(), ex.size(), out.data());
  return out;
}

double TaskAuc(const std::vector<TaskScores>& p, const Examples& ex, int task) {
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  for (size_t i = 0; i < ex.size(); ++i) {
    if (!ex.Observed(i, task)) continue;
    scores.push_back(p[i][task]);
    labels.push_back(static_cast<uint8_t>(ex.Target(i, task)));
  }
  return embed::RocAuc(scores, labels);
}

TEST(MultiTaskModel, LearnsEachTaskAndIsThreadCountIndependent) {
  const Examples train = SyntheticExamples(20000, 1), test = SyntheticExamples(5000, 2);
  for (const Architecture architecture : kAllArchitectures) {
    SCOPED_TRACE(ArchitectureName(architecture));
    ModelConfig config;
    config.architecture = architecture;
    config.epochs = 3;
    config.threads = 1;
    TrainingReport report;
    const MultiTaskModel one = MultiTaskModel::Train(train, 5, config, &report);
    config.threads = 2;
    const MultiTaskModel two = MultiTaskModel::Train(train, 5, config);
    EXPECT_TRUE(one == two) << "weights differ between 1 and 2 threads";
    ASSERT_EQ(report.epoch_loss.size(), 3u);
    EXPECT_LT(report.epoch_loss[2][kClickTask], report.epoch_loss[0][kClickTask]);
    const auto p = PredictAll(one, test);
    // The generating model's own AUCs are about 0.86 (click) and 0.93 (interaction).
    EXPECT_GT(TaskAuc(p, test, kClickTask), 0.82);
    EXPECT_GT(TaskAuc(p, test, kInteractionTask), 0.85);
    // Each sparse task over its own sample space.
    EXPECT_EQ(report.task_examples[kCompletionTask], report.task_examples[kDwellTask]);  // the clicked rows
    EXPECT_EQ(report.task_examples[kProfileVisitTask], train.size() / 2);
    EXPECT_GT(TaskAuc(p, test, kNegativeTask), 0.75);
    EXPECT_GT(TaskAuc(p, test, kProfileVisitTask), 0.75);
    EXPECT_GT(TaskAuc(p, test, kCompletionTask), 0.75);
    // Dwell: log(1 + predicted) close to log(1 + e^(2 + x2)) on clicked rows.
    double se = 0;
    size_t clicked = 0;
    for (size_t i = 0; i < test.size(); ++i) {
      if (!test.clicked[i]) continue;
      const double error = std::log1p(p[i][kDwellTask]) - std::log1p(test.dwell_seconds[i]);
      se += error * error;
      ++clicked;
    }
    // SNR's gates are sampled during training (hard-concrete noise), which
    // slows this noise-free regression: measured 0.157 against 0.04-0.08.
    EXPECT_LT(std::sqrt(se / static_cast<double>(clicked)), architecture == Architecture::kSnr ? 0.2 : 0.12);
    for (const TaskScores& s : p)
      for (const float v : s) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(MultiTaskModel, EveryArchitectureSavesAndLoadsExactly) {
  const Examples train = SyntheticExamples(3000, 3);
  for (const Architecture architecture : kAllArchitectures) {
    SCOPED_TRACE(ArchitectureName(architecture));
    ModelConfig config;
    config.architecture = architecture;
    config.epochs = 1;
    config.uncertainty_weighting = true;
    const MultiTaskModel model = MultiTaskModel::Train(train, 5, config);
    const std::string path = TempPath("model.bin");
    {
      SectionWriter writer(path, 0x54534554, 1);
      model.Save(writer);
      writer.Commit();
    }
    SectionReader reader(path, 0x54534554, "test");
    const MultiTaskModel loaded = MultiTaskModel::Load(reader);
    reader.ExpectEnd();
    EXPECT_TRUE(loaded == model);
    EXPECT_EQ(loaded.loss_weights(), model.loss_weights());
    const auto a = PredictAll(model, train), b = PredictAll(loaded, train);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]);
  }
}

TEST(MultiTaskModel, PleAndSnrHaveTheirShape) {
  const Examples train = SyntheticExamples(4000, 6);
  ModelConfig config;
  config.epochs = 2;
  config.experts = 2;
  config.expert_units = 8;
  config.tower_units = 8;
  config.architecture = Architecture::kMmoe;
  const size_t mmoe = MultiTaskModel::Train(train, 5, config).num_parameters();
  // PLE adds each task's exclusive experts (and, at two levels, a second layer of experts).
  config.architecture = Architecture::kPle;
  config.levels = 1;
  const size_t ple_one = MultiTaskModel::Train(train, 5, config).num_parameters();
  config.levels = 2;
  const size_t ple_two = MultiTaskModel::Train(train, 5, config).num_parameters();
  EXPECT_GT(ple_one, mmoe);
  EXPECT_GT(ple_two, ple_one);
  // SNR: a coding variable per connection between expert layers and from
  // the top layer to each tower; a strong L0 penalty closes some of them.
  config.architecture = Architecture::kSnr;
  TrainingReport open, sparse;
  config.sparsity = 0;
  MultiTaskModel::Train(train, 5, config, &open);
  EXPECT_EQ(open.connections, 2u * 2u + 2u * kNumTasks);
  EXPECT_EQ(open.open_connections, open.connections);
  config.sparsity = 0.5;
  config.epochs = 6;
  config.batch_size = 64;  // enough steps for the gates to travel
  config.learning_rate = 0.02f;
  const MultiTaskModel sparse_model = MultiTaskModel::Train(train, 5, config, &sparse);
  EXPECT_EQ(sparse.connections, open.connections);
  EXPECT_LT(sparse.open_connections, sparse.connections);
  // No unit is cut off from its inputs: every task still learns.
  EXPECT_GE(sparse.open_connections, 2u + kNumTasks);
  const std::vector<TaskScores> predicted = PredictAll(sparse_model, train);
  for (const int task : {kClickTask, kInteractionTask, kNegativeTask, kProfileVisitTask, kCompletionTask})
    EXPECT_GT(TaskAuc(predicted, train, task), 0.6) << TaskName(task);
}

TEST(MultiTaskModel, TaskWeightsAndUncertaintyWeighting) {
  const Examples train = SyntheticExamples(6000, 7);
  ModelConfig config;
  config.epochs = 3;
  config.task_weights = {1, 1, 2, 0, 1, 1};
  TrainingReport given;
  MultiTaskModel::Train(train, 5, config, &given);
  for (int t = 0; t < kNumTasks; ++t) EXPECT_EQ(given.loss_weights[t], config.task_weights[t]) << TaskName(t);
  // Learned weights exp(-s_t): away from 1, finite, and the task with a
  // zero weight stays out.
  config.uncertainty_weighting = true;
  config.batch_size = 64;  // enough steps for s_t to settle
  config.learning_rate = 0.02f;
  TrainingReport learned;
  const MultiTaskModel model = MultiTaskModel::Train(train, 5, config, &learned);
  EXPECT_EQ(learned.loss_weights[kNegativeTask], 0.0f);
  EXPECT_EQ(model.loss_weights(), learned.loss_weights);
  int moved = 0;
  for (int t = 0; t < kNumTasks; ++t) {
    EXPECT_TRUE(std::isfinite(learned.loss_weights[t]));
    moved += t != kNegativeTask && std::abs(learned.loss_weights[t] - config.task_weights[t]) > 0.05f;
  }
  EXPECT_GE(moved, 3);
  // s_t settles near log(loss_t): the task with the lowest loss gains
  // weight against the one with the highest (measured: dwell's squared
  // error 0.002 earns 344, click's 0.46 about 2.2).
  const auto& last = learned.epoch_loss.back();
  int lowest = kClickTask, highest = kClickTask;
  for (int t = 0; t < kNumTasks; ++t) {
    if (t == kNegativeTask) continue;
    if (last[t] < last[lowest]) lowest = t;
    if (last[t] > last[highest]) highest = t;
  }
  EXPECT_GT(learned.loss_weights[lowest] / config.task_weights[lowest],
            learned.loss_weights[highest] / config.task_weights[highest])
      << TaskName(lowest) << " vs " << TaskName(highest);
}

TEST(Fusion, ScoreArithmetic) {
  FusionWeights w;
  w.alpha = {0.1f, 0.0f, 1.0f};
  w.beta = {2.0f, 1.0f, 0.5f};
  // (0.3 + 0.1)^2 * (0.2)^1 * (120 s = 2 min + 1)^0.5
  EXPECT_NEAR(FusedScore({0.3f, 0.2f, 120.0f}, w), 0.16 * 0.2 * std::sqrt(3.0), 1e-6);
  w.beta = {1.0f, 0.0f, 0.0f};
  EXPECT_NEAR(FusedScore({0.3f, 0.2f, 120.0f}, w), 0.4, 1e-6);
  w.alpha[0] = -1;
  EXPECT_THAT(ErrorOf([&] { w.Validate(); }), HasSubstr("alpha of click"));
  // Negative feedback is a penalty: the factor is (1 - p(negative) + alpha)^beta.
  w = FusionWeights{};
  w.alpha = {0, 0, 0, 0, 0, 0};
  w.beta = {1, 0, 0, 2, 0, 0};
  EXPECT_NEAR(FusedScore({0.5f, 0, 0, 0.2f, 0, 0}, w), 0.5 * 0.8 * 0.8, 1e-6);
  EXPECT_GT(FusedScore({0.5f, 0, 0, 0.1f, 0, 0}, w), FusedScore({0.5f, 0, 0, 0.6f, 0, 0}, w));
}

TEST(Fusion, ParseIntoTakesSixNumbersOrNamedTasks) {
  std::array<float, kNumTasks> values{};
  const std::vector<std::string> six = {"1", "0.5", "0.5", "1", "0.2", "0"};
  FusionWeights::ParseInto(six, "--beta", values);
  EXPECT_EQ(values, (std::array<float, kNumTasks>{1, 0.5f, 0.5f, 1, 0.2f, 0}));
  const std::vector<std::string> named = {"negative=2", "completion=0.25"};
  FusionWeights::ParseInto(named, "--beta", values);
  EXPECT_EQ(values[kNegativeTask], 2.0f);
  EXPECT_EQ(values[kCompletionTask], 0.25f);
  EXPECT_EQ(values[kClickTask], 1.0f);  // untouched
  const std::vector<std::string> three = {"1", "2", "3"}, unknown = {"refresh=1"}, bad = {"click=x"};
  EXPECT_THAT(ErrorOf([&] { FusionWeights::ParseInto(three, "--alpha", values); }), HasSubstr("--alpha"));
  EXPECT_THAT(ErrorOf([&] { FusionWeights::ParseInto(unknown, "--alpha", values); }), HasSubstr("refresh"));
  EXPECT_THAT(ErrorOf([&] { FusionWeights::ParseInto(bad, "--alpha", values); }), HasSubstr("'click=x' is not a number"));
}

TEST(Fusion, ObjectiveCountsTheTopOfEachAccount) {
  // Account 1: four impressions, top half = 2; account 2: one (ignored).
  const std::vector<Outcome> outcomes = {
      {1, 1, 1, 60}, {1, 0, 0, 0}, {1, 1, 0, 120}, {1, 0, 0, 0}, {2, 1, 1, 600}};
  FusionObjective objective;
  objective.interaction_weight = 2;
  objective.dwell_weight = 1;
  objective.top_fraction = 0.5;
  // Ranked 0, 2 first: (1 + 2 + 1) + (1 + 2) = 7.
  EXPECT_DOUBLE_EQ(FusionObjectiveValue(std::vector<float>{4, 1, 3, 2, 9}, outcomes, objective), 7.0);
  // Ranked 1, 3 first: nothing.
  EXPECT_DOUBLE_EQ(FusionObjectiveValue(std::vector<float>{1, 4, 2, 3, 9}, outcomes, objective), 0.0);
}

TEST(Fusion, SearchFindsTheDwellTradeOff) {
  // Clicks follow p_click; a click's dwell is the predicted dwell. The
  // objective values a minute of dwell at 0.5 clicks, so ranking by p_click
  // alone (the start) leaves value on the table.
  Rng rng(5);
  std::vector<TaskScores> predictions;
  std::vector<Outcome> outcomes;
  for (uint64_t account = 0; account < 300; ++account) {
    for (int k = 0; k < 10; ++k) {
      const float p = rng.UniformFloat(), dwell = 600.0f * rng.UniformFloat();
      const bool clicked = rng.UniformFloat() < p;
      predictions.push_back({p, 0.1f, dwell});
      outcomes.push_back({account, clicked, 0, clicked ? dwell : 0.0f});
    }
  }
  FusionWeights start;
  start.alpha = {0, 0, 0};
  start.beta = {1, 0, 0};
  FusionObjective objective;
  objective.dwell_weight = 0.5;
  for (const FusionMethod method : {FusionMethod::kCem, FusionMethod::kEs}) {
    SCOPED_TRACE(FusionMethodName(method));
    FusionSearchConfig config;
    config.method = method;
    config.iterations = 10;
    const FusionSearchResult result = SearchFusion(predictions, outcomes, objective, start, config);
    EXPECT_DOUBLE_EQ(result.start_value, result.click_only_value);
    EXPECT_GT(result.best_value, result.start_value * 1.1) << result.best.ToText();
    EXPECT_GT(result.best.beta[kDwellTask], 0.2f);
    EXPECT_EQ(result.best.beta[kClickTask], 1.0f);  // held
    // The same seed finds the same weights.
    EXPECT_TRUE(SearchFusion(predictions, outcomes, objective, start, config).best == result.best);
    // A frozen task keeps the start's weights.
    config.frozen_tasks = 1u << kDwellTask;
    const FusionSearchResult frozen = SearchFusion(predictions, outcomes, objective, start, config);
    EXPECT_EQ(frozen.best.beta[kDwellTask], start.beta[kDwellTask]);
    EXPECT_EQ(frozen.best.alpha[kDwellTask], start.alpha[kDwellTask]);
  }
}

TEST(SplitByTime, LastDaysAreHeldOut) {
  std::vector<Impression> all;
  for (uint32_t day = 0; day < 5; ++day)
    for (uint32_t k = 0; k < 3; ++k) all.push_back({1, 2, 1767225600 + day * 86400 + k * 3600, 0, 0, 0});
  const TimeSplit split = SplitByTime(all, 1, 1);
  EXPECT_EQ(split.train.size(), 9u);
  EXPECT_EQ(split.validation.size(), 3u);
  EXPECT_EQ(split.test.size(), 3u);
  EXPECT_EQ(split.test_start, 1767225600u + 4 * 86400);
  for (const auto& i : split.train) EXPECT_LT(i.time, split.validation_start);
  // Too short for two validation days: one is given up so that training keeps its days.
  const TimeSplit short_span = SplitByTime(all, 3, 2);
  EXPECT_EQ(short_span.validation_days, 1u);
  EXPECT_EQ(short_span.train.size(), 3u);
  EXPECT_EQ(SplitByTime(all, 1, 2).validation_days, 2u);
  EXPECT_THAT(ErrorOf([&] { SplitByTime(all, 5, 1); }), HasSubstr("left for training"));
}

TEST(Ranker, CorruptFilesAreRejectedNamingTheFile) {
  const graph::SocialGraph g = TinyGraph();
  RankerConfig config;
  config.features.groups = kCounters | kSocial;
  config.model.epochs = 1;
  const embed::EmbeddingTable no_vectors;
  const FeatureSource source(g, no_vectors, config.features);
  std::vector<Impression> train;
  for (uint32_t k = 0; k < 50; ++k) train.push_back({k % 2 ? 1u : 3u, 100, 600 + k * 100, static_cast<uint8_t>(k % 3 == 0), 0, 5000});
  const Ranker ranker = Ranker::Train(source, train, {}, config);
  const std::string path = TempPath("ranker.bin");
  ranker.Save(path);
  const Ranker loaded = Ranker::Load(path);
  const std::vector<ExternalId> posts{100};
  EXPECT_EQ(ranker.Rank(source, 1, posts, 2000)[0].fused, loaded.Rank(source, 1, posts, 2000)[0].fused);
  EXPECT_EQ(CodeOf([&] { ranker.Rank(source, 1, std::vector<ExternalId>{100, 7}, 2000); }), ErrorCode::kNotFound);

  const std::string bytes = gr::testing::ReadBytes(path);
  for (size_t at = 20; at < bytes.size(); at += 37) {
    std::string broken = bytes;
    broken[at] = static_cast<char>(broken[at] ^ 0x5a);
    const std::string broken_path = TempPath("broken.bin");
    gr::testing::WriteBytes(broken_path, broken);
    const std::string message = ErrorOf([&] { Ranker::Load(broken_path); });
    ASSERT_THAT(message, HasSubstr(broken_path)) << "byte " << at;
  }
  gr::testing::WriteBytes(TempPath("short.bin"), bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(ErrorOf([&] { Ranker::Load(TempPath("short.bin")); }), HasSubstr("short.bin"));
  // Features of another configuration are refused.
  FeatureConfig other;
  other.groups = kCounters;
  const FeatureSource counters_only(g, no_vectors, other);
  EXPECT_THAT(ErrorOf([&] { ranker.Rank(counters_only, 1, posts, 2000); }), HasSubstr("do not match"));
}

}  // namespace
}  // namespace gr::ranking
