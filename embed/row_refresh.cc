#include "embed/row_refresh.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>
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

std::vector<VertexId> EndpointsOf(std::span<const graph::VertexPair> edges) {
  std::vector<VertexId> ends;
  ends.reserve(2 * edges.size());
  for (const auto& [u, v] : edges) {
    ends.push_back(u);
    ends.push_back(v);
  }
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  return ends;
}

std::vector<double> DegreeNegativeWeights(const graph::SocialGraph& g, walk::Direction direction) {
  std::vector<double> weights(g.num_accounts());
  for (VertexId v = 0; v < g.num_accounts(); ++v) {
    const uint64_t degree = (direction != walk::Direction::kIn ? g.following.Degree(v) : 0) +
                            (direction != walk::Direction::kOut ? g.followers.Degree(v) : 0);
    weights[v] = std::pow(static_cast<double>(degree) + 1.0, 0.75);
  }
  return weights;
}

NewEdgeFirstHops::NewEdgeFirstHops(std::span<const graph::VertexPair> new_edges, const RowRefreshConfig& config,
                                   size_t walk_length)
    : along_new_(config.new_edge_share * config.walks_per_row), room_(walk_length >= 2) {
  for (const auto& [u, v] : new_edges) {
    neighbours_[u].push_back(v);
    neighbours_[v].push_back(u);
  }
  for (auto& [row, neighbours] : neighbours_) std::sort(neighbours.begin(), neighbours.end());
}

const VertexId* NewEdgeFirstHops::FirstHop(VertexId row, uint64_t round) const {
  if (!room_ || static_cast<double>(round) >= along_new_) return nullptr;
  const auto fresh = neighbours_.find(row);
  if (fresh == neighbours_.end()) return nullptr;
  return &fresh->second[MixSeed(row, round) % fresh->second.size()];
}

void RowRefreshConfig::Validate() const {
  GR_CHECK(walks_per_row >= 1, "walks_per_row must be >= 1");
  GR_CHECK(window >= 1 && window <= 1024, "window must be in [1, 1024], got ", window);
  GR_CHECK(negatives <= 64, "negatives must be <= 64, got ", negatives);
  GR_CHECK(passes >= 1, "passes must be >= 1");
  GR_CHECK(learning_rate > 0 && learning_rate <= 1, "learning_rate must be in (0, 1], got ", learning_rate);
  GR_CHECK(threads >= 0, "threads must be >= 0 (0 = all)");
  GR_CHECK(new_edge_share >= 0 && new_edge_share <= 1, "new_edge_share must be in [0, 1], got ", new_edge_share);
}

RowRefreshStats RefreshRows(const WalkFromFn& walk_from, size_t walk_length, std::span<const RowToRefresh> rows,
                            const AliasTable& negatives, const RowRefreshConfig& config, size_t dim,
                            const OutputRowFn& output_of) {
  config.Validate();
  GR_CHECK(walk_length >= 1, "walk_length must be >= 1");
  GR_CHECK(!negatives.empty(), "no negatives to draw");
  const auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> walks(rows.size()), pairs(rows.size());
  ProgressMeter progress("refreshing rows", "rows", rows.size());
  ParallelFor(static_cast<int64_t>(rows.size()), config.threads, 16, [&](int64_t i) {
    const VertexId row = rows[static_cast<size_t>(i)].token;
    float* vector = rows[static_cast<size_t>(i)].input;
    std::vector<VertexId> walk(walk_length);
    std::vector<float> update(dim);
    for (uint32_t pass = 0; pass < config.passes; ++pass) {
      for (uint32_t round = 0; round < config.walks_per_row; ++round) {
        const size_t n = std::min(walk_length, walk_from(row, round, walk));
        ++walks[static_cast<size_t>(i)];
        Rng rng = Rng::ForItem(config.seed, row, uint64_t{pass} * config.walks_per_row + round);
        for (size_t p = 0; p < n; ++p) {
          if (walk[p] != row) continue;
          const auto b = static_cast<size_t>(1 + rng.Uniform(config.window));
          for (size_t j = p >= b ? p - b : 0; j <= std::min(n - 1, p + b); ++j) {
            if (j == p || walk[j] == row) continue;
            const float* context = output_of(walk[j]);
            if (context == nullptr) continue;
            std::fill(update.begin(), update.end(), 0.0f);
            for (uint32_t k = 0; k <= config.negatives; ++k) {
              const float* out = context;
              if (k > 0) {
                const VertexId negative = negatives.Sample(rng);
                if (negative == row || negative == walk[j] || (out = output_of(negative)) == nullptr) continue;
              }
              const float score = Dot(vector, out, dim);
              if (std::abs(score) >= kSaturatedScore) continue;
              const float g = config.learning_rate * ((k == 0 ? 1.0f : 0.0f) - Sigmoid(score));
              for (size_t x = 0; x < dim; ++x) update[x] += g * out[x];
            }
            for (size_t x = 0; x < dim; ++x) vector[x] += update[x];
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

RowRefreshStats RefreshRows(const walk::RandomWalker& walker, std::span<const VertexId> rows,
                            std::span<const double> negative_weights, const RowRefreshConfig& config,
                            FloatMatrix& input, const FloatMatrix& output, std::span<const graph::VertexPair> new_edges) {
  config.Validate();
  const size_t vocabulary = walker.vocabulary_size();
  GR_CHECK(input.rows() == vocabulary && output.rows() == vocabulary && input.cols() == output.cols(),
           "tables of ", input.rows(), " and ", output.rows(), " rows for a vocabulary of ", vocabulary);
  GR_CHECK(negative_weights.size() == vocabulary, negative_weights.size(), " negative weights for ", vocabulary,
           " tokens");
  std::vector<bool> listed(vocabulary);
  std::vector<RowToRefresh> targets;
  targets.reserve(rows.size());
  for (const VertexId row : rows) {
    GR_CHECK(row < vocabulary, "row ", row, " is outside the vocabulary");
    GR_CHECK(!listed[row], "row ", row, " is listed twice");  // two threads would write it
    listed[row] = true;
    targets.push_back({row, input.Row(row).data()});
  }
  const NewEdgeFirstHops hops(new_edges, config, walker.config().walk_length);
  return RefreshRows(
      [&](VertexId start, uint64_t round, std::span<VertexId> out) -> size_t {
        walk::WalkStats stats;  // per call: the walks run in parallel
        const VertexId* next = hops.FirstHop(start, round);
        if (next == nullptr) return walker.WalkFrom(start, round, out, &stats);
        out[0] = start;
        return 1 + walker.WalkFrom(*next, round, out.subspan(1), &stats);
      },
      walker.config().walk_length, targets, AliasTable(negative_weights), config, input.cols(),
      [&](VertexId token) { return output.Row(token).data(); });
}

}  // namespace gr::embed
