#include "embed/embedding_io.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/binary_io.h"
#include "core/error.h"
#include "tests/test_util.h"

namespace gr::embed {
namespace {

using ::gr::testing::ReadBytes;
using ::gr::testing::TempPath;
using ::gr::testing::WriteBytes;

EmbeddingTable SampleTable(bool with_output = true) {
  EmbeddingTable t;
  t.ids = {7, uint64_t{1} << 50, 42};
  t.kinds = {TokenKind::kAccount, TokenKind::kAccount, TokenKind::kPost};
  t.input = FloatMatrix(3, 4);
  for (size_t i = 0; i < 12; ++i) t.input.Data()[i] = 0.125f * static_cast<float>(i) - 0.7f;
  if (with_output) {
    t.output = FloatMatrix(3, 4);
    for (size_t i = 0; i < 12; ++i) t.output.Data()[i] = -0.5f * static_cast<float>(i);
  }
  return t;
}

TEST(EmbeddingIoTest, NativeRoundTripIsExact) {
  for (bool with_output : {true, false}) {
    const EmbeddingTable t = SampleTable(with_output);
    const std::string path = TempPath("e.emb");
    SaveEmbeddings(t, path, "{\"dim\":4}");
    std::string meta;
    EXPECT_EQ(LoadEmbeddings(path, &meta), t);
    EXPECT_EQ(meta, "{\"dim\":4}");
  }
}

TEST(EmbeddingIoTest, Word2VecTextRoundTripAndKeys) {
  const EmbeddingTable t = SampleTable();
  const std::string path = TempPath("e.vec");
  SaveWord2VecText(t, path);
  const std::string text = ReadBytes(path);
  EXPECT_EQ(text.substr(0, 4), "3 4\n");
  EXPECT_NE(text.find("\n1125899906842624 "), std::string::npos);
  EXPECT_NE(text.find("\np42 "), std::string::npos);
  const EmbeddingTable back = LoadWord2VecText(path);
  EXPECT_EQ(back.ids, t.ids);
  EXPECT_EQ(back.kinds, t.kinds);
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(back.input.Data()[i], t.input.Data()[i], 1e-6);
}

TEST(EmbeddingIoTest, Word2VecBinaryHasGensimLayout) {
  const EmbeddingTable t = SampleTable();
  const std::string path = TempPath("e.bin");
  SaveWord2VecBinary(t, path);
  const std::string bytes = ReadBytes(path);
  ASSERT_EQ(bytes.substr(0, 4), "3 4\n");
  // key, space, 4 little-endian float32, newline; three times.
  size_t pos = 4;
  for (size_t r = 0; r < 3; ++r) {
    const std::string key = t.Key(r) + " ";
    ASSERT_EQ(bytes.substr(pos, key.size()), key) << "row " << r;
    pos += key.size();
    float values[4];
    std::memcpy(values, bytes.data() + pos, sizeof(values));
    for (size_t j = 0; j < 4; ++j) EXPECT_EQ(values[j], t.input.At(r, j));
    pos += sizeof(values);
    ASSERT_EQ(bytes[pos], '\n');
    ++pos;
  }
  EXPECT_EQ(pos, bytes.size());
}

TEST(EmbeddingIoTest, CorruptFilesAreRejected) {
  const std::string path = TempPath("e.emb");
  SaveEmbeddings(SampleTable(), path);
  const std::string bytes = ReadBytes(path);
  const std::string bad = TempPath("bad.emb");
  for (size_t i = 0; i < bytes.size(); i += 3) {
    std::string copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0x10);
    WriteBytes(bad, copy);
    EXPECT_THROW(LoadEmbeddings(bad), Error) << "byte " << i;
  }
  WriteBytes(bad, bytes.substr(0, bytes.size() - 5));
  try {
    LoadEmbeddings(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
  }
}

TEST(EmbeddingIoTest, NaNInAFileIsRejected) {
  EmbeddingTable t = SampleTable();
  t.input.At(1, 2) = std::numeric_limits<float>::quiet_NaN();
  const std::string path = TempPath("nan.emb");
  SaveEmbeddings(t, path);  // checksums are valid: only the values are wrong
  try {
    LoadEmbeddings(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
  }
}

TEST(EmbeddingIoTest, MalformedTextNamesTheLine) {
  const std::string path = ::gr::testing::WriteTextFile("bad.vec", "2 3\n1 0.1 0.2 0.3\n2 0.1 x 0.3\n");
  try {
    LoadWord2VecText(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":3: expected 3 finite values"), std::string::npos) << e.what();
  }
}

TEST(EmbeddingIoTest, TextHeaderIsNotTrustedWithTheAllocation) {
  // 12 bytes that declare 1.25 billion rows: rejected before any allocation.
  const std::string huge = ::gr::testing::WriteTextFile("huge.vec", "1250000000 4");
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecText(huge); }).find("more than the file's 12 bytes can hold"),
            std::string::npos);
  const std::string wide = ::gr::testing::WriteTextFile("wide.vec", "1 100000000\n1 0.5\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecText(wide); }).find("1 <= dim <= 65536"), std::string::npos);
}

