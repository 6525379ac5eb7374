#include "core/sequential_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/test_util.h"

namespace gr {
namespace {

// Bytes whose position is recoverable, so a dropped or repeated block shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return bytes;
}

TEST(SequentialFileTest, AppendsOfAnySizeArriveInOrderWithOrWithoutTheCache) {
  // Crosses the 8 MiB staging buffer several times and ends off a block boundary.
  const std::string content = Pattern((size_t{8} << 20) * 2 + 12345);
  for (const auto cache : {SequentialFileWriter::Cache::kBypass, SequentialFileWriter::Cache::kUse}) {
    const std::string path = ::gr::testing::TempPath("sequential.bin");
    std::filesystem::remove(path);
    SequentialFileWriter out(path, cache);
    size_t at = 0;
    for (size_t step = 1; at < content.size(); step = step * 3 + 1) {
      const size_t take = std::min(step, content.size() - at);
      out.Append(content.data() + at, take);
      at += take;
    }
    EXPECT_EQ(out.bytes_appended(), content.size());
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing under the final name before Publish
    out.Publish();
    EXPECT_EQ(::gr::testing::ReadBytes(path), content);
    EXPECT_FALSE(std::filesystem::exists(TempPathFor(path)));
  }
}

TEST(SequentialFileTest, EmptyAndTinyFilesArePublished) {
  for (const std::string& content : {std::string(), std::string("x\n")}) {
    const std::string path = ::gr::testing::TempPath("tiny.txt");
    SequentialFileWriter out(path);
    out.Append(content.data(), content.size());
    out.Publish();
    EXPECT_EQ(::gr::testing::ReadBytes(path), content);
  }
}

TEST(SequentialFileTest, UnpublishedWriterLeavesThePreviousFileAndNoTemporary) {
  const std::string path = ::gr::testing::TempPath("keep.txt");
  WriteFileAtomically(path, [](std::FILE* f) { std::fputs("old\n", f); });
  {
    SequentialFileWriter out(path);
    out.Append("half", 4);
  }
  EXPECT_EQ(::gr::testing::ReadBytes(path), "old\n");
  EXPECT_FALSE(std::filesystem::exists(TempPathFor(path)));
}

TEST(SequentialFileTest, UncreatableFileIsAnIoErrorNamingIt) {
  try {
    SequentialFileWriter out("/nonexistent-dir/walks.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/walks.txt"), std::string::npos);
  }
}

}  // namespace
}  // namespace gr
