// Internal to graph/: an open-addressing hash table from external id to
// dense id, used while ingesting (one expected cache miss per lookup instead
// of a binary search). Any uint64 is a valid key; an empty slot is marked by
// value kNoVertex. Not thread-safe for writes; concurrent Find is fine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/ids.h"

namespace gr::graph::internal {

class IdTable {
 public:
  explicit IdTable(size_t expected_keys = 16) { Reset(expected_keys); }

  // Adds key with `value` if absent; returns true if it was added.
  bool Insert(ExternalId key, VertexId value) {
    if ((size_ + 1) * 2 > values_.size()) Grow();
    return InsertNoGrow(key, value);
  }

  // Value of key, or kNoVertex if absent.
  VertexId Find(ExternalId key) const {
    for (size_t slot = Slot(key);; slot = (slot + 1) & mask_) {
      if (values_[slot] == kNoVertex) return kNoVertex;
      if (keys_[slot] == key) return values_[slot];
    }
  }

  size_t size() const { return size_; }

  // Every key present, in slot order.
  std::vector<ExternalId> Keys() const {
    std::vector<ExternalId> keys;
    keys.reserve(size_);
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i] != kNoVertex) keys.push_back(keys_[i]);
    return keys;
  }

 private:
  static uint64_t Mix(uint64_t x) {  // murmur3 finalizer
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    return x ^ (x >> 33);
  }
  size_t Slot(ExternalId key) const { return Mix(key) & mask_; }

  void Reset(size_t expected_keys) {
    size_t capacity = 16;
    while (capacity < expected_keys * 2) capacity *= 2;
    keys_.assign(capacity, 0);
    values_.assign(capacity, kNoVertex);
    mask_ = capacity - 1;
    size_ = 0;
  }

  bool InsertNoGrow(ExternalId key, VertexId value) {
    for (size_t slot = Slot(key);; slot = (slot + 1) & mask_) {
      if (values_[slot] == kNoVertex) {
        keys_[slot] = key;
        values_[slot] = value;
        ++size_;
        return true;
      }
      if (keys_[slot] == key) return false;
    }
  }

  void Grow() {
    std::vector<ExternalId> old_keys = std::move(keys_);
    std::vector<VertexId> old_values = std::move(values_);
    Reset(old_values.size());
    for (size_t i = 0; i < old_values.size(); ++i)
      if (old_values[i] != kNoVertex) InsertNoGrow(old_keys[i], old_values[i]);
  }

  std::vector<ExternalId> keys_;
  std::vector<VertexId> values_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace gr::graph::internal
