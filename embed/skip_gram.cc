#include "embed/skip_gram.h"

#include "embed/warm_start.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace gr::embed {
namespace {

constexpr uint32_t kMaxContexts = 2 * 1024;

float Sigmoid(float x) {
  if (x > 12.0f) return 1.0f;
  if (x < -12.0f) return 0.0f;
  return 1.0f / (1.0f + std::exp(-x));
}

// Scratch space of one thread.
struct Scratch {
  std::vector<VertexId> kept;       // the walk after subsampling
  std::vector<VertexId> contexts;   // context tokens of one centre
  std::vector<VertexId> outputs;    // centre then negatives
  std::vector<float> a, o;          // copies: contexts x d, outputs x d
  std::vector<float> da, dout;      // their updates
  std::vector<float> g;             // contexts x outputs gradients
};

class Trainer {
 public:
  Trainer(size_t vocabulary, const SkipGramConfig& config, std::vector<uint64_t> counts,
          const WarmStart* warm)
      : config_(config), d_(config.dim) {
    result_.input = FloatMatrix(vocabulary, d_);
    result_.output = FloatMatrix(vocabulary, d_);
    // gensim 4's initialisation: input uniform in [-1/d, 1/d) (word2vec.c used half
    // that; the wider range measured 0.5-1 point better Micro-F1 on citeseer and
    // email-eu-core), output 0.
    ParallelFor(static_cast<int64_t>(vocabulary), config.threads, 4096, [&](int64_t v) {
      Rng rng = Rng::ForItem(config_.seed, static_cast<uint64_t>(v), 0x1d17);
      for (float& x : result_.input.Row(static_cast<size_t>(v)))
        x = (2.0f * rng.UniformFloat() - 1.0f) / static_cast<float>(d_);
      if (warm != nullptr && warm->known[static_cast<size_t>(v)]) {
        std::copy_n(warm->input.Row(static_cast<size_t>(v)).data(), d_, result_.input.Row(static_cast<size_t>(v)).data());
        std::copy_n(warm->output.Row(static_cast<size_t>(v)).data(), d_, result_.output.Row(static_cast<size_t>(v)).data());
      }
    });
    for (uint64_t c : counts) total_ += c;
    std::vector<double> weights(vocabulary, 0.0);
    keep_.assign(vocabulary, 1.0f);
    for (size_t v = 0; v < vocabulary; ++v) {
      weights[v] = std::pow(static_cast<double>(counts[v]), 0.75);
      if (config.subsample > 0 && counts[v] > 0) {
        const double threshold = config.subsample * static_cast<double>(total_);
        const double f = static_cast<double>(counts[v]);
        keep_[v] = static_cast<float>(std::min(1.0, (std::sqrt(f / threshold) + 1.0) * threshold / f));
      }
    }
    GR_CHECK(total_ > 0, "the walk corpus is empty");
    negatives_ = AliasTable(weights);
  }

