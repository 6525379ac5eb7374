// The three recall kinds over one account embedding (input and output
// vectors) and the graph store:
//   similar accounts: an account's input vector against every account's
//     input vector, cosine;
//   user -> author:  a user's input vector against the output ("context")
//     vectors of accounts that post, inner product (skip-gram's own score:
//     how likely the author appears in the user's walk context);
//   user -> post:    a user's input vector against post vectors, cosine.
//
// Post vectors (BuildPostVectors) come from the interaction graph:
//   - a post with at least `min_interactions` interactions and a trained
//     row in the table (metapath walks over interactions) keeps that row;
//   - any other post (cold start) gets the weighted mean of its author's
//     input vector (weight `author_weight`) and the input vectors of its
//     first `first_engagers` interacting accounts by time (weight 1 each);
//   - a post with neither an author vector nor engagers gets none and is
//     not recallable (counted in PostVectorReport).
//
// Filters read the graph store: the query account itself is never
// returned; on request accounts it already follows, or posts it already
// interacted with, are excluded too. The indices fetch deeper until k
// results survive (recall/vector_index.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "recall/vector_index.h"

namespace gr::recall {

enum class RecallKind { kSimilarAccounts, kAuthors, kPosts };
const char* RecallKindName(RecallKind kind);

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
FloatMatrix AccountVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table, bool output,
                           std::vector<uint8_t>* has_vector = nullptr);

PostVectors BuildPostVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                             const PostVectorRule& rule = {});

struct RecallIndexes {
  std::unique_ptr<VectorIndex> accounts;  // similar accounts (input vectors)
  std::unique_ptr<VectorIndex> authors;   // user -> author (output vectors of accounts that post)
  std::unique_ptr<VectorIndex> posts;     // user -> post; null if the graph has no posts

  // The index answering `kind`, or null if absent.
  const VectorIndex* For(RecallKind kind) const;
  // Sets ef_search on every present index (not while searches run).
  void SetEfSearch(uint32_t ef);
};

// Which indices to build (the accounts index is always built: it is the
// one every version must have).
struct RecallIndexKinds {
  bool authors = true;
  bool posts = true;
};

// Builds the indices. `config`'s metric is overridden per kind as described
// above; kind, M, ef values and threads apply to all.
RecallIndexes BuildRecallIndexes(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                 const IndexConfig& config, const PostVectorRule& rule = {},
                                 RecallIndexKinds kinds = {});

// Files in an index directory: accounts.hnsw, authors.hnsw, posts.hnsw
// (absent indices have no file). Save writes each atomically.
void SaveRecallIndexes(const RecallIndexes& indexes, const std::string& dir);
// Loads the files present; throws kNotFound if accounts.hnsw is missing and
// kInvalidArgument if a dimension differs from `dim` (0 = any).
RecallIndexes LoadRecallIndexes(const std::string& dir, size_t dim = 0);

struct RecallResult {
  ExternalId id;  // account or post id
  float score;
};

// Answers recall queries. Holds references: the graph, the table and the
// indices must outlive it. Safe for concurrent queries.
class Recaller {
 public:
  Recaller(const graph::SocialGraph& g, const embed::EmbeddingTable& table, const RecallIndexes& indexes);

  // Throws kNotFound for an unknown account (or one without a vector),
  // kInvalidArgument for k == 0 or when the index for the kind is absent. `exclude_known` = exclude followed accounts (similar,
  // authors) or posts interacted with (posts).
  std::vector<RecallResult> Recall(RecallKind kind, ExternalId account, size_t k, bool exclude_known) const;

  const graph::SocialGraph& graph() const { return g_; }

 private:
  std::vector<uint32_t> Exclusions(RecallKind kind, VertexId user, const VectorIndex& index,
                                   bool exclude_known) const;

  const graph::SocialGraph& g_;
  const RecallIndexes& indexes_;
  std::vector<uint8_t> has_vector_;   // per account (declared first: user_vectors_' initializer fills it)
  FloatMatrix user_vectors_;          // input vectors, g's dense order
};

}  // namespace gr::recall
