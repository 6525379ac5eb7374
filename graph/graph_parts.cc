#include "graph/graph_parts.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/error.h"

namespace gr::graph {
namespace {

constexpr uint32_t kNoPart = std::numeric_limits<uint32_t>::max();

// The edge fields a relation carries.
struct EdgeFields {
  bool weights = false, times = false, types = false, dwell = false;

  static EdgeFields Of(const CsrGraph& r) {
    return {r.has_weights(), !r.times.empty(), !r.type_masks.empty(), !r.dwell_ms.empty()};
  }
  EdgeFields operator|(const EdgeFields& o) const {
    return {weights || o.weights, times || o.times, types || o.types, dwell || o.dwell};
  }
};

// Appends edge `e` of `from` to `to` with target `target`, with the fields
// `fields` names (weight 1 and 0 for the fields `from` lacks).
void AppendEdge(const CsrGraph& from, EdgeIndex e, VertexId target, EdgeFields fields, CsrGraph& to) {
  to.targets.push_back(target);
  if (fields.weights) to.weights.push_back(from.Weight(e));
  if (fields.times) to.times.push_back(from.times.empty() ? 0 : from.times[e]);
  if (fields.types) to.type_masks.push_back(from.type_masks.empty() ? 0 : from.type_masks[e]);
  if (fields.dwell) to.dwell_ms.push_back(from.dwell_ms.empty() ? 0 : from.dwell_ms[e]);
}

// The vertices of one kind a part keeps, renumbered in external id order.
struct Kept {
  std::vector<ExternalId> ids;
  std::vector<VertexId> old_id;  // per kept vertex
  std::vector<VertexId> new_id;  // per old vertex; kNoVertex if not kept
};

Kept Keep(const IdMap& ids, const std::vector<uint8_t>& keep) {
  Kept k;
  k.new_id.assign(ids.size(), kNoVertex);
  for (VertexId v = 0; v < ids.size(); ++v) {
    if (!keep[v]) continue;
    k.new_id[v] = static_cast<VertexId>(k.ids.size());
    k.ids.push_back(ids.ToExternal(v));
    k.old_id.push_back(v);
  }
  return k;
}

// Marks the targets of the lists of the `own` vertices in `keep`.
void MarkEnds(const CsrGraph& relation, const std::vector<uint8_t>& own, std::vector<uint8_t>& keep) {
  for (VertexId v = 0; v < own.size(); ++v)
    if (own[v])
      for (const VertexId t : relation.Neighbors(v)) keep[t] = 1;
}

// `relation`'s lists of the kept sources it owns, empty lists for the rest.
CsrGraph CutRelation(const CsrGraph& relation, const Kept& sources, const std::vector<uint8_t>& own,
                     const Kept& targets) {
  const EdgeFields fields = EdgeFields::Of(relation);
  CsrGraph out;
  out.offsets.reserve(sources.old_id.size() + 1);
  for (const VertexId v : sources.old_id) {
    if (own[v])
      for (EdgeIndex e = relation.Begin(v); e < relation.End(v); ++e)
        AppendEdge(relation, e, targets.new_id[relation.targets[e]], fields, out);
    out.offsets.push_back(out.targets.size());
  }
  return out;
}

std::vector<uint8_t> Owned(const IdMap& ids, Shard shard) {
  std::vector<uint8_t> own(ids.size());
  for (VertexId v = 0; v < ids.size(); ++v) own[v] = shard.Holds(ids.ToExternal(v)) ? 1 : 0;
  return own;
}

// The dense ids in `merged` of `local`'s ids (a subset, both ascending).
std::vector<VertexId> DenseIdsIn(const IdMap& local, const IdMap& merged) {
  std::vector<VertexId> out(local.size());
  const std::span<const ExternalId> all = merged.external_ids();
  VertexId m = 0;
  for (VertexId v = 0; v < local.size(); ++v) {
    while (all[m] < local.ToExternal(v)) ++m;
    out[v] = m;
  }
  return out;
}

IdMap UnionOf(std::span<const SocialGraph> parts, const IdMap SocialGraph::*kind) {
  std::vector<ExternalId> ids;
  for (const SocialGraph& part : parts) {
    const std::span<const ExternalId> own = (part.*kind).external_ids();
    ids.insert(ids.end(), own.begin(), own.end());
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return IdMap::FromSortedUnique(std::move(ids));
}

// A relation of the merged graph: each vertex's list from the one part that
// has it, targets renumbered.
struct RelationOfParts {
  const char* name;                        // "following", ...
  const char* source_kind;                 // "account" or "post"
  CsrGraph SocialGraph::*relation;
  const IdMap* sources;                    // the merged graph's
  const std::vector<std::vector<VertexId>>* source_ids;  // per part: its sources' merged ids
  const std::vector<std::vector<VertexId>>* target_ids;  // per part: its targets' merged ids
};

CsrGraph MergeRelation(std::span<const SocialGraph> parts, const RelationOfParts& r) {
  std::vector<uint32_t> supplier(r.sources->size(), kNoPart);
  std::vector<VertexId> local(r.sources->size());
  EdgeFields fields;
  EdgeIndex edges = 0;
  for (uint32_t i = 0; i < parts.size(); ++i) {
    const CsrGraph& part = parts[i].*r.relation;
    fields = fields | EdgeFields::Of(part);
    edges += part.num_edges();
    for (VertexId v = 0; v < part.num_vertices(); ++v) {
      if (part.Degree(v) == 0) continue;
      const VertexId m = (*r.source_ids)[i][v];
      GR_CHECK_CODE(supplier[m] == kNoPart, ErrorCode::kCorruption, "the ", r.name, " list of ", r.source_kind, " ",
                    r.sources->ToExternal(m), " is in graph parts ", parts[supplier[m]].part.index, " and ",
                    parts[i].part.index);
      supplier[m] = i;
      local[m] = v;
    }
  }
  CsrGraph out;
  out.offsets.reserve(r.sources->size() + 1);
  out.targets.reserve(edges);
  for (VertexId m = 0; m < r.sources->size(); ++m) {
    if (supplier[m] != kNoPart) {
      const CsrGraph& part = parts[supplier[m]].*r.relation;
      const std::vector<VertexId>& targets = (*r.target_ids)[supplier[m]];
      for (EdgeIndex e = part.Begin(local[m]); e < part.End(local[m]); ++e)
        AppendEdge(part, e, targets[part.targets[e]], fields, out);
    }
    out.offsets.push_back(out.targets.size());
  }
  // Ingest keeps no weights when all are 1 (graph/internal/csr_build.h).
  if (std::all_of(out.weights.begin(), out.weights.end(), [](float w) { return w == 1.0f; })) out.weights.clear();
  return out;
}

}  // namespace

SocialGraph CutGraphPart(const SocialGraph& g, Shard shard) {
  GR_CHECK(g.part.whole(), "graph ", g.part.Name(), " is already a part");
  GR_CHECK(shard.index < shard.count, "graph part ", shard.index, " of ", shard.count);
  const std::vector<uint8_t> own_accounts = Owned(g.accounts, shard), own_posts = Owned(g.posts, shard);
  std::vector<uint8_t> keep_accounts = own_accounts, keep_posts = own_posts;
  MarkEnds(g.following, own_accounts, keep_accounts);
  MarkEnds(g.followers, own_accounts, keep_accounts);
  MarkEnds(g.engagements, own_accounts, keep_posts);
  MarkEnds(g.authored, own_accounts, keep_posts);
  MarkEnds(g.engagers, own_posts, keep_accounts);
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (own_posts[p] && g.post_author[p] != kNoVertex) keep_accounts[g.post_author[p]] = 1;
  const Kept accounts = Keep(g.accounts, keep_accounts), posts = Keep(g.posts, keep_posts);

  SocialGraph part;
  part.accounts = IdMap::FromSortedUnique(accounts.ids);
  part.posts = IdMap::FromSortedUnique(posts.ids);
  part.following = CutRelation(g.following, accounts, own_accounts, accounts);
  part.followers = CutRelation(g.followers, accounts, own_accounts, accounts);
  part.engagements = CutRelation(g.engagements, accounts, own_accounts, posts);
  part.engagers = CutRelation(g.engagers, posts, own_posts, accounts);
  part.authored = CutRelation(g.authored, accounts, own_accounts, posts);
  part.post_author.assign(posts.old_id.size(), kNoVertex);
  part.post_time.assign(posts.old_id.size(), 0);
  for (VertexId p = 0; p < posts.old_id.size(); ++p) {
    const VertexId old = posts.old_id[p];
    if (!own_posts[old]) continue;
    if (g.post_author[old] != kNoVertex) part.post_author[p] = accounts.new_id[g.post_author[old]];
    part.post_time[p] = g.post_time[old];
  }
  part.reference_time = g.reference_time;
  part.undirected = g.undirected;
  part.part = shard;
  return part;
}

SocialGraph MergeGraphParts(std::span<const SocialGraph> parts) {
  GR_CHECK_CODE(!parts.empty(), ErrorCode::kCorruption, "no graph parts to merge");
  const Shard first = parts.front().part;
  GR_CHECK_CODE(first.count == parts.size(), ErrorCode::kCorruption, parts.size(), " graph parts given, but part ",
                first.index, " is one of ", first.count);
  std::vector<uint8_t> seen(parts.size());
  for (const SocialGraph& part : parts) {
    GR_CHECK_CODE(part.part.count == first.count && part.part.index < first.count && !seen[part.part.index],
                  ErrorCode::kCorruption, "graph parts do not fit together: ", part.part.Name(), " beside ",
                  first.Name());
    seen[part.part.index] = 1;
    GR_CHECK_CODE(part.reference_time == parts.front().reference_time && part.undirected == parts.front().undirected,
                  ErrorCode::kCorruption, "graph parts ", first.Name(), " and ", part.part.Name(),
                  " differ in their reference time or direction");
  }

  SocialGraph g;
  g.reference_time = parts.front().reference_time;
  g.undirected = parts.front().undirected;
  g.accounts = UnionOf(parts, &SocialGraph::accounts);
  g.posts = UnionOf(parts, &SocialGraph::posts);
  std::vector<std::vector<VertexId>> account_ids, post_ids;
  for (const SocialGraph& part : parts) {
    account_ids.push_back(DenseIdsIn(part.accounts, g.accounts));
    post_ids.push_back(DenseIdsIn(part.posts, g.posts));
  }
  const auto merge = [&](const char* name, CsrGraph SocialGraph::*relation, bool from_posts, bool to_posts) {
    return MergeRelation(parts, {.name = name,
                                 .source_kind = from_posts ? "post" : "account",
                                 .relation = relation,
                                 .sources = from_posts ? &g.posts : &g.accounts,
                                 .source_ids = from_posts ? &post_ids : &account_ids,
                                 .target_ids = to_posts ? &post_ids : &account_ids});
  };
  g.following = merge("following", &SocialGraph::following, false, false);
  g.followers = merge("followers", &SocialGraph::followers, false, false);
  g.engagements = merge("engagements", &SocialGraph::engagements, false, true);
  g.engagers = merge("engagers", &SocialGraph::engagers, true, false);
  g.authored = merge("authored", &SocialGraph::authored, false, true);

  g.post_author.assign(g.num_posts(), kNoVertex);
  g.post_time.assign(g.num_posts(), 0);
  std::vector<uint32_t> supplier(g.num_posts(), kNoPart);
  for (uint32_t i = 0; i < parts.size(); ++i) {
    const SocialGraph& part = parts[i];
    for (VertexId p = 0; p < part.num_posts(); ++p) {
      if (part.post_author[p] == kNoVertex && part.post_time[p] == 0) continue;
      const VertexId m = post_ids[i][p];
      GR_CHECK_CODE(supplier[m] == kNoPart, ErrorCode::kCorruption, "the author or time of post ",
                    g.posts.ToExternal(m), " is in graph parts ", parts[supplier[m]].part.index, " and ",
                    part.part.index);
      supplier[m] = i;
      if (part.post_author[p] != kNoVertex) g.post_author[m] = account_ids[i][part.post_author[p]];
      g.post_time[m] = part.post_time[p];
    }
  }
  g.Validate();
  return g;
}

}  // namespace gr::graph
