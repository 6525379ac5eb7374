#include "graph/social_graph.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"

namespace gr::graph {

std::string_view InteractionTypeName(InteractionType type) {
  switch (type) {
    case InteractionType::kClick: return "click";
    case InteractionType::kLike: return "like";
    case InteractionType::kComment: return "comment";
    case InteractionType::kRepost: return "repost";
  }
  return "unknown";
}

std::optional<InteractionType> ParseInteractionType(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] < '0' + kNumInteractionTypes)
    return static_cast<InteractionType>(text[0] - '0');
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "share") return InteractionType::kRepost;
  for (int t = 0; t < kNumInteractionTypes; ++t) {
    if (lower == InteractionTypeName(static_cast<InteractionType>(t)))
      return static_cast<InteractionType>(t);
  }
  return std::nullopt;
}

void WeightConfig::Validate() const {
  GR_CHECK(follow > 0.0f && std::isfinite(follow), "weights.follow must be > 0, got ", follow);
  for (int t = 0; t < kNumInteractionTypes; ++t) {
    GR_CHECK(interaction[t] > 0.0f && std::isfinite(interaction[t]), "weights.",
             InteractionTypeName(static_cast<InteractionType>(t)), " must be > 0, got ",
             interaction[t]);
  }
  GR_CHECK(interaction_half_life_days >= 0.0, "interaction half-life must be >= 0 days, got ",
           interaction_half_life_days);
  GR_CHECK(follow_half_life_days >= 0.0, "follow half-life must be >= 0 days, got ",
           follow_half_life_days);
  GR_CHECK(reference_time >= -1, "reference time must be -1 (newest) or Unix seconds, got ",
           reference_time);
}

void SocialGraph::Validate() const {
  const size_t a = accounts.size();
  const size_t p = posts.size();
  auto check_rows = [](const CsrGraph& g, size_t rows, const char* name) {
    GR_CHECK_CODE(g.num_vertices() == rows, ErrorCode::kCorruption, "graph '", name, "' has ",
                  g.num_vertices(), " rows, expected ", rows);
  };
  check_rows(following, a, "following");
  check_rows(followers, a, "followers");
  check_rows(engagements, a, "engagements");
  check_rows(engagers, p, "engagers");
  check_rows(authored, a, "authored");
  following.Validate(a, "following");
  followers.Validate(a, "followers");
  engagements.Validate(p, "engagements");
  engagers.Validate(a, "engagers");
  authored.Validate(p, "authored");
  GR_CHECK_CODE(post_author.size() == p && post_time.size() == p, ErrorCode::kCorruption,
                "post attribute arrays sized ", post_author.size(), "/", post_time.size(),
                " for ", p, " posts");
  if (part.whole()) {
    GR_CHECK_CODE(following.num_edges() == followers.num_edges(), ErrorCode::kCorruption,
                  "following has ", following.num_edges(), " edges, followers ",
                  followers.num_edges());
    GR_CHECK_CODE(engagements.num_edges() == engagers.num_edges(), ErrorCode::kCorruption,
                  "engagements has ", engagements.num_edges(), " edges, engagers ",
                  engagers.num_edges());
  } else {
    // A part's two directions of a relation hold other edges (each edge is
    // in its follower's part and its followee's), so they differ in count;
    // but nothing of another part's vertices may be here.
    GR_CHECK_CODE(part.index < part.count, ErrorCode::kCorruption, "graph part ", part.index, " of ", part.count);
    for (VertexId v = 0; v < a; ++v) {
      GR_CHECK_CODE(part.Holds(accounts.ToExternal(v)) ||
                        following.Degree(v) + followers.Degree(v) + engagements.Degree(v) + authored.Degree(v) == 0,
                    ErrorCode::kCorruption, "graph ", part.Name(), " has lists of account ", accounts.ToExternal(v),
                    " of another part");
    }
    for (VertexId v = 0; v < p; ++v) {
      GR_CHECK_CODE(part.Holds(posts.ToExternal(v)) ||
                        (engagers.Degree(v) == 0 && post_author[v] == kNoVertex && post_time[v] == 0),
                    ErrorCode::kCorruption, "graph ", part.Name(), " has the engagers, author or time of post ",
                    posts.ToExternal(v), " of another part");
    }
  }
  for (size_t i = 0; i < p; ++i) {
    GR_CHECK_CODE(post_author[i] == kNoVertex || post_author[i] < a, ErrorCode::kCorruption,
                  "post ", i, " has author ", post_author[i], " >= ", a);
  }
}

CsrGraph AuthoredByGraph(const SocialGraph& g) {
  CsrGraph authored_by;
  authored_by.offsets.assign(g.num_posts() + 1, 0);
  for (size_t p = 0; p < g.num_posts(); ++p) {
    if (g.post_author[p] != kNoVertex) authored_by.targets.push_back(g.post_author[p]);
    authored_by.offsets[p + 1] = authored_by.targets.size();
  }
  return authored_by;
}

size_t SocialGraph::MemoryBytes() const {
  return (accounts.size() + posts.size()) * sizeof(ExternalId) + following.MemoryBytes() +
         followers.MemoryBytes() + engagements.MemoryBytes() + engagers.MemoryBytes() +
         authored.MemoryBytes() + post_author.capacity() * sizeof(VertexId) +
         post_time.capacity() * sizeof(uint32_t);
}

}  // namespace gr::graph
