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
#include <vector>

#include "core/error.h"
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
    refresh.new_edge_share = 0;  // uniform walks from each row, the first rows below
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
    // The batch's fold-in and the server's refresher (embed/row_refresh.h):
    // a share of each row's walks takes one of its new follows (A) as the
    // first hop. Share 0 is "folded in" above.
    for (const uint32_t walks_per_row : settings) {
      refresh.walks_per_row = walks_per_row;
      for (const double share : {0.1, 0.2, 0.3, 0.6, 1.0}) {
        refresh.new_edge_share = share;
        FloatMatrix input = trained.input;
        const embed::RowRefreshStats s =
            embed::RefreshRows(walker, rows, weights, refresh, input, trained.output, a.test_edges);
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
