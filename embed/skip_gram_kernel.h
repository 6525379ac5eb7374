// The pieces of skip-gram training that every trainer must do alike (the
// single-process SkipGramTrainer and dist/'s model partitioned by account):
// a row's initial value, the subsampling rule, the negative distribution's
// weights and the update of one context against its outputs. Keeping them
// here is what makes the two trainers' vectors comparable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.h"
#include "core/rng.h"

namespace gr::embed {

// Pairs scoring beyond +-6 are not updated (word2vec's MAX_EXP; gensim skips
// them, word2vec.c clips). Skipping spares a negative that is in fact close
// to the context (a hub drawn from its own community) the push away: +0.5
// point Micro-F1 on citeseer, neutral on email-eu-core.
inline constexpr float kSaturatedScore = 6.0f;

inline float SkipGramSigmoid(float x) {
  if (x > 12.0f) return 1.0f;
  if (x < -12.0f) return 0.0f;
  return 1.0f / (1.0f + std::exp(-x));
}

// Token `token`'s initial input row: gensim 4's uniform in [-1/d, 1/d)
// (word2vec.c used half that; bench/README.md compares them), drawn from the
// training seed and the token alone, so any process can make any row. Output
// rows start at 0.
inline void InitialInputRow(uint64_t seed, uint64_t token, std::span<float> row) {
  Rng rng = Rng::ForItem(seed, token, 0x1d17);
  for (float& x : row) x = (2.0f * rng.UniformFloat() - 1.0f) / static_cast<float>(row.size());
}

// word2vec's subsampling: the probability of keeping each token given its
// count in one pass over the corpus of `total` tokens (1 for all when
// `subsample` is 0).
inline std::vector<float> KeepProbabilities(std::span<const uint64_t> counts, uint64_t total, double subsample) {
  std::vector<float> keep(counts.size(), 1.0f);
  if (subsample <= 0) return keep;
  const double threshold = subsample * static_cast<double>(total);
  for (size_t v = 0; v < counts.size(); ++v) {
    if (counts[v] == 0) continue;
    const double f = static_cast<double>(counts[v]);
    keep[v] = static_cast<float>(std::min(1.0, (std::sqrt(f / threshold) + 1.0) * threshold / f));
  }
  return keep;
}

// Appends the tokens of `walk` that subsampling keeps (`keep` from
// KeepProbabilities) to `kept`, drawing from `rng` only for tokens that may be dropped.
template <class Tokens, class Draws>
inline void SubsampleWalk(const Tokens& walk, std::span<const float> keep, Draws& rng, std::vector<uint32_t>& kept) {
  for (const uint32_t t : walk)
    if (keep[t] >= 1.0f || rng.UniformFloat() < keep[t]) kept.push_back(t);
}

// The negative distribution's weight of a token seen `count` times: unigram^0.75.
inline double NegativeWeight(uint64_t count) { return std::pow(static_cast<double>(count), 0.75); }

// One context's input vector against the outputs (label 1 for the first,
// the centre; 0 for the negatives), as word2vec and gensim do it: each
// output vector is updated at once, so the next context of the window sees
// it, and the input vector after all outputs. Updating the whole window
// from one stale copy instead (pWord2Vec's matrix form) overshoots: windows
// of walks repeat tokens, and it cost 9 points of dot-product link AUC on
// ca-grqc (0.80 vs 0.89). `output_row(j)` gives output j's row; `update` is
// scratch of `d` floats.
template <class OutputRow>
inline void TrainContextAgainstOutputs(float* input, size_t outputs, const OutputRow& output_row, size_t d, float lr,
                                       float* update) {
  std::fill_n(update, d, 0.0f);
  for (size_t j = 0; j < outputs; ++j) {
    float* output = output_row(j);
    const float label = j == 0 ? 1.0f : 0.0f;
    const float score = Dot(input, output, d);
    if (std::abs(score) >= kSaturatedScore) continue;
    const float g = lr * (label - SkipGramSigmoid(score));
#pragma omp simd  // rows of different matrices never overlap
    for (size_t x = 0; x < d; ++x) {
      update[x] += g * output[x];
      output[x] += g * input[x];
    }
  }
#pragma omp simd
  for (size_t x = 0; x < d; ++x) input[x] += update[x];
}

}  // namespace gr::embed
