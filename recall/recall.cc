#include "recall/recall.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel.h"

namespace gr::recall {

const char* RecallKindName(RecallKind kind) {
  switch (kind) {
    case RecallKind::kSimilarAccounts: return "similar_accounts";
    case RecallKind::kAuthors: return "authors";
    case RecallKind::kPosts: return "posts";
  }
  return "?";
}

const VectorIndex* RecallIndexes::For(RecallKind kind) const {
  switch (kind) {
    case RecallKind::kSimilarAccounts: return accounts.get();
    case RecallKind::kAuthors: return authors.get();
    case RecallKind::kPosts: return posts.get();
  }
  return nullptr;
}

void RecallIndexes::SetEfSearch(uint32_t ef) {
  for (VectorIndex* index : {accounts.get(), authors.get(), posts.get()})
    if (index != nullptr) index->SetEfSearch(ef);
}

FloatMatrix AccountVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table, bool output,
                           std::vector<uint8_t>* has_vector) {
  GR_CHECK(!output || table.output.rows() == table.rows(),
           "the embedding has no output (context) vectors; author recall needs them (write it as .emb)");
  const FloatMatrix& source = output ? table.output : table.input;
  FloatMatrix vectors(g.num_accounts(), table.dim());
  std::vector<uint8_t> found(g.num_accounts(), 0);
  size_t matched = 0;
  for (size_t r = 0; r < table.rows(); ++r) {
    if (table.kinds[r] != embed::TokenKind::kAccount) continue;
    const VertexId v = g.accounts.Find(table.ids[r]);
    if (v == kNoVertex) continue;
    std::copy_n(source.Row(r).data(), table.dim(), vectors.Row(v).data());
    found[v] = 1;
    ++matched;
  }
  GR_CHECK(2 * matched >= g.num_accounts(), "the embedding covers only ", matched, " of the graph's ",
           g.num_accounts(), " accounts: is it from another graph?");
  if (has_vector != nullptr) *has_vector = std::move(found);
  return vectors;
}

PostVectors BuildPostVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                             const PostVectorRule& rule) {
  GR_CHECK(rule.author_weight >= 0, "author_weight must be >= 0, got ", rule.author_weight);
  std::vector<uint8_t> has_account;
  const FloatMatrix accounts = AccountVectors(g, table, /*output=*/false, &has_account);
  std::unordered_map<ExternalId, size_t> post_row;
  for (size_t r = 0; r < table.rows(); ++r)
    if (table.kinds[r] == embed::TokenKind::kPost) post_row.emplace(table.ids[r], r);
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
    double weight = 0;
    auto add = [&](VertexId account, float w) {
      if (w <= 0 || !has_account[account]) return;
      const float* v = accounts.Row(account).data();
      for (size_t x = 0; x < d; ++x) out[x] += w * v[x];
      weight += w;
    };
    const VertexId author = g.post_author.empty() ? kNoVertex : g.post_author[p];
    if (author != kNoVertex) add(author, rule.author_weight);
    // The earliest engagers (ties and untimed edges by account id).
    std::vector<std::pair<uint32_t, VertexId>> engagers;
    for (EdgeIndex e = g.engagers.Begin(p); e < g.engagers.End(p); ++e)
      engagers.emplace_back(g.engagers.times.empty() ? 0u : g.engagers.times[e], g.engagers.targets[e]);
    const size_t take = std::min<size_t>(rule.first_engagers, engagers.size());
    std::partial_sort(engagers.begin(), engagers.begin() + static_cast<int64_t>(take), engagers.end());
    for (size_t i = 0; i < take; ++i) add(engagers[i].second, 1.0f);
    if (weight > 0) {
      for (size_t x = 0; x < d; ++x) out[x] = static_cast<float>(out[x] / weight);
      source[p] = 2;
    }
  });
  for (VertexId p = 0; p < n; ++p) {  // vectors that cancel out have no direction
    if (source[p] == 0) continue;
    const auto row = all.Row(p);
    if (std::all_of(row.begin(), row.end(), [](float x) { return x == 0.0f; })) source[p] = 0;
  }
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

namespace {

// An index over the given accounts' rows of `vectors` (g's dense order).
std::unique_ptr<VectorIndex> AccountIndex(const graph::SocialGraph& g, const FloatMatrix& vectors,
                                          const std::vector<VertexId>& accounts, IndexConfig config, Metric metric) {
  std::vector<ExternalId> ids;
  FloatMatrix rows(accounts.size(), vectors.cols());
  for (size_t i = 0; i < accounts.size(); ++i) {
    ids.push_back(g.accounts.ToExternal(accounts[i]));
    std::copy_n(vectors.Row(accounts[i]).data(), vectors.cols(), rows.Row(i).data());
  }
  config.metric = metric;
  return VectorIndex::Build(std::move(ids), rows, config);
}

}  // namespace

