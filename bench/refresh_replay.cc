// Quality by replay for the incremental refresher (issue 19): a nightly
// model trained on the follows before CUT, then HOURS hours of follows
// streamed in hour by hour. After each hour, the next hour's follows are
// predicted by three sets of vectors:
//   stale        the nightly model as it was;
//   incremental  the nightly model with every hour so far folded in as the
//                server's refresher does it (embed::RefreshRows: the rows at
//                both ends of the hour's follows, each restarted from its
//                nightly vector, 20 short walks each over the graph as it
//                then is, 30 % first along a follow made since the nightly;
//                output vectors frozen; "cumulative": from the last refresh,
//                along the hour's follows, as the refresher did before);
//   retrained    trained from scratch on every follow up to that hour (the
//                ceiling the refresher approximates).
// Figures: link AUC of the next hour's follows against as many non-edges
// (Hadamard logistic regression and plain dot product) and recall@K of the
// followee among the follower's K most similar accounts (cosine of input
// vectors, the follower itself and its current followees left out, exact
// search over every account; up to SAMPLE follows an hour). Follows only:
// interactions and posts are not replayed here. One JSON line per hour,
// then the means and the share of the stale-to-retrained gap the
// incremental vectors recover. Training runs on one thread (repeatable).
//   refresh_replay SNAPSHOT [HOURS [K [SAMPLE [LEARNING_RATE [from_version|cumulative]]]]]
// CUT is HOURS + 1 hours before the newest follow.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "embed/row_refresh.h"
#include "embed/skip_gram.h"
#include "eval/link_holdout.h"
#include "graph/edge_split.h"
#include "graph/snapshot.h"
#include "recall/internal/top_k.h"

