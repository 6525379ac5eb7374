#include "core/binary_io.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "tests/test_util.h"

namespace gr {
namespace {

constexpr uint32_t kMagic = 0x54534554;  // "TEST"

void WriteSample(const std::string& path) {
  SectionWriter out(path, kMagic, 3);
  out.Add("numbers", std::vector<uint32_t>{1, 2, 3, 4});
  out.AddString("meta", "{\"a\":1}");
  out.Add("empty", std::vector<double>{});
  out.Commit();
}

using ::gr::testing::ReadBytes;
using ::gr::testing::TempPath;
using ::gr::testing::WriteBytes;

void ReadSample(const std::string& path) {
  SectionReader in(path, kMagic, "test");
  in.Read<uint32_t>("numbers");
  in.ReadString("meta");
  in.Read<double>("empty");
  in.ExpectEnd();
}

TEST(BinaryIoTest, RoundTrip) {
  const std::string path = TempPath("roundtrip.bin");
  WriteSample(path);
  SectionReader in(path, kMagic, "test");
  EXPECT_EQ(in.version(), 3u);
  EXPECT_EQ(in.Read<uint32_t>("numbers"), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(in.ReadString("meta"), "{\"a\":1}");
  EXPECT_TRUE(in.Read<double>("empty").empty());
  EXPECT_NO_THROW(in.ExpectEnd());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(BinaryIoTest, UncommittedWriterLeavesNoFile) {
  const std::string path = TempPath("never.bin");
  std::filesystem::remove(path);
  {
    SectionWriter out(path, kMagic, 1);
    out.Add("numbers", std::vector<uint32_t>{1});
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(BinaryIoTest, WrongSectionNameOrTypeIsCorruption) {
  const std::string path = TempPath("names.bin");
  WriteSample(path);
  {
    SectionReader in(path, kMagic, "test");
    EXPECT_THROW(in.Read<uint32_t>("other"), Error);
  }
  SectionReader in(path, kMagic, "test");
  EXPECT_THROW(in.Read<uint64_t>("numbers"), Error);
}

TEST(BinaryIoTest, WrongMagicSaysWhatFileIsExpected) {
  const std::string path = TempPath("magic.bin");
  WriteSample(path);
  try {
    SectionReader in(path, kMagic + 1, "graphrec snapshot");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("not a graphrec snapshot file"), std::string::npos);
  }
}

TEST(BinaryIoTest, EveryTruncationIsRejected) {
  const std::string path = TempPath("trunc.bin");
  WriteSample(path);
  const std::string bytes = ReadBytes(path);
  const std::string cut = TempPath("trunc_cut.bin");
  for (size_t size = 0; size < bytes.size(); ++size) {
    WriteBytes(cut, bytes.substr(0, size));
    try {
      ReadSample(cut);
      ADD_FAILURE() << "truncation to " << size << " bytes accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << size << ": " << e.what();
    }
  }
}

TEST(BinaryIoTest, EveryBitFlipIsRejected) {
  const std::string path = TempPath("flip.bin");
  WriteSample(path);
  const std::string bytes = ReadBytes(path);
  const std::string flipped = TempPath("flip_one.bin");
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string copy = bytes;
      copy[i] = static_cast<char>(copy[i] ^ (1 << bit));
      WriteBytes(flipped, copy);
      EXPECT_THROW(ReadSample(flipped), Error) << "flip of bit " << bit << " of byte " << i;
    }
  }
}

TEST(BinaryIoTest, HugeDeclaredCountFailsBeforeAllocating) {
  const std::string path = TempPath("huge.bin");
  WriteSample(path);
  std::string bytes = ReadBytes(path);
  // First section: header 16 bytes, name length 4, "numbers" 7, element size 4, then count.
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(bytes.data() + 16 + 4 + 7 + 4, &huge, sizeof(huge));
  WriteBytes(path, bytes);
  try {
    ReadSample(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("declares"), std::string::npos) << e.what();
  }
}

TEST(BinaryIoTest, MissingFileIsIoError) {
  try {
    SectionReader in(TempPath("does_not_exist.bin"), kMagic, "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

}  // namespace
}  // namespace gr
