// The input files read by every rank at once (1, 2 and 4 ranks): each rank's
// part equals what rank 0 would scatter from graph::Ingest's whole graph,
// weights bit for bit; bad input fails every rank with the place named.
#include "dist/partitioned_ingest.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "graph/graph_parts.h"
#include "graph/snapshot.h"
#include "graph/social_graph.h"
#include "tests/dist/dist_test_util.h"
#include "tests/test_util.h"

namespace gr::dist {
namespace {

using ::gr::testing::ErrorOf;

void ExpectSameLists(const PartitionedLists& got, const PartitionedLists& expected) {
  EXPECT_EQ(got.offsets, expected.offsets);
  EXPECT_EQ(got.targets, expected.targets);
  EXPECT_EQ(got.weights, expected.weights);  // exact: the same sums in the same order
}

// `in` holds what rank 0 scatters of `whole` (read on rank 0 only).
void ExpectTheWholeGraphsPart(const PartitionedInput& in, const graph::SocialGraph& whole) {
  const bool root = Rank(MPI_COMM_WORLD) == 0;
  const PartitionedFollows follows = ScatterFollowsFromRoot(root ? &whole : nullptr, MPI_COMM_WORLD);
  const PartitionedPosts posts = ScatterPostsFromRoot(root ? &whole : nullptr, follows, true, MPI_COMM_WORLD);
  EXPECT_EQ(in.follows.accounts, follows.accounts);
  for (const auto& [got, expected] : {std::pair{&in.follows.following_offsets, &follows.following_offsets},
                                      std::pair{&in.follows.followers_offsets, &follows.followers_offsets}})
    EXPECT_EQ(*got, *expected);
  for (const auto& [got, expected] :
       {std::pair{&in.follows.followees, &follows.followees}, std::pair{&in.follows.followers, &follows.followers}})
    EXPECT_EQ(*got, *expected);
  for (const auto& [got, expected] : {std::pair{&in.follows.followee_weights, &follows.followee_weights},
                                      std::pair{&in.follows.follower_weights, &follows.follower_weights}})
    EXPECT_EQ(*got, *expected);  // exact: the same sums in the same order
  ExpectSameLists(in.posts.interacts, posts.interacts);
  ExpectSameLists(in.posts.authored, posts.authored);
  EXPECT_EQ(in.posts.posts, posts.posts);
  ExpectSameLists(in.posts.engaged_by, posts.engaged_by);
  ExpectSameLists(in.posts.authored_by, posts.authored_by);
  uint64_t reference_time = root ? static_cast<uint64_t>(whole.reference_time) : 0;
  BroadcastFromRoot(std::span(&reference_time, 1), MPI_COMM_WORLD);
  EXPECT_EQ(static_cast<uint64_t>(in.report.reference_time), reference_time);
}

// The ranks' graph parts, each saved as a snapshot in `dir` and merged on
// rank 0, are `whole` (read on rank 0 only), field for field.
void ExpectThePartsMergeToTheWholeGraph(const PartitionedInput& in, const graph::SocialGraph& whole,
                                        const std::string& dir) {
  const int me = Rank(MPI_COMM_WORLD), ranks = Size(MPI_COMM_WORLD);
  EXPECT_EQ(in.graph_part.part, (Shard{.index = static_cast<uint32_t>(me), .count = static_cast<uint32_t>(ranks)}));
  // Each follow and interaction is in one part's following and engagements.
  uint64_t edges[2] = {in.graph_part.following.num_edges(), in.graph_part.engagements.num_edges()};
  MPI_Allreduce(MPI_IN_PLACE, edges, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (me == 0) {
    EXPECT_EQ(edges[0], whole.following.num_edges());
    EXPECT_EQ(edges[1], whole.engagements.num_edges());
  }
  const std::string path = dir + "/part-" + std::to_string(me) + ".snap";
  graph::SaveSnapshot(in.graph_part, path);
  // Read back (a resumed batch): the lists as the ingest gave them.
  const PartitionedInput again =
      ReadGraphPart(path, {.with_posts = true, .post_weights = true, .keep_graph_part = true}, MPI_COMM_WORLD);
  EXPECT_EQ(again.follows.accounts, in.follows.accounts);
  EXPECT_EQ(again.follows.following_offsets, in.follows.following_offsets);
  EXPECT_EQ(again.follows.followees, in.follows.followees);
  EXPECT_EQ(again.follows.followers, in.follows.followers);
  EXPECT_EQ(again.follows.followee_weights, in.follows.followee_weights);
  EXPECT_EQ(again.follows.follower_weights, in.follows.follower_weights);
  EXPECT_EQ(again.follows.followee_times, in.follows.followee_times);
  EXPECT_EQ(again.posts.posts, in.posts.posts);
  for (const auto& [got, expected] : {std::pair{&again.posts.interacts, &in.posts.interacts},
                                      std::pair{&again.posts.authored, &in.posts.authored},
                                      std::pair{&again.posts.engaged_by, &in.posts.engaged_by},
                                      std::pair{&again.posts.authored_by, &in.posts.authored_by}}) {
    ExpectSameLists(*got, *expected);
    EXPECT_EQ(got->times, expected->times);
  }
  EXPECT_EQ(again.report.reference_time, in.report.reference_time);
  EXPECT_EQ(again.graph_part, in.graph_part);
  MPI_Barrier(MPI_COMM_WORLD);
  if (me != 0) return;
  std::vector<graph::SocialGraph> parts;
  for (int k = 0; k < ranks; ++k) parts.push_back(graph::LoadSnapshot(dir + "/part-" + std::to_string(k) + ".snap"));
  const graph::SocialGraph merged = graph::MergeGraphParts(parts);
  EXPECT_EQ(merged.accounts, whole.accounts);
  EXPECT_EQ(merged.posts, whole.posts);
  EXPECT_EQ(merged.following, whole.following);
  EXPECT_EQ(merged.followers, whole.followers);
  EXPECT_EQ(merged.engagements, whole.engagements);
  EXPECT_EQ(merged.engagers, whole.engagers);
  EXPECT_EQ(merged.authored, whole.authored);
  EXPECT_EQ(merged.post_author, whole.post_author);
  EXPECT_EQ(merged.post_time, whole.post_time);
  EXPECT_EQ(merged, whole);
}

// A rank given another rank's part (or a whole graph) is refused, on every rank.
TEST(IngestPartitioned, AGraphPartOfAnotherRankIsRefused) {
  const graph::InputFiles files = MessyWorld("dist_ingest_wrong_part");
  const PartitionedInput in = IngestPartitioned(files, {}, {.keep_graph_part = true}, MPI_COMM_WORLD);
  const std::string dir = SharedDir("dist_wrong_part");
  const int me = Rank(MPI_COMM_WORLD), ranks = Size(MPI_COMM_WORLD);
  graph::SaveSnapshot(in.graph_part, dir + "/part-" + std::to_string(me) + ".snap");
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string theirs = dir + "/part-" + std::to_string((me + 1) % ranks) + ".snap";
  if (ranks > 1) {
    const std::string error = ErrorOf([&] { ReadGraphPart(theirs, {}, MPI_COMM_WORLD); });
    EXPECT_NE(error.find("holds graph shard-" + std::to_string((me + 1) % ranks) + "-of-" + std::to_string(ranks) +
                         ", not shard-" + std::to_string(me)),
              std::string::npos)
        << error;
  }
  const std::string missing = ErrorOf([&] { ReadGraphPart(dir + "/none.snap", {}, MPI_COMM_WORLD); });
  EXPECT_NE(missing.find("none.snap"), std::string::npos) << missing;
}

TEST(IngestPartitioned, EachRankHoldsWhatRootWouldScatterFromTheWholeGraph) {
  const graph::InputFiles files = MessyWorld("dist_ingest");
  const int me = Rank(MPI_COMM_WORLD);
  graph::SocialGraph whole;
  graph::IngestReport whole_report;
  if (me == 0) whole = graph::Ingest(files, {}, &whole_report);
  // Small blocks and two threads: ranges of several blocks, parsed in parts.
  const PartitionedInput in =
      IngestPartitioned(files, {.threads = 2, .block_bytes = 4096},
                        {.with_posts = true, .post_weights = true, .keep_graph_part = true}, MPI_COMM_WORLD);
  ExpectTheWholeGraphsPart(in, whole);
  ExpectThePartsMergeToTheWholeGraph(in, whole, SharedDir("dist_ingest_parts"));
  // The follow repeated three times weighs 3, so every part has weights.
  EXPECT_FALSE(in.follows.followee_weights.empty());
  if (Size(MPI_COMM_WORLD) > 1) {
    EXPECT_GT(in.follows.bytes_sent, 0u);
  }
  // Every line was read by one rank: the summed counts are one reader's.
  uint64_t shape[2] = {static_cast<uint64_t>(whole_report.reference_time), whole_report.files.size()};
  BroadcastFromRoot(std::span(shape), MPI_COMM_WORLD);
  EXPECT_EQ(static_cast<uint64_t>(in.report.reference_time), shape[0]);
  ASSERT_EQ(in.report.files.size(), shape[1]);
  for (size_t i = 0; i < in.report.files.size(); ++i) {
    const graph::FileReport& f = in.report.files[i];
    uint64_t expected[4] = {0, 0, 0, 0};
    if (me == 0) {
      const graph::FileReport& w = whole_report.files[i];
      expected[0] = w.lines, expected[1] = w.records, expected[2] = w.skipped_lines, expected[3] = w.header;
    }
    BroadcastFromRoot(std::span(expected), MPI_COMM_WORLD);
    EXPECT_EQ(f.lines, expected[0]) << f.path;
    EXPECT_EQ(f.records, expected[1]) << f.path;
    EXPECT_EQ(f.skipped_lines, expected[2]) << f.path;
    EXPECT_EQ(f.header ? 1u : 0u, expected[3]) << f.path;
  }
  // Without the post relations: the same follows, no posts.
  const PartitionedInput follows_only = IngestPartitioned(files, {}, {}, MPI_COMM_WORLD);
  EXPECT_EQ(follows_only.follows.followees, in.follows.followees);
  EXPECT_TRUE(follows_only.posts.posts.empty());
}

// The first data line's tab-separated numbers of `path`.
std::vector<ExternalId> FirstRecord(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  std::getline(in, line);
  std::vector<ExternalId> fields;
  for (size_t start = 0; start < line.size();) {
    const size_t end = std::min(line.find('\t', start), line.size());
    if (std::isdigit(static_cast<unsigned char>(line[start]))) fields.push_back(std::stoull(line.substr(start, end - start)));
    start = end + 1;
  }
  return fields;
}

TEST(IngestPartitioned, TheEventLogsChangesAsIngestAppliesThem) {
  const graph::InputFiles files = MessyWorld("dist_ingest_changes");
  using Kind = graph::GraphChange::Kind;
  const std::vector<ExternalId> follow = FirstRecord(files.follows), post = FirstRecord(files.posts);
  const ExternalId a = follow[0], b = follow[1], p = post[0], author = post[1];
  constexpr ExternalId kNew = 990000000, kNewPost = 880000000;
  const std::vector<graph::GraphChange> changes = {
      // The follow the world repeats, far apart in the file: every copy goes.
      {.kind = Kind::kUnfollow, .time = 1700000100, .actor = a, .object = b},
      // A new follow, newer than every file's time: every rank's weights decay to it.
      {.kind = Kind::kFollow, .time = 1800000100, .actor = kNew + 1, .object = kNew + 2},
      // Newer still, but undone: not the reference.
      {.kind = Kind::kFollow, .time = 1900000000, .actor = kNew + 3, .object = a},
      {.kind = Kind::kUnfollow, .time = 1900000001, .actor = kNew + 3, .object = a},
      {.kind = Kind::kFollow, .time = 1700000200, .actor = b, .object = a},
      {.kind = Kind::kInteraction, .interaction = 1, .time = 1700000300, .actor = kNew + 4, .object = p},
      {.kind = Kind::kInteraction, .interaction = 0, .time = 1700000301, .actor = a, .object = p},
      // A known post keeps its author; a new one takes its first.
      {.kind = Kind::kPost, .time = 1700000400, .actor = a == author ? b : a, .object = p},
      {.kind = Kind::kPost, .time = 1700000500, .actor = kNew + 5, .object = kNewPost},
      {.kind = Kind::kPost, .time = 1700000501, .actor = b, .object = kNewPost},
      {.kind = Kind::kPost, .time = 1700000600, .actor = a, .object = kNewPost + 1},
      {.kind = Kind::kAccount, .time = 1700000700, .actor = kNew + 6},
  };
  graph::SocialGraph whole;
  if (Rank(MPI_COMM_WORLD) == 0) {
    whole = graph::Ingest(files, {}, nullptr, changes);
    ASSERT_EQ(whole.reference_time, 1800000100);
    ASSERT_NE(whole.accounts.Find(kNew + 6), kNoVertex);
  }
  const PartitionedInput in = IngestPartitioned(
      files, {}, {.with_posts = true, .post_weights = true, .keep_graph_part = true}, MPI_COMM_WORLD, changes);
  ExpectTheWholeGraphsPart(in, whole);
  ExpectThePartsMergeToTheWholeGraph(in, whole, SharedDir("dist_ingest_changes_parts"));
  EXPECT_EQ(in.report.changes, changes.size());
}

// A malformed line fails every rank: the one that read it names the file
// and the line's byte (line numbers before a rank's range are unknown).
TEST(IngestPartitioned, ABadLineFailsEveryRankNamingFileAndByte) {
  const std::string dir = SharedDir("dist_ingest_bad");
  const std::string path = dir + "/follows.tsv";
  std::string good = "follower_id\tfollowee_id\n";
  for (int i = 1; i < 400; ++i) good += std::to_string(i) + "\t" + std::to_string(i + 1) + "\n";
  if (Rank(MPI_COMM_WORLD) == 0) std::ofstream(path) << good << "4\tfive\n" << good.substr(24);
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    IngestPartitioned({.follows = path}, {}, {}, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    const bool named = message.find(BadLinePlace(path, 401, good.size()) + "bad followee_id") != std::string::npos;
    EXPECT_TRUE(named || message.find("another rank failed: reading the input files") != std::string::npos)
        << message;
    int mine = named ? 1 : 0, namers = 0;
    MPI_Allreduce(&mine, &namers, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(namers, 1);
  }
}

// A post given two authors in lines far apart (read by different ranks)
// is found on the post's owner; a missing file is named; a gzip file
// cannot be split by ranks.
TEST(IngestPartitioned, APostWithTwoAuthorsAndAGzipFileAreRefused) {
  const std::string dir = SharedDir("dist_ingest_posts");
  const graph::InputFiles files{.follows = dir + "/follows.tsv", .posts = dir + "/posts.tsv"};
  if (Rank(MPI_COMM_WORLD) == 0) {
    std::ofstream follows(files.follows), posts(files.posts);
    posts << "900\t1\n";
    for (int i = 1; i < 300; ++i) {
      follows << i << "\t" << i + 1 << "\n";
      posts << 1000 + i << "\t" << i << "\n";
    }
    posts << "900\t2\n";
    gzFile gz = gzopen((dir + "/follows.tsv.gz").c_str(), "wb");
    gzputs(gz, "1\t2\n2\t3\n");
    gzclose(gz);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    IngestPartitioned(files, {}, {.with_posts = true}, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    const bool named = message.find("post 900 is given two authors, 1 and 2") != std::string::npos;
    EXPECT_TRUE(named || message.find("another rank failed: building the graph") != std::string::npos) << message;
    // Its owner holds both lines (a rank that owns both authors does too).
    if (OwnerOf(900, Size(MPI_COMM_WORLD)) == Rank(MPI_COMM_WORLD)) {
      EXPECT_TRUE(named) << message;
    }
  }
  // A file no rank can open is named on every rank.
  const std::string missing = ErrorOf([&] { IngestPartitioned({.follows = dir + "/none.tsv"}, {}, {}, MPI_COMM_WORLD); });
  EXPECT_NE(missing.find("cannot open " + dir + "/none.tsv"), std::string::npos) << missing;
  const graph::InputFiles zipped{.follows = dir + "/follows.tsv.gz"};
  if (Size(MPI_COMM_WORLD) == 1) {
    EXPECT_EQ(IngestPartitioned(zipped, {}, {}, MPI_COMM_WORLD).follows.accounts.size(), 3u);
  } else {
    try {
      IngestPartitioned(zipped, {}, {}, MPI_COMM_WORLD);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_TRUE(message.find("cannot be read in byte ranges") != std::string::npos ||
                  message.find("another rank failed") != std::string::npos)
          << message;
    }
  }
}

}  // namespace
}  // namespace gr::dist