namespace {

using namespace gr;

// The follows of g at or after `since` (a split holding them out).
graph::EdgeSplit Before(const graph::SocialGraph& g, const std::vector<uint32_t>& sorted_times, uint32_t since) {
  const auto newer = static_cast<double>(sorted_times.end() - std::lower_bound(sorted_times.begin(), sorted_times.end(), since));
  return graph::SplitEdgesForLinkPrediction(
      g, {.test_fraction = std::max(1e-6, newer / static_cast<double>(sorted_times.size())),
          .order = graph::HoldOutOrder::kNewest,
          .seed = 1});
}

struct Scores {
  double hadamard = 0, dot = 0, recall = 0;
};

Scores Evaluate(const graph::SocialGraph& full, graph::EdgeSplit& next_hour, const FloatMatrix& vectors, size_t k,
                const std::vector<graph::VertexPair>& sample) {
  Scores s;
  const eval::HeldOutLinkScores link = eval::ScoreHeldOutFollows(full, next_hour, vectors, 50000, 7);
  s.hadamard = link.auc.hadamard_auc;
  s.dot = link.auc.dot_auc;
  // recall@k by exact cosine search
  const size_t n = vectors.rows(), d = vectors.cols();
  std::vector<float> norms(n);
  for (size_t i = 0; i < n; ++i) {
    double x = 0;
    for (float v : vectors.Row(i)) x += static_cast<double>(v) * v;
    norms[i] = static_cast<float>(std::sqrt(x) + 1e-12);
  }
  size_t hits = 0;
  for (const auto& [u, v] : sample) {
    const auto followees = next_hour.train.following.Neighbors(u);
    recall::internal::TopK best(k);
    const float* q = vectors.Row(u).data();
    for (uint32_t x = 0; x < n; ++x) {
      if (x == u || std::find(followees.begin(), followees.end(), x) != followees.end()) continue;
      const float* row = vectors.Row(x).data();
      float dot = 0;
      for (size_t i = 0; i < d; ++i) dot += q[i] * row[i];
      best.Offer({x, dot / (norms[u] * norms[x])});
    }
    for (const auto& item : best.TakeSorted()) hits += item.item == v;
  }
  s.recall = sample.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(sample.size());
  return s;
}

nlohmann::json Json(const Scores& s) { return {{"hadamard", s.hadamard}, {"dot", s.dot}, {"recall", s.recall}}; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: refresh_replay SNAPSHOT [HOURS [K [SAMPLE [LEARNING_RATE [from_version|cumulative]]]]]\n");
    return 2;
  }
  try {
    const graph::SocialGraph g = graph::LoadSnapshot(argv[1]);
    const int hours = argc > 2 ? std::stoi(argv[2]) : 24;
    const size_t k = argc > 3 ? std::stoul(argv[3]) : 50;
    const size_t sample_size = argc > 4 ? std::stoul(argv[4]) : 500;
    const embed::RowRefreshConfig refresh{.walks_per_row = 20,
                                          .learning_rate = argc > 5 ? std::stof(argv[5]) : 0.01f,  // the server's
                                          .new_edge_share = 0.3,
                                          .threads = 1};
    const bool from_version = argc <= 6 || std::string(argv[6]) != "cumulative";
    GR_CHECK(!g.following.times.empty(), "the snapshot's follows have no times");
    std::vector<uint32_t> times = g.following.times;
    std::sort(times.begin(), times.end());
    const uint32_t cut = times.back() - static_cast<uint32_t>(hours + 1) * 3600;
    // Time of each follow, to cut a split's held-out follows into hours.
    std::map<graph::VertexPair, uint32_t> time_of;
    for (VertexId u = 0; u < g.num_accounts(); ++u)
      for (EdgeIndex e = g.following.Begin(u); e < g.following.End(u); ++e)
        time_of[{u, g.following.targets[e]}] = g.following.times[e];

    walk::WalkConfig walks;  // the batch's
    walks.walks_per_vertex = 2;
    walks.walk_length = 40;
    walks.threads = 1;
    embed::SkipGramConfig train;
    train.threads = 1;
    graph::EdgeSplit state = Before(g, times, cut);
    const embed::EmbeddingTable nightly = embed::EmbedWalks(state.train, walks, train);
    FloatMatrix incremental = nightly.input;
    std::vector<graph::VertexPair> since_nightly;  // every follow folded in so far
    walk::WalkConfig short_walks = walks;
    short_walks.walk_length = refresh.window + 1;
    Scores sum_stale, sum_incremental, sum_retrained;
    double gap_recovered = 0;
    int gap_hours = 0;
    for (int h = 0; h < hours; ++h) {
      const uint32_t hour_end = cut + static_cast<uint32_t>(h + 1) * 3600;
      graph::EdgeSplit next = Before(g, times, hour_end);
      const std::vector<graph::VertexPair> held_out_after = next.test_edges;
      // This hour's follows: held out of `state`, kept in `next`.
      std::vector<graph::VertexPair> hour;
      for (const auto& e : state.test_edges)
        if (time_of.at(e) < hour_end) hour.push_back(e);
      // Fold them in over the graph as it now is.
      const walk::RandomWalker walker(next.train, short_walks);
      const std::vector<VertexId> rows = embed::EndpointsOf(hour);
      since_nightly.insert(since_nightly.end(), hour.begin(), hour.end());
      if (from_version)
        for (const VertexId r : rows) std::ranges::copy(nightly.input.Row(r), incremental.Row(r).begin());
      embed::RefreshRows(walker, rows, embed::DegreeNegativeWeights(next.train, walk::Direction::kBoth), refresh,
                         incremental, nightly.output, from_version ? since_nightly : hour);
      const embed::EmbeddingTable retrained = embed::EmbedWalks(next.train, walks, train);
      // The next hour's follows: the test.
      const uint32_t test_end = hour_end + 3600;
      std::erase_if(next.test_edges, [&](const graph::VertexPair& e) { return time_of.at(e) >= test_end; });
      next.test_non_edges.resize(std::min(next.test_non_edges.size(), next.test_edges.size()));
      std::vector<graph::VertexPair> sample = next.test_edges;
      Rng rng(static_cast<uint64_t>(h) + 11);
      ShuffleFront(sample, sample_size, rng);
      sample.resize(std::min(sample_size, sample.size()));
      const Scores stale = Evaluate(g, next, nightly.input, k, sample);
      const Scores inc = Evaluate(g, next, incremental, k, sample);
      const Scores full = Evaluate(g, next, retrained.input, k, sample);
      const double gap = full.hadamard - stale.hadamard;
      nlohmann::json line = {{"hour", h},          {"folded_follows", hour.size()}, {"test_follows", next.test_edges.size()},
                             {"stale", Json(stale)}, {"incremental", Json(inc)},     {"retrained", Json(full)}};
      if (gap > 0.002) {
        line["hadamard_gap_recovered"] = (inc.hadamard - stale.hadamard) / gap;
        gap_recovered += (inc.hadamard - stale.hadamard) / gap;
        ++gap_hours;
      }
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
      for (auto [sum, s] : {std::pair{&sum_stale, stale}, {&sum_incremental, inc}, {&sum_retrained, full}}) {
        sum->hadamard += s.hadamard / hours;
        sum->dot += s.dot / hours;
        sum->recall += s.recall / hours;
      }
      state = std::move(next);
      state.test_edges = held_out_after;  // everything from hour_end on, for the next hour's fold-in
    }
    std::printf("%s\n", nlohmann::json({{"means", {{"stale", Json(sum_stale)},
                                                   {"incremental", Json(sum_incremental)},
                                                   {"retrained", Json(sum_retrained)}}},
                                        {"hadamard_gap_recovered_mean", gap_hours ? gap_recovered / gap_hours : 0.0},
                                        {"hours_with_a_gap", gap_hours}})
                            .dump()
                            .c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refresh_replay: %s\n", e.what());
    return 1;
  }
  return 0;
}
