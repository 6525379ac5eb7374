// The one score order every index returns, and the bounded best-k heap the
// exact index (and evaluation) collect results in.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "recall/vector_index.h"

namespace gr::recall::internal {

// Higher score first, then lower item: the one order every index returns.
inline bool BetterScored(const ScoredItem& a, const ScoredItem& b) {
  return a.score != b.score ? a.score > b.score : a.item < b.item;
}

// The best k items offered so far (a heap with the least good on top).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(ScoredItem candidate) {
    if (heap_.size() < k_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), BetterScored);
    } else if (k_ > 0 && BetterScored(candidate, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), BetterScored);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), BetterScored);
    }
  }
  // Best first; leaves the TopK empty.
  std::vector<ScoredItem> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), BetterScored);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<ScoredItem> heap_;
};

// True if `item` is in the ascending exclusion list.
inline bool IsExcluded(std::span<const uint32_t> excluded, uint32_t item) {
  return std::binary_search(excluded.begin(), excluded.end(), item);
}

}  // namespace gr::recall::internal
