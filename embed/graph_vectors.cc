#include "embed/graph_vectors.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel.h"

namespace gr::embed {

FloatMatrix AccountVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                           bool output, std::vector<uint8_t>* has_vector) {
  GR_CHECK(
      !output || table.output.rows() == table.rows(),
      "the embedding has no output (context) vectors; author recall needs them (write it as .emb)");
  const FloatMatrix& source = output ? table.output : table.input;
  FloatMatrix vectors(g.num_accounts(), table.dim());
  std::vector<uint8_t> found(g.num_accounts(), 0);
  size_t matched = 0;
  for (size_t r = 0; r < table.rows(); ++r) {
    if (table.kinds[r] != TokenKind::kAccount) continue;
    const VertexId v = g.accounts.Find(table.ids[r]);
    if (v == kNoVertex) continue;
    std::copy_n(source.Row(r).data(), table.dim(), vectors.Row(v).data());
    found[v] = 1;
    ++matched;
  }
  GR_CHECK(2 * matched >= g.num_accounts(), "the embedding covers only ", matched,
           " of the graph's ", g.num_accounts(), " accounts: is it from another graph?");
  if (has_vector != nullptr) *has_vector = std::move(found);
  return vectors;
}

bool ColdPostVector(const float* author, std::span<const float* const> engagers, const PostVectorRule& rule,
                    std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  double weight = 0;
  const auto add = [&](const float* v, float w) {
    if (w <= 0 || v == nullptr) return;
    for (size_t x = 0; x < out.size(); ++x) out[x] += w * v[x];
    weight += w;
  };
  add(author, rule.author_weight);
  for (const float* engager : engagers) add(engager, 1.0f);
  if (weight == 0) return false;
  for (float& x : out) x = static_cast<float>(x / weight);
  // A sum that cancels out has no direction.
  return std::any_of(out.begin(), out.end(), [](float x) { return x != 0.0f; });
}

PostVectors BuildPostVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                             const PostVectorRule& rule) {
  GR_CHECK(rule.author_weight >= 0, "author_weight must be >= 0, got ", rule.author_weight);
  std::vector<uint8_t> has_account;
  const FloatMatrix accounts = AccountVectors(g, table, /*output=*/false, &has_account);
  std::unordered_map<ExternalId, size_t> post_row;
  for (size_t r = 0; r < table.rows(); ++r)
    if (table.kinds[r] == TokenKind::kPost) post_row.emplace(table.ids[r], r);
  const size_t d = table.dim(), n = g.num_posts();
  FloatMatrix all(n, d);
  std::vector<uint8_t> source(n, 0);  // 0 none, 1 trained, 2 cold
  ParallelFor(static_cast<int64_t>(n), 0, 256, [&](int64_t pi) {
    const auto p = static_cast<VertexId>(pi);
    float* out = all.Row(p).data();
    const uint64_t interactions = g.engagers.Degree(p);
    if (interactions >= rule.min_interactions) {
      if (auto it = post_row.find(g.posts.ToExternal(p)); it != post_row.end()) {
        std::copy_n(table.input.Row(it->second).data(), d, out);
        source[p] = 1;
        return;
      }
    }
    const VertexId author = g.post_author.empty() ? kNoVertex : g.post_author[p];
    // The earliest engagers (ties and untimed edges by account id).
    std::vector<std::pair<uint32_t, VertexId>> engagers;
    for (EdgeIndex e = g.engagers.Begin(p); e < g.engagers.End(p); ++e)
      engagers.emplace_back(g.engagers.times.empty() ? 0u : g.engagers.times[e], g.engagers.targets[e]);
    const size_t take = std::min<size_t>(rule.first_engagers, engagers.size());
    std::partial_sort(engagers.begin(), engagers.begin() + static_cast<int64_t>(take), engagers.end());
    const auto vector_of = [&](VertexId account) -> const float* {
      return has_account[account] ? accounts.Row(account).data() : nullptr;
    };
    std::vector<const float*> engager_vectors;
    for (size_t i = 0; i < take; ++i) engager_vectors.push_back(vector_of(engagers[i].second));
    if (ColdPostVector(author == kNoVertex ? nullptr : vector_of(author), engager_vectors, rule, {out, d}))
      source[p] = 2;
  });
  PostVectors result;
  for (VertexId p = 0; p < n; ++p) {
    result.trained += source[p] == 1;
    result.cold += source[p] == 2;
    result.without_vector += source[p] == 0;
  }
  result.vectors = FloatMatrix(result.trained + result.cold, d);
  size_t row = 0;
  for (VertexId p = 0; p < n; ++p) {
    if (source[p] == 0) continue;
    result.ids.push_back(g.posts.ToExternal(p));
    std::copy_n(all.Row(p).data(), d, result.vectors.Row(row++).data());
  }
  return result;
}

}  // namespace gr::embed
