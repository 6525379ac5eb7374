// hnswlib's search with the memory requests issued ahead (the serving path
// of HNSW indices). hnswlib 0.6.2 defines non-inline functions in its
// headers, so it may be included by one translation unit only:
// internal/hnsw_index.cc, the one includer of this file.
#pragma once

#include <hnswlib/hnswlib.h>
#include <immintrin.h>

#include <algorithm>
#include <queue>
#include <utility>
#include <vector>

namespace gr::recall::internal {

using HnswGraph = hnswlib::HierarchicalNSW<float>;
// What searchKnn returns: (distance, label), farthest on top.
using HnswResult = std::priority_queue<std::pair<float, hnswlib::labeltype>>;

namespace hnsw_search_detail {

// hnswlib's working heap: (distance, internal id), farthest on top.
using HnswHeap = std::priority_queue<std::pair<float, hnswlib::tableint>,
                                     std::vector<std::pair<float, hnswlib::tableint>>,
                                     HnswGraph::CompareByFirst>;

inline void PrefetchLines(const char* p, size_t bytes) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  for (uintptr_t line = first; line < reinterpret_cast<uintptr_t>(p) + bytes; line += 64)
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
}

// (count, first link) of a node's list on one level.
inline std::pair<size_t, const hnswlib::tableint*> Links(const HnswGraph& h, hnswlib::tableint node,
                                                         int level) {
  hnswlib::linklistsizeint* list = h.get_linklist_at_level(node, level);
  return {h.getListCount(list), reinterpret_cast<const hnswlib::tableint*>(list + 1)};
}

}  // namespace hnsw_search_detail

// hnswlib's searchKnn for an index without deleted items (greedy descent
// through the upper layers, then best-first on layer 0 keeping max(ef, k)
// candidates), returning the k nearest as searchKnn does. Each expanded node
// first requests the visited marks of all its neighbours, then every line of
// every unvisited neighbour's vector, and only then computes the distances,
// so the memory misses overlap (hnswlib fetches one neighbour ahead and only
// its vector's first line). Distances are offered to the same heaps in the
// same order as in hnswlib, so the answer is hnswlib's, item for item
// (tested against ReferenceHnswSearch). Safe to call concurrently.
inline HnswResult SearchHnswPrefetched(const HnswGraph& h, const void* query, size_t k) {
  using namespace hnsw_search_detail;
  if (h.cur_element_count == 0) return {};
  const size_t ef = std::max(h.ef_, k);
  const auto distance = [&](hnswlib::tableint node) {
    return h.fstdistfunc_(query, h.getDataByInternalId(node), h.dist_func_param_);
  };
  hnswlib::tableint current = h.enterpoint_node_;
  float current_distance = distance(current);
  for (int level = h.maxlevel_; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      const auto [count, links] = Links(h, current, level);
      for (size_t j = 0; j < count; ++j)
        PrefetchLines(h.getDataByInternalId(links[j]), h.data_size_);
      for (size_t j = 0; j < count; ++j) {
        const float d = distance(links[j]);
        if (d < current_distance) {
          current_distance = d;
          current = links[j];
          changed = true;
        }
      }
    }
  }

  hnswlib::VisitedList* visited_list = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  HnswHeap top, candidates;  // candidates hold negated distances: nearest on top
  float lower_bound = current_distance;
  top.emplace(current_distance, current);
  candidates.emplace(-current_distance, current);
  visited[current] = tag;
  std::vector<hnswlib::tableint> fresh(h.maxM0_);
  while (!candidates.empty()) {
    const auto [negated, node] = candidates.top();
    if (-negated > lower_bound) break;
    candidates.pop();
    const auto [count, links] = Links(h, node, 0);
    for (size_t j = 0; j < count; ++j)
      _mm_prefetch(reinterpret_cast<const char*>(visited + links[j]), _MM_HINT_T0);
    size_t num_fresh = 0;
    for (size_t j = 0; j < count; ++j) {
      const hnswlib::tableint neighbour = links[j];
      if (visited[neighbour] == tag) continue;
      visited[neighbour] = tag;
      fresh[num_fresh++] = neighbour;
      PrefetchLines(h.getDataByInternalId(neighbour), h.data_size_);
    }
    for (size_t j = 0; j < num_fresh; ++j) {
      const float d = distance(fresh[j]);
      if (top.size() < ef || lower_bound > d) {
        candidates.emplace(-d, fresh[j]);
        top.emplace(d, fresh[j]);
        if (top.size() > ef) top.pop();
        lower_bound = top.top().first;
      }
    }
    if (!candidates.empty())
      _mm_prefetch(reinterpret_cast<const char*>(h.get_linklist0(candidates.top().second)),
                   _MM_HINT_T0);
  }
  h.visited_list_pool_->releaseVisitedList(visited_list);
  while (top.size() > k) top.pop();
  HnswResult result;
  for (; !top.empty(); top.pop())
    result.emplace(top.top().first, h.getExternalLabel(top.top().second));
  return result;
}

}  // namespace gr::recall::internal
