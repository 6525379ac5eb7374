#include "core/rng.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"

namespace gr {
namespace {

// Both generators: xoshiro256** (Rng) and wyrand (FastRng, the walks').
template <typename Generator>
class RngTest : public ::testing::Test {};
using Generators = ::testing::Types<Rng, FastRng>;
TYPED_TEST_SUITE(RngTest, Generators);

TYPED_TEST(RngTest, SameSeedSameSequence) {
  TypeParam a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    differs |= x != c.NextU64();
  }
  EXPECT_TRUE(differs);
}

TYPED_TEST(RngTest, ForItemStreamsAreDistinctAndStable) {
  std::set<uint64_t> firsts;
  for (uint64_t item = 0; item < 50; ++item) {
    for (uint64_t index = 0; index < 20; ++index) {
      firsts.insert(TypeParam::ForItem(7, item, index).NextU64());
      EXPECT_EQ(TypeParam::ForItem(7, item, index).NextU64(), TypeParam::ForItem(7, item, index).NextU64());
    }
  }
  EXPECT_EQ(firsts.size(), 1000u);  // no two (item, index) pairs collide
}

TYPED_TEST(RngTest, UniformIsInRangeAndUnbiased) {
  TypeParam rng(1);
  constexpr uint64_t kBuckets = 10;
  constexpr int kDraws = 200000;
  std::vector<int> counts(kBuckets, 0);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = rng.Uniform(kBuckets);
    ASSERT_LT(x, kBuckets);
    ++counts[x];
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kBuckets;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.9);
}

TYPED_TEST(RngTest, UniformFloatsInUnitInterval) {
  TypeParam rng(3);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float f = rng.UniformFloat();
    const double d = rng.UniformDouble();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum += d;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TYPED_TEST(RngTest, UniformOverLargeRangesKeepsItsHighBitsUniform) {
  // Walks draw neighbour indices of lists up to millions long: bucket the
  // draws of [0, 3e9) by their top bits.
  TypeParam rng(11);
  constexpr uint64_t kRange = 3'000'000'000, kBuckets = 16;
  constexpr int kDraws = 320000;
  std::vector<int> counts(kBuckets, 0);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = rng.Uniform(kRange);
    ASSERT_LT(x, kRange);
    ++counts[x * kBuckets / kRange];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kBuckets;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 37.7);  // 15 degrees of freedom, 0.999 quantile
}

TEST(AliasTableTest, FrequenciesMatchWeights) {
  const std::vector<double> weights{1, 0, 3, 6};
  AliasTable table(weights);
  Rng rng(5);
  std::vector<int> counts(weights.size(), 0);
  constexpr int kDraws = 400000;
  for (int i = 0; i < kDraws; ++i) ++counts[table.Sample(rng)];
  EXPECT_EQ(counts[1], 0) << "zero-weight outcome drawn";
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_NEAR(counts[i] / double(kDraws), weights[i] / 10.0, 0.005) << "outcome " << i;
}

TEST(AliasTableTest, RejectsBadWeights) {
  EXPECT_THROW(AliasTable(std::vector<double>{}), Error);
  EXPECT_THROW(AliasTable(std::vector<double>{0, 0}), Error);
  EXPECT_THROW(AliasTable(std::vector<double>{1, -1}), Error);
}

}  // namespace
}  // namespace gr
