// Offline quality measures of embeddings: node classification (one-vs-rest
// logistic regression, DeepWalk/node2vec protocol) and ROC AUC.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/matrix.h"

namespace gr::embed {

struct ClassificationScores {
  double micro_f1 = 0, macro_f1 = 0;          // means over the repeats
  double micro_f1_sd = 0, macro_f1_sd = 0;    // standard deviations over the repeats
  size_t labelled_rows = 0, classes = 0;
};

// features: one row per vertex; labels[i]: the label ids of row i (empty =
// unlabelled, ignored). Each repeat shuffles the labelled rows (seeded by
// seed + repeat), trains one L2-regularised (C = 1, as scikit-learn's
// default) logistic regression per class on `train_fraction` of them, and
// predicts for each test row its k most probable classes, k = its number of
// true labels. Throws kInvalidArgument for bad shapes or fractions.
ClassificationScores NodeClassification(const FloatMatrix& features,
                                        const std::vector<std::vector<int>>& labels,
                                        double train_fraction, int repeats, uint64_t seed);

using RowPair = std::pair<size_t, size_t>;  // two rows of the feature matrix

struct LinkPredictionScores {
  double dot_auc = 0;       // score = dot product of the two vectors
  double hadamard_auc = 0;  // score = logistic regression on their element-wise product
};

// node2vec's link-prediction protocol on given pairs: a logistic regression
// (C = 1) is trained on the Hadamard products of train_edges (label 1) and
// train_non_edges (label 0) and scores the test pairs; the dot product needs
// no training. Throws kInvalidArgument for empty pair lists.
LinkPredictionScores LinkPrediction(const FloatMatrix& features, const std::vector<RowPair>& train_edges,
                                    const std::vector<RowPair>& train_non_edges,
                                    const std::vector<RowPair>& test_edges,
                                    const std::vector<RowPair>& test_non_edges);

// Area under the ROC curve of `scores` for binary `labels` (ties count half).
double RocAuc(std::span<const double> scores, std::span<const uint8_t> labels);

}  // namespace gr::embed
