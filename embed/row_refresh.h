// Refreshing chosen rows of a trained table after their neighbourhoods
// changed (new follows): short walks from each of them and skip-gram
// updates of those rows' input vectors only. Every other input row and
// every output vector stays as it is (contexts and negatives are read,
// never written), so one row's update does not depend on another's: rows
// are shared out among threads and the result is the same whatever the
// thread count. The nightly batch uses it to fold the follows it held out
// for its quality gate into the published vectors.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/alias_table.h"
#include "core/ids.h"
#include "core/matrix.h"
#include "graph/edge_split.h"
#include "walk/random_walk.h"

namespace gr::embed {

struct RowRefreshConfig {
  uint32_t walks_per_row = 10;    // walks from each row, rounds 0.. of the walker
  uint32_t window = 5;            // largest context distance; each occurrence draws one in [1, window]
  uint32_t negatives = 5;         // negatives per context
  uint32_t passes = 1;            // over each row's walks
  float learning_rate = 0.025f;   // constant (a refresh is short)
  // The share of each row's walks (the first rounds) whose first hop is one
  // of the row's new edges (RefreshRows' new_edges; the server: its follows
  // made since the version), in [0, 1]. Walks only from the row barely move
  // it toward its new neighbours; walks only along new edges over-fit it to
  // them (bench/README.md, fold-in study).
  double new_edge_share = 0.3;
  uint64_t seed = 1;
  int threads = 0;                // 0 = all cores

  void Validate() const;  // throws kInvalidArgument naming the field
};

// The distinct accounts at either end of `edges`, ascending: the rows a
// change of those follows touches.
std::vector<VertexId> EndpointsOf(std::span<const graph::VertexPair> edges);

// Negatives as the trainer draws them, token frequency^0.75: here each
// account's (degree + 1)^0.75 along `direction` (a random walk visits an
// account in proportion to its degree).
std::vector<double> DegreeNegativeWeights(const graph::SocialGraph& g, walk::Direction direction);

// Which of its walks a refreshed row starts along one of its new edges
// (RowRefreshConfig::new_edge_share: the first rounds) and to which new
// neighbour: one rule for every caller that builds the walks itself (the
// fold-in on MPI ranks gathers them), so their walks are RefreshRows'.
class NewEdgeFirstHops {
 public:
  // `new_edges` as RefreshRows takes them; `walk_length` of the walks.
  NewEdgeFirstHops(std::span<const graph::VertexPair> new_edges, const RowRefreshConfig& config, size_t walk_length);
  // The neighbour walk `round` of `row` steps to after `row`, or null when
  // the walk starts at `row` as any walk does. The choice depends on the row
  // and round only (neighbours in id order), not on the order of the edges.
  const VertexId* FirstHop(VertexId row, uint64_t round) const;

 private:
  std::unordered_map<VertexId, std::vector<VertexId>> neighbours_;
  double along_new_;  // rounds below this start along a new edge
  bool room_;         // walks of 2 or more tokens (a hop and a step)
};

struct RowRefreshStats {
  uint64_t rows = 0, walks = 0, pairs = 0;  // rows updated, walks taken, (row, context) pairs trained
  double seconds = 0;
};

// Updates the input vectors of `rows` (tokens of the walker's vocabulary,
// distinct) in `input`: for each row, config.walks_per_row walks from it
// (walker.WalkFrom; a walker with a short walk_length makes short walks;
// config.new_edge_share of them first step to one of the row's neighbours
// in `new_edges`, either end, then walk on from there; which one depends on
// the row and the round, not on the order of `new_edges`),
// and at each position of a walk holding the row's token, the row's input
// vector is trained against the output vectors of the tokens within its
// drawn window (label 1) and of negatives drawn with `negative_weights`
// (one per vocabulary token; label 0). Throws kInvalidArgument for a bad
// config, a row out of range or mismatched shapes.
RowRefreshStats RefreshRows(const walk::RandomWalker& walker, std::span<const VertexId> rows,
                            std::span<const double> negative_weights, const RowRefreshConfig& config,
                            FloatMatrix& input, const FloatMatrix& output,
                            std::span<const graph::VertexPair> new_edges = {});

// The same over any graph and row storage (the server refreshes rows of a
// live graph into vectors of its own):
// - walk_from(start, round, out) writes a walk from `start` into `out` (at
//   most out.size() tokens) and returns its length;
// - each RowToRefresh names a token and its input vector (dim floats, updated
//   in place; the rows' vectors must not overlap);
// - output_of(token) is a token's output vector, or null for a token without
//   one (it is then skipped as a context or negative);
// - negatives draws tokens (label 0).
using WalkFromFn = std::function<size_t(VertexId start, uint64_t round, std::span<VertexId> out)>;
using OutputRowFn = std::function<const float*(VertexId token)>;
struct RowToRefresh {
  VertexId token;
  float* input;
};
RowRefreshStats RefreshRows(const WalkFromFn& walk_from, size_t walk_length, std::span<const RowToRefresh> rows,
                            const AliasTable& negatives, const RowRefreshConfig& config, size_t dim,
                            const OutputRowFn& output_of);

}  // namespace gr::embed
