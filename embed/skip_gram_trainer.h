// The skip-gram trainer behind TrainSkipGram (embed/skip_gram.h says what it
// trains and how), for callers that hand it walks themselves: dist/'s
// data-parallel training gives each rank's trainer the whole corpus's token
// counts and its own share of the walks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/ids.h"
#include "embed/skip_gram.h"

namespace gr::embed {

// Walks to train: walk i is tokens[offsets[i] .. offsets[i + 1]) (offsets
// index `tokens`, so a view can start mid-corpus); its random draws are
// seeded by (config seed, its number, epoch), the number being numbers[i],
// or first_number + i when `numbers` is empty.
struct WalkBatch {
  std::span<const VertexId> tokens;
  std::span<const uint64_t> offsets;  // walks + 1 entries
  std::span<const uint64_t> numbers;
  uint64_t first_number = 0;
  size_t num_walks() const { return offsets.empty() ? 0 : offsets.size() - 1; }
};

// Throws kInvalidArgument unless `warm` (if given) has `vocabulary` rows of
// `dim` values.
void CheckWarmStartShape(const WarmStart* warm, size_t vocabulary, uint32_t dim);

class SkipGramTrainer {
 public:
  // `counts[t]`: token t's occurrences in one pass over the whole corpus
  // (subsampling, the negative distribution); `scheduled_tokens`: the tokens
  // this trainer will be given over all epochs (the learning rate decays
  // linearly with the share of them processed). Rows start as TrainSkipGram
  // says (`warm` as there, already checked against the vocabulary). Throws
  // kInvalidArgument when the counts are all zero.
  SkipGramTrainer(std::span<const uint64_t> counts, uint64_t scheduled_tokens, const SkipGramConfig& config,
                  const WarmStart* warm);
  ~SkipGramTrainer();
  SkipGramTrainer(const SkipGramTrainer&) = delete;
  SkipGramTrainer& operator=(const SkipGramTrainer&) = delete;

  // Trains `batch`'s walks on config.threads threads (Hogwild); tokens must be
  // < the vocabulary (not checked here).
  void Train(const WalkBatch& batch, uint32_t epoch);

  // The vectors being trained; callers may change them between Train calls
  // (dist/ synchronises replicas there).
  FloatMatrix& input();
  FloatMatrix& output();

  uint64_t processed() const;      // tokens given to Train so far
  uint64_t trained() const;        // centre tokens kept after subsampling so far
  uint64_t corpus_tokens() const;  // the sum of `counts`

  // The vectors; throws kInternal if any is NaN or infinite.
  SkipGramResult Take();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gr::embed
