#include "core/sequential_file.h"
#include "walk/random_walk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "graph/ingest.h"
#include "tests/test_util.h"

namespace gr::walk {
namespace {

using ::gr::testing::WriteTextFile;

// Two triangles joined by a path, with unequal weights, so that node2vec's
// three cases (return, stay at distance 1, move away) all occur.
graph::SocialGraph TestGraph(bool directed = false) {
  return graph::LoadEdgeList(
      WriteTextFile("g.txt", "0 1 1\n0 2 3\n1 2 1\n2 3 2\n3 4 1\n3 5 4\n4 5 1\n5 6 1\n"), directed, {});
}

struct Transitions {
  std::map<std::pair<VertexId, VertexId>, std::map<VertexId, uint64_t>> second_order;  // (prev,cur)->next
  std::map<VertexId, std::map<VertexId, uint64_t>> first_order;                        // cur->next
};

Transitions Count(const WalkCorpus& corpus) {
  Transitions t;
  for (size_t w = 0; w < corpus.num_walks(); ++w) {
    auto walk = corpus.Walk(w);
    for (size_t k = 1; k < walk.size(); ++k) {
      ++t.first_order[walk[k - 1]][walk[k]];
      if (k >= 2) ++t.second_order[{walk[k - 2], walk[k - 1]}][walk[k]];
    }
  }
  return t;
}

// Every empirical frequency within 4.5 standard errors (+0.002) of `exact`,
// and the same support.
void ExpectMatches(const std::map<VertexId, uint64_t>& counts,
                   const std::map<VertexId, double>& exact, const std::string& context) {
  uint64_t n = 0;
  for (const auto& [next, c] : counts) n += c;
  ASSERT_GT(n, 1000u) << context;
  for (const auto& [next, c] : counts)
    EXPECT_TRUE(exact.count(next) && exact.at(next) > 0) << context << ": impossible step to " << next;
  for (const auto& [next, p] : exact) {
    const double observed =
        counts.count(next) ? static_cast<double>(counts.at(next)) / static_cast<double>(n) : 0.0;
    const double tolerance = 4.5 * std::sqrt(p * (1 - p) / static_cast<double>(n)) + 0.002;
    EXPECT_NEAR(observed, p, tolerance) << context << " -> " << next << " (n=" << n << ")";
  }
}

// First-order probabilities of stepping from `cur`.
std::map<VertexId, double> FirstOrder(const graph::CsrGraph& g, VertexId cur, bool weighted) {
  std::map<VertexId, double> p;
  double sum = 0;
  for (EdgeIndex e = g.Begin(cur); e < g.End(cur); ++e) sum += weighted ? g.Weight(e) : 1.0;
  for (EdgeIndex e = g.Begin(cur); e < g.End(cur); ++e) p[g.targets[e]] += (weighted ? g.Weight(e) : 1.0) / sum;
  return p;
}

// Enough node2vec walks on the small test graphs for the frequency checks.
WalkConfig Node2vecConfig(double p, double q, int threads) {
  WalkConfig config;
  config.kind = WalkKind::kNode2vec;
  config.p = p;
  config.q = q;
  config.walks_per_vertex = 3000;
  config.walk_length = 12;
  config.threads = threads;
  return config;
}

uint64_t Total(const std::map<VertexId, uint64_t>& counts) {
  uint64_t n = 0;
  for (const auto& [next, c] : counts) n += c;
  return n;
}

// node2vec's exact step distribution after prev from cur, whose (neighbour,
// edge weight) entries are `edges` (a neighbour listed twice counts twice):
// each weight times 1/p (back to prev), 1 (a neighbour of prev) or 1/q.
template <typename AdjacentToPrev>
std::map<VertexId, double> Node2vecStep(const std::vector<std::pair<VertexId, double>>& edges, VertexId prev,
                                        double p, double q, AdjacentToPrev&& adjacent_to_prev) {
  std::map<VertexId, double> exact;
  double sum = 0;
  for (const auto& [x, weight] : edges) {
    const double w = weight * (x == prev ? 1 / p : adjacent_to_prev(x) ? 1.0 : 1 / q);
    exact[x] += w;
    sum += w;
  }
  for (auto& [x, w] : exact) w /= sum;
  return exact;
}

WalkCorpus Walks(const graph::SocialGraph& g, WalkConfig config, WalkStats* stats = nullptr) {
  RandomWalker walker(g, config);
  return walker.Generate(0, walker.num_walks(), stats);
}

class WalkThreadsTest : public ::testing::TestWithParam<int> {};

TEST_P(WalkThreadsTest, UniformAndWeightedMatchFirstOrderProbabilities) {
  const graph::SocialGraph g = TestGraph();
  for (const WalkKind kind : {WalkKind::kUniform, WalkKind::kWeighted}) {
    WalkConfig config;
    config.kind = kind;
    config.walks_per_vertex = 3000;
    config.walk_length = 10;
    config.threads = GetParam();
    const Transitions t = Count(Walks(g, config));
    for (VertexId cur = 0; cur < g.num_accounts(); ++cur) {
      ExpectMatches(t.first_order.at(cur), FirstOrder(g.following, cur, kind == WalkKind::kWeighted),
                    "kind " + std::to_string(static_cast<int>(kind)) + " from " + std::to_string(cur));
    }
  }
}

TEST_P(WalkThreadsTest, Node2vecMatchesSecondOrderProbabilities) {
  const graph::SocialGraph g = TestGraph();
  for (const auto& [p, q, weighted] : std::vector<std::tuple<double, double, bool>>{
           {1, 1, false}, {0.25, 4, false}, {4, 0.25, false}, {2, 0.5, true}}) {
    WalkConfig config = Node2vecConfig(p, q, GetParam());
    config.weighted = weighted;
    WalkStats stats;
    const Transitions t = Count(Walks(g, config, &stats));
    if (p != 1 || q != 1) {
      EXPECT_GT(stats.rejected_proposals, 0u);
    }
    for (const auto& [state, counts] : t.second_order) {
      const auto [prev, cur] = state;
      if (Total(counts) < 3000) continue;
      std::vector<std::pair<VertexId, double>> edges;
      for (EdgeIndex e = g.following.Begin(cur); e < g.following.End(cur); ++e)
        edges.emplace_back(g.following.targets[e], weighted ? g.following.Weight(e) : 1.0);
      const auto exact =
          Node2vecStep(edges, prev, p, q, [&, prev = prev](VertexId x) { return g.following.HasEdge(prev, x); });
      ExpectMatches(counts, exact,
                    "p=" + std::to_string(p) + " q=" + std::to_string(q) + " (" +
                        std::to_string(prev) + "," + std::to_string(cur) + ")");
    }
  }
}

// Follows with reciprocated pairs (0<->1, 2<->3, 5<->6), walked out only and
// in the both view, where a reciprocated neighbour is listed twice: the
// return step's mass then depends on whether the follow back exists, which
// the walker looks up only when its bounded draw needs it.
TEST_P(WalkThreadsTest, Node2vecOnDirectedViewsMatchesSecondOrderProbabilities) {
  const graph::SocialGraph g = graph::LoadEdgeList(
      WriteTextFile("d.txt", "0 1\n1 0\n0 2\n1 2\n2 3\n3 2\n3 4\n3 5\n4 5\n5 6\n6 5\n6 0\n"),
      /*directed=*/true, {});
  for (const Direction direction : {Direction::kBoth, Direction::kOut}) {
    const bool both = direction == Direction::kBoth;
    auto edges = [&](VertexId v) {  // v's neighbours in the view, each with weight 1
      std::vector<std::pair<VertexId, double>> all;
      for (VertexId x : g.following.Neighbors(v)) all.emplace_back(x, 1.0);
      if (both) {
        for (VertexId x : g.followers.Neighbors(v)) all.emplace_back(x, 1.0);
      }
      return all;
    };
    auto adjacent = [&](VertexId a, VertexId b) {
      return g.following.HasEdge(a, b) || (both && g.followers.HasEdge(a, b));
    };
    for (const auto& [p, q] : std::vector<std::pair<double, double>>{{0.25, 2}, {0.1, 0.5}, {2, 0.5}}) {
      WalkConfig config = Node2vecConfig(p, q, GetParam());
      config.direction = direction;
      const Transitions t = Count(Walks(g, config));
      const std::string context = std::string(both ? "both" : "out") + " p=" + std::to_string(p) + " q=" +
                                  std::to_string(q);
      int checked = 0, with_reciprocal_return = 0;
      for (const auto& [state, counts] : t.second_order) {
        const auto [prev, cur] = state;
        if (Total(counts) < 3000) continue;
        const auto cur_edges = edges(cur);
        const auto exact =
            Node2vecStep(cur_edges, prev, p, q, [&, prev = prev](VertexId x) { return adjacent(prev, x); });
        ExpectMatches(counts, exact, context + " (" + std::to_string(prev) + "," + std::to_string(cur) + ")");
        ++checked;
        with_reciprocal_return += std::count(cur_edges.begin(), cur_edges.end(), std::pair{prev, 1.0}) == 2;
      }
      EXPECT_GE(checked, 8) << context;
      if (both) {
        EXPECT_GE(with_reciprocal_return, 4) << context << ": states returning along a reciprocated follow";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, WalkThreadsTest, ::testing::Values(1, 2));

// Two hubs with long neighbour lists (the adjacency test then searches past
// its short-list path): 0 and 1 are joined; 2..120 hang off hub 0 only;
// 121..240 hang off both hubs.
TEST(RandomWalkTest, Node2vecOnLongListsMatchesSecondOrderProbabilities) {
  std::string text = "0 1\n";
  for (int v = 2; v <= 120; ++v) text += "0 " + std::to_string(v) + "\n";
  for (int v = 121; v <= 240; ++v) text += "0 " + std::to_string(v) + "\n1 " + std::to_string(v) + "\n";
  for (const bool directed : {false, true}) {
    const graph::SocialGraph g = graph::LoadEdgeList(WriteTextFile("hubs.txt", text), directed, {});
    WalkConfig config;
    config.kind = WalkKind::kNode2vec;
    config.direction = Direction::kBoth;
    config.p = 0.5;
    config.q = 3;
    config.walks_per_vertex = 50;
    config.walk_length = 40;
    const Transitions t = Count(Walks(g, config));
    // The both-direction view of the directed graph equals the undirected one here.
    auto adjacent = [&](VertexId a, VertexId b) {
      return g.following.HasEdge(a, b) || g.followers.HasEdge(a, b);
    };
    auto neighbours = [&](VertexId v) {
      std::vector<VertexId> all(g.following.Neighbors(v).begin(), g.following.Neighbors(v).end());
      if (directed) all.insert(all.end(), g.followers.Neighbors(v).begin(), g.followers.Neighbors(v).end());
      return all;
    };
    // Vertices of one class are interchangeable: the hubs are their own
    // class, leaves form two classes. States are grouped by class, and the
    // next vertex counted by class (return, hub, one-hub leaf, two-hub leaf).
    auto vertex_class = [&](VertexId v) -> int {
      return v <= 1 ? static_cast<int>(v) : g.accounts.ToExternal(v) <= 120 ? 2 : 3;
    };
    std::map<std::pair<int, int>, std::map<VertexId, uint64_t>> observed;
    std::map<std::pair<int, int>, std::map<VertexId, double>> expected;
    for (const auto& [state, counts] : t.second_order) {
      const auto prev = state.first, cur = state.second;  // not a structured binding: clang 14 cannot capture one
      auto next_class = [&](VertexId x) -> VertexId { return x == prev ? 9 : static_cast<VertexId>(vertex_class(x)); };
      const std::pair<int, int> key{vertex_class(prev), vertex_class(cur)};
      for (const auto& [x, c] : counts) observed[key][next_class(x)] += c;
      std::map<VertexId, double> exact;
      double sum = 0;
      for (VertexId x : neighbours(cur)) {
        const double alpha = x == prev ? 1 / config.p : adjacent(prev, x) ? 1.0 : 1 / config.q;
        exact[next_class(x)] += alpha;
        sum += alpha;
      }
      for (auto& [x, w] : exact) w /= sum;
      if (expected.count(key)) {
        for (const auto& [x, w] : exact) ASSERT_NEAR(expected[key][x], w, 1e-12) << "class symmetry";
      }
      expected[key] = exact;
    }
    int checked = 0;
    for (const auto& [key, counts] : observed) {
      uint64_t n = 0;
      for (const auto& [x, c] : counts) n += c;
      if (n < 5000) continue;
      ExpectMatches(counts, expected[key],
                    std::string(directed ? "directed " : "undirected ") + std::to_string(key.first) +
                        "->" + std::to_string(key.second));
      ++checked;
    }
    EXPECT_GE(checked, 4) << "states through both hubs must be sampled";
  }
}

TEST(RandomWalkTest, SameSeedSameWalksWhateverTheThreads) {
  const graph::SocialGraph g = TestGraph();
  for (const WalkKind kind : {WalkKind::kUniform, WalkKind::kWeighted, WalkKind::kNode2vec}) {
    WalkConfig config;
    config.kind = kind;
    config.p = 0.5;
    config.q = 2;
    config.walks_per_vertex = 50;
    config.threads = 1;
    const WalkCorpus one = Walks(g, config);
    config.threads = 2;
    const WalkCorpus two = Walks(g, config);
    EXPECT_EQ(one.tokens, two.tokens);
    EXPECT_EQ(one.offsets, two.offsets);
    config.seed = 2;
    EXPECT_NE(Walks(g, config).tokens, one.tokens);
  }
}

// Generate interleaves many walks per thread; each walk must still be the
// one RandomWalker::Walk produces alone.
TEST(RandomWalkTest, InterleavedGenerationEqualsSingleWalks) {
  // Directed, with reciprocated pairs (0<->1, 2<->3, 5<->6) so that the
  // both-direction view has vertices listed twice.
  const graph::SocialGraph directed = graph::LoadEdgeList(
      WriteTextFile("d.txt", "0 1 1\n1 0 2\n0 2 3\n1 2 1\n2 3 2\n3 2 1\n3 4 1\n3 5 4\n4 5 1\n5 6 1\n6 5 1\n"),
      /*directed=*/true, {});
  const graph::SocialGraph undirected = TestGraph();
  struct Case { const graph::SocialGraph* g; WalkKind kind; Direction direction; double p, q; bool weighted; };
  for (const Case& c : std::vector<Case>{{&undirected, WalkKind::kUniform, Direction::kBoth, 1, 1, false},
                                         {&undirected, WalkKind::kWeighted, Direction::kBoth, 1, 1, false},
                                         {&undirected, WalkKind::kNode2vec, Direction::kBoth, 0.25, 2, false},
                                         {&undirected, WalkKind::kNode2vec, Direction::kBoth, 2, 0.5, true},
                                         {&directed, WalkKind::kNode2vec, Direction::kOut, 0.3, 3, false},
                                         {&directed, WalkKind::kNode2vec, Direction::kBoth, 0.3, 3, true},
                                         {&directed, WalkKind::kNode2vec, Direction::kBoth, 0.3, 3, false},
                                         {&directed, WalkKind::kNode2vec, Direction::kBoth, 2, 0.5, false}}) {
    WalkConfig config;
    config.kind = c.kind;
    config.direction = c.direction;
    config.p = c.p;
    config.q = c.q;
    config.weighted = c.weighted;
    config.walks_per_vertex = 40;
    config.walk_length = 15;
    RandomWalker walker(*c.g, config);
    WalkStats batch_stats, single_stats;
    const WalkCorpus corpus = walker.Generate(0, walker.num_walks(), &batch_stats);
    std::vector<VertexId> walk(config.walk_length);
    for (uint64_t i = 0; i < walker.num_walks(); ++i) {
      const size_t n = walker.Walk(i, walk, &single_stats);
      const auto batch = corpus.Walk(i);
      ASSERT_EQ(std::vector<VertexId>(walk.begin(), walk.begin() + static_cast<int64_t>(n)),
                std::vector<VertexId>(batch.begin(), batch.end()))
          << "walk " << i << " kind " << static_cast<int>(c.kind);
      // The same walk asked for by its start vertex and round.
      std::vector<VertexId> from(config.walk_length);
      WalkStats from_stats;
      const size_t m = walker.WalkFrom(walk[0], i / c.g->num_accounts(), from, &from_stats);
      ASSERT_EQ(std::vector<VertexId>(from.begin(), from.begin() + static_cast<int64_t>(m)),
                std::vector<VertexId>(batch.begin(), batch.end()))
          << "walk from " << walk[0] << ", walk " << i;
    }
    EXPECT_EQ(batch_stats.steps, single_stats.steps);
    EXPECT_EQ(batch_stats.rejected_proposals, single_stats.rejected_proposals);
    EXPECT_EQ(batch_stats.ended_early, single_stats.ended_early);
  }
}

TEST(RandomWalkTest, EveryStartVertexStartsWalksPerVertexWalks) {
  const graph::SocialGraph g = TestGraph();
  WalkConfig config;
  config.walks_per_vertex = 7;
  RandomWalker walker(g, config);
  ASSERT_EQ(walker.num_walks(), 7u * g.num_accounts());
  // Streaming in uneven batches gives the same corpus as one Generate call.
  const WalkCorpus all = walker.Generate(0, walker.num_walks(), nullptr);
  std::vector<VertexId> streamed;
  std::map<VertexId, int> starts;
  walker.ForEachBatch(5, [&](const WalkCorpus& batch) {
    for (size_t i = 0; i < batch.num_walks(); ++i) ++starts[batch.Walk(i)[0]];
    streamed.insert(streamed.end(), batch.tokens.begin(), batch.tokens.end());
  }, nullptr);
  EXPECT_EQ(streamed, all.tokens);
  ASSERT_EQ(starts.size(), g.num_accounts());
  for (const auto& [v, n] : starts) EXPECT_EQ(n, 7) << "start " << v;
}

TEST(RandomWalkTest, DeadEndsStopWalksAndIsolatedStartsAreCounted) {
  const graph::SocialGraph g =
      graph::LoadEdgeList(WriteTextFile("chain.txt", "1 2\n2 3\n"), /*directed=*/true, {});
  WalkConfig config;
  config.direction = Direction::kOut;
  config.walks_per_vertex = 2;
  config.walk_length = 10;
  WalkStats stats;
  const WalkCorpus corpus = Walks(g, config, &stats);
  EXPECT_EQ(stats.walks, 6u);
  EXPECT_EQ(stats.isolated_starts, 2u);  // vertex 3 has no out-edge
  EXPECT_EQ(stats.ended_early, 4u);
  for (size_t i = 0; i < corpus.num_walks(); ++i) {
    auto walk = corpus.Walk(i);
    EXPECT_EQ(walk.back(), g.accounts.At(3));
    EXPECT_EQ(walk.size(), 3 - walk[0]) << "walk from " << walk[0];
  }
  config.direction = Direction::kBoth;  // the undirected view never dead-ends here
  WalkStats both;
  Walks(g, config, &both);
  EXPECT_EQ(both.ended_early + both.isolated_starts, 0u);
}

graph::SocialGraph Heterogeneous() {
  const auto follows = WriteTextFile("f.tsv", "1\t2\n2\t3\n3\t1\n4\t1\n");
  const auto posts = WriteTextFile("p.tsv", "100\t1\n101\t2\n102\t3\n");
  const auto interactions =
      WriteTextFile("i.tsv", "1\t101\tclick\t5\n2\t102\tlike\t5\n3\t100\tclick\t5\n4\t100\tclick\t5\n");
  return graph::Ingest({.follows = follows, .interactions = interactions, .posts = posts}, {});
}

// account -> post it interacted with -> that post's author -> ...
WalkConfig InteractsAuthoredBy(uint32_t walks_per_vertex) {
  WalkConfig config;
  config.kind = WalkKind::kMetapath;
  config.metapath = "interacts,authored_by";
  config.walk_length = 9;
  config.walks_per_vertex = walks_per_vertex;
  return config;
}

TEST(RandomWalkTest, MetapathAlternatesTypesAlongRealEdges) {
  const graph::SocialGraph g = Heterogeneous();
  RandomWalker walker(g, InteractsAuthoredBy(5));
  EXPECT_EQ(walker.vocabulary_size(), g.num_accounts() + g.num_posts());
  const WalkCorpus corpus = walker.Generate(0, walker.num_walks(), nullptr);
  const auto accounts = static_cast<VertexId>(g.num_accounts());
  for (size_t i = 0; i < corpus.num_walks(); ++i) {
    auto walk = corpus.Walk(i);
    ASSERT_EQ(walk.size(), 9u);
    for (size_t k = 0; k + 1 < walk.size(); ++k) {
      if (k % 2 == 0) {
        ASSERT_LT(walk[k], accounts);
        ASSERT_GE(walk[k + 1], accounts);
        EXPECT_TRUE(g.engagements.HasEdge(walk[k], walk[k + 1] - accounts));
      } else {
        EXPECT_EQ(g.post_author[walk[k] - accounts], walk[k + 1]);
      }
    }
  }
  EXPECT_EQ(walker.TokenText(accounts), "p100");
  EXPECT_EQ(walker.TokenText(0), "1");
}

// The reference text of a corpus: TokenText joined by spaces, a line per walk.
std::string ReferenceText(const RandomWalker& walker, const WalkCorpus& corpus) {
  std::string text;
  for (size_t i = 0; i < corpus.num_walks(); ++i) {
    for (size_t k = 0; k < corpus.Walk(i).size(); ++k) text += (k ? " " : "") + walker.TokenText(corpus.Walk(i)[k]);
    text += "\n";
  }
  return text;
}

std::string WrittenText(WalkTextWriter& writer, const WalkCorpus& corpus, int threads) {
  const std::string path = ::gr::testing::TempPath("walks.txt");
  SequentialFileWriter out(path);
  writer.Write(corpus, out, threads);
  writer.Write(corpus, out, threads);  // a second corpus while the first may still be in flight
  writer.Flush();
  out.Publish();
  return ::gr::testing::ReadBytes(path);
}

TEST(WalkTextTest, WriterWritesTokenTextLinesWhateverTheThreads) {
  // Metapath walks (accounts and p-prefixed posts) and dead-end walks of length 1.
  const graph::SocialGraph hetero = Heterogeneous();
  const WalkConfig metapath = InteractsAuthoredBy(3);
  const graph::SocialGraph chain =
      graph::LoadEdgeList(WriteTextFile("chain.txt", "1 2\n2 3\n18446744073709551615 1\n"), true, {});
  WalkConfig out_only;
  out_only.direction = Direction::kOut;
  out_only.walk_length = 5;
  for (const auto& [g, config] : {std::pair{&hetero, metapath}, std::pair{&chain, out_only}}) {
    const RandomWalker walker(*g, config);
    const WalkCorpus corpus = walker.Generate(0, walker.num_walks(), nullptr);
    const std::string expected = ReferenceText(walker, corpus);
    WalkTextWriter writer(walker);
    for (const int threads : {1, 2, 3}) EXPECT_EQ(WrittenText(writer, corpus, threads), expected + expected) << threads;
    EXPECT_EQ(WrittenText(writer, walker.Generate(0, 0, nullptr), 2), "");
  }
}

TEST(RandomWalkTest, BadMetapathsAreNamed) {
  const graph::SocialGraph g = Heterogeneous();
  WalkConfig config;
  config.kind = WalkKind::kMetapath;
  auto message = [&](const std::string& path) -> std::string {
    config.metapath = path;
    try {
      RandomWalker walker(g, config);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message("likes").find("unknown metapath relation 'likes'"), std::string::npos);
  EXPECT_NE(message("interacts").find("must end on the vertex type"), std::string::npos);
  EXPECT_NE(message("follows,authored_by").find("does not start where"), std::string::npos);
  config.kind = WalkKind::kNode2vec;
  config.p = 0;
  EXPECT_NE(message("").find("p must be > 0"), std::string::npos);
}

TEST(SharedDataTest, KarateWalksStayOnEdges) {
  GR_REQUIRE_SHARED_DATA(path, "karate/karate.edgelist");
  const graph::SocialGraph g = graph::LoadEdgeList(path, false, {});
  WalkConfig config;
  config.kind = WalkKind::kNode2vec;
  config.p = 0.5;
  config.q = 2;
  const WalkCorpus corpus = Walks(g, config);
  EXPECT_EQ(corpus.num_walks(), 340u);
  for (size_t i = 0; i < corpus.num_walks(); ++i) {
    auto walk = corpus.Walk(i);
    EXPECT_EQ(walk.size(), 80u);
    for (size_t k = 1; k < walk.size(); ++k) ASSERT_TRUE(g.following.HasEdge(walk[k - 1], walk[k]));
  }
}

}  // namespace
}  // namespace gr::walk
