#include "graph/ingest.h"
#include "graph/snapshot.h"

#include <gtest/gtest.h>

#include <limits>
#include <sys/resource.h>
#include <zlib.h>

#include "core/error.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

using ::gr::testing::WriteTextFile;

using ::gr::testing::ErrorOf;

TEST(IngestTest, FollowsWithHeaderTabsAndTimestamps) {
  const auto path = WriteTextFile("f.tsv",
                                  "follower_id\tfollowee_id\ttimestamp\n"
                                  "10\t20\t100\n"
                                  "10\t30\t200\n"
                                  "20\t10\t300\n");
  IngestReport report;
  const SocialGraph g = Ingest({.follows = path}, {}, &report);
  EXPECT_TRUE(report.files[0].header);
  EXPECT_EQ(report.files[0].records, 3u);
  ASSERT_EQ(g.num_accounts(), 3u);
  EXPECT_EQ(g.accounts.ToExternal(0), 10u);
  EXPECT_EQ(g.following.num_edges(), 3u);
  const VertexId a10 = g.accounts.At(10), a20 = g.accounts.At(20), a30 = g.accounts.At(30);
  EXPECT_TRUE(g.following.HasEdge(a10, a20));
  EXPECT_TRUE(g.following.HasEdge(a10, a30));
  EXPECT_FALSE(g.following.HasEdge(a30, a10));
  EXPECT_TRUE(g.followers.HasEdge(a10, a20));  // 20 follows 10
  EXPECT_EQ(g.following.times[g.following.Begin(a10) + 1], 200u);
  EXPECT_FALSE(g.following.has_weights());  // all weights 1: not stored
  EXPECT_EQ(report.reference_time, 300);
}

TEST(IngestTest, CommaSeparatedAndCrLfAndCommentsAccepted) {
  const auto path = WriteTextFile("f.csv", "# a comment\r\n1,2\r\n\r\n2,3\r\r\n");  // \r\r\n as in SNAP email-Eu-core
  IngestReport report;
  const SocialGraph g = Ingest({.follows = path}, {}, &report);
  EXPECT_EQ(g.following.num_edges(), 2u);
  EXPECT_EQ(report.files[0].skipped_lines, 2u);
}

TEST(IngestTest, BadLineNamesFileLineAndReason) {
  const auto path = WriteTextFile("bad.tsv", "1\t2\n3\t4\n5\tx7\n");
  const std::string message = ErrorOf([&] { Ingest({.follows = path}, {}); });
  EXPECT_NE(message.find(path + ":3:"), std::string::npos) << message;
  EXPECT_NE(message.find("followee_id 'x7'"), std::string::npos) << message;
  EXPECT_NE(message.find("--skip-bad-lines"), std::string::npos) << message;
}

TEST(IngestTest, EarliestBadLineIsReportedWhateverTheThreads) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += i == 1234 || i == 4000 ? "oops\n" : "1\t2\n";
  const auto path = WriteTextFile("many.tsv", text);
  for (int threads : {1, 2}) {
    IngestConfig config;
    config.threads = threads;
    config.block_bytes = 4096;
    const std::string message = ErrorOf([&] { Ingest({.follows = path}, config); });
    EXPECT_NE(message.find(path + ":1235:"), std::string::npos) << message;
  }
}