RecallIndexes BuildRecallIndexes(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                 const IndexConfig& config, const PostVectorRule& rule, RecallIndexKinds kinds) {
  RecallIndexes indexes;
  std::vector<uint8_t> has_vector;
  const FloatMatrix input = AccountVectors(g, table, false, &has_vector);
  std::vector<VertexId> with_vector, authors;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    if (!has_vector[v]) continue;
    with_vector.push_back(v);
    // Authors: accounts that posted, or every account when posts are unknown.
    if (g.num_posts() == 0 || g.authored.Degree(v) > 0) authors.push_back(v);
  }
  indexes.accounts = AccountIndex(g, input, with_vector, config, Metric::kCosine);
  if (kinds.authors && table.output.rows() == table.rows())
    indexes.authors = AccountIndex(g, AccountVectors(g, table, true), authors, config, Metric::kInnerProduct);
  if (kinds.posts && g.num_posts() > 0) {
    PostVectors posts = BuildPostVectors(g, table, rule);
    IndexConfig c = config;
    c.metric = Metric::kCosine;
    if (!posts.ids.empty()) indexes.posts = VectorIndex::Build(std::move(posts.ids), posts.vectors, c);
  }
  return indexes;
}

namespace {
constexpr const char* kIndexFiles[3] = {"accounts.hnsw", "authors.hnsw", "posts.hnsw"};
}  // namespace

void SaveRecallIndexes(const RecallIndexes& indexes, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const VectorIndex* all[3] = {indexes.accounts.get(), indexes.authors.get(), indexes.posts.get()};
  for (size_t i = 0; i < 3; ++i) {
    const std::string path = (std::filesystem::path(dir) / kIndexFiles[i]).string();
    if (all[i] != nullptr) {
      all[i]->Save(path);
    } else {
      std::filesystem::remove(path);  // a stale file from an earlier build must not be picked up
    }
  }
}

RecallIndexes LoadRecallIndexes(const std::string& dir, size_t dim) {
  RecallIndexes indexes;
  std::unique_ptr<VectorIndex>* all[3] = {&indexes.accounts, &indexes.authors, &indexes.posts};
  for (size_t i = 0; i < 3; ++i) {
    const std::string path = (std::filesystem::path(dir) / kIndexFiles[i]).string();
    if (std::filesystem::exists(path)) *all[i] = VectorIndex::Load(path, dim);
  }
  GR_CHECK_CODE(indexes.accounts != nullptr, ErrorCode::kNotFound, "no accounts.hnsw in ", dir);
  return indexes;
}

Recaller::Recaller(const graph::SocialGraph& g, const embed::EmbeddingTable& table, const RecallIndexes& indexes)
    : g_(g), indexes_(indexes), user_vectors_(AccountVectors(g, table, false, &has_vector_)) {
  for (const VectorIndex* index : {indexes.accounts.get(), indexes.authors.get(), indexes.posts.get()})
    GR_CHECK(index == nullptr || index->dim() == table.dim(), "index dimension ", index->dim(),
             " does not match the embedding's ", table.dim());
}

std::vector<uint32_t> Recaller::Exclusions(RecallKind kind, VertexId user, const VectorIndex& index,
                                           bool exclude_known) const {
  std::vector<uint32_t> excluded;
  auto exclude = [&](ExternalId id) {
    if (const uint32_t item = index.Find(id); item != kNoVertex) excluded.push_back(item);
  };
  if (kind == RecallKind::kPosts) {
    if (exclude_known)
      for (VertexId p : g_.engagements.Neighbors(user)) exclude(g_.posts.ToExternal(p));
  } else {
    exclude(g_.accounts.ToExternal(user));
    if (exclude_known)
      for (VertexId v : g_.following.Neighbors(user)) exclude(g_.accounts.ToExternal(v));
  }
  std::sort(excluded.begin(), excluded.end());
  excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
  return excluded;
}

std::vector<RecallResult> Recaller::Recall(RecallKind kind, ExternalId account, size_t k, bool exclude_known) const {
  GR_CHECK(k > 0, "k must be > 0");
  const VertexId user = g_.accounts.Find(account);
  GR_CHECK_CODE(user != kNoVertex, ErrorCode::kNotFound, "account ", account, " is not in the graph");
  GR_CHECK_CODE(has_vector_[user], ErrorCode::kNotFound, "account ", account, " has no vector");
  const VectorIndex* index = indexes_.For(kind);
  GR_CHECK(index != nullptr, "no ", RecallKindName(kind), " index in this model");
  const auto found = index->Search(user_vectors_.Row(user), k, Exclusions(kind, user, *index, exclude_known));
  std::vector<RecallResult> results;
  results.reserve(found.size());
  for (const ScoredItem& s : found) results.push_back({index->id(s.item), s.score});
  return results;
}

}  // namespace gr::recall
