#include "walk/walk_config.h"

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
