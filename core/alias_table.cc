#include "core/alias_table.h"

#include <cmath>

#include "core/error.h"

namespace gr {

AliasTable::AliasTable(std::span<const double> weights) {
  const size_t n = weights.size();
  GR_CHECK(n > 0 && n <= UINT32_MAX, "alias table needs 1 to 2^32-1 weights, got ", n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    GR_CHECK(weights[i] >= 0 && std::isfinite(weights[i]), "weight ", i, " is ", weights[i],
             " (must be finite and >= 0)");
    sum += weights[i];
  }
  GR_CHECK(sum > 0, "alias table weights sum to 0");
  prob_.resize(n);
  alias_.resize(n);
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = static_cast<float>(scaled[s]);
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding.
  for (uint32_t i : large) { prob_[i] = 1.0f; alias_[i] = i; }
  for (uint32_t i : small) { prob_[i] = 1.0f; alias_[i] = i; }
}

}  // namespace gr
