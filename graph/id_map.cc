#include "graph/id_map.h"

#include <parallel/algorithm>

#include <algorithm>

#include "core/error.h"

namespace gr::graph {

IdMap IdMap::FromIds(std::vector<ExternalId> ids) {
  __gnu_parallel::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  GR_CHECK(ids.size() <= kMaxVertices, "too many distinct ids: ", ids.size(), " > ",
           kMaxVertices);
  ids.shrink_to_fit();
  return IdMap(std::move(ids));
}

IdMap IdMap::FromSortedUnique(std::vector<ExternalId> ids) {
  GR_CHECK_CODE(ids.size() <= kMaxVertices, ErrorCode::kCorruption, "id map too large: ",
                ids.size());
  for (size_t i = 1; i < ids.size(); ++i) {
    GR_CHECK_CODE(ids[i - 1] < ids[i], ErrorCode::kCorruption,
                  "id map not strictly ascending at position ", i, ": ", ids[i - 1],
                  " then ", ids[i]);
  }
  return IdMap(std::move(ids));
}

VertexId IdMap::Find(ExternalId external) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), external);
  if (it == ids_.end() || *it != external) return kNoVertex;
  return static_cast<VertexId>(it - ids_.begin());
}

VertexId IdMap::At(ExternalId external) const {
  const VertexId v = Find(external);
  GR_CHECK_CODE(v != kNoVertex, ErrorCode::kNotFound, "unknown id ", external);
  return v;
}

}  // namespace gr::graph
