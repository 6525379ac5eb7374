// User -> author and user -> post recall by source (proto RecallSource): the
// version's embedding with its "followed" / "seen" filters also reading the
// live graph, random walks over the live graph (recall/walk_recall.h), or
// both merged by reciprocal rank.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "recall/walk_recall.h"
#include "service/live_events.h"
#include "service/model.h"

namespace gr::service {

enum class RecallSource { kEmbedding, kWalks, kMixed, kConsistent };

// kind is kAuthors or kPosts, or kSimilarAccounts from the embedding
// (its "followed" filter reading the live graph too). Throws kNotFound for a user the source does
// not know (MIXED needs only the live graph to know it). A non-empty
// `query` replaces the user's vector in the embedding's search (a vector
// refreshed since the version). kConsistent (posts only) searches the
// consistent_posts index with the user tower applied to that vector or the
// version's; throws kInvalidArgument when the model has no towers.
std::vector<recall::RecallResult> RecallBySource(const Model& model, const LiveState& live, recall::RecallKind kind,
                                                 ExternalId user, size_t k, bool exclude_known, RecallSource source,
                                                 const recall::WalkRecallConfig& walks = {},
                                                 std::span<const float> query = {});

// The popularity fallback (Model::popular) for `user`, an account the live
// graph knows without a vector yet: the most popular items of `kind` but
// the user itself and, with exclude_known, what it follows or has engaged
// with. Fewer than k when the list runs out.
std::vector<recall::RecallResult> PopularFallback(const Model& model, const LiveState& live, recall::RecallKind kind,
                                                  ExternalId user, size_t k, bool exclude_known);

}  // namespace gr::service
