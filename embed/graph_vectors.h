// Vectors of the graph's accounts and posts from one account embedding, in
// the graph's dense order: the rule every consumer of post vectors (recall
// indices, ranking features) shares.
//
// Post vectors (BuildPostVectors) come from the interaction graph:
//   - a post with at least `min_interactions` interactions and a trained
//     row in the table (metapath walks over interactions) keeps that row;
//   - any other post (cold start) gets the weighted mean of its author's
//     input vector (weight `author_weight`) and the input vectors of its
//     first `first_engagers` interacting accounts by time (weight 1 each);
//   - a post with neither an author vector nor engagers gets none and is
//     not recallable (counted in PostVectors::without_vector).
//
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"

namespace gr::embed {

struct PostVectorRule {
  uint32_t min_interactions = 3;  // trained post rows are used from this many interactions on
  uint32_t first_engagers = 5;    // cold posts: earliest interacting accounts averaged
  float author_weight = 1.0f;     // cold posts: weight of the author's vector; >= 0
};

struct PostVectors {
  std::vector<ExternalId> ids;  // posts that got a vector
  FloatMatrix vectors;          // one row per id
  uint64_t trained = 0;         // from a trained row
  uint64_t cold = 0;            // from author and first engagers
  uint64_t without_vector = 0;  // no author vector and no engagers
};

// Account vectors of `table` in g's dense account order. `output` selects
// the output (context) vectors. Throws kInvalidArgument if the table has no
// output vectors when asked, or misses more than half of g's accounts.
FloatMatrix AccountVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                           bool output, std::vector<uint8_t>* has_vector = nullptr);

// One cold post's vector by the rule, into `out`: the author's vector
// (null = none) at rule.author_weight and each engager's (the caller picks
// the earliest rule.first_engagers; nulls skipped) at 1, divided by the
// weights. False when nothing had a vector or the sum is zero.
bool ColdPostVector(const float* author, std::span<const float* const> engagers, const PostVectorRule& rule,
                    std::span<float> out);

PostVectors BuildPostVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                             const PostVectorRule& rule = {});

}  // namespace gr::embed
