// The text reader under every ingest: number parsing, line counting, and the
// block reader's plain (parallel pread), gzip and pipe paths.
#include "graph/internal/text_parse.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <charconv>
#include <random>
#include <thread>

#include "tests/test_util.h"

namespace gr::graph::internal {
namespace {

using ::gr::testing::ErrorOf;
using ::gr::testing::TempPath;
using ::gr::testing::WriteTextFile;

TEST(TextParseTest, ParseU64AcceptsDigitsUpToTheLargestValueOnly) {
  uint64_t value = 0;
  EXPECT_TRUE(ParseU64("0", &value));
  EXPECT_EQ(value, 0u);
  EXPECT_TRUE(ParseU64("18446744073709551615", &value));
  EXPECT_EQ(value, UINT64_MAX);
  EXPECT_TRUE(ParseU64("0000000000000000000000000042", &value));  // leading zeros, as from_chars
  EXPECT_EQ(value, 42u);
  for (const char* bad : {"", "18446744073709551616", "99999999999999999999", "+1", "-1", "1 ", " 1", "1x", "0x1"})
    EXPECT_FALSE(ParseU64(bad, &value)) << bad;
}

TEST(TextParseTest, ParseFloatMatchesFromCharsOnWholeNumbersAndDecimals) {
  // Whole numbers take an integer path; it must round exactly as from_chars.
  std::mt19937_64 rng(7);
  std::vector<std::string> texts = {"1", "16777217", "16777219", "1744091753", "9999999999999999999",
                                    "18446744073709551615", "0.5", "1e3", "3.25", "123456789012345678901"};
  for (int i = 0; i < 2000; ++i) texts.push_back(std::to_string(rng() >> (rng() % 64)));
  for (const std::string& text : texts) {
    float expected = 0, got = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), expected);
    ASSERT_EQ(ec, std::errc()) << text;
    ASSERT_TRUE(ParseFloat(text, &got)) << text;
    EXPECT_EQ(got, expected) << text;
  }
  float value = 0;
  for (const char* bad : {"", "inf", "nan", "1e999", "x", "1.5x"}) EXPECT_FALSE(ParseFloat(bad, &value)) << bad;
}

TEST(TextParseTest, CountNewlinesAtEveryAlignmentAndLength) {
  std::mt19937 rng(3);
  std::string text(300, 'a');
  for (char& c : text) c = "\n5\t,\x8a\x0a\xff"[rng() % 7];
  for (size_t begin = 0; begin < 9; ++begin) {
    for (size_t length = 0; begin + length <= text.size(); length += 7) {
      const std::string_view part = std::string_view(text).substr(begin, length);
      EXPECT_EQ(CountNewlines(part), static_cast<size_t>(std::count(part.begin(), part.end(), '\n')));
    }
  }
}

std::string ReadAll(const std::string& path, size_t block_bytes, int threads, ByteRange range = {}) {
  BlockReader reader(path, block_bytes, threads, range);
  std::string all;
  std::string_view block;
  while (reader.Next(&block)) {
    EXPECT_TRUE(block.back() == '\n' || all.size() + block.size() == reader.offset());
    all += block;
  }
  return all;
}

