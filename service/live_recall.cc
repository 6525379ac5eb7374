#include "service/live_recall.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"

namespace gr::service {
namespace {

// What the user followed (authors) or engaged with (posts) since the
// version, as external ids: the version's own filter knows the rest.
std::unordered_set<ExternalId> KnownSinceVersion(const graph::LiveGraph& g, recall::RecallKind kind, ExternalId user) {
  std::unordered_set<ExternalId> known;
  const VertexId u = g.FindAccount(user);
  if (u == kNoVertex) return known;
  const graph::SocialGraph& base = g.base();
  const bool in_base = u < base.num_accounts();
  if (kind == recall::RecallKind::kPosts || kind == recall::RecallKind::kConsistentPosts) {
    for (uint64_t i = in_base ? base.engagements.Degree(u) : 0; i < g.EngagementCount(u); ++i)
      known.insert(g.PostId(g.EngagementAt(u, i).post));
  } else {
    for (uint64_t i = in_base ? base.following.Degree(u) : 0; i < g.FolloweeCount(u); ++i)
      if (const VertexId author = g.FolloweeAt(u, i); author != kNoVertex) known.insert(g.AccountId(author));
  }
  return known;
}

std::vector<recall::RecallResult> FromEmbedding(const Model& model, const LiveState& live, recall::RecallKind kind,
                                                ExternalId user, size_t k, bool exclude_known,
                                                std::span<const float> query) {
  if (!exclude_known) return model.recaller->Recall(kind, user, k, false, query);
  // Events since the version may add to what the user follows or has seen:
  // fetch that many more, drop them.
  const std::unordered_set<ExternalId> known = KnownSinceVersion(*live.graph, kind, user);
  std::vector<recall::RecallResult> results = model.recaller->Recall(kind, user, k + known.size(), true, query);
  std::erase_if(results, [&](const recall::RecallResult& r) { return known.contains(r.id); });
  if (results.size() > k) results.resize(k);
  return results;
}

// The user tower over the account's vector (refreshed, or the version's).
std::vector<float> ConsistentQuery(const Model& model, ExternalId user, std::span<const float> refreshed) {
  GR_CHECK_CODE(model.consistent_recall != nullptr, ErrorCode::kInvalidArgument, "version ", model.version,
                " has no consistent recall towers");
  if (!refreshed.empty()) return model.consistent_recall->UserVector(refreshed);
  const auto row = model.account_row.find(user);
  GR_CHECK_CODE(row != model.account_row.end(), ErrorCode::kNotFound, "account ", user, " has no vector");
  return model.consistent_recall->UserVector(model.table.input.Row(row->second));
}

}  // namespace

std::vector<recall::RecallResult> RecallBySource(const Model& model, const LiveState& live, recall::RecallKind kind,
                                                 ExternalId user, size_t k, bool exclude_known, RecallSource source,
                                                 const recall::WalkRecallConfig& walks, std::span<const float> query) {
  if (kind == recall::RecallKind::kSimilarAccounts) {
    GR_CHECK(source == RecallSource::kEmbedding, "similar accounts come from the embedding only");
    return FromEmbedding(model, live, kind, user, k, exclude_known, query);
  }
  const recall::WalkTarget target =
      kind == recall::RecallKind::kPosts ? recall::WalkTarget::kPosts : recall::WalkTarget::kAuthors;
  switch (source) {
    case RecallSource::kEmbedding: return FromEmbedding(model, live, kind, user, k, exclude_known, query);
    case RecallSource::kWalks: return recall::WalkRecall(*live.graph, user, target, k, exclude_known, walks);
    case RecallSource::kConsistent: {
      GR_CHECK(kind == recall::RecallKind::kPosts, "the consistent source recalls posts only");
      const std::vector<float> q = ConsistentQuery(model, user, query);
      return FromEmbedding(model, live, recall::RecallKind::kConsistentPosts, user, k, exclude_known, q);
    }
    case RecallSource::kMixed: break;
  }
  std::vector<std::vector<recall::RecallResult>> lists;
  lists.push_back(recall::WalkRecall(*live.graph, user, target, k, exclude_known, walks));
  try {
    lists.push_back(FromEmbedding(model, live, kind, user, k, exclude_known, query));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;  // an account with no vector yet: walks alone
  }
  return recall::FuseByReciprocalRank(lists, k);
}

std::vector<recall::RecallResult> PopularFallback(const Model& model, const LiveState& live, recall::RecallKind kind,
                                                  ExternalId user, size_t k, bool exclude_known) {
  const graph::LiveGraph& g = *live.graph;
  std::unordered_set<ExternalId> known;
  const bool posts = kind == recall::RecallKind::kPosts || kind == recall::RecallKind::kConsistentPosts;
  if (!posts) known.insert(user);
  if (const VertexId u = g.FindAccount(user); exclude_known && u != kNoVertex) {
    if (posts) {
      for (uint64_t i = 0; i < g.EngagementCount(u); ++i) known.insert(g.PostId(g.EngagedPostAt(u, i)));
    } else {
      for (uint64_t i = 0; i < g.FolloweeCount(u); ++i)
        if (const VertexId v = g.FolloweeAt(u, i); v != kNoVertex) known.insert(g.AccountId(v));
    }
  }
  std::vector<recall::RecallResult> results;
  for (const recall::RecallResult& item : model.popular.For(kind)) {
    if (results.size() == k) break;
    if (!known.contains(item.id)) results.push_back(item);
  }
  return results;
}

}  // namespace gr::service
