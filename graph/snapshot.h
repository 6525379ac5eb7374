// Binary snapshot of a SocialGraph (graph.snap): the core/binary_io.h layout
// with magic "GRSN", format version kSnapshotVersion, and one section per
// array, in a fixed order. Saving is atomic (temporary file + rename); loading
// checks sizes before allocating, every checksum, and every CSR invariant, so
// a truncated or corrupted file is rejected with gr::Error(kCorruption) naming
// the file, the section and the offset, never read out of bounds. A part
// of a graph cut by vertex (graph/graph_parts.h) is saved the same way, with
// its part in the meta section.
#pragma once

#include <cstdint>
#include <string>

#include "graph/social_graph.h"

namespace gr::graph {

inline constexpr uint32_t kSnapshotMagic = 0x4E535247;  // "GRSN" little-endian
inline constexpr uint32_t kSnapshotVersion = 1;

// Writes `g` to `path` atomically. Throws kIo.
void SaveSnapshot(const SocialGraph& g, const std::string& path);

// Reads and validates a snapshot. Throws kIo, or kCorruption for a damaged
// file or one of an unsupported version.
SocialGraph LoadSnapshot(const std::string& path);

}  // namespace gr::graph