TEST(IngestTest, AHugeOrControlFieldIsQuotedShortAndEscaped) {
  const auto path = WriteTextFile("huge-field.tsv", "1\t2\n" + std::string(1'000'000, '7') + "x\t\x1b]0;owned\x07\n");
  const std::string message = ::gr::testing::ErrorOf([&] { Ingest({.follows = path}, {}); });
  EXPECT_NE(message.find(path + ":2: bad follower_id"), std::string::npos) << message.substr(0, 300);
  EXPECT_LT(message.size(), 1000u);
  EXPECT_NE(message.find("(1000001 bytes)"), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
}

TEST(IngestTest, SkipBadLinesCountsAndQuotes) {
  const auto path = WriteTextFile("bad.tsv", "1\t2\n3\n5\t6\t7\t8\n-1\t2\n4\t5\n");
  IngestConfig config;
  config.skip_bad_lines = true;
  IngestReport report;
  const SocialGraph g = Ingest({.follows = path}, config, &report);
  EXPECT_EQ(g.following.num_edges(), 2u);
  EXPECT_EQ(report.files[0].bad_lines, 3u);
  ASSERT_EQ(report.files[0].bad_examples.size(), 3u);
  EXPECT_NE(report.files[0].bad_examples[0].find(":2: expected 2-3 fields"), std::string::npos)
      << report.files[0].bad_examples[0];
  EXPECT_NE(report.ToText().find("3 bad lines skipped"), std::string::npos);
}

TEST(IngestTest, GzipInputReadsLikePlain) {
  const std::string text = "a\tb\n1\t2\n2\t3\n3\t1\n";
  const std::string gz_path = ::gr::testing::TempPath("f.tsv.gz");
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  const SocialGraph plain = Ingest({.follows = WriteTextFile("f.tsv", text)}, {});
  const SocialGraph zipped = Ingest({.follows = gz_path}, {});
  EXPECT_EQ(plain, zipped);
  EXPECT_EQ(zipped.following.num_edges(), 3u);
}

TEST(IngestTest, TruncatedGzipIsAnError) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "\t" + std::to_string(i + 1) + "\n";
  const std::string gz_path = ::gr::testing::TempPath("t.tsv.gz");
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  std::string bytes = ::gr::testing::ReadBytes(gz_path);
  ::gr::testing::WriteBytes(gz_path, bytes.substr(0, bytes.size() / 2));
  const std::string message = ErrorOf([&] { Ingest({.follows = gz_path}, {}); });
  EXPECT_NE(message.find(gz_path), std::string::npos) << message;
}

TEST(IngestTest, SelfLoopsAndDuplicatesFollowPolicy) {
  const auto path = WriteTextFile("dups.tsv", "1\t1\n1\t2\n1\t2\n2\t3\n1\t2\n");
  IngestReport report;
  const SocialGraph summed = Ingest({.follows = path}, {}, &report);
  EXPECT_EQ(report.follow_self_loops_dropped, 1u);
  EXPECT_EQ(report.follow_duplicates_merged, 2u);
  EXPECT_EQ(summed.following.num_edges(), 2u);
  const VertexId a1 = summed.accounts.At(1);
  ASSERT_TRUE(summed.following.has_weights());
  EXPECT_FLOAT_EQ(summed.following.NeighborWeights(a1)[0], 3.0f);

  IngestConfig keep;
  keep.self_loops = SelfLoopPolicy::kKeep;
  keep.duplicates = DuplicatePolicy::kKeep;
  const SocialGraph kept = Ingest({.follows = path}, keep, &report);
  EXPECT_EQ(kept.following.num_edges(), 5u);
  EXPECT_EQ(report.follow_self_loops_dropped, 0u);
  EXPECT_TRUE(kept.following.HasEdge(a1, a1));

  IngestConfig max;
  max.duplicates = DuplicatePolicy::kMax;
  const SocialGraph maxed = Ingest({.follows = path}, max);
  EXPECT_FALSE(maxed.following.has_weights());  // max of 1s is 1
}

TEST(IngestTest, ExternalIdsAbove32BitsRoundTrip) {
  const uint64_t big = (uint64_t{1} << 40) + 5, huge = UINT64_MAX;
  const auto path = WriteTextFile("big.tsv", std::to_string(big) + "\t" + std::to_string(huge) + "\n");
  const SocialGraph g = Ingest({.follows = path}, {});
  ASSERT_EQ(g.num_accounts(), 2u);
  EXPECT_EQ(g.accounts.ToExternal(g.accounts.At(big)), big);
  EXPECT_EQ(g.accounts.ToExternal(g.accounts.At(huge)), huge);
  EXPECT_TRUE(g.following.HasEdge(g.accounts.At(big), g.accounts.At(huge)));
  EXPECT_THROW(g.accounts.At(7), Error);
}