TEST(EmbeddingIoTest, TextKeysAndValuesAreCheckedStrictly) {
  for (const std::string& row : {std::string("7 0.1 nan"), std::string("7 0.1 1e39"), std::string("7 0.1")}) {
    const std::string path = ::gr::testing::WriteTextFile("strict.vec", "1 2\n" + row + "\n");
    EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecText(path); }).find(":2: "), std::string::npos) << row;
  }
  const std::string control = ::gr::testing::WriteTextFile("control.vec", "1 2\n\x1b[31m 0.1 0.2\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecText(control); }).find("bad key '\\x1b[31m'"), std::string::npos);
}

TEST(EmbeddingIoTest, KeysThatAreNotIdsMakeANamedTable) {
  // Ids first, then a name: every row is named, ids become row numbers.
  const std::string path = ::gr::testing::WriteTextFile("named.vec", "4 1\n7 0.5\np3 0.25\n12abc 1\n-1 2\n");
  EmbeddingTable t = LoadWord2VecText(path);
  EXPECT_EQ(t.names, (std::vector<std::string>{"7", "p3", "12abc", "-1"}));
  EXPECT_EQ(t.ids, (std::vector<ExternalId>{0, 1, 2, 3}));
  EXPECT_EQ(t.Key(2), "12abc");
  EXPECT_FLOAT_EQ(t.input.At(3, 0), 2.0f);
  // Names survive both word2vec formats; the native format refuses them.
  SaveWord2VecBinary(t, TempPath("named.bin"));
  EXPECT_EQ(LoadAnyEmbeddings(TempPath("named.bin")), t);
  EXPECT_NE(::gr::testing::ErrorOf([&] { SaveEmbeddings(t, TempPath("named.emb")); }).find("integer ids"),
            std::string::npos);
}

TEST(EmbeddingIoTest, Word2VecBinaryIsReadBackExactlyAndRecognised) {
  const EmbeddingTable t = SampleTable(/*with_output=*/false);
  const std::string path = TempPath("back.bin");
  SaveWord2VecBinary(t, path);
  EXPECT_EQ(LoadWord2VecBinary(path), t);  // floats written raw come back bit for bit
  EXPECT_EQ(LoadAnyEmbeddings(path), t);
  SaveWord2VecText(t, TempPath("back.vec"));
  EXPECT_EQ(LoadAnyEmbeddings(TempPath("back.vec")).ids, t.ids);  // text stays text
  // gensim writes no newline after a row; word2vec's C tool does. Both read.
  std::string gensim = "3 4\n";
  for (size_t r = 0; r < 3; ++r) {
    gensim += t.Key(r) + " ";
    gensim.append(reinterpret_cast<const char*>(t.input.Row(r).data()), 4 * sizeof(float));
  }
  WriteBytes(TempPath("gensim.bin"), gensim);
  EXPECT_EQ(LoadAnyEmbeddings(TempPath("gensim.bin")), t);
}

TEST(EmbeddingIoTest, Word2VecBinaryDamageNamesTheRow) {
  const EmbeddingTable t = SampleTable(/*with_output=*/false);
  const std::string path = TempPath("damaged.bin");
  SaveWord2VecBinary(t, path);
  const std::string bytes = ReadBytes(path);
  WriteBytes(path, bytes.substr(0, bytes.size() - 6));  // the last row's floats cut short
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecBinary(path); }).find("row 3 of 3: the file ends inside"),
            std::string::npos);
  // A header that promises more rows than the bytes can hold is not allocated.
  WriteBytes(path, "900000000 4\n7 " + std::string(16, '\0'));
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecBinary(path); }).find("more than the file's"), std::string::npos);
  std::string nan_row = "1 1\n7 ";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  nan_row.append(reinterpret_cast<const char*>(&nan), sizeof(nan));
  WriteBytes(path, nan_row);
  EXPECT_NE(::gr::testing::ErrorOf([&] { LoadWord2VecBinary(path); }).find("row 1: a value is not finite"),
            std::string::npos);
}

}  // namespace
}  // namespace gr::embed
