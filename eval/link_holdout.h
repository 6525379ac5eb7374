// Link prediction on held-out follows (node2vec's protocol, graph/edge_split.h
// for the split): the batch's quality gate and `graphrec eval
// link-prediction --input` score vectors this one way.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/matrix.h"
#include "embed/evaluation.h"
#include "graph/edge_split.h"
#include "graph/social_graph.h"

namespace gr::eval {

struct HeldOutLinkScores {
  embed::LinkPredictionScores auc;
  size_t train_edges = 0, train_non_edges = 0, test_edges = 0, test_non_edges = 0;  // pairs scored
};

// Scores `vectors` (one row per account of `full`, dense order; trained on
// split.train only) on split.test_edges against split.test_non_edges. The
// logistic regression learns from split.train's follows and as many sampled
// non-edges of `full` (never a held-out non-edge). max_pairs > 0 samples
// each list down to that many (0 = all). Every sample is drawn from `seed`.
// Throws kInvalidArgument if nothing was held out.
HeldOutLinkScores ScoreHeldOutFollows(const graph::SocialGraph& full, const graph::EdgeSplit& split,
                                      const FloatMatrix& vectors, size_t max_pairs, uint64_t seed);

}  // namespace gr::eval