TEST(IngestTest, InteractionsPostsAndDecayedWeights) {
  const int64_t day = 86400;
  const auto follows = WriteTextFile("f.tsv", "1\t2\n");
  const auto posts = WriteTextFile("p.tsv", "post_id,author_id,timestamp\n100,2,0\n101,2,0\n100,2,0\n");
  const std::string t0 = std::to_string(10 * day), t1 = std::to_string(3 * day);
  const auto interactions = WriteTextFile(
      "i.tsv", "1\t100\tclick\t" + t0 + "\t5000\n1\t100\tLIKE\t" + t0 + "\n1\t101\t0\t" + t1 +
                   "\n3\t102\trepost\t" + t0 + "\n");
  IngestConfig config;
  config.weights.interaction_half_life_days = 7.0;
  IngestReport report;
  const SocialGraph g = Ingest({.follows = follows, .interactions = interactions, .posts = posts},
                               config, &report);
  EXPECT_EQ(g.num_accounts(), 3u);  // account 3 only interacts
  EXPECT_EQ(g.num_posts(), 3u);     // post 102 has no posts line
  EXPECT_EQ(report.posts_without_author, 1u);
  EXPECT_EQ(report.post_duplicate_lines, 1u);
  EXPECT_EQ(report.interaction_duplicates_merged, 1u);
  EXPECT_EQ(g.reference_time, 10 * day);
  const VertexId a1 = g.accounts.At(1), p100 = g.posts.At(100), p101 = g.posts.At(101);
  EXPECT_EQ(g.post_author[p100], g.accounts.At(2));
  EXPECT_EQ(g.post_author[g.posts.At(102)], kNoVertex);
  EXPECT_EQ(g.authored.Degree(g.accounts.At(2)), 2u);
  ASSERT_EQ(g.engagements.Degree(a1), 2u);
  const EdgeIndex e100 = g.engagements.Begin(a1);
  EXPECT_EQ(g.engagements.targets[e100], p100);
  EXPECT_FLOAT_EQ(g.engagements.weights[e100], 1.0f + 2.0f);  // click + like, no age
  EXPECT_EQ(g.engagements.type_masks[e100], 0b11);
  EXPECT_EQ(g.engagements.dwell_ms[e100], 5000u);
  EXPECT_FLOAT_EQ(g.engagements.weights[e100 + 1], 0.5f);  // click aged one half-life
  EXPECT_TRUE(g.engagers.HasEdge(p101, a1));
}

TEST(IngestTest, DecayOfYearsOldEdgesStaysPositive) {
  // Ten years at a 7-day half-life is 2^-521: it must not underflow to a
  // weight of 0, which the graph's own validation (and the snapshot) rejects.
  const auto follows = WriteTextFile("f.tsv", "1\t2\n");
  const auto interactions = WriteTextFile("i.tsv", "1\t100\tclick\t1000\n2\t100\tclick\t315360000\n");
  const SocialGraph g = Ingest({.follows = follows, .interactions = interactions}, {});
  ASSERT_EQ(g.engagements.num_edges(), 2u);
  for (const float w : g.engagements.weights) EXPECT_GT(w, 0.0f);
  EXPECT_NO_THROW(g.Validate());
}

TEST(IngestTest, WeightsOutsideFloatsRangeAreClampedAndTheSnapshotLoads) {
  // Two duplicate lines of weight 3e38 summed to +inf; a tiny click weight
  // decayed over ten years underflowed to 0: both made snapshots that
  // ingest wrote and every reader rejected.
  const auto edges = WriteTextFile("inf.txt", "1 2 3e38\n1 2 3e38\n");
  const SocialGraph summed = LoadEdgeList(edges, false, {});
  ASSERT_EQ(summed.following.num_edges(), 2u);
  for (const float w : summed.following.weights) EXPECT_EQ(w, std::numeric_limits<float>::max());
  const auto follows = WriteTextFile("f.tsv", "1\t2\n");
  const auto interactions = WriteTextFile("i.tsv", "1\t100\tclick\t1000\n2\t100\tclick\t315360000\n");
  IngestConfig tiny;
  tiny.weights.interaction[0] = 1e-30f;
  const SocialGraph decayed = Ingest({.follows = follows, .interactions = interactions}, tiny);
  for (const float w : decayed.engagements.weights) EXPECT_GE(w, std::numeric_limits<float>::min());
  for (const SocialGraph* g : {&summed, &decayed}) {
    const std::string path = ::gr::testing::TempPath("clamped.snap");
    SaveSnapshot(*g, path);
    EXPECT_NO_THROW(LoadSnapshot(path));
  }
}

