// graph/ benchmarks on the generated world: ingest throughput of the follow
// file, snapshot save and load time, and bytes per follow edge (both
// directions stored). Run by bench/run_graph_bench.sh next to a pandas+scipy
// peer on the same file. GR_BENCH_ACCOUNTS sets the world size (default
// 1,000,000 accounts, about 33M follow edges).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "bench/bench_util.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"

namespace gr::bench {
namespace {

uint64_t Accounts() {
  const char* env = std::getenv("GR_BENCH_ACCOUNTS");
  return env ? std::strtoull(env, nullptr, 10) : 1000000;
}

std::string FollowsFile() { return (std::filesystem::path(BenchWorld(Accounts())) / synth::kFollowsFile).string(); }
std::string SnapshotFile() { return (std::filesystem::path(BenchWorld(Accounts())) / "follows.snap").string(); }

void BM_IngestFollows(benchmark::State& state) {
  const std::string path = FollowsFile();
  graph::IngestConfig config;
  config.threads = static_cast<int>(state.range(0));
  uint64_t edges = 0;
  for (auto _ : state) {
    graph::SocialGraph g = graph::Ingest({.follows = path}, config);
    edges = g.following.num_edges();
    state.PauseTiming();
    graph::SaveSnapshot(g, SnapshotFile());
    state.counters["bytes_per_edge"] =
        static_cast<double>(g.MemoryBytes()) / static_cast<double>(edges);
    state.counters["edge_bytes_per_edge"] =
        static_cast<double>(g.following.MemoryBytes() + g.followers.MemoryBytes() -
                            2 * g.following.offsets.capacity() * sizeof(EdgeIndex)) /
        static_cast<double>(edges);
    state.ResumeTiming();
  }
  state.counters["edges"] = static_cast<double>(edges);
  state.counters["edges_per_second"] =
      benchmark::Counter(static_cast<double>(edges), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_IngestFollows)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_SnapshotLoad(benchmark::State& state) {
  const std::string path = SnapshotFile();
  if (!std::filesystem::exists(path)) graph::SaveSnapshot(graph::Ingest({.follows = FollowsFile()}, {}), path);
  uint64_t edges = 0;
  double rss_per_edge = 0;
  for (auto _ : state) {
    const uint64_t before = ResidentBytes();
    graph::SocialGraph g = graph::LoadSnapshot(path);
    edges = g.following.num_edges();
    // The first load is measured: later ones reuse heap pages freed by the previous.
    if (rss_per_edge == 0)
      rss_per_edge = static_cast<double>(ResidentBytes() - before) / static_cast<double>(edges);
    benchmark::DoNotOptimize(g);
  }
  state.counters["edges"] = static_cast<double>(edges);
  state.counters["rss_bytes_per_edge"] = rss_per_edge;
  state.counters["edges_per_second"] =
      benchmark::Counter(static_cast<double>(edges), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SnapshotLoad)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace gr::bench

BENCHMARK_MAIN();
