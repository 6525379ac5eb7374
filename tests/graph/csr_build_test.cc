// Grouping and reversing edge rows, the steps behind every CSR an ingest builds.
#include "graph/internal/csr_build.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

namespace gr::graph::internal {
namespace {

EdgeRows RandomRows(size_t count, VertexId vertices, uint64_t seed) {
  std::mt19937_64 rng(seed);
  EdgeRows rows(count);
  for (EdgeRow& row : rows) {
    // Few distinct values, so that duplicates and ties on every field occur.
    row = {static_cast<VertexId>(rng() % vertices), static_cast<VertexId>(rng() % vertices),
           static_cast<float>(1 + rng() % 3), static_cast<uint32_t>(rng() % 4),
           static_cast<uint32_t>(rng() % 2), static_cast<uint8_t>(1u << (rng() % 3))};
  }
  return rows;
}

auto Fields(const EdgeRow& r) {
  return std::make_tuple(r.src, r.dst, r.weight, r.time, r.dwell_ms, uint32_t{r.type_mask}, uint32_t{r.lines});
}

void ExpectSameGroups(const GroupedRows& a, const GroupedRows& b) {
  ASSERT_EQ(a.offsets, b.offsets);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) ASSERT_EQ(Fields(a.rows[i]), Fields(b.rows[i])) << "row " << i;
}

TEST(CsrBuildTest, GroupBySourceKeepsInputOrderWhateverTheThreads) {
  const EdgeRows rows = RandomRows(20000, 50, 1);
  const GroupedRows one = GroupBySource(rows, 50, 1);
  for (VertexId v = 0; v < 50; ++v) {
    // Group v is rows with src v, in input order.
    std::vector<size_t> expected;
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].src == v) expected.push_back(i);
    ASSERT_EQ(one.offsets[v + 1] - one.offsets[v], expected.size());
    for (size_t k = 0; k < expected.size(); ++k)
      ASSERT_EQ(Fields(one.rows[one.offsets[v] + k]), Fields(rows[expected[k]]));
  }
  for (int threads : {2, 3, 7}) ExpectSameGroups(GroupBySource(rows, 50, threads), one);
}

TEST(CsrBuildTest, ReverseEqualsSortingTheSwappedRows) {
  // Reverse skips the sort: its stable grouping of sorted groups must give
  // what GroupAndSort gives for the swapped rows, duplicates included.
  for (uint64_t seed : {1u, 2u, 3u}) {
    const EdgeRows rows = RandomRows(30000, 40, seed);
    EdgeRows swapped = rows;
    for (EdgeRow& r : swapped) std::swap(r.src, r.dst);
    const GroupedRows expected = GroupAndSort(std::move(swapped), 40, 1);
    for (int threads : {1, 2, 5}) {
      GroupedRows reversed = Reverse(GroupAndSort(rows, 40, threads), 40, threads);
      ExpectSameGroups(reversed, expected);
    }
    // After merging duplicates as well.
    GroupedRows merged = GroupAndSort(rows, 40, 2);
    uint64_t loops = 0, dups = 0;
    MergeDuplicates(merged, SelfLoopPolicy::kDrop, DuplicatePolicy::kSum, &loops, &dups);
    EXPECT_GT(dups, 0u);
    EdgeRows merged_swapped = merged.rows;
    for (EdgeRow& r : merged_swapped) std::swap(r.src, r.dst);
    ExpectSameGroups(Reverse(std::move(merged), 40, 2), GroupAndSort(std::move(merged_swapped), 40, 1));
  }
}

}  // namespace
}  // namespace gr::graph::internal
