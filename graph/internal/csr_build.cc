#include "graph/internal/csr_build.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "core/error.h"
#include "core/parallel.h"

namespace gr::graph::internal {
namespace {

struct RowLess {
  bool operator()(const EdgeRow& a, const EdgeRow& b) const {
    if (a.dst != b.dst) return a.dst < b.dst;
    return std::make_tuple(a.time, a.weight, uint32_t{a.type_mask}, a.dwell_ms) <
           std::make_tuple(b.time, b.weight, uint32_t{b.type_mask}, b.dwell_ms);
  }
};

}  // namespace

GroupedRows GroupBySource(EdgeRows rows, size_t num_sources, int threads) {
  // A counting sort on `parts` contiguous slices of rows in parallel: each
  // slice counts its sources, the slices' write positions follow from the
  // counts in slice order, and each slice scatters its rows, so the order
  // within a source is the input order whatever the thread count.
  const size_t parts = static_cast<size_t>(ResolveThreads(threads));
  const size_t m = rows.size();
  auto slice_begin = [&](size_t t) { return m * t / parts; };
  std::vector<std::vector<EdgeIndex>> cursors(parts);
  ParallelFor(static_cast<int64_t>(parts), static_cast<int>(parts), 1, [&](int64_t t) {
    auto& counts = cursors[t];
    counts.assign(num_sources, 0);
    for (size_t e = slice_begin(t); e < slice_begin(t + 1); ++e) ++counts[rows[e].src];
  });
  GroupedRows grouped;
  grouped.offsets.assign(num_sources + 1, 0);
  EdgeIndex next = 0;
  for (size_t v = 0; v < num_sources; ++v) {
    grouped.offsets[v] = next;
    for (auto& counts : cursors) {
      const EdgeIndex count = counts[v];
      counts[v] = next;
      next += count;
    }
  }
  grouped.offsets[num_sources] = next;
  grouped.rows.resize(m);
  ParallelFor(static_cast<int64_t>(parts), static_cast<int>(parts), 1, [&](int64_t t) {
    auto& cursor = cursors[t];
    for (size_t e = slice_begin(t); e < slice_begin(t + 1); ++e) grouped.rows[cursor[rows[e].src]++] = rows[e];
  });
  return grouped;
}

GroupedRows GroupAndSort(EdgeRows rows, size_t num_sources, int threads) {
  GroupedRows grouped = GroupBySource(std::move(rows), num_sources, threads);
  const auto& offsets = grouped.offsets;
  ParallelFor(static_cast<int64_t>(num_sources), threads, 1024, [&](int64_t v) {
    std::sort(grouped.rows.begin() + static_cast<int64_t>(offsets[v]),
              grouped.rows.begin() + static_cast<int64_t>(offsets[v + 1]), RowLess());
  });
  return grouped;
}

float StoredWeight(double weight) {
  return static_cast<float>(std::clamp<double>(weight, std::numeric_limits<float>::min(),
                                                std::numeric_limits<float>::max()));
}

void MergeDuplicates(GroupedRows& grouped, SelfLoopPolicy self_loops, DuplicatePolicy duplicates,
                     uint64_t* self_loops_dropped, uint64_t* duplicates_merged) {
  auto& rows = grouped.rows;
  auto& offsets = grouped.offsets;
  EdgeIndex out = 0;
  uint64_t loops = 0, merged = 0;
  // Folds `times` more lines of `row` into `kept`, one at a time as separate
  // rows would be (float sums round at each step: the result must not
  // depend on how lines were grouped into rows).
  auto fold = [&](EdgeRow& kept, const EdgeRow& row, uint32_t times) {
    for (uint32_t i = 0; i < times; ++i) {
      kept.weight = duplicates == DuplicatePolicy::kSum ? StoredWeight(double{kept.weight} + row.weight)
                                                        : std::max(kept.weight, row.weight);
      kept.dwell_ms = kept.dwell_ms + row.dwell_ms < kept.dwell_ms ? UINT32_MAX : kept.dwell_ms + row.dwell_ms;
    }
    kept.time = std::max(kept.time, row.time);
    kept.type_mask = kept.type_mask | row.type_mask;
    merged += times;
  };
  for (size_t v = 0; v + 1 < offsets.size(); ++v) {
    const EdgeIndex begin = offsets[v], end = offsets[v + 1];
    offsets[v] = out;
    for (EdgeIndex e = begin; e < end; ++e) {
      const EdgeRow row = rows[e];
      if (row.src == row.dst && self_loops == SelfLoopPolicy::kDrop) {
        loops += row.lines;
        continue;
      }
      if (duplicates == DuplicatePolicy::kKeep) {  // every line its own row: parsing folds none then
        GR_CHECK_CODE(row.lines == 1, ErrorCode::kInternal, "a row of ", uint32_t{row.lines}, " lines under DuplicatePolicy::kKeep");
        rows[out++] = row;
        continue;
      }
      if (out > offsets[v] && rows[out - 1].dst == row.dst) {
        fold(rows[out - 1], row, row.lines);
        continue;
      }
      rows[out] = row;
      rows[out].lines = 1;
      fold(rows[out++], row, row.lines - 1);
    }
  }
  offsets.back() = out;
  rows.resize(out);
  *self_loops_dropped += loops;
  *duplicates_merged += merged;
}

CsrGraph BuildCsr(const GroupedRows& grouped, EdgeAttributes attributes, int threads) {
  CsrGraph g;
  const auto& rows = grouped.rows;
  const size_t m = rows.size();
  g.offsets = grouped.offsets;
  g.targets.resize(m);
  const bool weighted =
      attributes.weights &&
      std::any_of(rows.begin(), rows.end(), [](const EdgeRow& r) { return r.weight != 1.0f; });
  if (weighted) g.weights.resize(m);
  if (attributes.times) g.times.resize(m);
  if (attributes.types) g.type_masks.resize(m);
  if (attributes.dwell) g.dwell_ms.resize(m);
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(static)
  for (size_t e = 0; e < m; ++e) {
    g.targets[e] = rows[e].dst;
    if (weighted) g.weights[e] = rows[e].weight;
    if (attributes.times) g.times[e] = rows[e].time;
    if (attributes.types) g.type_masks[e] = rows[e].type_mask;
    if (attributes.dwell) g.dwell_ms[e] = rows[e].dwell_ms;
  }
  return g;
}

GroupedRows Reverse(GroupedRows grouped, size_t num_destinations, int threads) {
  EdgeRows rows = std::move(grouped.rows);
  grouped = {};
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(static)
  for (size_t e = 0; e < rows.size(); ++e) std::swap(rows[e].src, rows[e].dst);
  // The input's groups are sorted and in source order, so the stable
  // grouping lists each destination's rows by old source and then the rest
  // of the row: the order GroupAndSort would give, without its sort.
  return GroupBySource(std::move(rows), num_destinations, threads);
}

}  // namespace gr::graph::internal
