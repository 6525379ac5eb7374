// Warm start: the nightly run begins from the previous version's vectors
// instead of random ones, so fewer epochs reach the same quality and
// neighbourhoods stay stable.
#pragma once

#include <vector>

#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"

namespace gr::embed {

struct WarmStart {
  FloatMatrix input;        // accounts (then posts, with_posts) x dim, in the graph's dense order
  FloatMatrix output;       // the same rows (zeros where unknown)
  std::vector<bool> known;  // row was set (copied or averaged); others start random
  size_t copied = 0;        // accounts found in the previous table
  size_t averaged = 0;      // new accounts given their known neighbours' mean
  size_t copied_posts = 0;  // with_posts: posts found in the previous table
};

// Matches `previous`'s account rows to g's accounts by external id and copies
// them; a new account gets the mean of the vectors of its known follow
// neighbours (either direction), or stays unknown if it has none. Output
// vectors are handled the same way when `previous` has them. `with_posts`
// (the vocabulary of metapath walks): g's posts follow the accounts, a post
// of `previous` copied, a new one unknown. Throws kInvalidArgument if
// `previous` is empty.
WarmStart MakeWarmStart(const EmbeddingTable& previous, const graph::SocialGraph& g, bool with_posts = false);

}  // namespace gr::embed
