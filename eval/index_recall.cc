#include "eval/index_recall.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace gr::eval {

double RecallAtK(const recall::VectorIndex& approximate, const recall::VectorIndex& exact,
                 const FloatMatrix& queries, size_t k) {
  GR_CHECK(queries.rows() > 0 && k > 0, "recall@k needs queries and k > 0");
  const auto truths = exact.SearchMany(queries, k);
  std::vector<double> per_query(queries.rows());
  ParallelFor(static_cast<int64_t>(queries.rows()), 0, 16, [&](int64_t i) {
    const auto row = queries.Row(static_cast<size_t>(i));
    const auto& truth = truths[static_cast<size_t>(i)];
    std::vector<ExternalId> got_ids;
    for (const auto& s : approximate.Search(row, k)) got_ids.push_back(approximate.id(s.item));
    std::sort(got_ids.begin(), got_ids.end());
    size_t hits = 0;
    for (const auto& s : truth)
      hits += std::binary_search(got_ids.begin(), got_ids.end(), exact.id(s.item));
    per_query[static_cast<size_t>(i)] =
        truth.empty() ? 1.0 : static_cast<double>(hits) / static_cast<double>(truth.size());
  });
  double sum = 0;
  for (double r : per_query) sum += r;
  return sum / static_cast<double>(per_query.size());
}

double IndexRecallAtK(const recall::VectorIndex& index, const embed::EmbeddingTable& table,
                      size_t sample, size_t k, uint64_t seed) {
  if (index.config().kind == recall::IndexKind::kExact || index.size() == 0) return 1.0;
  recall::IndexConfig exact_config = index.config();
  exact_config.kind = recall::IndexKind::kExact;
  // Usually the index holds every table row in order, and the exact index is
  // built from the table itself (no extra copy: 0.5 GB at 1M accounts).
  FloatMatrix copied;
  const bool same_rows = index.size() == table.rows() && table.input.cols() == index.dim() &&
                         std::equal(index.ids().begin(), index.ids().end(), table.ids.begin());
  if (!same_rows) {
    copied = FloatMatrix(index.size(), index.dim());
    for (uint32_t i = 0; i < index.size(); ++i) {
      const auto v = index.Vector(i);
      std::copy(v.begin(), v.end(), copied.Row(i).begin());
    }
  }
  const FloatMatrix& vectors = same_rows ? table.input : copied;
  const auto exact =
      recall::VectorIndex::Build({index.ids().begin(), index.ids().end()}, vectors, exact_config);
  const size_t n = std::min(sample, index.size());
  FloatMatrix queries(n, index.dim());
  Rng rng(seed);
  for (size_t i = 0; i < n; ++i) {
    const auto row = vectors.Row(rng.Uniform(index.size()));
    std::copy(row.begin(), row.end(), queries.Row(i).begin());
  }
  return RecallAtK(index, *exact, queries, k);
}

}  // namespace gr::eval
