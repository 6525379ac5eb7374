// Dense internal ids. Every account and every post gets a uint32 id in
// [0, count); external ids (uint64) are translated only by graph::IdMap and at
// the service boundary.
#pragma once

#include <cstdint>
#include <limits>

namespace gr {

using VertexId = uint32_t;  // dense id of an account or a post
using EdgeIndex = uint64_t; // position in a CSR edge array (graphs may pass 2^32 edges)
using ExternalId = uint64_t;

inline constexpr VertexId kNoVertex = std::numeric_limits<VertexId>::max();
// Largest number of vertices of one kind (kNoVertex is reserved).
inline constexpr uint64_t kMaxVertices = std::numeric_limits<VertexId>::max();

}  // namespace gr
