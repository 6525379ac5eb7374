// SocialGraph: the graph store of one snapshot: accounts and posts with their
// dictionaries, the follow graph in both directions, the interaction graph in
// both directions, and authorship. Built by graph::Ingest or LoadEdgeList,
// saved and loaded by graph/snapshot.h. Immutable after building; safe for
// concurrent reads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/shard.h"
#include "graph/csr_graph.h"
#include "graph/id_map.h"

namespace gr::graph {

// Interaction types, in the order of WeightConfig::interaction and of the
// bits of CsrGraph::type_masks. Input files name them (case-insensitive) or
// give the number.
enum class InteractionType : uint8_t { kClick = 0, kLike = 1, kComment = 2, kRepost = 3 };
inline constexpr int kNumInteractionTypes = 4;
std::string_view InteractionTypeName(InteractionType type);
// Parses "click"/"like"/"comment"/"repost" (any case; "share" = repost) or
// "0".."3". Returns nullopt otherwise.
std::optional<InteractionType> ParseInteractionType(std::string_view text);

// How an edge's walk weight is made from its type and age:
//   weight = type weight x 2^(-age / half_life), age = max(0, reference - time).
// Edges without a timestamp are not decayed. Merged duplicates add up.
struct WeightConfig {
  float follow = 1.0f;  // weight of one follow edge; > 0
  // Per interaction type, indexed by InteractionType; each > 0.
  std::array<float, kNumInteractionTypes> interaction{1.0f, 2.0f, 4.0f, 4.0f};
  // Half-life of interactions, days; 0 = no decay. Default 7: interest fades in days.
  double interaction_half_life_days = 7.0;
  // Half-life of follows, days; 0 (default) = no decay: a follow is durable.
  double follow_half_life_days = 0.0;
  // Reference time, Unix seconds; -1 (default) = newest timestamp in the input.
  int64_t reference_time = -1;

  void Validate() const;  // throws kInvalidArgument naming the field
};

struct SocialGraph {
  IdMap accounts;
  IdMap posts;
  CsrGraph following;     // account -> account it follows (times, weights if non-uniform)
  CsrGraph followers;     // account -> its followers (weights if non-uniform)
  CsrGraph engagements;   // account -> post it interacted with (weights, times, types, dwell)
  CsrGraph engagers;      // post -> accounts that interacted (weights, times)
  CsrGraph authored;      // account -> its posts
  std::vector<VertexId> post_author;  // per post; kNoVertex if unknown
  std::vector<uint32_t> post_time;    // per post, Unix seconds; 0 if unknown
  int64_t reference_time = 0;         // time the weights were decayed to (Unix seconds)
  bool undirected = false;            // built from an undirected edge list
  // Which part of a graph cut by vertex this is (graph/graph_parts.h): only
  // the lists, authors and times of the part's own vertices are filled, the
  // other vertices are the far ends of those lists. Whole by default.
  Shard part;

  size_t num_accounts() const { return accounts.size(); }
  size_t num_posts() const { return posts.size(); }

  // Checks every array against the dictionaries (and, for a part, that only
  // its own vertices have lists); throws kCorruption.
  void Validate() const;
  // Bytes held in memory by all arrays and dictionaries.
  size_t MemoryBytes() const;

  bool operator==(const SocialGraph&) const = default;
};

// Authorship as a relation over posts: post -> its author, one edge per post
// with a known author (what metapath walks step along for authored_by).
CsrGraph AuthoredByGraph(const SocialGraph& g);

}  // namespace gr::graph
