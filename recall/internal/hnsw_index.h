// The HNSW index (hnswlib) behind every served recall kind.
//
// Inner product is searched as cosine after lifting (Bachrach et al. 2014,
// "XBOX" transform): a stored vector x becomes [x, sqrt(N^2 - |x|^2)], N the
// largest norm, and a query q becomes [q, 0]. All stored vectors then have
// norm N, so the largest q.x is the nearest by angle, which HNSW's graph
// handles far better than raw inner products of uneven norms; the score q.x
// is unchanged. A vector added later with a norm above N is stored with 0 in
// the extra coordinate: still scored exactly, reached less reliably.
//
// float16 precision stores (and queries with) IEEE halves, zero-padded to a
// multiple of 16, with a distance accumulated in float32.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "recall/vector_index.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace gr::recall::internal {

class HnswIndex final : public VectorIndex {
 public:
  HnswIndex(const IndexConfig& config, size_t dim);
  ~HnswIndex() override;
  using VectorIndex::AppendId;

  // Allocates an empty graph for `capacity` items.
  void Create(size_t capacity);
  // Inserts rows [0, n) of `vectors` as items 0..n-1 (ids already set), in parallel.
  void Insert(const FloatMatrix& vectors);

  // hnswlib's own serialisation of the graph and vectors, and its reverse.
  // LoadGraph checks what hnswlib trusts (labels are the positions
  // 0..count-1, each once; every link points at a node) and throws
  // kCorruption naming `path` otherwise. Ids must be set first.
  std::vector<char> SerializeGraph() const;
  void LoadGraph(const std::vector<char>& bytes, const std::string& path);
  float max_norm() const { return max_norm_; }
  void SetMaxNorm(float max_norm) { max_norm_ = max_norm; }

  std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                 std::span<const uint32_t> excluded) const override {
    return Search(query, k, excluded, /*hnswlib_search=*/false);
  }
  // With hnswlib_search, hnswlib's own searchKnn answers (the reference the
  // prefetching search is tested against).
  std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                 std::span<const uint32_t> excluded, bool hnswlib_search) const;
  uint32_t AddOrUpdate(ExternalId id, std::span<const float> vector) override;
  std::vector<float> Vector(uint32_t item) const override;
  void SetEfSearch(uint32_t ef) override;
  size_t MemoryBytes() const override;

 private:
  float MaxNorm(const FloatMatrix& vectors) const;
  // A vector as stored: prepared, lifted for inner product.
  std::vector<float> Stored(std::span<const float> vector) const;
  std::vector<float> Query(std::span<const float> query) const;
  // What hnswlib stores or is queried with: v itself, or its halves
  // (written to *halves, which must outlive the use).
  const void* Encoded(const std::vector<float>& v, std::vector<uint16_t>* halves) const;
  // Throws kCorruption unless bytes has exactly the layout hnswlib's
  // loadIndex reads for this index's ids, dimension and M.
  void CheckPayloadLayout(std::span<const char> bytes, const std::string& path) const;
  void CheckLoadedGraph(const std::string& path) const;

  bool lifted_;
  bool half_;
  float max_norm_ = 0;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
};

}  // namespace gr::recall::internal
