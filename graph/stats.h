// Summary statistics of a SocialGraph, for `graphrec stats`, the batch
// manifest and the generator's validation: counts, degree distributions and
// the largest weakly connected component of the follow graph.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/social_graph.h"

namespace gr::graph {

struct DegreeSummary {
  std::string name;  // for people, e.g. "follow out-degree (following)"
  std::string key;   // for machines (the JSON key), e.g. "follow_out_degree"
  double mean = 0;
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  uint64_t zero = 0;  // vertices with degree 0
};

struct GraphStats {
  uint64_t accounts = 0;
  uint64_t posts = 0;
  uint64_t follow_edges = 0;  // directed edges (an undirected edge counts twice)
  uint64_t reciprocal_follow_edges = 0;  // u->v with v->u also present
  uint64_t interaction_edges = 0;        // distinct (account, post) pairs
  // Interaction edges whose merged type set contains each type.
  std::array<uint64_t, kNumInteractionTypes> interactions_by_type{};
  uint64_t authored_posts = 0;
  uint64_t isolated_accounts = 0;  // no follow edge either way
  uint64_t follow_components = 0;  // weakly connected, isolated accounts included
  uint64_t largest_component = 0;  // accounts in the largest one
  bool undirected = false;
  std::vector<DegreeSummary> degrees;

  std::string ToText() const;
  std::string ToJson() const;
};

// O(V + E log) time; uses all cores for the degree sorts.
GraphStats ComputeStats(const SocialGraph& g);

}  // namespace gr::graph
