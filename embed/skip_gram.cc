#include "embed/skip_gram.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/error.h"
#include "embed/skip_gram_trainer.h"
#include "embed/warm_start.h"

namespace gr::embed {

SkipGramResult TrainSkipGram(const CorpusSource& corpus, size_t vocabulary,
                             const SkipGramConfig& config, SkipGramStats* stats, const WarmStart* warm) {
  config.Validate();
  GR_CHECK(vocabulary > 0, "empty vocabulary");
  CheckWarmStartShape(warm, vocabulary, config.dim);
  std::vector<uint64_t> counts(vocabulary, 0);
  corpus([&](const walk::WalkCorpus& batch) {
    for (VertexId t : batch.tokens) {
      GR_CHECK(t < vocabulary, "token ", t, " outside the vocabulary of ", vocabulary);
      ++counts[t];
    }
  });
  uint64_t corpus_tokens = 0;
  for (uint64_t c : counts) corpus_tokens += c;
  SkipGramTrainer trainer(counts, corpus_tokens * config.epochs, config, warm);
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    uint64_t walk_base = 0;
    corpus([&](const walk::WalkCorpus& batch) {
      trainer.Train({.tokens = batch.tokens, .offsets = batch.offsets, .first_number = walk_base}, epoch);
      walk_base += batch.num_walks();
      if (!config.on_progress) return;
      const auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - last_progress).count() < config.progress_seconds) return;
      last_progress = now;
      config.on_progress({trainer.processed(), corpus_tokens * config.epochs,
                          std::chrono::duration<double>(now - start).count()});
    });
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats != nullptr) {
    stats->corpus_tokens = corpus_tokens;
    stats->trained_tokens = trainer.trained();
    stats->seconds = seconds;
    stats->tokens_per_second = static_cast<double>(corpus_tokens) * config.epochs / std::max(seconds, 1e-9);
  }
  return trainer.Take();
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
