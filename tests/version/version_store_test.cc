#include "version/version_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "embed/skip_gram.h"
#include "graph/graph_parts.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"
#include "ranking/ranker.h"
#include "tests/test_util.h"

namespace gr::version {
namespace {

namespace fs = std::filesystem;
using ::gr::testing::CodeOf;

// A tiny graph (two triangles joined by one follow) with trained vectors and indices.
struct Contents {
  graph::SocialGraph g;
  embed::EmbeddingTable table;
  recall::RecallIndexes indexes;
};

Contents TinyContents() {
  Contents c;
  const std::string follows =
      ::gr::testing::WriteTextFile("f.tsv", "1\t2\n2\t3\n3\t1\n4\t5\n5\t6\n6\t4\n3\t4\n");
  c.g = graph::Ingest({.follows = follows}, {});
  embed::SkipGramConfig train;
  train.dim = 8;
  c.table = embed::EmbedWalks(c.g, {.walk_length = 10, .walks_per_vertex = 4, .threads = 1}, train);
  c.indexes = recall::BuildRecallIndexes(c.g, c.table, {.kind = recall::IndexKind::kExact},
                                         {}, {.authors = false, .posts = false});
  return c;
}

TEST(VersionLayoutTest, VersionNamesArePlainDirectoryNames) {
  for (const std::string bad : {"", "a/b", ".work", "..", "/abs"})
    EXPECT_EQ(CodeOf([&] { VersionDir("artifacts", bad); }), ErrorCode::kInvalidArgument) << "'" << bad << "'";
  EXPECT_EQ(VersionDir("artifacts", "v1"), "artifacts/v1");
  EXPECT_STREQ(IndexFileName(IndexFile::kPosts), "posts.hnsw");
}

// A fresh directory for this test (reruns start clean).
std::string FreshDir(const std::string& name) {
  const std::string dir = ::gr::testing::TempPath(name);
  fs::remove_all(dir);
  return dir;
}

TEST(VersionStoreTest, WrittenVersionLoadsOnlyOncePublished) {
  const std::string artifacts = FreshDir("artifacts");
  const Contents c = TinyContents();
  EXPECT_EQ(ReadCurrentVersion(artifacts), "");
  WriteVersion(artifacts, "v1", c.g, c.table, c.indexes, R"({"version": "v1"})");
  EXPECT_EQ(ReadCurrentVersion(artifacts), "") << "writing must not publish";
  PublishVersion(artifacts, "v1");
  ASSERT_EQ(ReadCurrentVersion(artifacts), "v1");
  const LoadedVersion loaded = LoadVersion(artifacts, "v1");
  EXPECT_EQ(loaded.version, "v1");
  EXPECT_EQ(loaded.manifest_json, R"({"version": "v1"})");
  EXPECT_EQ(loaded.graph.num_accounts(), 6u);
  EXPECT_EQ(loaded.table, c.table);
  ASSERT_NE(loaded.indexes.accounts, nullptr);
  EXPECT_EQ(loaded.indexes.authors, nullptr);
  EXPECT_EQ(loaded.ranker, nullptr);
  // The live version cannot be overwritten, and a missing one cannot go live.
  EXPECT_EQ(CodeOf([&] { WriteVersion(artifacts, "v1", c.g, c.table, c.indexes, "{}"); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { PublishVersion(artifacts, "v9"); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { LoadVersion(artifacts, "v9"); }), ErrorCode::kNotFound);
}

// A version whose graph is in parts (as `mpirun graphrec batch` writes it,
// one per rank) loads as the whole graph; a missing or misplaced part is named.
TEST(VersionStoreTest, AGraphInPartsLoadsWhole) {
  const std::string artifacts = FreshDir("artifacts");
  const Contents c = TinyContents();
  WriteVersion(artifacts, "v1", c.g, c.table, c.indexes, "{}");
  const std::string dir = VersionDir(artifacts, "v1");
  fs::remove(PathIn(dir, kGraphFile));
  EXPECT_EQ(CodeOf([&] { LoadGraph(dir); }), ErrorCode::kNotFound);
  for (uint32_t k = 0; k < 3; ++k) {
    const Shard part{.index = k, .count = 3};
    fs::create_directories(fs::path(GraphPartPath(dir, part)).parent_path());
    graph::SaveSnapshot(graph::CutGraphPart(c.g, part), GraphPartPath(dir, part));
  }
  EXPECT_EQ(GraphPartPath(dir, {.index = 1, .count = 3}), dir + "/shard-1-of-3/graph.snap");
  EXPECT_EQ(LoadGraph(dir), c.g);
  EXPECT_EQ(LoadVersion(artifacts, "v1").graph, c.g);

  // Part 1 saved in part 2's place.
  const std::string part2 = GraphPartPath(dir, {.index = 2, .count = 3});
  graph::SaveSnapshot(graph::CutGraphPart(c.g, {.index = 1, .count = 3}), part2);
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadGraph(dir); }).find("holds graph shard-1-of-3, not shard-2-of-3"),
            std::string::npos);
  fs::remove(part2);
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadGraph(dir); }).find("graph part " + part2 + " is missing"),
            std::string::npos);
  // Parts of two cuts.
  graph::SaveSnapshot(graph::CutGraphPart(c.g, {.index = 2, .count = 3}), part2);
  const std::string other = GraphPartPath(dir, {.index = 0, .count = 2});
  fs::create_directories(fs::path(other).parent_path());
  graph::SaveSnapshot(graph::CutGraphPart(c.g, {.index = 0, .count = 2}), other);
  EXPECT_EQ(CodeOf([&] { LoadGraph(dir); }), ErrorCode::kCorruption);
  // A whole graph.snap is the graph, whatever parts lie beside it.
  graph::SaveSnapshot(c.g, PathIn(dir, kGraphFile));
  EXPECT_EQ(LoadGraph(dir), c.g);
}

