#include "recall/recall.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel.h"

namespace gr::recall {

const char* RecallKindName(RecallKind kind) {
  switch (kind) {
    case RecallKind::kSimilarAccounts:
      return "similar_accounts";
    case RecallKind::kAuthors:
      return "authors";
    case RecallKind::kPosts:
      return "posts";
    case RecallKind::kConsistentPosts:
      return "consistent_posts";
  }
  return "?";
}

const VectorIndex* RecallIndexes::For(RecallKind kind) const {
  switch (kind) {
    case RecallKind::kSimilarAccounts:
      return accounts.get();
    case RecallKind::kAuthors:
      return authors.get();
    case RecallKind::kPosts:
      return posts.get();
    case RecallKind::kConsistentPosts:
      return consistent_posts.get();
  }
  return nullptr;
}

void RecallIndexes::SetEfSearch(uint32_t ef) {
  for (VectorIndex* index : {accounts.get(), authors.get(), posts.get(), consistent_posts.get()})
    if (index != nullptr) index->SetEfSearch(ef);
}

namespace {

// The given accounts' rows of `vectors` (g's dense order).
IndexItems AccountItems(const graph::SocialGraph& g, const FloatMatrix& vectors, const std::vector<VertexId>& accounts) {
  IndexItems items{.ids = {}, .vectors = FloatMatrix(accounts.size(), vectors.cols())};
  for (size_t i = 0; i < accounts.size(); ++i) {
    items.ids.push_back(g.accounts.ToExternal(accounts[i]));
    std::copy_n(vectors.Row(accounts[i]).data(), vectors.cols(), items.vectors.Row(i).data());
  }
  return items;
}

std::unique_ptr<VectorIndex> BuildIndex(const IndexItems& items, IndexConfig config, Metric metric) {
  config.metric = metric;
  return VectorIndex::Build(items.ids, items.vectors, config);
}

}  // namespace

IndexItems IndexItems::Shard(gr::Shard shard) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < ids.size(); ++i)
    if (shard.Holds(ids[i])) kept.push_back(i);
  IndexItems part{.ids = {}, .vectors = FloatMatrix(kept.size(), vectors.cols())};
  for (size_t i = 0; i < kept.size(); ++i) {
    part.ids.push_back(ids[kept[i]]);
    std::copy_n(vectors.Row(kept[i]).data(), vectors.cols(), part.vectors.Row(i).data());
  }
  return part;
}

RecallIndexItems RecallIndexItems::Shard(gr::Shard shard) const {
  RecallIndexItems part{.accounts = accounts.Shard(shard), .authors = {}, .posts = {}};
  if (authors) part.authors = authors->Shard(shard);
  if (posts) part.posts = posts->Shard(shard);
  return part;
}

RecallIndexItems CollectRecallIndexItems(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                         const embed::PostVectorRule& rule, RecallIndexKinds kinds) {
  RecallIndexItems items;
  std::vector<uint8_t> has_vector;
  const FloatMatrix input = AccountVectors(g, table, false, &has_vector);
  std::vector<VertexId> with_vector, authors;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    if (!has_vector[v] || !kinds.shard.Holds(g.accounts.ToExternal(v))) continue;
    with_vector.push_back(v);
    // Authors: accounts that posted, or every account when posts are unknown.
    if (g.num_posts() == 0 || g.authored.Degree(v) > 0) authors.push_back(v);
  }
  items.accounts = AccountItems(g, input, with_vector);
  if (kinds.authors && table.output.rows() == table.rows())
    items.authors = AccountItems(g, AccountVectors(g, table, true), authors);
  if (kinds.posts && g.num_posts() > 0) {
    embed::PostVectors posts = embed::BuildPostVectors(g, table, rule);
    items.posts = IndexItems{.ids = std::move(posts.ids), .vectors = std::move(posts.vectors)};
    if (!kinds.shard.whole()) items.posts = items.posts->Shard(kinds.shard);
  }
  return items;
}

RecallIndexes BuildRecallIndexes(const RecallIndexItems& items, const IndexConfig& config) {
  RecallIndexes indexes;
  indexes.accounts = BuildIndex(items.accounts, config, Metric::kCosine);
  if (items.authors) indexes.authors = BuildIndex(*items.authors, config, Metric::kInnerProduct);
  if (items.posts && !items.posts->ids.empty()) indexes.posts = BuildIndex(*items.posts, config, Metric::kCosine);
  return indexes;
}

RecallIndexes BuildRecallIndexes(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                 const IndexConfig& config, const embed::PostVectorRule& rule,
                                 RecallIndexKinds kinds) {
  return BuildRecallIndexes(CollectRecallIndexItems(g, table, rule, kinds), config);
}

