// A SocialGraph cut by vertex into parts, and put back together (issue 20):
// part K of N holds the lists of the accounts and posts of shard K
// (core/shard.h's rule, which is also the MPI ranks' ownership), so a
// graph too large for one machine can be stored as N snapshots
// (graph/snapshot.h), each written by the rank that owns its vertices.
//
// A part keeps every list of the vertices it owns, in the whole graph's
// order with all of its edge fields, and each owned post's author and time;
// the other vertices it names (the far ends of those lists) are in its
// dictionaries with empty lists. So every list and post field of the whole
// graph is in exactly one part, and the whole graph is their union.
#pragma once

#include <span>

#include "core/shard.h"
#include "graph/social_graph.h"

namespace gr::graph {

// The part of `g` that `shard` owns: its accounts' following, followers,
// engagements and authored lists, its posts' engagers lists, authors and
// times; the dictionaries hold those vertices and the ends of their lists
// (dense ids renumbered, in external id order). reference_time and
// undirected are g's.
SocialGraph CutGraphPart(const SocialGraph& g, Shard shard);

// The graph whose parts these are (any order; a part from CutGraphPart or an
// equivalent builder, e.g. one MPI rank's ingest). A vertex's lists come
// from the one part that has any of them; a relation has weights, times,
// types or dwell when any part has them (a part without gives weight 1 and
// 0 for the rest), and no weights when every weight is 1, as ingest builds
// it. Throws kCorruption when the parts do not fit together: no parts,
// another reference time or direction, a vertex's lists in two parts, or a
// post's author or time in two.
SocialGraph MergeGraphParts(std::span<const SocialGraph> parts);

}  // namespace gr::graph