TEST(VersionStoreTest, CurrentNamingSomethingElseIsCorruption) {
  const std::string artifacts = FreshDir("artifacts");
  fs::create_directories(artifacts);
  std::ofstream(PathIn(artifacts, kCurrentFile)) << "../elsewhere\n";
  EXPECT_EQ(CodeOf([&] { ReadCurrentVersion(artifacts); }), ErrorCode::kCorruption);
  // Its content is quoted short and without control bytes, whatever it holds.
  std::ofstream(PathIn(artifacts, kCurrentFile)) << "\x1b[2J" << std::string(100000, 'v') << "\n";
  const std::string message = ::gr::testing::ErrorOf([&] { ReadCurrentVersion(artifacts); });
  EXPECT_NE(message.find("'\\x1b[2Jvvv"), std::string::npos) << message.substr(0, 200);
  EXPECT_LT(message.size(), 500u);
}

TEST(VersionStoreTest, PruningKeepsTheNewestAndTheLiveVersion) {
  const std::string artifacts = FreshDir("artifacts");
  const Contents c = TinyContents();
  for (const std::string v : {"v1", "v2", "v3", "v4"}) {
    WriteVersion(artifacts, v, c.g, c.table, c.indexes, "{}");
    // Manifests' modification times order the versions.
    fs::last_write_time(PathIn(VersionDir(artifacts, v), kManifestFile),
                        fs::file_time_type::clock::now() + std::chrono::seconds(v[1] - '0'));
  }
  fs::create_directories(PathIn(artifacts, kWorkDir));  // no manifest: never a version
  PublishVersion(artifacts, "v1");
  EXPECT_EQ(ListVersions(artifacts), (std::vector<std::string>{"v4", "v3", "v2", "v1"}));
  RemoveOldVersions(artifacts, 2);
  EXPECT_EQ(ListVersions(artifacts), (std::vector<std::string>{"v4", "v3", "v1"}));  // v1 is live
  EXPECT_TRUE(fs::exists(PathIn(artifacts, kWorkDir)));
}

TEST(VersionStoreTest, IndexDirectoryDropsStaleIndexFiles) {
  const std::string dir = FreshDir("indexes");
  Contents c = TinyContents();
  recall::RecallIndexes with_authors = recall::BuildRecallIndexes(
      c.g, c.table, {.kind = recall::IndexKind::kExact}, {}, {.authors = true, .posts = false});
  SaveIndexes(with_authors, dir);
  EXPECT_NE(LoadIndexes(dir).authors, nullptr);
  SaveIndexes(c.indexes, dir);  // no authors index now
  EXPECT_EQ(LoadIndexes(dir).authors, nullptr);
  fs::remove(PathIn(dir, IndexFileName(IndexFile::kAccounts)));
  EXPECT_EQ(CodeOf([&] { LoadIndexes(dir); }), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace gr::version

namespace gr::version {
namespace {

TEST(ManifestTest, EventLogWatermarkOrZero) {
  EXPECT_EQ(EventLogWatermarkOf(R"({"version": "v", "event_log_watermark": 42})"), 42u);
  EXPECT_EQ(EventLogWatermarkOf(R"({"event_log_watermark": 18446744073709551615})"), UINT64_MAX);
  for (const char* none : {"", "{", "[1, 2]", R"({"event_log_watermark": -1})", R"({"event_log_watermark": "7"})",
                           R"({"event_log_watermark": 1.5})", R"({"version": "v"})"})
    EXPECT_EQ(EventLogWatermarkOf(none), 0u) << none;
}

}  // namespace
}  // namespace gr::version
