// Does folding new follows into trained vectors (embed/row_refresh.h, the
// batch's --fold-in) help predict the follows that come after them?
//   fold_in_study SNAPSHOT [WALKS_PER_ROW ...]
// Splits the snapshot's follows by time: the newest 5 % (B) are the test,
// the 5 % before them (A) the follows to fold in, the rest (90 %) the
// training graph. Prints one JSON line per setting with the Hadamard and dot
// link AUC on B of: the vectors trained on the 90 % ("trained"), those
// vectors with A folded in at each WALKS_PER_ROW (default 20 100 300), the
// same refresh over the graph without A (the control: how much is only
// extra training of those rows), the server refresher's rule (a share of
// each row's walks starting along one of its new follows; shares 0.1 to 1),
// and
// vectors retrained from scratch on the 95 % ("retrained", the cost the
// fold-in avoids).
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/rng.h"
#include "embed/row_refresh.h"
#include "embed/skip_gram.h"
#include "eval/link_holdout.h"
#include "graph/edge_split.h"
#include "graph/snapshot.h"

namespace {

using namespace gr;

void Print(const char* what, double walks_per_row, const eval::HeldOutLinkScores& s, double seconds) {
  std::printf("%s\n", nlohmann::json{{"vectors", what},
                                     {"walks_per_row", walks_per_row},
                                     {"auc_hadamard", s.auc.hadamard_auc},
                                     {"auc_dot", s.auc.dot_auc},
                                     {"seconds", seconds}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fold_in_study SNAPSHOT [WALKS_PER_ROW ...]\n");
    return 2;
  }
  try {
    const graph::SocialGraph g = graph::LoadSnapshot(argv[1]);
    const graph::EdgeSplit b = graph::SplitEdgesForLinkPrediction(
        g, {.test_fraction = 0.05, .order = graph::HoldOutOrder::kNewest, .seed = 1});
    const graph::EdgeSplit a = graph::SplitEdgesForLinkPrediction(
        b.train, {.test_fraction = 0.05 / 0.95, .order = graph::HoldOutOrder::kNewest, .seed = 2});
    walk::WalkConfig walks;  // the batch's: 2 walks of 40 per account
    walks.walks_per_vertex = 2;
    walks.walk_length = 40;
    embed::SkipGramConfig train;
    embed::SkipGramStats stats;
    const embed::EmbeddingTable trained = embed::EmbedWalks(a.train, walks, train, &stats);
    constexpr size_t kPairs = 50000;
    Print("trained", 0, eval::ScoreHeldOutFollows(g, b, trained.input, kPairs, 7), stats.seconds);

    const std::vector<VertexId> rows = embed::EndpointsOf(a.test_edges);
    const std::vector<double> weights = embed::DegreeNegativeWeights(b.train, walk::Direction::kBoth);
    std::vector<uint32_t> settings;
    for (int i = 2; i < argc; ++i) settings.push_back(static_cast<uint32_t>(std::atoi(argv[i])));
    if (settings.empty()) settings = {20, 100, 300};
    embed::RowRefreshConfig refresh;
    walk::WalkConfig short_walks = walks;
    short_walks.walk_length = refresh.window + 1;
    const walk::RandomWalker walker(b.train, short_walks);
    // The control: the same refresh over the graph without A (extra training
    // of the same rows, no new follows).
    const walk::RandomWalker control(a.train, short_walks);
    std::fprintf(stderr, "%zu follows to fold in, %zu accounts to refresh, %zu test follows\n",
                 a.test_edges.size(), rows.size(), b.test_edges.size());
    for (const uint32_t walks_per_row : settings) {
      refresh.walks_per_row = walks_per_row;
      FloatMatrix input = trained.input;
      const embed::RowRefreshStats s = embed::RefreshRows(walker, rows, weights, refresh, input, trained.output);
      Print("folded in", walks_per_row, eval::ScoreHeldOutFollows(g, b, input, kPairs, 7), s.seconds);
      FloatMatrix same_graph = trained.input;
      const embed::RowRefreshStats c = embed::RefreshRows(control, rows, weights, refresh, same_graph, trained.output);
      Print("refreshed without A (control)", walks_per_row, eval::ScoreHeldOutFollows(g, b, same_graph, kPairs, 7),
            c.seconds);
    }
    // The server's refresher (service/refresher.h): both ends of each
    // follow in A, a share of each row's walks taking a new follow (of A) as
    // their first hop, the rest walking as the batch does. Share 0 is the
    // "folded in" rows above; share 1 over-fits the rows to their new
    // follows (bench/README.md).
    std::unordered_map<VertexId, std::vector<VertexId>> new_neighbours;
    for (const auto& [u, v] : a.test_edges) {
      new_neighbours[u].push_back(v);
      new_neighbours[v].push_back(u);
    }
    const AliasTable negatives(weights);
    const auto output_of = [&](VertexId token) { return trained.output.Row(token).data(); };
    for (const uint32_t walks_per_row : settings) {
      refresh.walks_per_row = walks_per_row;
      for (const double share : {0.1, 0.2, 0.3, 0.6, 1.0}) {
        FloatMatrix input = trained.input;
        std::vector<embed::RowToRefresh> endpoints;
        for (const VertexId u : rows) endpoints.push_back({u, input.Row(u).data()});
        const auto walk_from = [&](VertexId first, uint64_t round, std::span<VertexId> out) -> size_t {
          walk::WalkStats unused;
          if (static_cast<double>(round) >= share * walks_per_row) return walker.WalkFrom(first, round, out, &unused);
          const std::vector<VertexId>& fresh = new_neighbours.at(first);
          out[0] = first;
          const VertexId next = fresh[MixSeed(first, round) % fresh.size()];
          return 1 + walker.WalkFrom(next, round, out.subspan(1), &unused);
        };
        const embed::RowRefreshStats s = embed::RefreshRows(walk_from, refresh.window + 1, endpoints, negatives,
                                                            refresh, trained.dim(), output_of);
        const std::string what = "folded in, share " + std::to_string(share).substr(0, 3) + " along new follows";
        Print(what.c_str(), walks_per_row, eval::ScoreHeldOutFollows(g, b, input, kPairs, 7), s.seconds);
      }
    }
    const embed::EmbeddingTable retrained = embed::EmbedWalks(b.train, walks, train, &stats);
    Print("retrained", 0, eval::ScoreHeldOutFollows(g, b, retrained.input, kPairs, 7), stats.seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fold_in_study: %s\n", e.what());
    return 1;
  }
  return 0;
}
