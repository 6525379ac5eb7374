// Funnel consistency: does recall find what the ranker would put on top if
// it could score everything? For each sampled account the ranker scores
// the whole catalogue (the posts of a time window, or a uniform sample of
// them) with its fused score: the best `top` are the ideal. Each recall
// source then recalls K posts of the catalogue, the ranker orders them, and
//   overlap@top   = |ranker's top `top` of the recalled K  ∩  ideal| / top
//   wide recalled = share of the ranker's best `wide` posts of the catalogue
//                   that are among the recalled K.
// Both are averaged over the accounts. Because the ranker scores a post
// the same way in both passes, overlap@top equals the share of the ideal
// top recalled (up to ties); the wide share says how close the misses are.
// Ties in the fused score are broken by the smaller post id, so the ideal
// is a set, not an order of evaluation.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/ids.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/recall.h"

namespace gr::eval {

// A recall source: the best `k` posts of the catalogue for `account`, best
// first (fewer when it finds fewer). Ids outside the catalogue are ignored.
struct ConsistencySource {
  std::string name;
  std::function<std::vector<ExternalId>(ExternalId account, size_t k)> recall;
};

// The ranker's fused score of every catalogue post for `account` (parallel
// to the catalogue).
using CatalogueScorer = std::function<std::vector<float>(ExternalId account)>;

struct ConsistencyConfig {
  uint32_t top = 15;                                // the ideal's size
  uint32_t wide = 100;                              // the wider ideal whose recalled share is reported
  std::vector<uint32_t> ks{100, 500, 2000, 5000};  // recall depths
  int threads = 0;                                  // accounts in parallel; 0 = all cores

  void Validate() const;  // throws kInvalidArgument naming the field
};

struct ConsistencyRow {
  std::string source;
  uint32_t k = 0;
  double overlap = 0;        // mean overlap@top
  double wide_recalled = 0;  // mean share of the wide ideal recalled
  double recalled = 0;       // mean number of catalogue posts the source returned (<= k)
};

// The rows, source by source and K by K in the given orders. Accounts whose
// scorer throws kNotFound are skipped (counted in *skipped); the same
// accounts, catalogue and sources give the same rows whatever the threads.
std::vector<ConsistencyRow> MeasureConsistency(std::span<const ExternalId> accounts,
                                               std::span<const ExternalId> catalogue, const CatalogueScorer& scorer,
                                               std::span<const ConsistencySource> sources,
                                               const ConsistencyConfig& config, uint64_t* skipped = nullptr);

// The measurement on one version: the catalogue, the accounts and the
// built-in recall sources.
struct VersionConsistencyConfig {
  ConsistencyConfig metric;
  uint32_t accounts = 200;         // sampled among accounts with a vector and an interaction
  uint32_t window_days = 7;        // catalogue: posts of the last days before the scoring time
  uint32_t max_catalogue = 20000;  // larger windows are sampled uniformly; 0 = no limit
  int64_t time = -1;               // scoring time (Unix seconds); < 0: the graph's newest time + 1
  uint64_t seed = 1;

  void Validate() const;
  std::string ToJson() const;
};

struct ConsistencyReport {
  uint32_t time = 0, top = 0;              // scoring time; the ideal's size
  uint64_t window_posts = 0, catalogue = 0;  // posts in the window; of them scored
  uint64_t accounts = 0, skipped_accounts = 0;
  std::vector<ConsistencyRow> rows;
  std::string ToText() const;  // a table
  std::string ToJson() const;
};

// Sources (each excludes posts the account interacted with, as the ideal
// does):
//   embedding  the account's input vector against the vectors of the posts
//              index, cosine, exact over the catalogue (measures the
//              embedding, not the HNSW approximation)
//   authors    the user -> author score (input . output vector) of each
//              catalogue post's author; a post without an author vector last
//   popular    the catalogue's most interacted-with posts (not personal)
//   random     a uniform sample of the catalogue (the floor: K / catalogue)
//   consistent the ranker-consistent towers (`towers` and the
//              consistent_posts index, when both are given): the user
//              tower's query against the index's post rows, inner product
// `features` must be built for `ranker`.
ConsistencyReport MeasureVersionConsistency(const graph::SocialGraph& g, const recall::RecallIndexes& indexes,
                                            const embed::EmbeddingTable& table, const ranking::Ranker& ranker,
                                            const ranking::FeatureSource& features,
                                            const VersionConsistencyConfig& config,
                                            const ranking::ConsistentRecall* towers = nullptr);

}  // namespace gr::eval
