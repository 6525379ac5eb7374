#include "eval/drift.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>
#include <vector>

#include "core/rng.h"

namespace gr::eval {

Drift MeasureDrift(const embed::EmbeddingTable& previous, const recall::VectorIndex& previous_index,
                   const embed::EmbeddingTable& current, const recall::VectorIndex& current_index,
                   uint32_t sample, uint64_t seed) {
  std::unordered_map<ExternalId, size_t> previous_row;
  for (size_t i = 0; i < previous.rows(); ++i)
    if (previous.kinds[i] == embed::TokenKind::kAccount) previous_row.emplace(previous.ids[i], i);
  std::vector<std::pair<size_t, size_t>> common;  // (previous row, current row)
  for (size_t i = 0; i < current.rows(); ++i)
    if (auto it = previous_row.find(current.ids[i]); it != previous_row.end())
      common.emplace_back(it->second, i);
  Drift drift;
  if (common.empty() || previous.dim() != current.dim()) return drift;
  Rng rng(seed);
  const size_t n = ShuffleFront(common, sample, rng);
  double cosine_sum = 0, overlap_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto a = previous.input.Row(common[i].first), b = current.input.Row(common[i].second);
    cosine_sum += Cosine(a, b);
    auto top = [](const recall::VectorIndex& index, std::span<const float> query, ExternalId self) {
      std::vector<ExternalId> ids;
      for (const auto& s : index.Search(query, 11))
        if (index.id(s.item) != self && ids.size() < 10) ids.push_back(index.id(s.item));
      std::sort(ids.begin(), ids.end());
      return ids;
    };
    const ExternalId id = current.ids[common[i].second];
    const auto before = top(previous_index, a, id), after = top(current_index, b, id);
    std::vector<ExternalId> both;
    std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                          std::back_inserter(both));
    overlap_sum +=
        before.empty() ? 0 : static_cast<double>(both.size()) / static_cast<double>(before.size());
  }
  drift.compared = n;
  drift.mean_cosine = cosine_sum / static_cast<double>(n);
  drift.neighbour_overlap = overlap_sum / static_cast<double>(n);
  return drift;
}

}  // namespace gr::eval
