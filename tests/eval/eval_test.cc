#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "eval/drift.h"
#include "eval/index_recall.h"
#include "eval/link_holdout.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::eval {
namespace {

using ::gr::testing::CodeOf;

embed::EmbeddingTable RandomTable(size_t rows, size_t dim, uint64_t seed) {
  embed::EmbeddingTable t;
  t.input = FloatMatrix(rows, dim);
  Rng rng(seed);
  for (size_t r = 0; r < rows; ++r) {
    t.ids.push_back(1000 + r);
    t.kinds.push_back(embed::TokenKind::kAccount);
    for (size_t x = 0; x < dim; ++x) t.input.At(r, x) = rng.UniformFloat() - 0.5f;
  }
  return t;
}

std::unique_ptr<recall::VectorIndex> Index(const embed::EmbeddingTable& t, recall::IndexKind kind) {
  return recall::VectorIndex::Build(t.ids, t.input, {.kind = kind, .threads = 1});
}

TEST(IndexRecallTest, ExactScoresOneAndAnIndexOverOtherVectorsScoresLess) {
  const auto table = RandomTable(300, 8, 1);
  const auto exact = Index(table, recall::IndexKind::kExact);
  EXPECT_DOUBLE_EQ(RecallAtK(*exact, *exact, table.input, 10), 1.0);
  EXPECT_DOUBLE_EQ(IndexRecallAtK(*exact, table, 50, 10, 7), 1.0);
  const auto other = Index(RandomTable(300, 8, 2), recall::IndexKind::kExact);
  EXPECT_LT(RecallAtK(*other, *exact, table.input, 10), 0.5);
  const auto hnsw = Index(table, recall::IndexKind::kHnsw);
  const double r = IndexRecallAtK(*hnsw, table, 100, 10, 7);
  EXPECT_GE(r, 0.9);
  EXPECT_LE(r, 1.0);
}

TEST(DriftTest, SameVectorsDoNotDriftAndNegatedOnesPointAway) {
  const auto table = RandomTable(200, 8, 3);
  const auto index = Index(table, recall::IndexKind::kExact);
  const Drift same = MeasureDrift(table, *index, table, *index, 50, 1);
  EXPECT_EQ(same.compared, 50u);
  EXPECT_NEAR(same.mean_cosine, 1.0, 1e-9);
  EXPECT_NEAR(same.neighbour_overlap, 1.0, 1e-9);
  embed::EmbeddingTable negated = table;
  for (float& x : negated.input.Data()) x = -x;
  const auto negated_index = Index(negated, recall::IndexKind::kExact);
  const Drift away = MeasureDrift(table, *index, negated, *negated_index, 50, 1);
  EXPECT_NEAR(away.mean_cosine, -1.0, 1e-9);
  EXPECT_NEAR(away.neighbour_overlap, 1.0, 1e-9);  // cosine neighbours are the same after negation
  const Drift none = MeasureDrift(table, *index, RandomTable(10, 4, 4), *Index(RandomTable(10, 4, 4),
                                  recall::IndexKind::kExact), 50, 1);
  EXPECT_EQ(none.compared, 0u) << "other dimensions: nothing to compare";
}

TEST(LinkHoldoutTest, VectorsThatKnowTheCommunitiesScoreHigh) {
  // Two cliques of 8 joined by one edge; vectors = one-hot community.
  std::string text;
  for (int c = 0; c < 2; ++c)
    for (int a = 0; a < 8; ++a)
      for (int b = a + 1; b < 8; ++b) text += std::to_string(c * 8 + a + 1) + "\t" + std::to_string(c * 8 + b + 1) + "\n";
  text += "1\t9\n";
  const graph::SocialGraph g = graph::LoadEdgeList(::gr::testing::WriteTextFile("e.txt", text), false, {});
  const graph::EdgeSplit split = graph::SplitEdgesForLinkPrediction(g, {.test_fraction = 0.3, .seed = 5});
  ASSERT_FALSE(split.test_edges.empty());
  FloatMatrix vectors(g.num_accounts(), 2);
  for (VertexId v = 0; v < g.num_accounts(); ++v) vectors.At(v, g.accounts.ToExternal(v) <= 8 ? 0 : 1) = 1.0f;
  const HeldOutLinkScores s = ScoreHeldOutFollows(g, split, vectors, 0, 11);
  EXPECT_GT(s.auc.dot_auc, 0.8);
  EXPECT_EQ(s.test_edges, split.test_edges.size());
  EXPECT_EQ(s.train_non_edges, s.train_edges);
  // Sampling bounds every list, and the same seed gives the same scores.
  const HeldOutLinkScores sampled = ScoreHeldOutFollows(g, split, vectors, 5, 11);
  EXPECT_EQ(sampled.test_edges, std::min<size_t>(5, split.test_edges.size()));
  EXPECT_EQ(sampled.auc.hadamard_auc, ScoreHeldOutFollows(g, split, vectors, 5, 11).auc.hadamard_auc);
  graph::EdgeSplit nothing = split;
  nothing.test_edges.clear();
  EXPECT_EQ(CodeOf([&] { ScoreHeldOutFollows(g, nothing, vectors, 0, 1); }), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace gr::eval
