// What walks to take (walk/random_walk.h takes them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gr::walk {

enum class WalkKind { kUniform, kWeighted, kNode2vec, kMetapath };
// Which follow edges a homogeneous (account) walk may take: out = follows,
// in = followers, both = undirected view (a reciprocal pair counts twice).
// Undirected graphs (edge lists) use their one adjacency whatever is set.
enum class Direction { kOut, kIn, kBoth };

inline constexpr uint32_t kMaxWalkLength = 100000;

struct WalkConfig {
  WalkKind kind = WalkKind::kUniform;
  Direction direction = Direction::kBoth;
  uint32_t walk_length = 80;       // vertices per walk, start included; >= 1
  uint32_t walks_per_vertex = 10;  // rounds over the start vertices; >= 1
  double p = 1.0;                  // node2vec return parameter, > 0
  double q = 1.0;                  // node2vec in-out parameter, > 0
  // node2vec and metapath: take the first-order step by edge weight.
  bool weighted = false;
  // Metapath walks: relations separated by commas, repeated cyclically, e.g.
  // "follows,followed_by" or "interacts,authored_by". Relations: follows,
  // followed_by (account->account), interacts, authored (account->post),
  // engaged_by, authored_by (post->account).
  std::string metapath;
  uint64_t seed = 1;  // the run's walk seed (core/run_options.h: SeedStream::kWalks)
  int threads = 0;    // 0 = all cores

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // every field, enums by name (manifests, vector file headers)
  // Whether steps are drawn by edge weight: weighted walks, and node2vec or
  // metapath walks with `weighted` (a uniform walk ignores it).
  bool StepsByWeight() const {
    return kind == WalkKind::kWeighted || (weighted && kind != WalkKind::kUniform);
  }
};

// The relations a metapath walk steps along, and the kinds of vertex they join.
enum class VertexType : uint8_t { kAccount, kPost };
enum class Relation : uint8_t {
  kFollows,     // account -> the accounts it follows
  kFollowedBy,  // account -> its followers
  kInteracts,   // account -> the posts it interacted with
  kAuthored,    // account -> its posts
  kEngagedBy,   // post -> the accounts that interacted with it
  kAuthoredBy,  // post -> its author
};
const char* RelationName(Relation relation);  // "follows", ... as a metapath names it
VertexType RelationFrom(Relation relation);
VertexType RelationTo(Relation relation);
// The relations of a metapath ("interacts,authored_by"). Throws
// kInvalidArgument for an empty path, an unknown name (listing the known
// ones), a relation that does not start where the previous one ends, or a
// path that does not end on the kind of vertex it starts from (it repeats).
std::vector<Relation> ParseMetapath(std::string_view metapath);

const char* WalkKindName(WalkKind kind);        // "uniform", "weighted", "node2vec", "metapath"
const char* DirectionName(Direction direction);  // "out", "in", "both"

}  // namespace gr::walk
