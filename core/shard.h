// Which shard of N an account or post belongs to: a hash of its external id.
// One rule for every place that splits ids: the MPI ranks that own accounts
// (dist/), the index shards a batch writes and `graphrec serve --shard K/N`
// answers from, and the front that routes a request to an id's shard. A hash
// needs no table (anyone knows an id's shard from the id alone) and spreads
// high-degree accounts evenly whatever order ids were issued in.
#pragma once

#include <cstdint>
#include <string>

#include "core/ids.h"
#include "core/rng.h"

namespace gr {

inline uint32_t ShardOf(ExternalId id, uint32_t shards) {
  return static_cast<uint32_t>(MixSeed(id) % shards);
}

// Shard `index` of `count`; count 1 is the whole.
struct Shard {
  uint32_t index = 0;
  uint32_t count = 1;

  bool whole() const { return count == 1; }
  bool Holds(ExternalId id) const { return whole() || ShardOf(id, count) == index; }
  std::string Name() const;  // "shard-K-of-N"
  // "K/N" with 0 <= K < N <= 4096; throws kInvalidArgument naming `text` otherwise.
  static Shard Parse(const std::string& text);

  bool operator==(const Shard&) const = default;
};

}  // namespace gr