TEST(IngestTest, PostWithTwoAuthorsIsRejected) {
  const auto follows = WriteTextFile("f.tsv", "1\t2\n");
  const auto posts = WriteTextFile("p.tsv", "100\t1\n100\t2\n");
  const std::string message = ErrorOf([&] { Ingest({.follows = follows, .posts = posts}, {}); });
  EXPECT_NE(message.find("post 100 is given two authors"), std::string::npos) << message;
}

TEST(IngestTest, UnknownInteractionTypeIsNamed) {
  const auto follows = WriteTextFile("f.tsv", "1\t2\n");
  const auto interactions = WriteTextFile("i.tsv", "1\t100\tpoke\t5\n");
  const std::string message =
      ErrorOf([&] { Ingest({.follows = follows, .interactions = interactions}, {}); });
  EXPECT_NE(message.find(":1: bad type 'poke'"), std::string::npos) << message;
}

TEST(IngestTest, ResultDoesNotDependOnThreadsOrBlockSize) {
  std::string text;
  uint64_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    text += std::to_string((x >> 33) % 500) + "\t" + std::to_string((x >> 13) % 500) + "\t" +
            std::to_string(x % 1000) + "\n";
  }
  const auto path = WriteTextFile("rand.tsv", text);
  IngestConfig one;
  one.threads = 1;
  IngestConfig two;
  two.threads = 2;
  two.block_bytes = 4096;
  EXPECT_EQ(Ingest({.follows = path}, one), Ingest({.follows = path}, two));
}

TEST(EdgeListTest, UndirectedAddsBothDirectionsWithWeights) {
  const auto path = WriteTextFile("e.txt", "1 2 0.5\n2 3 2\n3 3\n");
  IngestReport report;
  const SocialGraph g = LoadEdgeList(path, /*directed=*/false, {}, &report);
  EXPECT_TRUE(g.undirected);
  EXPECT_EQ(g.following.num_edges(), 4u);
  EXPECT_EQ(report.follow_self_loops_dropped, 1u);
  const VertexId v1 = g.accounts.At(1), v2 = g.accounts.At(2);
  EXPECT_TRUE(g.following.HasEdge(v2, v1));
  EXPECT_FLOAT_EQ(g.following.NeighborWeights(v2)[0], 0.5f);
  EXPECT_EQ(g.followers, g.following);
}

TEST(EdgeListTest, DirectedAndBadWeights) {
  const auto path = WriteTextFile("e.txt", "1 2\n2 3\n");
  const SocialGraph g = LoadEdgeList(path, /*directed=*/true, {});
  EXPECT_EQ(g.following.num_edges(), 2u);
  EXPECT_FALSE(g.following.HasEdge(g.accounts.At(2), g.accounts.At(1)));
  const auto bad = WriteTextFile("b.txt", "1 2 -1\n");
  EXPECT_NE(ErrorOf([&] { LoadEdgeList(bad, true, {}); }).find("bad weight '-1'"), std::string::npos);
}

TEST(SharedDataTest, LastfmFriendsGive1892AccountsAnd25434Edges) {
  GR_REQUIRE_SHARED_DATA(path, "lastfm-hetrec2011-2k/user_friends.dat");
  IngestReport report;
  const SocialGraph g = Ingest({.follows = path}, {}, &report);
  EXPECT_TRUE(report.files[0].header);
  EXPECT_EQ(g.num_accounts(), 1892u);
  EXPECT_EQ(g.following.num_edges(), 25434u);
  EXPECT_EQ(report.follow_duplicates_merged, 0u);
}