  void TrainEpoch(const CorpusSource& corpus, uint32_t epoch) {
    uint64_t walk_base = 0;
    corpus([&](const walk::WalkCorpus& batch) {
      const auto n = static_cast<int64_t>(batch.num_walks());
#pragma omp parallel num_threads(ResolveThreads(config_.threads))
      {
        Scratch scratch;
        uint64_t trained = 0;
#pragma omp for schedule(dynamic, 16)
        for (int64_t w = 0; w < n; ++w) {
          Rng rng = Rng::ForItem(config_.seed ^ 0x5eed, walk_base + static_cast<uint64_t>(w), epoch);
          trained += TrainWalk(batch.Walk(static_cast<size_t>(w)), rng, scratch);
        }
        trained_ += trained;
      }
      walk_base += static_cast<uint64_t>(n);
      if (config_.on_progress) {
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last_progress_).count() >= config_.progress_seconds) {
          last_progress_ = now;
          config_.on_progress(processed_.load(), total_ * config_.epochs);
        }
      }
    });
  }

  SkipGramResult&& Take() { return std::move(result_); }
  uint64_t total() const { return total_; }
  uint64_t trained() const { return trained_.load(); }

 private:
  float LearningRate() const {
    const double progress = static_cast<double>(processed_.load(std::memory_order_relaxed)) /
                            (static_cast<double>(total_) * config_.epochs);
    return config_.learning_rate * static_cast<float>(std::max(1e-4, 1.0 - progress));
  }

  // Returns the number of centre tokens trained.
  uint64_t TrainWalk(std::span<const VertexId> walk, Rng& rng, Scratch& s) {
    processed_.fetch_add(walk.size(), std::memory_order_relaxed);
    s.kept.clear();
    for (VertexId t : walk) {  // tokens were range-checked by the counting pass
      if (keep_[t] >= 1.0f || rng.UniformFloat() < keep_[t]) s.kept.push_back(t);
    }
    const float lr = LearningRate();
    const size_t n = s.kept.size();
    for (size_t c = 0; c < n; ++c) {
      const auto b = static_cast<size_t>(1 + rng.Uniform(config_.window));
      s.contexts.clear();
      for (size_t j = c >= b ? c - b : 0; j <= std::min(n - 1, c + b); ++j)
        if (j != c) s.contexts.push_back(s.kept[j]);
      if (s.contexts.empty()) continue;
      s.outputs.assign(1, s.kept[c]);
      for (uint32_t k = 0; k < config_.negatives; ++k) {
        const VertexId neg = negatives_.Sample(rng);
        if (neg != s.kept[c]) s.outputs.push_back(neg);
      }
      Update(s, lr);
    }
    return n;
  }

  // Trains the contexts' input vectors against the outputs' vectors (label 1
  // for the first output, the centre; 0 for negatives).
  void Update(Scratch& s, float lr) {
    const size_t m = s.contexts.size(), k = s.outputs.size(), d = d_;
    s.a.resize(m * d);
    s.o.resize(k * d);
    s.da.assign(m * d, 0.0f);
    s.dout.assign(k * d, 0.0f);
    s.g.resize(m * k);
    for (size_t i = 0; i < m; ++i) std::copy_n(result_.input.Row(s.contexts[i]).data(), d, &s.a[i * d]);
    for (size_t j = 0; j < k; ++j) std::copy_n(result_.output.Row(s.outputs[j]).data(), d, &s.o[j * d]);
    for (size_t i = 0; i < m; ++i) {
      for (size_t j = 0; j < k; ++j) {
        const float label = j == 0 ? 1.0f : 0.0f;
        s.g[i * k + j] = lr * (label - Sigmoid(Dot(&s.a[i * d], &s.o[j * d], d)));
      }
    }
    // dA = G O and dO = G^T A (row r of the result, weights g[r * row_step + c * col_step]).
    auto weighted_sum = [d](const std::vector<float>& g, size_t row_step, size_t col_step,
                            const std::vector<float>& rows, size_t num_rows, size_t num_out,
                            std::vector<float>& out) {
      for (size_t r = 0; r < num_out; ++r) {
        float* acc = &out[r * d];
        for (size_t c = 0; c < num_rows; ++c) {
          const float w = g[r * row_step + c * col_step];
          const float* v = &rows[c * d];
#pragma omp simd  // acc and v never overlap; -O2 alone does not vectorize unknown-length loops
          for (size_t x = 0; x < d; ++x) acc[x] += w * v[x];
        }
      }
    };
    weighted_sum(s.g, k, 1, s.o, k, m, s.da);
    weighted_sum(s.g, 1, k, s.a, m, k, s.dout);
    AddToRows(result_.input, s.contexts, s.da);
    AddToRows(result_.output, s.outputs, s.dout);
  }

  // matrix.Row(rows[i]) += deltas[i * dim ..].
  void AddToRows(FloatMatrix& matrix, const std::vector<VertexId>& rows, const std::vector<float>& deltas) {
    for (size_t i = 0; i < rows.size(); ++i) {
      float* row = matrix.Row(rows[i]).data();
      const float* delta = &deltas[i * d_];
#pragma omp simd
      for (size_t x = 0; x < d_; ++x) row[x] += delta[x];
    }
  }

  const SkipGramConfig& config_;
  const size_t d_;
  SkipGramResult result_;
  std::vector<float> keep_;  // subsampling: probability of keeping each token
  AliasTable negatives_;
  uint64_t total_ = 0;
  std::atomic<uint64_t> processed_{0};
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
  std::atomic<uint64_t> trained_{0};
};

}  // namespace

