// The exact (brute-force) index: every item scored for every query. The
// reference the HNSW index is measured against, and the index for small data.
#pragma once

#include "recall/vector_index.h"

namespace gr::recall::internal {

class ExactIndex final : public VectorIndex {
 public:
  // Always float32: the exact index is the reference the others are measured against.
  ExactIndex(const IndexConfig& config, size_t dim) : VectorIndex(config, dim) {
    config_.precision = VectorPrecision::kFloat32;
  }
  using VectorIndex::AppendId;

  // Rows already prepared (normalised for cosine), one per id in order.
  void SetVectors(FloatMatrix vectors) { vectors_ = std::move(vectors); }
  const FloatMatrix& vectors() const { return vectors_; }

  std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                 std::span<const uint32_t> excluded) const override;
  std::vector<std::vector<ScoredItem>> SearchMany(const FloatMatrix& queries,
                                                  size_t k) const override;
  uint32_t AddOrUpdate(ExternalId id, std::span<const float> vector) override;
  std::vector<float> Vector(uint32_t item) const override;
  void SetEfSearch(uint32_t ef) override { config_.ef_search = ef; }
  size_t MemoryBytes() const override;

 private:
  FloatMatrix vectors_;
};

}  // namespace gr::recall::internal