namespace {

// The n best of (count, id) pairs: count descending, id ascending.
std::vector<RecallResult> MostPopular(std::vector<std::pair<uint64_t, ExternalId>> counted, size_t n) {
  const size_t take = std::min(n, counted.size());
  std::partial_sort(counted.begin(), counted.begin() + static_cast<int64_t>(take), counted.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<RecallResult> items;
  for (size_t i = 0; i < take; ++i) items.push_back({counted[i].second, static_cast<float>(counted[i].first)});
  return items;
}

}  // namespace

const std::vector<RecallResult>& PopularItems::For(RecallKind kind) const {
  switch (kind) {
    case RecallKind::kSimilarAccounts:
      return accounts;
    case RecallKind::kAuthors:
      return authors;
    case RecallKind::kPosts:
    case RecallKind::kConsistentPosts:
      break;
  }
  return posts;
}

PopularItems FindPopularItems(const graph::SocialGraph& g, size_t n, uint32_t post_days) {
  PopularItems popular;
  std::vector<std::pair<uint64_t, ExternalId>> accounts, authors, posts;
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    accounts.emplace_back(g.followers.Degree(v), g.accounts.ToExternal(v));
    if (g.num_posts() == 0 || g.authored.Degree(v) > 0) authors.push_back(accounts.back());
  }
  uint32_t newest = 0;
  for (const uint32_t t : g.post_time) newest = std::max(newest, t);
  const uint64_t since = newest > uint64_t{post_days} * 86400 ? newest - uint64_t{post_days} * 86400 : 0;
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (g.post_time.empty() || g.post_time[p] >= since) posts.emplace_back(g.engagers.Degree(p), g.posts.ToExternal(p));
  popular.accounts = MostPopular(std::move(accounts), n);
  popular.authors = MostPopular(std::move(authors), n);
  popular.posts = MostPopular(std::move(posts), n);
  return popular;
}

Recaller::Recaller(const graph::SocialGraph& g, const embed::EmbeddingTable& table, RecallIndexes& indexes)
    : g_(g),
      indexes_(indexes),
      user_vectors_(embed::AccountVectors(g, table, false, &has_vector_)) {
  for (const VectorIndex* index :
       {indexes.accounts.get(), indexes.authors.get(), indexes.posts.get()})
    GR_CHECK(index == nullptr || index->dim() == table.dim(), "index dimension ", index->dim(),
             " does not match the embedding's ", table.dim());
}

std::vector<uint32_t> Recaller::Exclusions(RecallKind kind, ExternalId account, VertexId user,
                                           const VectorIndex& index, bool exclude_known) const {
  std::vector<uint32_t> excluded;
  auto exclude = [&](ExternalId id) {
    if (const uint32_t item = index.Find(id); item != kNoVertex) excluded.push_back(item);
  };
  if (kind == RecallKind::kPosts || kind == RecallKind::kConsistentPosts) {
    if (exclude_known && user != kNoVertex)
      for (VertexId p : g_.engagements.Neighbors(user)) exclude(g_.posts.ToExternal(p));
  } else {
    exclude(account);
    if (exclude_known && user != kNoVertex)
      for (VertexId v : g_.following.Neighbors(user)) exclude(g_.accounts.ToExternal(v));
  }
  std::sort(excluded.begin(), excluded.end());
  excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
  return excluded;
}

std::vector<RecallResult> Recaller::Recall(RecallKind kind, ExternalId account, size_t k,
                                           bool exclude_known, std::span<const float> query) const {
  GR_CHECK(k > 0, "k must be > 0");
  const VertexId user = g_.accounts.Find(account);
  if (query.empty()) {
    GR_CHECK_CODE(user != kNoVertex, ErrorCode::kNotFound, "account ", account, " is not in the graph");
    GR_CHECK_CODE(has_vector_[user], ErrorCode::kNotFound, "account ", account, " has no vector");
  }
  const VectorIndex* index = indexes_.For(kind);
  GR_CHECK(index != nullptr, "no ", RecallKindName(kind), " index in this model");
  GR_CHECK(query.empty() || query.size() == index->dim(), "query vector of dimension ", query.size(), ", the index ",
           index->dim());
  GR_CHECK(kind != RecallKind::kConsistentPosts || !query.empty(),
           "consistent posts recall needs the user tower's query vector");
  const std::shared_lock lock(update_mutex_);
  const auto found = index->Search(query.empty() ? user_vectors_.Row(user) : query, k,
                                   Exclusions(kind, account, user, *index, exclude_known));
  std::vector<RecallResult> results;
  results.reserve(found.size());
  for (const ScoredItem& s : found) results.push_back({index->id(s.item), s.score});
  return results;
}

void Recaller::Update(RecallKind kind, std::span<const ExternalId> ids, const FloatMatrix& vectors) {
  GR_CHECK(ids.size() == vectors.rows(), ids.size(), " ids for ", vectors.rows(), " vectors");
  VectorIndex* index = indexes_.For(kind);
  GR_CHECK(index != nullptr, "no ", RecallKindName(kind), " index in this model");
  GR_CHECK(vectors.cols() == index->dim(), "vectors of dimension ", vectors.cols(), ", the index ", index->dim());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::unique_lock lock(update_mutex_);  // one item at a time: searches wait one insert at most
    index->AddOrUpdate(ids[i], vectors.Row(i));
  }
}

size_t Recaller::IndexSize(RecallKind kind) const {
  const std::shared_lock lock(update_mutex_);
  const VectorIndex* index = indexes_.For(kind);
  return index == nullptr ? 0 : index->size();
}

std::optional<std::vector<float>> Recaller::IndexedVector(RecallKind kind, ExternalId id) const {
  const std::shared_lock lock(update_mutex_);
  const VectorIndex* index = indexes_.For(kind);
  if (index == nullptr) return std::nullopt;
  const uint32_t item = index->Find(id);
  if (item == kNoVertex) return std::nullopt;
  return index->Vector(item);
}

}  // namespace gr::recall
