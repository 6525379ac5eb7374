// walk/ benchmarks on the generated world (GR_BENCH_ACCOUNTS, default
// 100,000 accounts): uniform and node2vec walks over the undirected follow
// view, walk length 80, 10 walks per vertex, steps/s (walks are generated in
// batches and discarded, as when streamed into training). Next to them, the
// machine's random-access limits over an array the size of the graph:
// dependent loads (latency bound, one walker) and independent loads
// (throughput bound, many walkers), in loads/s. bench/run_walk_bench.sh runs
// this beside the numba peer.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "bench/bench_util.h"
#include "core/huge_pages.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "graph/snapshot.h"
#include "graph/ingest.h"
#include "walk/random_walk.h"

namespace gr::bench {
namespace {

uint64_t Accounts() {
  const char* env = std::getenv("GR_BENCH_ACCOUNTS");
  return env ? std::strtoull(env, nullptr, 10) : 100000;
}

const graph::SocialGraph& Graph() {
  static const graph::SocialGraph g = [] {
    const std::filesystem::path dir = BenchWorld(Accounts());
    const auto snap = dir / "follows.snap";
    if (!std::filesystem::exists(snap))
      graph::SaveSnapshot(graph::Ingest({.follows = (dir / synth::kFollowsFile).string()}, {}), snap.string());
    return graph::LoadSnapshot(snap.string());
  }();
  return g;
}

void RunWalks(benchmark::State& state, walk::WalkKind kind) {
  const graph::SocialGraph& g = Graph();
  walk::WalkConfig config;
  config.kind = kind;
  config.direction = walk::Direction::kBoth;
  const char* pq = std::getenv("GR_BENCH_PQ");  // "p,q" override for experiments
  config.p = pq ? std::strtod(pq, nullptr) : 0.5;
  config.q = pq ? std::strtod(std::strchr(pq, ',') + 1, nullptr) : 2.0;
  config.walk_length = 80;
  const char* walks = std::getenv("GR_BENCH_WALKS");  // fewer for quick A/B runs
  config.walks_per_vertex = walks ? static_cast<uint32_t>(std::strtoul(walks, nullptr, 10)) : 10;
  config.threads = static_cast<int>(state.range(0));
  const walk::RandomWalker walker(g, config);
  walk::WalkStats stats;
  for (auto _ : state) {
    stats = {};
    walker.ForEachBatch(50000, [](const walk::WalkCorpus& batch) { benchmark::DoNotOptimize(batch.tokens.data()); },
                        &stats);
  }
  state.counters["steps"] = static_cast<double>(stats.steps);
  state.counters["steps_per_second"] =
      benchmark::Counter(static_cast<double>(stats.steps), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rejections_per_step"] =
      static_cast<double>(stats.rejected_proposals) / static_cast<double>(stats.steps);
}

void BM_UniformWalk(benchmark::State& state) { RunWalks(state, walk::WalkKind::kUniform); }
void BM_Node2vecWalk(benchmark::State& state) { RunWalks(state, walk::WalkKind::kNode2vec); }
BENCHMARK(BM_UniformWalk)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_Node2vecWalk)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// Random loads over an array as large as the graph's two target arrays.
// Arg 0: dependent chain (each index comes from the previous load), or
// independent loads from 16 interleaved chains per thread; arg 1: threads;
// arg 2: the array on huge pages (as the walker's arrays are) or not.
void BM_RandomAccess(benchmark::State& state) {
  const graph::SocialGraph& g = Graph();
  const size_t n = g.following.num_edges() + g.followers.num_edges();
  // One random cycle through every slot (Sattolo's algorithm): a random
  // mapping would fall into a short cycle that fits in cache.
  std::vector<uint32_t> next(n);
  for (size_t i = 0; i < n; ++i) next[i] = static_cast<uint32_t>(i);
  Rng rng(1);
  for (size_t i = n - 1; i > 0; --i) std::swap(next[i], next[rng.Uniform(i)]);
  if (state.range(2) == 1) AdviseHugePages(std::span<const uint32_t>(next));
  const bool independent = state.range(0) == 1;
  const int threads = static_cast<int>(state.range(1));
  constexpr uint64_t kLoadsPerThread = 20'000'000;
  uint64_t sink = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      uint32_t chains[16];
      for (int c = 0; c < 16; ++c) chains[c] = static_cast<uint32_t>((omp_get_thread_num() * 16 + c) * 7919u % n);
      if (independent) {
        for (uint64_t i = 0; i < kLoadsPerThread / 16; ++i)
          for (int c = 0; c < 16; ++c) chains[c] = next[chains[c]];
      } else {
        for (uint64_t i = 0; i < kLoadsPerThread; ++i) chains[0] = next[chains[0]];
      }
      for (int c = 0; c < 16; ++c) sink += chains[c];
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["array_mib"] = static_cast<double>(n * 4) / (1 << 20);
  state.counters["loads_per_second"] = benchmark::Counter(
      static_cast<double>(kLoadsPerThread * threads), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_RandomAccess)
    ->Args({0, 1, 1})
    ->Args({1, 1, 1})
    ->Args({1, 2, 1})
    ->Args({1, 2, 0})
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace gr::bench

BENCHMARK_MAIN();
