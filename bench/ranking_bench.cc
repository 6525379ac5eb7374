// Ranker benchmarks on the generated 20k-account world (bench_util.h):
// training throughput (examples/s, 1 and 2 threads) and the latency of
// scoring 500 candidates for one account (features + model + fusion + sort,
// one thread: a serving request), split into its parts.
// Embeddings are seeded random dim-128 vectors: the cost does not depend on
// their values. Run: build-bench/bench/ranking_bench (bench/README via the
// top-level README, "Benchmarks").
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "graph/ingest.h"
#include "ranking/ranker.h"

namespace gr::bench {
namespace {

constexpr uint64_t kAccounts = 20000;
constexpr size_t kCandidates = 500;

struct Setup {
  graph::SocialGraph g;
  embed::EmbeddingTable table;
  std::vector<graph::Impression> impressions;
  std::unique_ptr<ranking::FeatureSource> features;
  ranking::Examples examples;
  ranking::Ranker ranker;
  std::vector<ExternalId> candidates;
};

const Setup& Get() {
  static const Setup* setup = [] {
    auto* s = new Setup;
    const std::string dir = BenchWorld(kAccounts);
    s->g = graph::Ingest({.follows = dir + "/" + synth::kFollowsFile, .interactions = dir + "/" + synth::kInteractionsFile,
                          .posts = dir + "/" + synth::kPostsFile},
                         {});
    const size_t dim = 128;
    s->table.input = FloatMatrix(s->g.num_accounts(), dim);
    s->table.output = FloatMatrix(s->g.num_accounts(), dim);
    Rng rng(1);
    for (size_t a = 0; a < s->g.num_accounts(); ++a) {
      s->table.ids.push_back(s->g.accounts.ToExternal(static_cast<VertexId>(a)));
      s->table.kinds.push_back(embed::TokenKind::kAccount);
      for (size_t j = 0; j < dim; ++j) {
        s->table.input.At(a, j) = rng.UniformFloat() - 0.5f;
        s->table.output.At(a, j) = rng.UniformFloat() - 0.5f;
      }
    }
    s->impressions = graph::ReadImpressions(dir + "/" + synth::kImpressionsFile, {});
    s->impressions.resize(std::min<size_t>(s->impressions.size(), 100000));
    s->features = std::make_unique<ranking::FeatureSource>(s->g, s->table, ranking::FeatureConfig{});
    s->examples = ranking::BuildExamples(*s->features, s->impressions, 0);
    ranking::RankerConfig config;
    config.model.epochs = 1;
    config.search_fusion = false;
    s->ranker = ranking::Ranker::Train(*s->features, s->impressions, {}, config);
    for (size_t i = 0; i < kCandidates; ++i) s->candidates.push_back(s->g.posts.ToExternal(static_cast<VertexId>(i % s->g.num_posts())));
    return s;
  }();
  return *setup;
}

// One epoch over 100k impressions; examples/s is the figure of merit.
void BM_TrainEpoch(benchmark::State& state) {
  const Setup& s = Get();
  ranking::ModelConfig config;
  config.epochs = 1;
  config.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto model = ranking::MultiTaskModel::Train(s.examples, s.features->cluster_rows(), config);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.examples.size()));
  state.counters["dense_features"] = static_cast<double>(s.examples.dense_dim);
}
BENCHMARK(BM_TrainEpoch)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A Rank request: 500 candidates for one account.
void BM_Rank500(benchmark::State& state) {
  const Setup& s = Get();
  const ExternalId account = s.impressions[0].account;
  for (auto _ : state) {
    auto ranked = s.ranker.Rank(*s.features, account, s.candidates, s.g.reference_time > 0 ? static_cast<uint32_t>(s.g.reference_time) : 0);
    benchmark::DoNotOptimize(ranked);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCandidates));
}
BENCHMARK(BM_Rank500)->Unit(benchmark::kMicrosecond);

// Its parts: feature extraction alone, and the model alone.
void BM_Features500(benchmark::State& state) {
  const Setup& s = Get();
  const ExternalId account = s.impressions[0].account;
  std::vector<float> dense(kCandidates * s.features->dense_dim());
  std::vector<uint32_t> clusters(kCandidates * static_cast<size_t>(s.features->cluster_slots()));
  for (auto _ : state) {
    for (size_t i = 0; i < kCandidates; ++i)
      s.features->Extract(account, s.candidates[i], static_cast<uint32_t>(s.g.reference_time),
                          dense.data() + i * s.features->dense_dim(), clusters.data() + i * static_cast<size_t>(s.features->cluster_slots()));
    benchmark::DoNotOptimize(dense.data());
  }
}
BENCHMARK(BM_Features500)->Unit(benchmark::kMicrosecond);

void BM_Predict500(benchmark::State& state) {
  const Setup& s = Get();
  std::vector<ranking::TaskScores> out(kCandidates);
  for (auto _ : state) {
    s.ranker.model().Predict(s.examples.dense.data(), s.examples.clusters.data(), kCandidates, out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Predict500)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gr::bench

BENCHMARK_MAIN();
