// The three recall kinds over one account embedding (input and output
// vectors) and the graph store:
//   similar accounts: an account's input vector against every account's
//     input vector, cosine;
//   user -> author:  a user's input vector against the output ("context")
//     vectors of accounts that post, inner product (skip-gram's own score:
//     how likely the author appears in the user's walk context);
//   user -> post:    a user's input vector against post vectors, cosine.
//   consistent posts: the ranker-consistent towers (ranking/consistent_recall.h):
//     the user tower's query against the post tower's rows, inner product.
//     The caller computes the query (the towers live above recall); the
//     index is built by the batch from the post tower.
//
// Post vectors come from the post-vector rule (embed/graph_vectors.h).
//
// Filters read the graph store: the query account itself is never
// returned; on request accounts it already follows, or posts it already
// interacted with, are excluded too. The indices fetch deeper until k
// results survive (recall/vector_index.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <span>
#include <vector>

#include "core/shard.h"
#include "embed/embedding_table.h"
#include "embed/graph_vectors.h"
#include "graph/social_graph.h"
#include "recall/vector_index.h"

namespace gr::recall {

enum class RecallKind { kSimilarAccounts, kAuthors, kPosts, kConsistentPosts };
const char* RecallKindName(RecallKind kind);

struct RecallIndexes {
  std::unique_ptr<VectorIndex> accounts;  // similar accounts (input vectors)
  std::unique_ptr<VectorIndex> authors;   // user -> author (output vectors of accounts that post)
  std::unique_ptr<VectorIndex> posts;     // user -> post; null if the graph has no posts
  std::unique_ptr<VectorIndex> consistent_posts;  // ranker-consistent user -> post; null if not trained

  // The index answering `kind`, or null if absent.
  const VectorIndex* For(RecallKind kind) const;
  VectorIndex* For(RecallKind kind) {
    return const_cast<VectorIndex*>(static_cast<const RecallIndexes*>(this)->For(kind));
  }
  // Sets ef_search on every present index (not while searches run).
  void SetEfSearch(uint32_t ef);
};

// Which indices to build (the accounts index is always built: it is the
// one every version must have), and over which items: a shard other than
// the whole keeps the accounts, authors and posts whose ids fall in it
// (core/shard.h), for `graphrec serve --shard K/N`.
struct RecallIndexKinds {
  bool authors = true;
  bool posts = true;
  Shard shard;
};

// Builds the indices. `config`'s metric is overridden per kind as described
// above; kind, M, ef values and threads apply to all.
RecallIndexes BuildRecallIndexes(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                 const IndexConfig& config, const embed::PostVectorRule& rule = {},
                                 RecallIndexKinds kinds = {});

// What BuildRecallIndexes indexes, before the indices are built: each
// index's ids and their vectors (one row per id). A shard's indices can be
// built elsewhere from them (the MPI batch builds each shard on its own
// rank).
struct IndexItems {
  std::vector<ExternalId> ids;
  FloatMatrix vectors;
  IndexItems Shard(gr::Shard shard) const;  // the items whose ids fall in `shard`
};
struct RecallIndexItems {
  IndexItems accounts;
  std::optional<IndexItems> authors;  // absent: no authors index
  std::optional<IndexItems> posts;    // absent or empty: no posts index
  RecallIndexItems Shard(gr::Shard shard) const;
};
RecallIndexItems CollectRecallIndexItems(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                         const embed::PostVectorRule& rule = {}, RecallIndexKinds kinds = {});
RecallIndexes BuildRecallIndexes(const RecallIndexItems& items, const IndexConfig& config);

struct RecallResult {
  ExternalId id;  // account or post id
  float score;
};

// What recall answers for an account that has no vector yet (the
// server's popularity fallback): per kind the `n` most popular items, most
// first, scored by their counts: accounts by followers, authors (accounts
// that posted; every account when there are no posts) by followers, posts
// created in the last `post_days` days before the newest post by
// interactions. Ties by id.
struct PopularItems {
  std::vector<RecallResult> accounts, authors, posts;
  const std::vector<RecallResult>& For(RecallKind kind) const;  // consistent posts: posts
};
PopularItems FindPopularItems(const graph::SocialGraph& g, size_t n, uint32_t post_days = 3);

// Answers recall queries. Holds references: the graph, the table and the
// indices must outlive it. Safe for concurrent queries.
//
// The indices are the one part of a served version that changes while it
// is live: the server's refresher sets vectors in place (Update), and
// searches exclude updates (a shared lock; an update holds it exclusively
// for one item at a time, since hnswlib searches are not safe beside its
// inserts), so a search never sees half an update.
class Recaller {
 public:
  Recaller(const graph::SocialGraph& g, const embed::EmbeddingTable& table, RecallIndexes& indexes);

  // Throws kNotFound for an account neither in the graph nor given a
  // `query` (or one without a vector), kInvalidArgument for k == 0 or when
  // the index for the kind is absent. `exclude_known` = exclude followed
  // accounts (similar, authors) or posts interacted with (posts), as the
  // graph knows them. A non-empty `query` is searched with instead of the
  // account's own vector (a vector refreshed since the version; then the
  // account may be new to the graph); it must have the index's dimension.
  // Consistent posts always need the query (the user tower's output).
  std::vector<RecallResult> Recall(RecallKind kind, ExternalId account, size_t k, bool exclude_known,
                                   std::span<const float> query = {}) const;

  // Sets the vectors (rows of `vectors`) of `ids` in the index answering
  // `kind`: replaced in place if indexed, added otherwise. Throws
  // kInvalidArgument when that index is absent or a vector is bad (a zero
  // cosine vector, a wrong dimension); items before it stay updated.
  void Update(RecallKind kind, std::span<const ExternalId> ids, const FloatMatrix& vectors);

  // Items in the index answering `kind` (0 when absent), and the vector it
  // holds for `id` (normalised for cosine), if any.
  size_t IndexSize(RecallKind kind) const;
  std::optional<std::vector<float>> IndexedVector(RecallKind kind, ExternalId id) const;

  const graph::SocialGraph& graph() const { return g_; }

 private:
  std::vector<uint32_t> Exclusions(RecallKind kind, ExternalId account, VertexId user, const VectorIndex& index,
                                   bool exclude_known) const;

  const graph::SocialGraph& g_;
  RecallIndexes& indexes_;
  mutable std::shared_mutex update_mutex_;  // searches shared, Update exclusive
  std::vector<uint8_t> has_vector_;   // per account (declared first: user_vectors_' initializer fills it)
  FloatMatrix user_vectors_;          // input vectors, g's dense order
};

}  // namespace gr::recall
