#include "embed/row_refresh.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "core/rng.h"

namespace gr::embed {
namespace {

constexpr float kSaturatedScore = 6.0f;  // as the trainer: saturated pairs are not updated

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void RowRefreshConfig::Validate() const {
  GR_CHECK(walks_per_row >= 1, "walks_per_row must be >= 1");
  GR_CHECK(window >= 1 && window <= 1024, "window must be in [1, 1024], got ", window);
  GR_CHECK(negatives <= 64, "negatives must be <= 64, got ", negatives);
  GR_CHECK(passes >= 1, "passes must be >= 1");
  GR_CHECK(learning_rate > 0 && learning_rate <= 1, "learning_rate must be in (0, 1], got ", learning_rate);
  GR_CHECK(threads >= 0, "threads must be >= 0 (0 = all)");
}

RowRefreshStats RefreshRows(const walk::RandomWalker& walker, std::span<const VertexId> rows,
                            std::span<const double> negative_weights, const RowRefreshConfig& config,
                            FloatMatrix& input, const FloatMatrix& output) {
  config.Validate();
  const size_t vocabulary = walker.vocabulary_size();
  GR_CHECK(input.rows() == vocabulary && output.rows() == vocabulary && input.cols() == output.cols(),
           "tables of ", input.rows(), " and ", output.rows(), " rows for a vocabulary of ", vocabulary);
  GR_CHECK(negative_weights.size() == vocabulary, negative_weights.size(), " negative weights for ", vocabulary,
           " tokens");
  std::vector<bool> listed(vocabulary);
  for (const VertexId row : rows) {
    GR_CHECK(row < vocabulary, "row ", row, " is outside the vocabulary");
    GR_CHECK(!listed[row], "row ", row, " is listed twice");  // two threads would write it
    listed[row] = true;
  }
  const auto start = std::chrono::steady_clock::now();
  const AliasTable negatives(negative_weights);
  const size_t d = input.cols();
  const size_t length = walker.config().walk_length;
  std::vector<uint64_t> walks(rows.size()), pairs(rows.size());
  ProgressMeter progress("refreshing rows", "rows", rows.size());
  ParallelFor(static_cast<int64_t>(rows.size()), config.threads, 16, [&](int64_t i) {
    const VertexId row = rows[static_cast<size_t>(i)];
    float* vector = input.Row(row).data();
    std::vector<VertexId> walk(length);
    std::vector<float> update(d);
    walk::WalkStats unused;
    for (uint32_t pass = 0; pass < config.passes; ++pass) {
      for (uint32_t round = 0; round < config.walks_per_row; ++round) {
        const size_t n = walker.WalkFrom(row, round, walk, &unused);
        ++walks[static_cast<size_t>(i)];
        Rng rng = Rng::ForItem(config.seed, row, uint64_t{pass} * config.walks_per_row + round);
        for (size_t p = 0; p < n; ++p) {
          if (walk[p] != row) continue;
          const auto b = static_cast<size_t>(1 + rng.Uniform(config.window));
          for (size_t j = p >= b ? p - b : 0; j <= std::min(n - 1, p + b); ++j) {
            if (j == p || walk[j] == row) continue;
            std::fill(update.begin(), update.end(), 0.0f);
            for (uint32_t k = 0; k <= config.negatives; ++k) {
              const VertexId target = k == 0 ? walk[j] : negatives.Sample(rng);
              if (k > 0 && (target == row || target == walk[j])) continue;
              const float* out = output.Row(target).data();
              const float score = Dot(vector, out, d);
              if (std::abs(score) >= kSaturatedScore) continue;
              const float g = config.learning_rate * ((k == 0 ? 1.0f : 0.0f) - Sigmoid(score));
              for (size_t x = 0; x < d; ++x) update[x] += g * out[x];
            }
            for (size_t x = 0; x < d; ++x) vector[x] += update[x];
            ++pairs[static_cast<size_t>(i)];
          }
        }
      }
    }
    progress.Add(1);
  });
  RowRefreshStats stats;
  stats.rows = rows.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    stats.walks += walks[i];
    stats.pairs += pairs[i];
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace gr::embed
