#include "walk/walk_config.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gr::walk {

void WalkConfig::Validate() const {
  // The upper bound keeps one walk's buffers small (a walk is held whole);
  // published settings use 5-100.
  GR_CHECK(walk_length >= 1 && walk_length <= kMaxWalkLength, "walk_length must be in [1, ", kMaxWalkLength, "], got ",
           walk_length);
  GR_CHECK(walks_per_vertex >= 1, "walks_per_vertex (num-walks) must be >= 1, got ",
           walks_per_vertex);
  GR_CHECK(p > 0 && std::isfinite(p), "p must be > 0, got ", p);
  GR_CHECK(q > 0 && std::isfinite(q), "q must be > 0, got ", q);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
  GR_CHECK(kind != WalkKind::kMetapath || !metapath.empty(), "a metapath walk needs --metapath");
}

std::string WalkConfig::ToJson() const {
  return nlohmann::json{{"kind", WalkKindName(kind)},
                        {"direction", DirectionName(direction)},
                        {"walk_length", walk_length},
                        {"walks_per_vertex", walks_per_vertex},
                        {"p", p},
                        {"q", q},
                        {"weighted", weighted},
                        {"metapath", metapath},
                        {"seed", seed}}
      .dump();
}

namespace {

struct RelationInfo {
  Relation relation;
  const char* name;
  VertexType from, to;
};
constexpr std::array<RelationInfo, 6> kRelations{{
    {Relation::kFollows, "follows", VertexType::kAccount, VertexType::kAccount},
    {Relation::kFollowedBy, "followed_by", VertexType::kAccount, VertexType::kAccount},
    {Relation::kInteracts, "interacts", VertexType::kAccount, VertexType::kPost},
    {Relation::kAuthored, "authored", VertexType::kAccount, VertexType::kPost},
    {Relation::kEngagedBy, "engaged_by", VertexType::kPost, VertexType::kAccount},
    {Relation::kAuthoredBy, "authored_by", VertexType::kPost, VertexType::kAccount},
}};

const RelationInfo& Info(Relation relation) { return kRelations[static_cast<size_t>(relation)]; }

}  // namespace

const char* RelationName(Relation relation) { return Info(relation).name; }
VertexType RelationFrom(Relation relation) { return Info(relation).from; }
VertexType RelationTo(Relation relation) { return Info(relation).to; }

std::vector<Relation> ParseMetapath(std::string_view metapath) {
  GR_CHECK(!metapath.empty(), "empty metapath");
  std::vector<Relation> path;
  for (size_t begin = 0; begin <= metapath.size();) {
    const size_t comma = std::min(metapath.find(',', begin), metapath.size());
    const std::string_view name = metapath.substr(begin, comma - begin);
    begin = comma + 1;
    const auto* info = std::find_if(kRelations.begin(), kRelations.end(), [&](const RelationInfo& r) { return r.name == name; });
    GR_CHECK(info != kRelations.end(), "unknown metapath relation '", Excerpt(name),
             "' (known: follows, followed_by, interacts, authored, engaged_by, authored_by)");
    if (!path.empty())
      GR_CHECK(RelationTo(path.back()) == info->from, "metapath '", Excerpt(metapath), "': relation '", name,
               "' does not start where '", RelationName(path.back()), "' ends");
    path.push_back(info->relation);
  }
  GR_CHECK(RelationTo(path.back()) == RelationFrom(path.front()), "metapath '", Excerpt(metapath),
           "' must end on the vertex type it starts from, so it can repeat");
  return path;
}

const char* WalkKindName(WalkKind kind) {
  switch (kind) {
    case WalkKind::kUniform:
      return "uniform";
    case WalkKind::kWeighted:
      return "weighted";
    case WalkKind::kNode2vec:
      return "node2vec";
    case WalkKind::kMetapath:
      return "metapath";
  }
  return "?";
}

const char* DirectionName(Direction direction) {
  switch (direction) {
    case Direction::kOut:
      return "out";
    case Direction::kIn:
      return "in";
    case Direction::kBoth:
      return "both";
  }
  return "?";
}

}  // namespace gr::walk
