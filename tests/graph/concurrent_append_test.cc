#include "graph/internal/concurrent_append.h"

#include <gtest/gtest.h>

#include <span>

namespace gr::graph::internal {
namespace {

TEST(AppendListTest, GrowsKeepsOrderAndKeepsReplacedBlocksForReaders) {
  AppendList<uint64_t> list;
  EXPECT_TRUE(list.Items().empty());
  size_t allocated = list.Append(0);
  const std::span<const uint64_t> early = list.Items();  // a reader's view before the list grows
  for (uint64_t i = 1; i < 1000; ++i) allocated += list.Append(i);
  const std::span<const uint64_t> items = list.Items();
  ASSERT_EQ(items.size(), 1000u);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(items[i], i);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0], 0u);  // the replaced block is still there to read
  EXPECT_EQ(list.MemoryBytes(), allocated);
  EXPECT_GE(allocated, 1000 * sizeof(uint64_t));
  EXPECT_LT(allocated, 4 * 1000 * sizeof(uint64_t));  // geometric growth: the blocks sum to < 2x the last one
}

TEST(GrowingTableTest, EntriesStayInPlaceAsTheTableGrows) {
  GrowingTable<AppendList<uint32_t>> table;
  EXPECT_EQ(table.Find(5), nullptr);
  table.At(5).Append(7);
  const AppendList<uint32_t>* five = table.Find(5);
  ASSERT_NE(five, nullptr);
  table.At(3u << 17).Append(9);  // later chunks
  EXPECT_EQ(table.Find(5), five);
  EXPECT_EQ(five->Items()[0], 7u);
  EXPECT_EQ(table.Find(3u << 17)->Items()[0], 9u);
  EXPECT_TRUE(table.Find(6)->Items().empty());
}

TEST(ConcurrentIdTableTest, FindsEveryIdAndCountsEveryTableItMade) {
  ConcurrentIdTable table;
  for (VertexId v = 0; v < 1000; ++v) table.Insert(1000003 * uint64_t{v} + 7, v);
  for (VertexId v = 0; v < 1000; ++v) ASSERT_EQ(table.Find(1000003 * uint64_t{v} + 7), v);
  EXPECT_EQ(table.Find(5), kNoVertex);
  EXPECT_EQ(table.size(), 1000u);
  // Tables of 64, 128, ..., 2048 slots (kept for readers), 12 bytes a slot.
  EXPECT_EQ(table.MemoryBytes(), (64u + 128 + 256 + 512 + 1024 + 2048) * (sizeof(ExternalId) + sizeof(VertexId)));
}

}  // namespace
}  // namespace gr::graph::internal