TEST(SharedDataTest, KarateDuplicateLineIsMergedAndReported) {
  GR_REQUIRE_SHARED_DATA(path, "karate/karate.edgelist");
  IngestReport report;
  const SocialGraph g = LoadEdgeList(path, /*directed=*/false, {}, &report);
  EXPECT_EQ(g.num_accounts(), 34u);
  EXPECT_EQ(g.following.num_edges(), 2u * 77);  // 78 lines, one duplicated
  EXPECT_EQ(report.follow_duplicates_merged, 2u);  // once per direction
}

}  // namespace
}  // namespace gr::graph

namespace gr::graph {
namespace {

TEST(IngestChangesTest, ChangesAfterTheFilesAddRemoveAndReviveInOrder) {
  const InputFiles files{.follows = ::gr::testing::WriteTextFile("ch-f.tsv", "1\t2\t10\n1\t3\t11\n2\t3\t12\n"),
                         .posts = ::gr::testing::WriteTextFile("ch-p.tsv", "100\t2\t5\n")};
  using Kind = GraphChange::Kind;
  const std::vector<GraphChange> changes = {
      {.kind = Kind::kUnfollow, .actor = 1, .object = 2},                 // a file follow removed
      {.kind = Kind::kUnfollow, .actor = 2, .object = 3},
      {.kind = Kind::kFollow, .time = 20, .actor = 2, .object = 3},     // and revived: one edge
      {.kind = Kind::kFollow, .time = 21, .actor = 4, .object = 1},     // a new account's follow
      {.kind = Kind::kFollow, .time = 22, .actor = 4, .object = 3},
      {.kind = Kind::kUnfollow, .actor = 4, .object = 3},               // undone before the batch
      {.kind = Kind::kAccount, .actor = 9},                             // no edges at all
      {.kind = Kind::kPost, .time = 30, .actor = 3, .object = 300},
      {.kind = Kind::kPost, .time = 31, .actor = 1, .object = 100},     // known post: first author stays
      {.kind = Kind::kInteraction, .interaction = 1, .time = 32, .dwell_ms = 5, .actor = 4, .object = 300}};
  IngestReport report;
  const SocialGraph g = Ingest(files, {}, &report, changes);
  EXPECT_EQ(report.changes, changes.size());
  EXPECT_EQ(report.follows_removed, 2u);  // 1->2, and the file's 2->3 (the change's re-follow replaces it)
  auto follows = [&](ExternalId a, ExternalId b) { return g.following.HasEdge(g.accounts.At(a), g.accounts.At(b)); };
  EXPECT_FALSE(follows(1, 2));
  EXPECT_TRUE(follows(1, 3));
  EXPECT_TRUE(follows(2, 3));
  EXPECT_TRUE(follows(4, 1));
  EXPECT_FALSE(follows(4, 3));
  EXPECT_EQ(g.following.num_edges(), 3u);
  EXPECT_NE(g.accounts.Find(9), kNoVertex);
  EXPECT_EQ(g.post_author[g.posts.At(300)], g.accounts.At(3));
  EXPECT_EQ(g.post_author[g.posts.At(100)], g.accounts.At(2));
  EXPECT_EQ(g.engagements.Degree(g.accounts.At(4)), 1u);
  EXPECT_EQ(g.following.times[g.following.Begin(g.accounts.At(2))], 20u);
  // The same graph whatever the thread count.
  IngestConfig one_thread;
  one_thread.threads = 1;
  EXPECT_EQ(Ingest(files, one_thread, nullptr, changes), g);
}

}  // namespace
}  // namespace gr::graph

