#include "core/alias_table.h"

#include <cmath>

#include "core/error.h"

namespace gr {

void FillAliasTable(std::span<const double> weights, double sum, std::span<float> prob,
                    std::span<uint32_t> alias, AliasScratch& scratch) {
  const size_t n = weights.size();
  auto& [scaled, small, large] = scratch;
  scaled.resize(n);
  small.clear();
  large.clear();
  const double scale = static_cast<double>(n) / sum;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * scale;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    prob[i] = 1.0f;  // what is left in small or large at the end is 1 up to rounding
    alias[i] = static_cast<uint32_t>(i);
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob[s] = static_cast<float>(scaled[s]);
    alias[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
}

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
  AliasScratch scratch;
  FillAliasTable(weights, sum, prob_, alias_, scratch);
}

}  // namespace gr