void SkipGramConfig::Validate() const {
  GR_CHECK(dim >= 1 && dim <= 4096, "dim must be in [1, 4096], got ", dim);
  GR_CHECK(window >= 1 && window <= kMaxContexts / 2, "window must be in [1, ", kMaxContexts / 2, "], got ", window);
  GR_CHECK(negatives >= 1 && negatives <= 64, "negatives must be in [1, 64], got ", negatives);
  GR_CHECK(epochs >= 1, "epochs must be >= 1, got ", epochs);
  GR_CHECK(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate must be > 0, got ", learning_rate);
  GR_CHECK(subsample >= 0, "subsample must be >= 0, got ", subsample);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
}

SkipGramResult TrainSkipGram(const CorpusSource& corpus, size_t vocabulary,
                             const SkipGramConfig& config, SkipGramStats* stats, const WarmStart* warm) {
  config.Validate();
  GR_CHECK(vocabulary > 0, "empty vocabulary");
  if (warm != nullptr) {
    GR_CHECK(warm->input.rows() == vocabulary && warm->output.rows() == vocabulary &&
                 warm->known.size() == vocabulary,
             "warm start has ", warm->input.rows(), " rows for a vocabulary of ", vocabulary);
    GR_CHECK(warm->input.cols() == config.dim, "warm start vectors have ", warm->input.cols(),
             " dimensions, training asks for ", config.dim);
  }
  std::vector<uint64_t> counts(vocabulary, 0);
  corpus([&](const walk::WalkCorpus& batch) {
    for (VertexId t : batch.tokens) {
      GR_CHECK(t < vocabulary, "token ", t, " outside the vocabulary of ", vocabulary);
      ++counts[t];
    }
  });
  Trainer trainer(vocabulary, config, std::move(counts), warm);
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) trainer.TrainEpoch(corpus, epoch);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats != nullptr) {
    stats->corpus_tokens = trainer.total();
    stats->trained_tokens = trainer.trained();
    stats->seconds = seconds;
    stats->tokens_per_second = static_cast<double>(trainer.total()) * config.epochs / std::max(seconds, 1e-9);
  }
  SkipGramResult result = trainer.Take();
  for (const FloatMatrix* m : {&result.input, &result.output}) {
    for (float x : m->Data())
      GR_CHECK_CODE(std::isfinite(x), ErrorCode::kInternal,
                    "skip-gram training diverged (NaN or infinite vectors); lower the learning rate (",
                    config.learning_rate, ")");
  }
  return result;
}

CorpusSource WalkerSource(const walk::RandomWalker& walker, uint64_t batch_walks) {
  return [&walker, batch_walks](const std::function<void(const walk::WalkCorpus&)>& sink) {
    walker.ForEachBatch(batch_walks, sink, nullptr);
  };
}

EmbeddingTable EmbedWalks(const graph::SocialGraph& g, const walk::WalkConfig& walk_config,
                          SkipGramConfig config, SkipGramStats* stats, const WarmStart* warm) {
  config.threads = walk_config.threads;
  config.seed = walk_config.seed;
  const walk::RandomWalker walker(g, walk_config);
  const size_t vocabulary = walker.vocabulary_size();
  SkipGramResult trained = TrainSkipGram(WalkerSource(walker), vocabulary, config, stats, warm);
  EmbeddingTable table;
  table.ids.assign(g.accounts.external_ids().begin(), g.accounts.external_ids().end());
  table.kinds.assign(table.ids.size(), TokenKind::kAccount);
  if (vocabulary > g.num_accounts()) {  // metapath walks: posts follow the accounts
    table.ids.insert(table.ids.end(), g.posts.external_ids().begin(), g.posts.external_ids().end());
    table.kinds.resize(table.ids.size(), TokenKind::kPost);
  }
  GR_CHECK_CODE(table.ids.size() == vocabulary, ErrorCode::kInternal, "walk vocabulary ", vocabulary,
                " does not match ", table.ids.size(), " accounts + posts");
  table.input = std::move(trained.input);
  table.output = std::move(trained.output);
  return table;
}

}  // namespace gr::embed
