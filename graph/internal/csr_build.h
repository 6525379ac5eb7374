// Internal to graph/: building CsrGraphs from edge rows with the self-loop
// and duplicate policies.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/csr_graph.h"
#include "graph/ingest.h"

namespace gr::graph::internal {

struct EdgeRow {
  VertexId src;
  VertexId dst;
  float weight;
  uint32_t time;
  uint32_t dwell_ms;
  uint8_t type_mask;
};

// Which attribute arrays BuildCsr fills. Weights are stored only if some
// weight differs from 1.
struct EdgeAttributes {
  bool weights = true;
  bool times = false;
  bool types = false;
  bool dwell = false;
};

// Sorts rows by (src, dst) with every field as a tie-break (so the result is
// the same whatever the thread count), drops self-loops and merges
// duplicates per the policies. Returns the number of rows dropped as
// self-loops and merged as duplicates.
void SortAndMerge(std::vector<EdgeRow>& rows, SelfLoopPolicy self_loops,
                  DuplicatePolicy duplicates, uint64_t* self_loops_dropped,
                  uint64_t* duplicates_merged);

// Rows must be sorted by (src, dst). num_sources rows of offsets.
CsrGraph BuildCsr(const std::vector<EdgeRow>& rows, size_t num_sources, EdgeAttributes attributes);

// Swaps src and dst of every row and sorts again.
void ReverseRows(std::vector<EdgeRow>& rows);

}  // namespace gr::graph::internal
