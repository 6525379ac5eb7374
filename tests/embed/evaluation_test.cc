#include "embed/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/rng.h"

namespace gr::embed {
namespace {

TEST(RocAucTest, KnownValues) {
  const std::vector<uint8_t> labels{0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<double>{0.1, 0.2, 0.8, 0.9}, labels), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<double>{0.9, 0.8, 0.2, 0.1}, labels), 0.0);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<double>{0.5, 0.5, 0.5, 0.5}, labels), 0.5);
  // One of four positive-negative pairs misordered.
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<double>{0.1, 0.7, 0.6, 0.9}, labels), 0.75);
  EXPECT_THROW(RocAuc(std::vector<double>{0.1, 0.2}, std::vector<uint8_t>{1, 1}), Error);
}

// n points in `classes` Gaussian clusters (spread `noise`) in dim 8.
FloatMatrix Clusters(size_t n, int classes, double noise, std::vector<std::vector<int>>* labels) {
  FloatMatrix x(n, 8);
  Rng rng(3);
  labels->assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % static_cast<size_t>(classes));
    (*labels)[i] = {c};
    for (size_t j = 0; j < 8; ++j) {
      const double centre = (static_cast<int>(j) % classes == c) ? 2.0 : 0.0;
      x.At(i, j) = static_cast<float>(centre + noise * (rng.UniformDouble() - 0.5) * 3.46);
    }
  }
  return x;
}

TEST(NodeClassificationTest, SeparableClustersScoreHighAndNoiseScoresChance) {
  std::vector<std::vector<int>> labels;
  const FloatMatrix easy = Clusters(300, 3, 0.5, &labels);
  const ClassificationScores good = NodeClassification(easy, labels, 0.5, 3, 1);
  EXPECT_EQ(good.classes, 3u);
  EXPECT_EQ(good.labelled_rows, 300u);
  EXPECT_GT(good.micro_f1, 0.95);
  EXPECT_GT(good.macro_f1, 0.95);
  FloatMatrix noise(300, 8);
  Rng rng(9);
  for (float& v : noise.Data()) v = rng.UniformFloat();
  const ClassificationScores chance = NodeClassification(noise, labels, 0.5, 3, 1);
  EXPECT_LT(chance.micro_f1, 0.5);
  EXPECT_GT(chance.micro_f1, 0.15);
}

TEST(NodeClassificationTest, MultiLabelRowsGetTopKPredictionsAndUnlabelledRowsAreIgnored) {
  std::vector<std::vector<int>> labels;
  FloatMatrix x = Clusters(240, 3, 0.3, &labels);
  // Rows near the centre of classes 0 and 1 carry both labels; some rows have none.
  for (size_t i = 0; i < 240; i += 6) {
    labels[i] = {0, 1};
    for (size_t j = 0; j < 8; ++j) x.At(i, j) = static_cast<int>(j) % 3 == 2 ? 0.0f : 2.0f;
  }
  for (size_t i = 3; i < 240; i += 12) labels[i].clear();
  const ClassificationScores scores = NodeClassification(x, labels, 0.6, 2, 5);
  EXPECT_EQ(scores.labelled_rows, 220u);
  EXPECT_GT(scores.micro_f1, 0.9);
  EXPECT_THROW(NodeClassification(x, labels, 1.5, 2, 5), Error);
}

// Rows 0..49 and 50..99 form two groups with opposite vectors: pairs within
// a group are edges, pairs across are not.
TEST(LinkPredictionTest, SeparatesEdgesFromNonEdges) {
  FloatMatrix x(100, 4);
  Rng rng(4);
  for (size_t i = 0; i < 100; ++i)
    for (size_t j = 0; j < 4; ++j)
      x.At(i, j) = static_cast<float>((i < 50 ? 1.0 : -1.0) * (j < 2 ? 1.0 : 0.2) + 0.3 * (rng.UniformDouble() - 0.5));
  std::vector<RowPair> edges, non_edges, test_edges, test_non_edges;
  for (size_t i = 0; i < 40; ++i) {
    edges.push_back({i, (i + 1) % 50});
    non_edges.push_back({i, 50 + i});
    test_edges.push_back({50 + i, 50 + (i + 3) % 50});
    test_non_edges.push_back({i + 5, 60 + i % 40});
  }
  const LinkPredictionScores s = LinkPrediction(x, edges, non_edges, test_edges, test_non_edges);
  EXPECT_GT(s.dot_auc, 0.99);
  EXPECT_GT(s.hadamard_auc, 0.99);
  EXPECT_THROW(LinkPrediction(x, {}, non_edges, test_edges, test_non_edges), Error);
}

}  // namespace
}  // namespace gr::embed
