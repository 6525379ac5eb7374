#include "graph/snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::graph {
namespace {

using ::gr::testing::ReadBytes;
using ::gr::testing::TempPath;
using ::gr::testing::WriteBytes;
using ::gr::testing::WriteTextFile;

SocialGraph SmallWorld() {
  const auto follows = WriteTextFile("f.tsv", "1\t2\t10\n2\t1\t20\n3\t1\t30\n1\t1\t5\n4\t2\t50\n");
  const auto posts = WriteTextFile("p.tsv", "100\t2\t1\n101\t3\t2\n");
  const auto interactions =
      WriteTextFile("i.tsv", "1\t100\tclick\t40\t900\n1\t100\tlike\t41\n4\t101\tcomment\t45\n");
  return Ingest({.follows = follows, .interactions = interactions, .posts = posts}, {});
}

TEST(SnapshotTest, RoundTripIsExact) {
  const SocialGraph g = SmallWorld();
  const std::string path = TempPath("g.snap");
  SaveSnapshot(g, path);
  const SocialGraph loaded = LoadSnapshot(path);
  EXPECT_EQ(loaded, g);
  EXPECT_EQ(loaded.engagements.type_masks, g.engagements.type_masks);
  EXPECT_EQ(loaded.reference_time, 50);
}

TEST(SnapshotTest, EmptyAndUndirectedGraphsRoundTrip) {
  SocialGraph empty;
  empty.followers.offsets = {0};
  const std::string path = TempPath("empty.snap");
  SaveSnapshot(empty, path);
  EXPECT_EQ(LoadSnapshot(path), empty);

  const SocialGraph undirected =
      LoadEdgeList(WriteTextFile("e.txt", "1 2\n2 3\n5 5\n"), /*directed=*/false, {});
  SaveSnapshot(undirected, path);
  const SocialGraph loaded = LoadSnapshot(path);
  EXPECT_EQ(loaded, undirected);
  EXPECT_EQ(loaded.followers, loaded.following);
}

TEST(SnapshotTest, EveryTruncationIsRejectedAsCorruption) {
  const std::string path = TempPath("g.snap");
  SaveSnapshot(SmallWorld(), path);
  const std::string bytes = ReadBytes(path);
  const std::string cut = TempPath("cut.snap");
  for (size_t size = 0; size < bytes.size(); size += 7) {
    WriteBytes(cut, bytes.substr(0, size));
    try {
      LoadSnapshot(cut);
      ADD_FAILURE() << "truncated snapshot of " << size << " bytes loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
}

TEST(SnapshotTest, EveryBitFlipIsRejected) {
  const std::string path = TempPath("g.snap");
  SaveSnapshot(SmallWorld(), path);
  const std::string bytes = ReadBytes(path);
  const std::string flipped = TempPath("flip.snap");
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ (1 << (i % 8)));
    WriteBytes(flipped, copy);
    try {
      LoadSnapshot(flipped);
      ADD_FAILURE() << "snapshot with byte " << i << " flipped loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << "byte " << i << ": " << e.what();
    }
  }
}

TEST(SnapshotTest, InvalidStructureWithValidChecksumsIsRejected) {
  const std::string bad = TempPath("bad.snap");
  SaveSnapshot(SmallWorld(), bad);
  ::gr::testing::EditSectionPayload(bad, "following.targets", [](std::string& targets) {
    const uint32_t out_of_range = 99;
    std::memcpy(targets.data(), &out_of_range, 4);
  });
  try {
    LoadSnapshot(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("graph 'following'"), std::string::npos) << e.what();
  }
}

TEST(SnapshotTest, AGraphThatReadersWouldRejectIsNeverWritten) {
  SocialGraph g = SmallWorld();
  g.following.weights.assign(g.following.num_edges(), 1.0f);
  g.following.weights[0] = std::numeric_limits<float>::infinity();
  const std::string path = TempPath("refused.snap");
  std::filesystem::remove(path);
  const std::string message = ::gr::testing::ErrorOf([&] { SaveSnapshot(g, path); });
  EXPECT_NE(message.find("refusing to write snapshot"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SnapshotTest, OtherFileTypeIsNamed) {
  const std::string path = WriteTextFile("not.snap", "follower\tfollowee\n1\t2\n");
  try {
    LoadSnapshot(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a graphrec snapshot file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gr::graph
