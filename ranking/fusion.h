// Multiplicative score fusion of the task predictions:
//   score = prod_t (p_t + alpha_t)^beta_t
// with p_click and p_interaction probabilities and p_dwell the predicted
// dwell in minutes given a click. alpha keeps a weak task from zeroing the
// product; beta sets each task's say.
//
// SearchFusion tunes alpha and beta offline on validation impressions with
// the cross-entropy method: sample candidates from a Gaussian, keep the elite
// by the objective, refit, repeat. The objective (FusionObjective) is what a
// feed is after: per account, rank its impressions by the fused score and sum
// over the top `top_fraction` of them
//   clicks + interaction_weight * interactions + dwell_weight * dwell minutes,
// averaged over accounts with at least two impressions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/ids.h"
#include "ranking/model.h"

namespace gr::ranking {

struct FusionWeights {
  std::array<float, kNumTasks> alpha{0.0f, 0.01f, 0.1f};
  std::array<float, kNumTasks> beta{1.0f, 0.5f, 0.5f};

  void Validate() const;  // alpha >= 0, beta >= 0, finite
  std::string ToText() const;
  bool operator==(const FusionWeights&) const = default;
};

float FusedScore(const TaskScores& scores, const FusionWeights& weights);

struct FusionObjective {
  double interaction_weight = 1.0;
  double dwell_weight = 0.1;   // per minute of dwell
  double top_fraction = 0.3;   // share of each account's impressions that counts as "shown first"
  void Validate() const;
};

// What happened on one impression.
struct Outcome {
  ExternalId account;
  uint8_t clicked, interacted;
  float dwell_seconds;
};

// The objective for the given fused scores (parallel to outcomes).
double FusionObjectiveValue(std::span<const float> fused, std::span<const Outcome> outcomes,
                            const FusionObjective& objective);

struct FusionSearchConfig {
  uint32_t iterations = 20;
  uint32_t population = 48;
  uint32_t elite = 8;
  uint64_t seed = 1;
};

struct FusionSearchResult {
  FusionWeights best;
  double best_value = 0;     // objective of `best`
  double start_value = 0;    // objective of the starting weights
  double click_only_value = 0;  // objective of ranking by p_click alone
};

// Cross-entropy search starting from `start`; alpha in [0, 1], beta in [0, 3].
// The click beta stays at start's (only the betas' ratios change the order);
// ranking by p_click alone is also tried. The result is never worse than
// `start` on these impressions.
FusionSearchResult SearchFusion(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes,
                                const FusionObjective& objective, const FusionWeights& start,
                                const FusionSearchConfig& config = {});

}  // namespace gr::ranking
