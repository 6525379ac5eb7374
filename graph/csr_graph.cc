#include "graph/csr_graph.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/prefetch.h"

namespace gr::graph {

bool SortedContains(std::span<const VertexId> list, VertexId v) {
  // Branch-free lower bound that prefetches both possible next probes, so
  // two levels of a long, cold list are fetched at once (walks call this
  // on random vertices). The first entry >= v lies in [lo, lo + len].
  const VertexId* lo = list.data();
  const VertexId* const end = list.data() + list.size();
  uint64_t len = list.size();
  while (len > 16) {
    const uint64_t half = len / 2;
    Prefetch(lo + half / 2);
    Prefetch(lo + half + half / 2);
    lo = lo[half] < v ? lo + half : lo;
    len -= half;
  }
  for (const VertexId* p = lo; p <= lo + len && p < end; ++p) {
    if (*p == v) return true;
  }
  return false;
}

bool SortedContainsFrom(std::span<const VertexId> list, VertexId v, uint64_t guess) {
  const uint64_t n = list.size();
  if (n == 0) return false;
  const uint64_t g = std::min(guess, n - 1);
  // A good guess puts v within the 16 entries around it: compare them all
  // without branches, and stop if they bracket v.
  if (n <= 16) {
    bool hit = false;
    for (uint64_t i = 0; i < n; ++i) hit |= list[i] == v;
    return hit;
  }
  const uint64_t start = std::min(g >= 8 ? g - 8 : 0, n - 16);
  const VertexId* window = list.data() + start;
  bool hit = false;
  for (int i = 0; i < 16; ++i) hit |= window[i] == v;
  if (hit) return true;
  if ((window[0] < v || start == 0) && (v < window[15] || start + 16 == n)) return false;
  // The first entry >= v lies in (lo, hi]: gallop from the guess until the
  // bracket holds it, then binary search inside.
  uint64_t lo, hi;
  if (list[g] < v) {
    lo = g;
    for (uint64_t step = 8;; step *= 2) {
      hi = lo + step;
      if (hi >= n || list[hi] >= v) break;
      lo = hi;
    }
    hi = std::min(hi, n);  // n: no entry >= v
    const VertexId* first = std::lower_bound(list.data() + lo + 1, list.data() + hi, v);
    return first < list.data() + n && *first == v;
  }
  hi = g;  // list[hi] >= v
  for (uint64_t step = 8;; step *= 2) {
    if (hi < step) {
      lo = 0;
      if (list[0] >= v) return list[0] == v;
      break;
    }
    lo = hi - step;
    if (list[lo] < v) break;
    hi = lo;
  }
  return *std::lower_bound(list.data() + lo + 1, list.data() + hi, v) == v;
}

bool CsrGraph::HasEdge(VertexId u, VertexId v) const { return SortedContains(Neighbors(u), v); }

bool CsrGraph::HasRepeatedNeighbors() const {
  for (size_t v = 0; v < num_vertices(); ++v) {
    for (EdgeIndex e = offsets[v] + 1; e < offsets[v + 1]; ++e) {
      if (targets[e] == targets[e - 1]) return true;
    }
  }
  return false;
}

void CsrGraph::Validate(size_t num_target_vertices, const char* name) const {
  auto fail = [&](const std::string& what) {
    GR_THROW(ErrorCode::kCorruption, "graph '", name, "': ", what);
  };
  if (offsets.empty() || offsets.front() != 0) fail("offsets must start with 0");
  if (offsets.back() != targets.size())
    fail(StrCat("last offset ", offsets.back(), " != edge count ", targets.size()));
  const EdgeIndex m = targets.size();
  for (const size_t size : {weights.size(), times.size(), type_masks.size(), dwell_ms.size()}) {
    if (size != 0 && size != m) fail(StrCat("attribute array of ", size, " values for ", m, " edges"));
  }
  for (size_t v = 0; v + 1 < offsets.size(); ++v) {
    if (offsets[v] > offsets[v + 1]) fail(StrCat("offsets decrease at vertex ", v));
    for (EdgeIndex e = offsets[v]; e < offsets[v + 1]; ++e) {
      if (targets[e] >= num_target_vertices)
        fail(StrCat("edge ", e, " of vertex ", v, " targets ", targets[e], " >= ",
                    num_target_vertices));
      if (e > offsets[v] && targets[e] < targets[e - 1])
        fail(StrCat("neighbours of vertex ", v, " not sorted"));
    }
  }
  for (EdgeIndex e = 0; e < weights.size(); ++e) {
    if (!(weights[e] > 0.0f) || !std::isfinite(weights[e]))
      fail(StrCat("edge ", e, " has weight ", weights[e], " (must be finite and > 0)"));
  }
}

size_t CsrGraph::MemoryBytes() const {
  return offsets.capacity() * sizeof(EdgeIndex) + targets.capacity() * sizeof(VertexId) +
         weights.capacity() * sizeof(float) + times.capacity() * sizeof(uint32_t) +
         type_masks.capacity() + dwell_ms.capacity() * sizeof(uint32_t);
}

}  // namespace gr::graph
