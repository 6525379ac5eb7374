// Nearest-neighbour indices over embedding vectors, the engine of every
// recall kind: an HNSW index (hnswlib) for serving and an exact brute-force
// index with the same interface for evaluation and small data.
//
// Items are identified by their position (0 .. size-1) in the list of
// external ids the index was built with; the recall layer (recall/recall.h)
// maps ids to positions. Scores: higher is closer. Inner product scores are
// the dot product; cosine scores are the dot product of the normalised
// vectors (vectors are normalised on insertion and queries on search).
//
// Files: recall/index_io.h. The HNSW implementation: recall/internal/hnsw_index.h
// (its search: internal/hnsw_search.h); the exact one: internal/exact_index.h.
//
// Thread safety: Search, Vector and Find are safe from many threads at once;
// AddOrUpdate and SetEfSearch must not run concurrently with anything else
// (a refresh updates a private copy, the service swaps whole snapshots).
// Building with one thread gives the same HNSW graph for the same seed; with
// more threads the insertion order races and the graph (not its recall)
// varies from run to run.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "core/matrix.h"

namespace gr::recall {

enum class Metric : uint32_t { kInnerProduct = 0, kCosine = 1 };
enum class IndexKind : uint32_t { kHnsw = 0, kExact = 1 };
// How an HNSW index stores its vectors: float32, or float16 (IEEE half;
// half the memory, and the search reads half the cache lines per distance;
// scores carry float16 rounding, ~1e-3 on normalised vectors). Exact
// indices always keep float32.
enum class VectorPrecision : uint32_t { kFloat32 = 0, kFloat16 = 1 };

const char* MetricName(Metric metric);
const char* IndexKindName(IndexKind kind);  // "hnsw" or "exact"
const char* PrecisionName(VectorPrecision precision);
// "float32" or "float16"; throws kInvalidArgument naming the known values.
VectorPrecision ParsePrecision(const std::string& name);

struct IndexConfig {
  IndexKind kind = IndexKind::kHnsw;
  Metric metric = Metric::kCosine;
  uint32_t m = 16;                 // HNSW links per node (2M on the base layer); 2..100
  uint32_t ef_construction = 200;  // HNSW candidate list while building; >= m
  uint32_t ef_search = 64;         // HNSW candidate list while searching (at least k); >= 1
  uint64_t seed = 100;             // HNSW level assignment (core/run_options.h: SeedStream::kIndex)
  int threads = 0;                 // build threads, 0 = all cores
  VectorPrecision precision = VectorPrecision::kFloat32;  // HNSW vector storage

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // every field but threads, enums by name
};

struct ScoredItem {
  uint32_t item;  // position in the index's id list
  float score;    // higher = closer
  bool operator==(const ScoredItem&) const = default;
};

class VectorIndex {
 public:
  // Builds over the rows of `vectors` (one per id, ids distinct), in
  // parallel. Throws kInvalidArgument for mismatched sizes, duplicate ids,
  // a bad config, or (cosine) a zero vector.
  static std::unique_ptr<VectorIndex> Build(std::vector<ExternalId> ids, const FloatMatrix& vectors,
                                            const IndexConfig& config);

  virtual ~VectorIndex() = default;

  // The k best items by score, best first, skipping `excluded` items
  // (ascending positions). An HNSW index fetches deeper until k items
  // survive the exclusions or every item was seen. Fewer than k results
  // only when fewer than k items are not excluded. Throws kInvalidArgument
  // for a query of the wrong dimension (or a zero cosine query).
  virtual std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                         std::span<const uint32_t> excluded = {}) const = 0;

  // Search for each row of `queries` (no exclusions), in query order. The
  // exact index scores all queries against a block of items at a time (a
  // matrix product over cache-sized blocks) instead of streaming every
  // vector once per query; the others search query by query, in parallel.
  virtual std::vector<std::vector<ScoredItem>> SearchMany(const FloatMatrix& queries, size_t k) const;

  // Sets the vector of `id`: replaced in place if present (hnswlib re-links
  // the node), appended at a new position otherwise; returns the position.
  virtual uint32_t AddOrUpdate(ExternalId id, std::span<const float> vector) = 0;

  // The current vector of item (normalised for cosine).
  virtual std::vector<float> Vector(uint32_t item) const = 0;

  virtual void SetEfSearch(uint32_t ef) = 0;

  const IndexConfig& config() const { return config_; }
  size_t size() const { return ids_.size(); }
  size_t dim() const { return dim_; }
  ExternalId id(uint32_t item) const { return ids_[item]; }
  std::span<const ExternalId> ids() const { return ids_; }
  // Position of `id`, or kNoVertex if it is not indexed. O(1).
  uint32_t Find(ExternalId id) const;
  // Bytes held in memory (approximate for HNSW).
  virtual size_t MemoryBytes() const = 0;

 protected:
  VectorIndex(IndexConfig config, size_t dim) : config_(config), dim_(dim) {}
  // Appends `id` (throws kInvalidArgument if present); returns its position.
  uint32_t AppendId(ExternalId id);
  // Copies `vector` into `out`, normalised for cosine; throws on bad input.
  void Prepare(std::span<const float> vector, float* out) const;

  IndexConfig config_;
  size_t dim_;
  std::vector<ExternalId> ids_;
  std::unordered_map<ExternalId, uint32_t> positions_;
};

// An HNSW index's answer computed by hnswlib's own searchKnn instead of
// graphrec's prefetching copy of it: the two must agree item for item (a
// test checks). Throws kInvalidArgument for other kinds of index.
std::vector<ScoredItem> ReferenceHnswSearch(const VectorIndex& index, std::span<const float> query, size_t k);

}  // namespace gr::recall
