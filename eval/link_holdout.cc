#include "eval/link_holdout.h"

#include <utility>

#include "core/error.h"
#include "core/rng.h"

namespace gr::eval {
namespace {

// Up to `limit` of the pairs (0 = all), chosen with the seed.
std::vector<embed::RowPair> SamplePairs(const std::vector<graph::VertexPair>& pairs, size_t limit,
                                        uint64_t seed) {
  std::vector<embed::RowPair> out(pairs.begin(), pairs.end());
  if (limit == 0 || out.size() <= limit) return out;
  Rng rng(seed);
  out.resize(ShuffleFront(out, limit, rng));
  return out;
}

}  // namespace

HeldOutLinkScores ScoreHeldOutFollows(const graph::SocialGraph& full, const graph::EdgeSplit& split,
                                      const FloatMatrix& vectors, size_t max_pairs, uint64_t seed) {
  GR_CHECK(!split.test_edges.empty(),
           "nothing could be held out: every edge is needed to keep the graph connected");
  const auto train = SamplePairs(graph::FollowPairs(split.train), max_pairs, MixSeed(seed, 1));
  const auto test = SamplePairs(split.test_edges, max_pairs, MixSeed(seed, 2));
  const auto test_non = SamplePairs(split.test_non_edges, test.size(), MixSeed(seed, 3));
  const auto sampled_non =
      graph::SampleNonEdges(full, train.size(), MixSeed(seed, 4), split.test_non_edges);
  const std::vector<embed::RowPair> train_non(sampled_non.begin(), sampled_non.end());
  HeldOutLinkScores s;
  s.auc = embed::LinkPrediction(vectors, train, train_non, test, test_non);
  s.train_edges = train.size();
  s.train_non_edges = train_non.size();
  s.test_edges = test.size();
  s.test_non_edges = test_non.size();
  return s;
}

}  // namespace gr::eval
