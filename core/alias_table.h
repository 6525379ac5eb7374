// AliasTable: O(1) sampling from a fixed discrete distribution (Walker /
// Vose alias method). Build is O(n). Immutable after construction, so one
// table can be sampled from many threads, each with its own Rng.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"

namespace gr {

// Reused buffers of FillAliasTable (one per thread).
struct AliasScratch {
  std::vector<double> scaled;
  std::vector<uint32_t> small, large;
};

// Vose's alias method, the one builder of every alias table (AliasTable
// below, the walk engine's per-vertex tables in flat arrays): from n >= 1
// non-negative `weights` summing to `sum` > 0, fills prob and alias (n
// each) so that drawing slot i uniformly, then keeping i with probability
// prob[i] or else taking alias[i], draws i with probability weights[i] / sum.
// Inputs are not checked (AliasTable's constructor checks them).
void FillAliasTable(std::span<const double> weights, double sum, std::span<float> prob,
                    std::span<uint32_t> alias, AliasScratch& scratch);

// The alias tables of many lists laid end to end in prob and alias: list v
// (of n) holds entries [base(v), base(v) + degree(v)), entry i weighing
// weight(v, i); weight_sum[v] gets the list's total (0 for an empty list,
// whose table is left as it is). Built on `threads` threads (0: all cores),
// each list's table alone, so the tables do not depend on the thread count.
template <typename Base, typename Degree, typename Weight>
void FillAliasTablesOfLists(size_t n, Base&& base, Degree&& degree, Weight&& weight, std::span<float> prob,
                            std::span<uint32_t> alias, std::span<double> weight_sum, int threads) {
#pragma omp parallel num_threads(ResolveThreads(threads))
  {
    std::vector<double> weights;
    AliasScratch scratch;
#pragma omp for schedule(dynamic, 1024)
    for (size_t v = 0; v < n; ++v) {
      const uint64_t d = degree(v), at = base(v);
      if (d == 0) continue;
      double sum = 0;
      weights.resize(d);
      for (uint64_t i = 0; i < d; ++i) sum += weights[i] = weight(v, i);
      weight_sum[v] = sum;
      FillAliasTable(weights, sum, prob.subspan(at, d), alias.subspan(at, d), scratch);
    }
  }
}

class AliasTable {
 public:
  AliasTable() = default;
  // weights: n >= 1 non-negative finite values with a positive sum. Throws
  // kInvalidArgument otherwise.
  explicit AliasTable(std::span<const double> weights);

  size_t size() const { return prob_.size(); }
  bool empty() const { return prob_.empty(); }

  // An index in [0, size()) drawn with probability weight[i] / sum.
  uint32_t Sample(Rng& rng) const {
    const auto i = static_cast<uint32_t>(rng.Uniform(prob_.size()));
    return rng.UniformFloat() < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<float> prob_;      // acceptance probability of slot i
  std::vector<uint32_t> alias_;  // the other outcome of slot i
};

}  // namespace gr
