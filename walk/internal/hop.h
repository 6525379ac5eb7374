// The walk engine's view of one relation (internal to walk/): the neighbour
// lists a step reads, per-vertex records, node2vec's neighbour filter and
// the alias tables of weighted steps. Hot accessors are inline here; the
// builders are in hop.cc.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/prefetch.h"
#include "core/rng.h"
#include "graph/social_graph.h"
#include "walk/walk_config.h"

namespace gr::walk::internal {

// "Is `key` in list(owner)": one sorted neighbour list to search.
struct Lookup {
  const graph::CsrGraph* list;
  VertexId owner;
  VertexId key;
};

// Summed weight (weighted) or count of the entries equal to the key.
inline double LookupMass(const Lookup& lookup, bool weighted) {
  const graph::CsrGraph& g = *lookup.list;
  auto neighbors = g.Neighbors(lookup.owner);
  double mass = 0;
  for (auto it = std::lower_bound(neighbors.begin(), neighbors.end(), lookup.key);
       it != neighbors.end() && *it == lookup.key; ++it) {
    mass += weighted
                ? g.Weight(g.offsets[lookup.owner] + static_cast<uint64_t>(it - neighbors.begin()))
                : 1.0;
  }
  return mass;
}

// One relation a walk can step along: up to two CSR parts read as one
// concatenated neighbour list (the both-direction view), with optional
// per-vertex alias tables over that list.
struct Hop {
  std::string name;
  const graph::CsrGraph* first = nullptr;
  const graph::CsrGraph* second = nullptr;
  VertexType from = VertexType::kAccount, to = VertexType::kAccount;
  bool weighted = false;
  bool symmetric = false;             // u in N(v) iff v in N(u), with the same edge weight
  std::vector<float> alias_prob;      // at Base(v) + i: keep neighbour i with this probability
  std::vector<uint32_t> alias_index;  // ... else take neighbour alias_index[Base(v) + i]
  std::vector<double> weight_sum;     // per vertex, when weighted
  // Per-vertex records of the account walk's view (any direction; not
  // metapath hops, which read the CSR offsets): where v's entries start in
  // each part and how many there are, as 32-bit words, so that everything a
  // step needs to pick a neighbour lies in one aligned cache line. For
  // node2vec a record also holds a 384-bit filter of v's neighbour ids
  // (bit FilterBit(x) set for each neighbour x): a clear bit proves x is not
  // adjacent, which settles most adjacency tests without reading the lists.
  // 16 bytes per vertex, or 64 with the filter.
  static constexpr uint32_t kRecordWords = 4, kFilteredRecordWords = 16, kFilterBits = 384;
  struct alignas(64) RecordLine {
    uint32_t words[16];
  };
  std::vector<RecordLine> record_lines;
  uint32_t record_words = 0;  // 0: no records

