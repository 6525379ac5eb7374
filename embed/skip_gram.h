// Skip-gram with negative sampling (word2vec SGNS) over walk corpora.
//
// Per kept centre token, the input vector of each of its (dynamic-window)
// context tokens is trained against the output vectors of the centre and of
// `negatives` samples from unigram^0.75, one context after the other as in
// word2vec and gensim. The negatives are drawn once per centre and shared by
// its window (from Intel's pWord2Vec): one set of random rows fetched per
// centre instead of per pair. Pairs already scoring beyond +-6 are left
// alone, as gensim does. Frequent tokens are subsampled (word2vec's
// rule), the learning rate decays linearly to 1e-4 of its start over all
// epochs.
//
// Threads update the shared matrices without locks (Hogwild), as word2vec
// and gensim do. With threads = 1 the same seed gives bit-identical vectors;
// with more threads the order of racing updates varies, so vectors differ
// slightly from run to run (quality does not).
//
// The corpus is streamed: a CorpusSource hands over batches of walks and is
// called once to count tokens and once per epoch, so a RandomWalker can
// regenerate its walks each time instead of holding them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "walk/random_walk.h"

namespace gr::embed {

// Contexts one centre token may have (2 x the largest window).
inline constexpr uint32_t kMaxSkipGramContexts = 2 * 1024;

// How far training has come: corpus tokens processed so far and in all
// epochs, and seconds since training began (the counting pass over the
// corpus excluded), so processed / seconds is the training rate.
struct TrainingProgress {
  uint64_t processed = 0, total = 0;
  double seconds = 0;
};

struct SkipGramConfig {
  uint32_t dim = 128;           // vector size, 1..4096
  uint32_t window = 10;         // largest context distance; each centre draws one in [1, window]
  uint32_t negatives = 5;       // negative samples per centre, shared by its window; 1..64
  uint32_t epochs = 1;          // passes over the corpus, >= 1
  float learning_rate = 0.025f; // start; decays linearly to learning_rate * 1e-4; (0, 1]
  double subsample = 1e-3;      // word2vec sampling threshold t; 0 = keep every token
  uint64_t seed = 1;            // the run's training seed (core/run_options.h: SeedStream::kTraining)
  int threads = 0;              // 0 = all cores
  // Called from the calling thread between batches of walks, at most every
  // `progress_seconds`. Empty = silent.
  std::function<void(const TrainingProgress&)> on_progress;
  double progress_seconds = 10;

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // the training settings (not threads or progress), for manifests
};

// Calls its argument once per batch of walks, in a fixed order, and yields
// the same walks on every call (they are range-checked on the first call
// only); tokens must be < the vocabulary size given to TrainSkipGram.
using CorpusSource = std::function<void(const std::function<void(const walk::WalkCorpus&)>&)>;

struct SkipGramStats {
  uint64_t corpus_tokens = 0;     // tokens in one pass
  uint64_t trained_tokens = 0;    // centre tokens kept after subsampling, all epochs
  double seconds = 0;             // training passes only
  double tokens_per_second = 0;   // corpus tokens x epochs / seconds
};

struct SkipGramResult {
  FloatMatrix input;   // vocabulary x dim
  FloatMatrix output;  // vocabulary x dim
};

struct WarmStart;  // embed/warm_start.h

// Trains vectors for tokens [0, vocabulary). Rows marked known in `warm`
// start from its vectors, the others from word2vec's random initialisation;
// tokens that never occur keep their initial vectors. Throws
// kInvalidArgument for a bad config, token or warm-start shape, kInternal
// if the vectors came out NaN/inf (a safety net: saturated pairs are
// skipped, so only non-finite warm-start vectors are known to get there).
SkipGramResult TrainSkipGram(const CorpusSource& corpus, size_t vocabulary,
                             const SkipGramConfig& config, SkipGramStats* stats = nullptr,
                             const WarmStart* warm = nullptr);

// A CorpusSource streaming `walker`'s walks in batches of `batch_walks`.
CorpusSource WalkerSource(const walk::RandomWalker& walker, uint64_t batch_walks = 20000);

// Vectors of g's walk vocabulary: walks made with `walk_config` streamed
// into TrainSkipGram (the walk's seed and threads override config's). Rows:
// every account in dense order, then, for metapath walks, every post; input
// and output vectors. What `graphrec embed`, the link-prediction evaluation
// and the batch train. `warm` (account walks only) as in TrainSkipGram.
EmbeddingTable EmbedWalks(const graph::SocialGraph& g, const walk::WalkConfig& walk_config,
                          SkipGramConfig config, SkipGramStats* stats = nullptr,
                          const WarmStart* warm = nullptr);

}  // namespace gr::embed
