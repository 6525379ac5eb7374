#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "core/error.h"
#include "tests/test_util.h"

namespace gr {
namespace {

TEST(AtomicFileTest, PublishesCompleteContent) {
  const std::string path = ::gr::testing::TempPath("out.txt");
  WriteFileAtomically(path, [](std::FILE* f) { std::fputs("hello\n", f); });
  EXPECT_EQ(::gr::testing::ReadBytes(path), "hello\n");
  EXPECT_FALSE(std::filesystem::exists(TempPathFor(path)));
}

TEST(AtomicFileTest, FailedWriteKeepsThePreviousFileAndNoTemporary) {
  const std::string path = ::gr::testing::TempPath("keep.txt");
  WriteFileAtomically(path, [](std::FILE* f) { std::fputs("old\n", f); });
  EXPECT_THROW(WriteFileAtomically(path, [](std::FILE* f) {
                 std::fputs("half", f);
                 throw std::runtime_error("crash mid-write");
               }),
               std::runtime_error);
  EXPECT_EQ(::gr::testing::ReadBytes(path), "old\n");
  EXPECT_FALSE(std::filesystem::exists(TempPathFor(path)));
}

TEST(AtomicFileTest, UnwritableDirectoryIsAnIoError) {
  try {
    WriteFileAtomically("/nonexistent-dir/x.txt", [](std::FILE*) {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

}  // namespace
}  // namespace gr
