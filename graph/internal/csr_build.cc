#include "graph/internal/csr_build.h"

#include <parallel/algorithm>

#include <algorithm>
#include <tuple>

namespace gr::graph::internal {
namespace {

bool RowLess(const EdgeRow& a, const EdgeRow& b) {
  return std::tie(a.src, a.dst, a.time, a.weight, a.type_mask, a.dwell_ms) <
         std::tie(b.src, b.dst, b.time, b.weight, b.type_mask, b.dwell_ms);
}

void SortRows(std::vector<EdgeRow>& rows) { __gnu_parallel::sort(rows.begin(), rows.end(), RowLess); }

}  // namespace

void SortAndMerge(std::vector<EdgeRow>& rows, SelfLoopPolicy self_loops,
                  DuplicatePolicy duplicates, uint64_t* self_loops_dropped,
                  uint64_t* duplicates_merged) {
  SortRows(rows);
  size_t out = 0;
  uint64_t loops = 0, merged = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const EdgeRow& row = rows[i];
    if (row.src == row.dst && self_loops == SelfLoopPolicy::kDrop) {
      ++loops;
      continue;
    }
    if (out > 0 && duplicates != DuplicatePolicy::kKeep && rows[out - 1].src == row.src &&
        rows[out - 1].dst == row.dst) {
      EdgeRow& kept = rows[out - 1];
      kept.weight = duplicates == DuplicatePolicy::kSum ? kept.weight + row.weight
                                                        : std::max(kept.weight, row.weight);
      kept.time = std::max(kept.time, row.time);
      kept.type_mask |= row.type_mask;
      kept.dwell_ms = kept.dwell_ms + row.dwell_ms < kept.dwell_ms ? UINT32_MAX
                                                                   : kept.dwell_ms + row.dwell_ms;
      ++merged;
      continue;
    }
    rows[out++] = row;
  }
  rows.resize(out);
  *self_loops_dropped += loops;
  *duplicates_merged += merged;
}

CsrGraph BuildCsr(const std::vector<EdgeRow>& rows, size_t num_sources, EdgeAttributes attributes) {
  CsrGraph g;
  const size_t m = rows.size();
  g.offsets.assign(num_sources + 1, 0);
  for (const EdgeRow& row : rows) ++g.offsets[row.src + 1];
  for (size_t v = 0; v < num_sources; ++v) g.offsets[v + 1] += g.offsets[v];
  g.targets.resize(m);
  const bool weighted =
      attributes.weights &&
      std::any_of(rows.begin(), rows.end(), [](const EdgeRow& r) { return r.weight != 1.0f; });
  if (weighted) g.weights.resize(m);
  if (attributes.times) g.times.resize(m);
  if (attributes.types) g.type_masks.resize(m);
  if (attributes.dwell) g.dwell_ms.resize(m);
#pragma omp parallel for schedule(static)
  for (size_t e = 0; e < m; ++e) {
    g.targets[e] = rows[e].dst;
    if (weighted) g.weights[e] = rows[e].weight;
    if (attributes.times) g.times[e] = rows[e].time;
    if (attributes.types) g.type_masks[e] = rows[e].type_mask;
    if (attributes.dwell) g.dwell_ms[e] = rows[e].dwell_ms;
  }
  return g;
}

void ReverseRows(std::vector<EdgeRow>& rows) {
#pragma omp parallel for schedule(static)
  for (size_t e = 0; e < rows.size(); ++e) std::swap(rows[e].src, rows[e].dst);
  SortRows(rows);
}

}  // namespace gr::graph::internal
