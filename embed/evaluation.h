// Offline quality measures of embeddings: node classification (one-vs-rest
// logistic regression, DeepWalk/node2vec protocol) and ROC AUC.
#pragma once

#include <cstdint>
#include <span>
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

// Area under the ROC curve of `scores` for binary `labels` (ties count half).
double RocAuc(std::span<const double> scores, std::span<const uint8_t> labels);

}  // namespace gr::embed