  bool has_records() const { return record_words != 0; }
  bool has_filter() const { return record_words == kFilteredRecordWords; }
  const uint32_t* Record(VertexId v) const {
    return reinterpret_cast<const uint32_t*>(record_lines.data()) + size_t{v} * record_words;
  }
  static uint32_t FilterBit(VertexId x) {  // a multiplicative hash of x onto [0, kFilterBits)
    return static_cast<uint32_t>((uint64_t{x * 0x9E3779B1u} * kFilterBits) >> 32);
  }
  // False if x is surely not among u's neighbours.
  bool MayBeAdjacent(VertexId u, VertexId x) const {
    const uint32_t bit = FilterBit(x);
    return (Record(u)[kRecordWords + bit / 32] >> (bit % 32)) & 1u;
  }
  // Fills record_lines for vertices [0, num_vertices) (hop.cc).
  void BuildRecords(size_t num_vertices, bool with_filter, int threads);
  const graph::CsrGraph& Part(VertexId v, uint64_t i, uint64_t* position) const {
    if (!has_records()) {
      *position = first->offsets[v] + i;
      return *first;
    }
    const uint32_t* r = Record(v);
    if (i < r[2]) {
      *position = r[0] + i;
      return *first;
    }
    *position = r[1] + (i - r[2]);
    return *second;
  }
  // Fetches what Degree and Part will read for v.
  void PrefetchVertex(VertexId v) const {
    if (has_records()) {
      Prefetch(Record(v));
    } else {
      Prefetch(&first->offsets[v]);
      Prefetch(&first->offsets[v + 1]);  // may be the next line
    }
  }
  // Address of neighbour i of v (to prefetch before reading).
  const VertexId* Locate(VertexId v, uint64_t i) const {
    uint64_t position;
    return &Part(v, i, &position).targets[position];
  }
  // Index of a neighbour of v (degree > 0), uniformly or by weight.
  [[gnu::always_inline]] uint64_t PickIndex(VertexId v, uint64_t degree, FastRng& rng) const {
    uint64_t i = rng.Uniform(degree);
    if (weighted) {
      const uint64_t slot = Base(v) + i;
      if (rng.UniformFloat() >= alias_prob[slot]) i = alias_index[slot];
    }
    return i;
  }
  // Position of v's first entry in a per-edge array over the concatenated
  // lists (the alias tables).
  uint64_t Base(VertexId v) const {
    if (!has_records()) return first->offsets[v];
    const uint32_t* r = Record(v);
    return uint64_t{r[0]} + r[1];
  }
  uint64_t Degree(VertexId v) const {
    if (!has_records()) return first->Degree(v);
    const uint32_t* r = Record(v);
    return uint64_t{r[2]} + r[3];
  }
  float WeightAt(VertexId v, uint64_t i) const {
    const uint64_t d1 = first->Degree(v);
    return i < d1 ? first->Weight(first->offsets[v] + i)
                  : second->Weight(second->offsets[v] + i - d1);
  }
  // The lookups whose matches are exactly the edges v->u of this view. In
  // the both-direction view, "u in out(v)" is "v in in(u)" and "u in in(v)"
  // is "v in out(u)": each is looked up in the shorter of its two lists, so
  // a celebrity's long follower list is almost never searched. An
  // undirected graph's one list is symmetric: the shorter of v's and u's.
  // Both sides of a follow edge carry the same weight.
  int EdgeLookups(VertexId v, VertexId u, Lookup out[2]) const {
    if (second != nullptr) {
      out[0] = first->Degree(v) <= second->Degree(u) ? Lookup{first, v, u} : Lookup{second, u, v};
      out[1] = second->Degree(v) <= first->Degree(u) ? Lookup{second, v, u} : Lookup{first, u, v};
      return 2;
    }
    out[0] = symmetric && first->Degree(u) < first->Degree(v) ? Lookup{first, u, v}
                                                              : Lookup{first, v, u};
    return 1;
  }
  // u's neighbour list in part 0 (the only list, or following) or 1 (followers).
  std::span<const VertexId> List(VertexId u, int part) const {
    if (!has_records()) return first->Neighbors(u);
    const uint32_t* r = Record(u);
    return {(part == 0 ? first : second)->targets.data() + r[part], r[2 + part]};
  }
  // True if x is among u's neighbours. u (the previous vertex) was just
  // visited, so its lists are searched: they are warmer in cache than x's.
  bool Contains(VertexId u, VertexId x) const {
    return graph::SortedContains(List(u, 0), x) ||
           (second != nullptr && graph::SortedContains(List(u, 1), x));
  }
  // Where x would sit in u's list `part`: list entries are account ids
  // spread over [0, number of accounts) (node2vec's hop is account ->
  // account), so about at size * x / accounts.
  uint64_t GuessPosition(std::span<const VertexId> list, VertexId x) const {
    return graph::GuessPosition(list.size(), x, first->num_vertices());
  }
  // Fetches the lines around where x would sit in u's lists, for
  // ContainsFrom a round of the engine later.
  void PrefetchAround(VertexId u, VertexId x) const {
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      if (list.empty()) continue;
      const uint64_t guess = GuessPosition(list, x);
      Prefetch(list.data() + (guess >= 8 ? guess - 8 : 0));
      Prefetch(list.data() + std::min<uint64_t>(guess + 8, list.size() - 1));
    }
  }
  // The number of u's lists that hold x (the edges u->x of this view, with
  // no repeated entries), each searched outwards from where x would sit.
  uint64_t CountFrom(VertexId u, VertexId x) const {
    uint64_t count = 0;
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      count += graph::SortedContainsFrom(list, x, GuessPosition(list, x));
    }
    return count;
  }
  // Contains, each list searched outwards from where x would sit: with
  // PrefetchAround done before, it usually reads only cached lines.
  bool ContainsFrom(VertexId u, VertexId x) const {
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      if (graph::SortedContainsFrom(list, x, GuessPosition(list, x))) return true;
    }
    return false;
  }
  // First-order probability of stepping from v to u (0 if no such edge).
  double StepProbability(VertexId v, VertexId u, uint64_t degree) const {
    Lookup lookups[2];
    const int n = EdgeLookups(v, u, lookups);
    double mass = 0;
    for (int i = 0; i < n; ++i) mass += LookupMass(lookups[i], weighted);
    return mass / StepDenominator(v, degree);
  }
  // Unweighted: the number of edges v->u of this view, by the same lookups
  // as StepProbability. The engine counts with CountFrom instead; the
  // reference walk keeps this independent path so that the equivalence test
  // compares two searches.
  uint64_t BackEdges(VertexId v, VertexId u) const {
    Lookup lookups[2];
    const int n = EdgeLookups(v, u, lookups);
    double count = 0;
    for (int i = 0; i < n; ++i) count += LookupMass(lookups[i], false);
    return static_cast<uint64_t>(count);
  }
  double StepDenominator(VertexId v, uint64_t degree) const {
    return weighted ? weight_sum[v] : static_cast<double>(degree);
  }

  // Puts the arrays a step reads at random on huge pages (core/huge_pages.h).
  void AdviseHugePages() const;

  // Fills alias_prob, alias_index and weight_sum (weighted steps).
  void BuildAliasTables(size_t num_vertices, int threads);
};

}  // namespace gr::walk::internal
