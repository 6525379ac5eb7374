#include "embed/warm_start.h"

#include <algorithm>

#include "core/error.h"

namespace gr::embed {

WarmStart MakeWarmStart(const EmbeddingTable& previous, const graph::SocialGraph& g, bool with_posts) {
  GR_CHECK(previous.rows() > 0 && previous.dim() > 0, "the previous embedding table is empty");
  const size_t n = g.num_accounts(), d = previous.dim();
  const size_t rows = n + (with_posts ? g.num_posts() : 0);
  const bool has_output = !previous.output.empty();
  WarmStart warm;
  warm.input = FloatMatrix(rows, d);
  warm.output = FloatMatrix(rows, d);
  warm.known.assign(rows, false);
  std::vector<bool> copied(n, false);
  for (size_t r = 0; r < previous.rows(); ++r) {
    const bool post = previous.kinds[r] == TokenKind::kPost;
    if (post && !with_posts) continue;
    const VertexId found = post ? g.posts.Find(previous.ids[r]) : g.accounts.Find(previous.ids[r]);
    if (found == kNoVertex) continue;  // gone since the previous version
    const size_t row = post ? n + found : found;
    std::copy_n(previous.input.Row(r).data(), d, warm.input.Row(row).data());
    if (has_output) std::copy_n(previous.output.Row(r).data(), d, warm.output.Row(row).data());
    warm.known[row] = true;
    if (post) {
      ++warm.copied_posts;
      continue;
    }
    copied[found] = true;
    ++warm.copied;
  }
  for (VertexId v = 0; v < n; ++v) {
    if (copied[v]) continue;
    size_t neighbours = 0;
    for (const graph::CsrGraph* list : {&g.following, &g.followers}) {
      for (VertexId u : list->Neighbors(v)) {
        if (!copied[u]) continue;
        ++neighbours;
        for (size_t x = 0; x < d; ++x) {
          warm.input.At(v, x) += warm.input.At(u, x);
          warm.output.At(v, x) += warm.output.At(u, x);
        }
      }
    }
    if (neighbours == 0) continue;
    const float scale = 1.0f / static_cast<float>(neighbours);
    for (size_t x = 0; x < d; ++x) {
      warm.input.At(v, x) *= scale;
      warm.output.At(v, x) *= scale;
    }
    warm.known[v] = true;
    ++warm.averaged;
  }
  return warm;
}

}  // namespace gr::embed
