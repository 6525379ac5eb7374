#include "core/error.h"

#include <gtest/gtest.h>

namespace gr {
namespace {

TEST(ErrorTest, CheckNamesConditionValuesAndPlace) {
  const int dim = 3, cols = 4;
  try {
    GR_CHECK(dim == cols, "dim mismatch: index=", dim, " table=", cols);
    FAIL() << "GR_CHECK did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    const std::string message = e.what();
    EXPECT_NE(message.find("dim == cols"), std::string::npos) << message;
    EXPECT_NE(message.find("index=3 table=4"), std::string::npos) << message;
    EXPECT_NE(message.find("error_test.cc:"), std::string::npos) << message;
  }
}

TEST(ErrorTest, CheckPassesSilently) { EXPECT_NO_THROW(GR_CHECK(1 + 1 == 2, "never")); }

TEST(ErrorTest, CheckCodeCarriesCode) {
  try {
    GR_CHECK_CODE(false, ErrorCode::kCorruption, "bad byte at ", 17);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("bad byte at 17"), std::string::npos);
  }
}

TEST(ErrorTest, ExcerptEscapesControlBytesAndCutsLongText) {
  EXPECT_EQ(Excerpt("plain id 42"), "plain id 42");
  EXPECT_EQ(Excerpt(std::string("a\x1b[2J\n\0b", 8)), "a\\x1b[2J\\x0a\\x00b");
  EXPECT_EQ(Excerpt("back\\slash"), "back\\x5cslash");
  const std::string huge(10'000'000, 'x');
  const std::string cut = Excerpt(huge, 16);
  EXPECT_EQ(cut, std::string(16, 'x') + "... (10000000 bytes)");
}

TEST(ErrorTest, CodeNamesAreDistinct) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kNotFound), "not found");
  EXPECT_NE(ErrorCodeName(ErrorCode::kIo), ErrorCodeName(ErrorCode::kInternal));
}

}  // namespace
}  // namespace gr
