#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/rng.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace gr {
namespace {

bool IsNanHalf(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = FloatFromHalf(half);
    if (IsNanHalf(half)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_TRUE(IsNanHalf(HalfFromFloat(f))) << h;
    } else {
      ASSERT_EQ(HalfFromFloat(f), half) << h << " -> " << f;
    }
  }
}

TEST(HalfTest, KnownValuesAndRounding) {
  EXPECT_EQ(HalfFromFloat(1.0f), 0x3c00u);
  EXPECT_EQ(HalfFromFloat(-2.0f), 0xc000u);
  EXPECT_EQ(HalfFromFloat(0.0f), 0x0000u);
  EXPECT_EQ(HalfFromFloat(-0.0f), 0x8000u);
  EXPECT_EQ(HalfFromFloat(65504.0f), 0x7bffu);                 // the largest half
  EXPECT_EQ(HalfFromFloat(65520.0f), 0x7c00u);                 // halfway to the next: ties to even = infinity
  EXPECT_EQ(HalfFromFloat(std::ldexp(1.0f, -24)), 0x0001u);    // the smallest subnormal
  EXPECT_EQ(HalfFromFloat(std::ldexp(1.0f, -26)), 0x0000u);    // below half of it
  EXPECT_EQ(HalfFromFloat(1.0f + std::ldexp(1.0f, -11)), 0x3c00u);       // tie: to the even 1.0
  EXPECT_EQ(HalfFromFloat(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02u);   // tie: to the even 1 + 2^-9
  EXPECT_EQ(HalfFromFloat(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01u);  // above the tie
  EXPECT_EQ(HalfFromFloat(std::numeric_limits<float>::infinity()), 0x7c00u);
  EXPECT_EQ(HalfFromFloat(-1e9f), 0xfc00u);
  EXPECT_TRUE(IsNanHalf(HalfFromFloat(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(FloatFromHalf(0x3555u), 0.333251953125f);  // 2^-2 x (1 + 341/1024)
  EXPECT_EQ(FloatFromHalf(0x0001u), std::ldexp(1.0f, -24));
}

// Nearest: no other half is closer to the float than the one chosen.
TEST(HalfTest, RoundsToTheNearestHalf) {
  Rng rng(7);
  for (int i = 0; i < 200000; ++i) {
    const float f = static_cast<float>((rng.UniformDouble() * 2 - 1) * std::ldexp(1.0, static_cast<int>(rng.Uniform(40)) - 25));
    const uint16_t h = HalfFromFloat(f);
    const double error = std::fabs(static_cast<double>(FloatFromHalf(h)) - f);
    for (const int step : {-1, 1}) {
      const auto neighbour = static_cast<uint16_t>(h + step);
      if (IsNanHalf(neighbour) || ((neighbour ^ h) & 0x8000u)) continue;
      ASSERT_LE(error, std::fabs(static_cast<double>(FloatFromHalf(neighbour)) - f)) << f;
    }
#if defined(__F16C__)
    ASSERT_EQ(h, _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)) << f;  // the CPU's conversion agrees
#endif
  }
}

}  // namespace
}  // namespace gr