namespace gr::graph {
namespace {

TEST(IngestMemoryTest, RepeatedLinesTakeNoMemoryPerLine) {
  // 20M copies of one line, 200 KB gzipped: ingest folded every parsed line
  // into memory first (1.4 GB at its peak); now a run of repeats is one record.
  const std::string path = ::gr::testing::TempPath("repeated.tsv.gz");
  gzFile gz = gzopen(path.c_str(), "wb1");
  ASSERT_NE(gz, nullptr);
  std::string chunk;
  for (int i = 0; i < 100000; ++i) chunk += "1\t2\t1700000000\n";
  for (int i = 0; i < 200; ++i) gzwrite(gz, chunk.data(), static_cast<unsigned>(chunk.size()));
  gzclose(gz);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  IngestReport report;
  const SocialGraph g = Ingest({.follows = path}, {}, &report);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(report.files[0].lines, 20'000'000u);
  EXPECT_EQ(report.files[0].records, 20'000'000u);
  EXPECT_EQ(report.follow_duplicates_merged, 19'999'999u);
  ASSERT_EQ(g.following.num_edges(), 1u);
  EXPECT_EQ(g.following.Weight(0), 16777216.0f);  // summed one line at a time, as float does
  std::printf("peak RSS grew by %ld MB\n", (after.ru_maxrss - before.ru_maxrss) / 1024);
  // 480 MB of records and as much of rows before; an ASan build adds its quarantine.
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 400 * 1024) << "peak grew by " << (after.ru_maxrss - before.ru_maxrss) / 1024 << " MB";
}

TEST(IngestMemoryTest, FoldedRepeatsGiveTheSameGraphAsSeparateLines) {
  // The same multiset of lines, repeats adjacent (folded) or interleaved (not):
  // decayed weights summed in float must come out bit for bit the same.
  std::string runs, interleaved;
  for (int copy = 0; copy < 7; ++copy) runs += "5\t900\tlike\t1700000000\t30\n";
  for (int copy = 0; copy < 5; ++copy) runs += "5\t901\tclick\t1699990000\t10\n";
  for (int copy = 0; copy < 7; ++copy) {
    interleaved += "5\t900\tlike\t1700000000\t30\n";
    if (copy < 5) interleaved += "5\t901\tclick\t1699990000\t10\n";
  }
  const std::string follows = ::gr::testing::WriteTextFile("mem-f.tsv", "5\t6\t1\n");
  for (int threads : {1, 3}) {
    IngestConfig config;
    config.threads = threads;
    IngestReport a, b;
    const SocialGraph folded =
        Ingest({.follows = follows, .interactions = ::gr::testing::WriteTextFile("mem-runs.tsv", runs)}, config, &a);
    const SocialGraph separate = Ingest(
        {.follows = follows, .interactions = ::gr::testing::WriteTextFile("mem-mixed.tsv", interleaved)}, config, &b);
    EXPECT_EQ(folded, separate);
    EXPECT_EQ(a.interaction_duplicates_merged, 10u);
    EXPECT_EQ(b.interaction_duplicates_merged, 10u);
    EXPECT_EQ(folded.engagements.dwell_ms[0], 7u * 30u);
  }
  // Kept duplicates are never folded: one edge per line.
  IngestConfig keep;
  keep.duplicates = DuplicatePolicy::kKeep;
  const SocialGraph kept =
      Ingest({.follows = follows, .interactions = ::gr::testing::WriteTextFile("mem-keep.tsv", runs)}, keep);
  EXPECT_EQ(kept.engagements.num_edges(), 12u);
}

}  // namespace
}  // namespace gr::graph

