// IdMap: the dictionary between external uint64 ids and dense VertexIds for
// one kind of vertex (accounts or posts). Dense ids follow ascending external
// id order, so the mapping depends only on the set of ids, never on file order
// or thread count. Costs 8 bytes per id. Immutable after construction, so safe
// for concurrent reads.
#pragma once

#include <span>
#include <vector>

#include "core/ids.h"

namespace gr::graph {

class IdMap {
 public:
  IdMap() = default;
  // From any list of ids (duplicates allowed). Throws kInvalidArgument if
  // more than kMaxVertices distinct ids are given.
  static IdMap FromIds(std::vector<ExternalId> ids);
  // From ids already strictly ascending (e.g. read from a snapshot). Throws
  // kCorruption if they are not.
  static IdMap FromSortedUnique(std::vector<ExternalId> ids);

  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }

  // Dense id of `external`, or kNoVertex if unknown. O(log n).
  VertexId Find(ExternalId external) const;
  // Dense id of `external`; throws kNotFound naming the id if unknown.
  VertexId At(ExternalId external) const;
  // External id of dense id `v` (v < size()).
  ExternalId ToExternal(VertexId v) const { return ids_[v]; }

  // All external ids, indexed by dense id.
  std::span<const ExternalId> external_ids() const { return ids_; }

  bool operator==(const IdMap&) const = default;

 private:
  explicit IdMap(std::vector<ExternalId> ids) : ids_(std::move(ids)) {}
  std::vector<ExternalId> ids_;  // strictly ascending
};

}  // namespace gr::graph