TEST(TextParseTest, BlockReaderGivesWholeLinesFromPlainGzipAndPipe) {
  std::string text;
  for (int i = 0; i < 40000; ++i) text += std::to_string(i) + "\t" + std::to_string(i * 7) + "\n";
  text += "last line without a newline";
  const std::string plain = WriteTextFile("blocks.tsv", text);
  const std::string zipped = TempPath("blocks.tsv.gz");
  gzFile gz = gzopen(zipped.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  for (int threads : {1, 2, 3}) {
    for (size_t block : {size_t{4096}, size_t{65536}, size_t{8} << 20}) {
      EXPECT_EQ(ReadAll(plain, block, threads), text) << threads << " threads, block " << block;
      EXPECT_EQ(ReadAll(zipped, block, threads), text) << threads << " threads, block " << block;
    }
  }
  // A pipe is not a regular file: it is read through zlib.
  const std::string fifo = TempPath("blocks.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { ::gr::testing::WriteBytes(fifo, text); });
  EXPECT_EQ(ReadAll(fifo, 4096, 2), text);
  writer.join();
  EXPECT_EQ(ReadAll(WriteTextFile("empty.tsv", ""), 4096, 2), "");
}

TEST(TextParseTest, ByteRangesSplitAFileIntoItsLinesOnceEach) {
  // Ranges that start and end anywhere (on a newline, just after one,
  // mid-line, past the end) together give every line exactly once: a line
  // is the range's that holds its first byte.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += std::to_string(i * 37) + "\t" + std::to_string(i) + "\n";
  text += "9\t9";  // the last line without a newline
  const std::string path = WriteTextFile("ranges.tsv", text);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<uint64_t> cuts = {0};
    const int pieces = 1 + static_cast<int>(rng() % 5);
    for (int p = 1; p < pieces; ++p) cuts.push_back(rng() % (text.size() + 1));
    if (trial % 3 == 0)  // at or just after a newline
      cuts.push_back(std::min<uint64_t>(text.find('\n', rng() % text.size()) + trial % 2, text.size()));
    std::sort(cuts.begin(), cuts.end());
    cuts.push_back(trial % 2 == 0 ? text.size() : UINT64_MAX);
    std::string joined;
    for (size_t p = 0; p + 1 < cuts.size(); ++p) {
      const std::string part = ReadAll(path, 4096, 1 + trial % 3, {cuts[p], cuts[p + 1]});
      // Each part's first line starts in its range, after a newline.
      if (!part.empty()) {
        EXPECT_GE(joined.size(), cuts[p]);
        EXPECT_LT(joined.size(), cuts[p + 1]);
        if (!joined.empty()) {
          EXPECT_EQ(joined.back(), '\n');
        }
      }
      joined += part;
    }
    ASSERT_EQ(joined, text) << "trial " << trial;
  }
  // A gzip stream cannot be split.
  const std::string zipped = TempPath("ranges.tsv.gz");
  gzFile gz = gzopen(zipped.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  EXPECT_EQ(ReadAll(zipped, 4096, 1, {}), text);
  const std::string message = ErrorOf([&] { ReadAll(zipped, 4096, 1, {0, 100}); });
  EXPECT_NE(message.find("cannot be read in byte ranges"), std::string::npos) << message;
}

TEST(TextParseTest, BlockReaderRejectsALineLongerThanABlock) {
  const std::string path = WriteTextFile("long.tsv", "1\t2\n" + std::string(10000, '7') + "\t1\n");
  const std::string message = ErrorOf([&] { ReadAll(path, 4096, 2); });
  EXPECT_NE(message.find(path + ": a line is longer than 4096 bytes"), std::string::npos) << message;
}

TEST(TextParseTest, ParseFileKeepsOrderAndLineNumbersAcrossBlocksAndThreads) {
  // Headers, comments, blank and bad lines in every block: records keep file
  // order and bad lines are numbered from the file's start.
  std::string text = "src\tdst\n";
  std::vector<std::pair<uint64_t, uint64_t>> expected;
  std::vector<uint64_t> bad_lines;
  for (uint64_t line = 2; line <= 30000; ++line) {
    if (line % 997 == 0) {
      text += "# comment\n";
    } else if (line % 1409 == 0) {
      text += "\r\n";
    } else if (line % 2003 == 0) {
      text += "oops\n";
      bad_lines.push_back(line);
    } else {
      text += std::to_string(line) + "\t" + std::to_string(line * 3) + "\r\n";
      expected.emplace_back(line, line * 3);
    }
  }
  const std::string path = WriteTextFile("order.tsv", text);
  struct Pair {
    uint64_t src, dst;
  };
  for (int threads : {1, 2, 5}) {
    IngestConfig config;
    config.threads = threads;
    config.block_bytes = 4096;
    config.skip_bad_lines = true;
    config.max_bad_line_examples = 100;
    FileReport report;
    const auto records = ParseFile<Pair>(path, config, &report, [](const std::string_view* f, size_t n, Pair* r) {
      if (n != 2 || !ParseU64(f[0], &r->src) || !ParseU64(f[1], &r->dst)) return LineError("bad");
      return LineError();
    });
    ASSERT_EQ(records.size(), expected.size()) << threads;
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_EQ(records[i].src, expected[i].first) << i;
      ASSERT_EQ(records[i].dst, expected[i].second) << i;
    }
    EXPECT_TRUE(report.header);
    EXPECT_EQ(report.lines, 30000u);
    EXPECT_EQ(report.records, expected.size());
    ASSERT_EQ(report.bad_examples.size(), bad_lines.size());
    for (size_t i = 0; i < bad_lines.size(); ++i)
      EXPECT_NE(report.bad_examples[i].find(":" + std::to_string(bad_lines[i]) + ": bad"), std::string::npos)
          << report.bad_examples[i];
  }
}

}  // namespace
}  // namespace gr::graph::internal
