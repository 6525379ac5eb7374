#include "core/huge_pages.h"

#include <gtest/gtest.h>

#include "core/bulk_vector.h"

#include <cstdint>
#include <numeric>
#include <vector>

namespace gr {
namespace {

TEST(HugePagesTest, AdvisingKeepsTheContentsAndCoversOnlyWholeHugePages) {
  constexpr size_t kHugePage = size_t{2} << 20;
  std::vector<uint32_t> array(5 * kHugePage / sizeof(uint32_t));
  std::iota(array.begin(), array.end(), 7u);
  const size_t advised = AdviseHugePages(std::span<const uint32_t>(array));
  // 0 where the kernel refuses; else the whole huge pages inside the array.
  EXPECT_EQ(advised % kHugePage, 0u);
  EXPECT_LE(advised, array.size() * sizeof(uint32_t));
  if (advised > 0) {
    EXPECT_GE(advised, 4 * kHugePage);
  }
  for (size_t i = 0; i < array.size(); ++i) ASSERT_EQ(array[i], 7u + i) << "at " << i;
  // No whole huge page inside: nothing to advise.
  EXPECT_EQ(AdviseHugePages(array.data() + 1, kHugePage - 8), 0u);
  EXPECT_EQ(AdviseHugePages(nullptr, 3 * kHugePage), 0u);
}

TEST(HugePagesTest, LargeBulkArraysStartOnAHugePageAndSmallOnesAnywhere) {
  constexpr size_t kHugePage = size_t{2} << 20;
  BulkVector<uint64_t> large(8 * kHugePage / sizeof(uint64_t) + 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large.data()) % kHugePage, 0u);
  std::iota(large.begin(), large.end(), uint64_t{11});
  large.resize(large.size() * 2);  // reallocation moves the contents
  for (size_t i = 0; i < large.size() / 2; ++i) ASSERT_EQ(large[i], 11u + i) << "at " << i;
  BulkVector<uint32_t> small(1000);
  std::iota(small.begin(), small.end(), 5u);
  small.shrink_to_fit();
  EXPECT_EQ(small.back(), 1004u);
}

}  // namespace
}  // namespace gr
