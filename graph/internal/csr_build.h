// Internal to graph/: building CsrGraphs from edge rows with the self-loop
// and duplicate policies. Rows are grouped by source with a counting sort
// (O(E)), then each source's rows are sorted by the full row (every field a
// tie-break), so the result does not depend on input order within a source
// or on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bulk_vector.h"
#include "graph/csr_graph.h"
#include "graph/ingest.h"

namespace gr::graph::internal {

// An edge weight as stored: float, finite and > 0 whatever the arithmetic
// that made it (a decayed weight below float's smallest normal value is
// raised to it, a larger one than float holds lowered to its largest), so
// that every graph ingest builds passes the snapshot's validation.
float StoredWeight(double weight);

struct EdgeRow {
  VertexId src;
  VertexId dst;
  float weight;
  uint32_t time;
  uint32_t dwell_ms;
  uint32_t type_mask : 8;
  // Identical input lines this row stands for (folded at parse time, so
  // that a file of repeated lines does not take memory per line); merged by
  // MergeDuplicates exactly as that many rows would be. In the padding: the
  // row stays 24 bytes.
  uint32_t lines : 24 = 1;
};
inline constexpr uint32_t kMaxRowLines = (1u << 24) - 1;

// Which attribute arrays BuildCsr fills. Weights are stored only if some
// weight differs from 1.
struct EdgeAttributes {
  bool weights = true;
  bool times = false;
  bool types = false;
  bool dwell = false;
};

using EdgeRows = BulkVector<EdgeRow>;

// Rows grouped by source: the rows of source v are rows[offsets[v] .. offsets[v+1]).

struct GroupedRows {
  EdgeRows rows;
  std::vector<EdgeIndex> offsets;
};

// Groups `rows` (all src < num_sources) by source, keeping their order
// within a source.
GroupedRows GroupBySource(EdgeRows rows, size_t num_sources, int threads);

// Groups `rows` (all src < num_sources) by source and sorts each group.
GroupedRows GroupAndSort(EdgeRows rows, size_t num_sources, int threads);

// Drops self-loops and merges duplicates of sorted groups, per the policies
// (a row of n lines counts as n rows); adds the counts of dropped and merged
// lines. Every row then stands for one line.
void MergeDuplicates(GroupedRows& grouped, SelfLoopPolicy self_loops, DuplicatePolicy duplicates,
                     uint64_t* self_loops_dropped, uint64_t* duplicates_merged);

CsrGraph BuildCsr(const GroupedRows& grouped, EdgeAttributes attributes, int threads);

// The same edges grouped by destination (src and dst swapped), each group
// sorted. `grouped` must have sorted groups (GroupAndSort, then
// MergeDuplicates if any).
GroupedRows Reverse(GroupedRows grouped, size_t num_destinations, int threads);

}  // namespace gr::graph::internal
