#include "core/matrix.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>

#include "core/error.h"
#include "core/parallel.h"

namespace gr {
namespace {

TEST(FloatMatrixTest, RowsAreContiguousRowMajorAndAligned) {
  FloatMatrix m(3, 5);
  EXPECT_EQ(m.rows(), 3u);
  EXPECT_EQ(m.cols(), 5u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.Data().data()) % 64, 0u);
  m.Row(1)[2] = 7.0f;
  EXPECT_EQ(m.At(1, 2), 7.0f);
  EXPECT_EQ(m.Data()[1 * 5 + 2], 7.0f);
  EXPECT_EQ(m.Row(2).data(), m.Data().data() + 10);
  for (float v : m.Row(0)) EXPECT_EQ(v, 0.0f);
}

TEST(FloatMatrixTest, RejectsAbsurdSize) { EXPECT_THROW(FloatMatrix(1ull << 40, 1ull << 20), Error); }

TEST(ParallelForTest, RunsEveryIteration) {
  std::vector<int> hits(10000, 0);
  ParallelFor(10000, 2, 64, [&](int64_t i) { hits[i] += 1; });
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(ParallelForTest, ExceptionInBodyIsRethrownOnCaller) {
  EXPECT_THROW(ParallelFor(100000, 2, 16,
                           [](int64_t i) {
                             if (i == 777) GR_THROW(ErrorCode::kInternal, "boom at ", i);
                           }),
               Error);
  EXPECT_THROW(ParallelFor(10, 2, 1, [](int64_t) { throw std::logic_error("x"); }),
               std::logic_error);
}

}  // namespace
}  // namespace gr
