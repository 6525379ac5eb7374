#include "recall/internal/exact_index.h"

#include <Eigen/Core>
#include <algorithm>

#include "core/parallel.h"
#include "core/progress.h"
#include "recall/internal/top_k.h"

namespace gr::recall::internal {

std::vector<ScoredItem> ExactIndex::Search(std::span<const float> query, size_t k,
                                           std::span<const uint32_t> excluded) const {
  std::vector<float> q(dim_);
  Prepare(query, q.data());
  TopK best(k);
  size_t next_excluded = 0;
  for (uint32_t item = 0; item < size(); ++item) {
    while (next_excluded < excluded.size() && excluded[next_excluded] < item) ++next_excluded;
    if (next_excluded < excluded.size() && excluded[next_excluded] == item) continue;
    best.Offer({item, Dot(q.data(), vectors_.Row(item).data(), dim_)});
  }
  return best.TakeSorted();
}

std::vector<std::vector<ScoredItem>> ExactIndex::SearchMany(const FloatMatrix& queries,
                                                            size_t k) const {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const size_t nq = queries.rows();
  FloatMatrix prepared(nq, dim_);
  for (size_t q = 0; q < nq; ++q) Prepare(queries.Row(q), prepared.Row(q).data());
  std::vector<std::vector<ScoredItem>> results(nq);
  if (k == 0 || size() == 0) return results;
  // Query slices run in parallel; each streams the vectors once, a block
  // small enough for the cache at a time, scoring the block against the
  // whole slice with one matrix product.
  constexpr size_t kSliceQueries = 256, kBlockItems = 1024;
  const size_t slices = (nq + kSliceQueries - 1) / kSliceQueries;
  ProgressMeter progress("exact search", "comparisons", static_cast<uint64_t>(nq) * size());
  ParallelFor(static_cast<int64_t>(slices), config_.threads, 1, [&](int64_t slice) {
    const size_t first = static_cast<size_t>(slice) * kSliceQueries,
                 count = std::min(kSliceQueries, nq - first);
    const Eigen::Map<const RowMajor> q(prepared.Row(first).data(), static_cast<Eigen::Index>(count),
                                       static_cast<Eigen::Index>(dim_));
    std::vector<TopK> best(count, TopK(k));
    Eigen::MatrixXf scores;  // block items x slice queries
    for (size_t begin = 0; begin < size(); begin += kBlockItems) {
      const size_t items = std::min(kBlockItems, size() - begin);
      progress.Add(count * items);
      const Eigen::Map<const RowMajor> block(vectors_.Row(begin).data(),
                                             static_cast<Eigen::Index>(items),
                                             static_cast<Eigen::Index>(dim_));
      scores.noalias() = block * q.transpose();
      for (size_t j = 0; j < count; ++j) {
        const float* column = scores.col(static_cast<Eigen::Index>(j)).data();
        for (size_t i = 0; i < items; ++i)
          best[j].Offer({static_cast<uint32_t>(begin + i), column[i]});
      }
    }
    for (size_t j = 0; j < count; ++j) results[first + j] = best[j].TakeSorted();
  });
  return results;
}

uint32_t ExactIndex::AddOrUpdate(ExternalId id, std::span<const float> vector) {
  uint32_t item = Find(id);
  if (item == kNoVertex) {
    FloatMatrix grown(size() + 1, dim_);
    std::copy_n(vectors_.Data().data(), size() * dim_, grown.Data().data());
    vectors_ = std::move(grown);
    item = AppendId(id);
  }
  Prepare(vector, vectors_.Row(item).data());
  return item;
}

std::vector<float> ExactIndex::Vector(uint32_t item) const {
  const auto row = vectors_.Row(item);
  return {row.begin(), row.end()};
}

size_t ExactIndex::MemoryBytes() const {
  return vectors_.rows() * dim_ * sizeof(float) + ids_.size() * (sizeof(ExternalId) + 32);
}

}  // namespace gr::recall::internal
