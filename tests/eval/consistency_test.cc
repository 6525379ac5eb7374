#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "eval/consistency.h"
#include "tests/test_util.h"

namespace gr::eval {
namespace {

using ::gr::testing::CodeOf;

constexpr float kIneligible = -std::numeric_limits<float>::infinity();

// Catalogue 1..10; for account 1 post i scores i and post 10 is ineligible
// (seen), so the ranker's order is 9, 8, 7, ..., 1: ideal top 3 = {9, 8, 7},
// wide 5 = {9, ..., 5}. Account 2 is unknown to the scorer.
struct HandMadeCase {
  std::vector<ExternalId> catalogue{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<ExternalId> accounts{1, 2};
  CatalogueScorer scorer = [](ExternalId account) {
    if (account != 1) throw Error(ErrorCode::kNotFound, "unknown account");
    std::vector<float> scores;
    for (int i = 1; i <= 10; ++i) scores.push_back(i == 10 ? kIneligible : static_cast<float>(i));
    return scores;
  };
  std::vector<ConsistencySource> sources{
      // Unknown ids (99), repeats (9) and the ineligible 10 are not recalled posts.
      {"mixed", [](ExternalId, size_t k) {
         std::vector<ExternalId> list{1, 9, 5, 10, 99, 9, 7};
         if (k < 4) list.resize(k);
         return list;
       }},
      {"perfect", [](ExternalId, size_t k) {
         std::vector<ExternalId> list{10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
         list.resize(std::min<size_t>(k, list.size()));
         return list;
       }}};
  ConsistencyConfig config{.top = 3, .wide = 5, .ks = {4, 10}, .threads = 1};
};

TEST(ConsistencyTest, HandMadeCaseHasItsKnownOverlaps) {
  const HandMadeCase c;
  uint64_t skipped = 0;
  const auto rows = MeasureConsistency(c.accounts, c.catalogue, c.scorer, c.sources, c.config, &skipped);
  EXPECT_EQ(skipped, 1u);  // account 2
  ASSERT_EQ(rows.size(), 4u);
  // mixed, K = 4: {1, 9, 5} (10 is ineligible): the ranker's top 3 of them is all three, one (9) ideal.
  EXPECT_EQ(rows[0].source, "mixed");
  EXPECT_EQ(rows[0].k, 4u);
  EXPECT_DOUBLE_EQ(rows[0].overlap, 1.0 / 3);
  EXPECT_DOUBLE_EQ(rows[0].wide_recalled, 2.0 / 5);  // 9 and 5
  EXPECT_DOUBLE_EQ(rows[0].recalled, 3.0);
  // mixed, K = 10: {1, 9, 5, 7}: top 3 by the ranker 9, 7, 5, of which 9 and 7 are ideal.
  EXPECT_DOUBLE_EQ(rows[1].overlap, 2.0 / 3);
  EXPECT_DOUBLE_EQ(rows[1].wide_recalled, 3.0 / 5);
  EXPECT_DOUBLE_EQ(rows[1].recalled, 4.0);
  // perfect, K = 4: 10 (ineligible), 9, 8, 7.
  EXPECT_EQ(rows[2].source, "perfect");
  EXPECT_DOUBLE_EQ(rows[2].overlap, 1.0);
  EXPECT_DOUBLE_EQ(rows[2].wide_recalled, 3.0 / 5);
  EXPECT_DOUBLE_EQ(rows[3].overlap, 1.0);
  EXPECT_DOUBLE_EQ(rows[3].wide_recalled, 1.0);
  EXPECT_DOUBLE_EQ(rows[3].recalled, 9.0);
}

TEST(ConsistencyTest, TiesGoToTheSmallerIdAndThreadsDoNotChangeTheRows) {
  HandMadeCase c;
  // Every post scores the same: the ideal top 3 is {1, 2, 3} (smallest ids).
  c.scorer = [](ExternalId) { return std::vector<float>(10, 1.0f); };
  c.sources = {{"tail", [](ExternalId, size_t) { return std::vector<ExternalId>{10, 9, 3}; }}};
  c.config.ks = {3};
  const auto rows = MeasureConsistency(c.accounts, c.catalogue, c.scorer, c.sources, c.config);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].overlap, 1.0 / 3);
  std::vector<ExternalId> many;
  for (ExternalId a = 0; a < 64; ++a) many.push_back(a);
  HandMadeCase h;
  h.scorer = [](ExternalId account) {
    std::vector<float> scores;
    for (int i = 0; i < 10; ++i) scores.push_back(static_cast<float>((account * 7 + i * 3) % 10));
    return scores;
  };
  h.config.threads = 1;
  const auto one = MeasureConsistency(many, h.catalogue, h.scorer, h.sources, h.config);
  h.config.threads = 2;
  const auto two = MeasureConsistency(many, h.catalogue, h.scorer, h.sources, h.config);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].overlap, two[i].overlap);
    EXPECT_EQ(one[i].wide_recalled, two[i].wide_recalled);
  }
}

TEST(ConsistencyTest, BadConfigurationsAreNamed) {
  const HandMadeCase c;
  ConsistencyConfig bad = c.config;
  bad.wide = 2;
  EXPECT_EQ(CodeOf([&] { MeasureConsistency(c.accounts, c.catalogue, c.scorer, c.sources, bad); }),
            ErrorCode::kInvalidArgument);
  bad = c.config;
  bad.ks = {};
  EXPECT_EQ(CodeOf([&] { MeasureConsistency(c.accounts, c.catalogue, c.scorer, c.sources, bad); }),
            ErrorCode::kInvalidArgument);
  const std::vector<ExternalId> twice{1, 1};
  EXPECT_EQ(CodeOf([&] { MeasureConsistency(c.accounts, twice, c.scorer, c.sources, c.config); }),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace gr::eval
