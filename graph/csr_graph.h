// CsrGraph: one direction of one edge family in compressed sparse row form.
// The neighbours of v are targets[offsets[v] .. offsets[v+1]), sorted
// ascending, so "is x a neighbour of v" is a binary search. Optional per-edge
// attributes live in parallel flat arrays that are either empty (absent) or
// hold one value per edge. Immutable once built; safe for concurrent reads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/ids.h"

namespace gr::graph {

// True if the ascending `list` contains v. O(log n), prefetching.
bool SortedContains(std::span<const VertexId> list, VertexId v);

// Where v would sit in an ascending `list` of ids drawn about evenly from
// [0, id_bound): the position a search for v should start from.
inline uint64_t GuessPosition(uint64_t list_size, VertexId v, uint64_t id_bound) {
  if (id_bound == 0) return 0;
  const uint64_t guess = list_size * v / id_bound;  // < 2^64: both factors < 2^32
  return guess < list_size ? guess : list_size;
}

// SortedContains, searching outwards from position `guess` (galloping),
// so that a good guess reads only the one or two cache lines around it
// (which a caller can prefetch ahead: GuessPosition). Any guess is correct.
bool SortedContainsFrom(std::span<const VertexId> list, VertexId v, uint64_t guess);

struct CsrGraph {
  std::vector<EdgeIndex> offsets{0};  // num_vertices + 1 entries, offsets[0] == 0
  std::vector<VertexId> targets;      // num_edges entries, sorted per vertex
  std::vector<float> weights;         // empty (every weight 1) or num_edges; > 0
  std::vector<uint32_t> times;        // empty or num_edges; Unix seconds, 0 = unknown
  std::vector<uint8_t> type_masks;    // empty or num_edges; bit t set = interaction type t seen
  std::vector<uint32_t> dwell_ms;     // empty or num_edges; summed dwell, milliseconds

  size_t num_vertices() const { return offsets.size() - 1; }
  EdgeIndex num_edges() const { return targets.size(); }
  bool has_weights() const { return !weights.empty(); }

  EdgeIndex Begin(VertexId v) const { return offsets[v]; }
  EdgeIndex End(VertexId v) const { return offsets[v + 1]; }
  uint64_t Degree(VertexId v) const { return offsets[v + 1] - offsets[v]; }
  std::span<const VertexId> Neighbors(VertexId v) const {
    return {targets.data() + offsets[v], static_cast<size_t>(Degree(v))};
  }
  // Weights of v's edges, parallel to Neighbors(v); empty if unweighted.
  std::span<const float> NeighborWeights(VertexId v) const {
    if (weights.empty()) return {};
    return {weights.data() + offsets[v], static_cast<size_t>(Degree(v))};
  }
  float Weight(EdgeIndex e) const { return weights.empty() ? 1.0f : weights[e]; }

  // True if u -> v is an edge. O(log degree(u)).
  bool HasEdge(VertexId u, VertexId v) const;

  // True if some vertex lists a neighbour twice (allowed: a snapshot may
  // keep repeated edges; ingest merges them). O(num_edges).
  bool HasRepeatedNeighbors() const;

  // Checks every invariant above against `num_target_vertices`; throws
  // kCorruption naming the first violation. O(num_edges).
  void Validate(size_t num_target_vertices, const char* name) const;

  // Bytes held by the arrays (capacity, not size).
  size_t MemoryBytes() const;

  bool operator==(const CsrGraph&) const = default;
};

}  // namespace gr::graph