namespace gr::graph {
namespace {

TEST(EdgeListGraphTest, ArraysGiveTheGraphTheirFileGives) {
  const std::string path = ::gr::testing::WriteTextFile("arrays.txt", "5 9 2\n9 5 1\n7 5 0.5\n5 9 1\n7 7 3\n");
  const std::vector<ExternalId> src{5, 9, 7, 5, 7}, dst{9, 5, 5, 9, 7};
  const std::vector<float> weights{2, 1, 0.5f, 1, 3};
  for (const bool directed : {false, true}) {
    IngestReport from_file, from_arrays;
    const SocialGraph expected = LoadEdgeList(path, directed, {}, &from_file);
    EXPECT_EQ(EdgeListGraph(src, dst, weights, directed, {}, &from_arrays), expected) << "directed " << directed;
    EXPECT_EQ(from_arrays.follow_self_loops_dropped, 1u);
    EXPECT_EQ(from_arrays.follow_duplicates_merged, from_file.follow_duplicates_merged);
  }
  const SocialGraph unweighted = EdgeListGraph(src, dst, {}, /*directed=*/true);
  EXPECT_EQ(unweighted.num_accounts(), 3u);
  EXPECT_NE(::gr::testing::ErrorOf([&] { EdgeListGraph(src, {dst.data(), 4}, {}, true); }).find("src has 5 ids but dst 4"),
            std::string::npos);
  const std::vector<float> bad{1, 1, -1, 1, 1};
  EXPECT_NE(::gr::testing::ErrorOf([&] { EdgeListGraph(src, dst, bad, true); }).find("edge 2 (7 -> 5): weight -1"),
            std::string::npos);
}

}  // namespace
}  // namespace gr::graph

namespace gr::graph {
namespace {

TEST(HeaderPolicyTest, LineOneIsAHeaderOnlyWhereThePolicySays) {
  const std::string numeric = ::gr::testing::WriteTextFile("h-numeric.txt", "5 6\n6 7\n");
  const std::string named = ::gr::testing::WriteTextFile("h-named.txt", "src dst\n6 7\n");
  IngestReport report;
  EXPECT_EQ(LoadEdgeList(numeric, true, {.header = HeaderPolicy::kAuto}, &report).following.num_edges(), 2u);
  EXPECT_FALSE(report.files[0].header);
  EXPECT_EQ(LoadEdgeList(numeric, true, {.header = HeaderPolicy::kYes}, &report).following.num_edges(), 1u);
  EXPECT_TRUE(report.files[0].header) << "yes: skipped although it looks like data";
  EXPECT_EQ(LoadEdgeList(named, true, {.header = HeaderPolicy::kAuto}, &report).following.num_edges(), 1u);
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadEdgeList(named, true, {.header = HeaderPolicy::kNo}); })
                .find(":1: bad src 'src'"),
            std::string::npos);
  // A guessed header followed by more non-numeric ids: the error says what was guessed.
  const std::string strings = ::gr::testing::WriteTextFile("h-strings.txt", "alice bob\nbob carol\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadEdgeList(strings, true, {}); }).find("line 1 was taken as a header"),
            std::string::npos);
}

TEST(StringIdsTest, NamesGetIdsInOrderOfFirstAppearance) {
  const std::string path =
      ::gr::testing::WriteTextFile("names.txt", "# people\nalice bob\nbob carol 2.5\nalice bob\ncarol carol\n");
  std::vector<std::string> names;
  IngestReport report;
  const SocialGraph g = LoadEdgeListWithStringIds(path, /*directed=*/true, {.header = HeaderPolicy::kNo}, &names, &report);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(g.num_accounts(), 3u);
  EXPECT_EQ(g.following.num_edges(), 2u);  // a duplicate merged, a self-loop dropped
  EXPECT_EQ(report.follow_duplicates_merged, 1u);
  EXPECT_EQ(report.follow_self_loops_dropped, 1u);
  EXPECT_EQ(report.files.at(0).records, 4u);
  const VertexId bob = g.accounts.Find(1);
  EXPECT_FLOAT_EQ(g.following.weights[g.following.Begin(bob)], 2.5f);
  // The header must be stated; a header line is then skipped.
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadEdgeListWithStringIds(path, true, {}, &names); }).find("--header yes or"),
            std::string::npos);
  const std::string headed = ::gr::testing::WriteTextFile("names-h.txt", "from to\nx y\n");
  LoadEdgeListWithStringIds(headed, false, {.header = HeaderPolicy::kYes}, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"x", "y"}));
  const std::string bad = ::gr::testing::WriteTextFile("names-bad.txt", "x y z w\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadEdgeListWithStringIds(bad, false, {.header = HeaderPolicy::kNo}, &names); })
                .find("names-bad.txt:1: expected 2-3 fields"),
            std::string::npos);
}

}  // namespace
}  // namespace gr::graph
