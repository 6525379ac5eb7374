// Query-time recall by random walks over the live graph (graph/live_graph.h),
// the idea of Pixie at Pinterest and of GraphJet at Twitter: walks with
// restart from the user, candidates scored by how often the walks visit
// them. Nothing is trained, so an event counts the moment the live graph
// has it, and a new account is answerable after its first events.
//
// From the user a walk takes one of its follows (to an author) or one of its
// interactions (to a post), chosen in proportion to 2^(-age / half_life):
// recent signals first. At an author it visits the author and one of the
// author's `recent_posts` newest posts (fresh content, and visits that add
// up); at a post it visits the post and its author, then moves
// to one of the post's engagers. From any other account it restarts at the
// user with probability `restart`, else continues the same way over that
// account's follows and interactions (uniformly). It stops early once
// `stop_candidates` (2 k by default) candidates have `min_visits` visits
// (Pixie's early stopping), else after `max_steps`. Eight walks run
// interleaved, each prefetching its next hop's data while the others move,
// so eight cache misses overlap. The same live graph, user and seed give
// the same answer.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/live_graph.h"
#include "recall/recall.h"

namespace gr::recall {

struct WalkRecallConfig {
  uint32_t max_steps = 5000;       // hops, all walks together (the cost: ~0.25 us each at 1M accounts)
  double restart = 0.3;            // chance to go back to the user at each account
  uint32_t min_visits = 4;         // early stopping: visits that make a candidate "found"
  uint32_t stop_candidates = 0;    // early stopping: found candidates that end the walks; 0 = 2 k
  double half_life_days = 7.0;     // recency bias of the user's own edges; 0 = none
  uint32_t recent_posts = 10;      // at an author, one of its newest this many posts; 0 = any
  uint64_t seed = 1;

  void Validate() const;  // throws kInvalidArgument naming the field
};

enum class WalkTarget { kPosts, kAuthors };

// The k posts (or authors) the walks visit most for `user`, score = share of
// the counted visits. Never the user itself or its own posts, nor an author
// it unfollowed since the version (or that author's posts): an unfollow says
// "not this one". With exclude_known also no post it interacted with
// (posts) or account it follows (authors). Throws kNotFound if the live graph does not know the
// user, kInvalidArgument for k == 0.
std::vector<RecallResult> WalkRecall(const graph::LiveGraph& g, ExternalId user, WalkTarget target, size_t k,
                                     bool exclude_known, const WalkRecallConfig& config = {});

// Merges ranked lists by reciprocal rank (Cormack et al. 2009): an id
// scores the sum of 1 / (60 + rank) over the lists it is in; the best k.
std::vector<RecallResult> FuseByReciprocalRank(const std::vector<std::vector<RecallResult>>& lists, size_t k);

}  // namespace gr::recall
