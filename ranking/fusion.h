// Multiplicative score fusion of the task predictions:
//   score = prod_t (v_t + alpha_t)^beta_t
// with v_t the task's probability (click, interaction, profile visit,
// completion), the predicted dwell in minutes given a click, and for negative
// feedback 1 - p(negative): a penalty factor that shrinks the score of a post
// the account is likely to hide. alpha keeps a weak task from zeroing the
// product; beta sets each task's say (0: the task is left out).
//
// SearchFusion tunes alpha and beta offline on validation impressions, by the
// cross-entropy method (sample candidates from a Gaussian, keep the elite by
// the objective, refit, repeat) or by an evolution strategy (antithetic
// Gaussian perturbations of one point, a step along their rank-weighted
// sum). The objective (FusionObjective) is what a feed is after: per account,
// rank its impressions by the fused score and sum over the top
// `top_fraction` of them
//   clicks + interaction_weight * interactions + dwell_weight * dwell minutes
//   - negative_weight * negative feedback + profile_visit_weight * visits
//   + completion_weight * completed videos,
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
  // click, interaction, dwell, negative, profile visit, completion
  std::array<float, kNumTasks> alpha{0.0f, 0.01f, 0.1f, 0.0f, 0.01f, 0.1f};
  std::array<float, kNumTasks> beta{1.0f, 0.5f, 0.5f, 1.0f, 0.2f, 0.0f};

  void Validate() const;  // alpha >= 0, beta >= 0, finite
  std::string ToText() const;
  // Sets values from "task=value" entries (tasks by TaskName) or from exactly
  // kNumTasks numbers in task order; throws kInvalidArgument naming a bad entry.
  static void ParseInto(std::span<const std::string> entries, const char* what, std::array<float, kNumTasks>& values);
  bool operator==(const FusionWeights&) const = default;
};

float FusedScore(const TaskScores& scores, const FusionWeights& weights);

struct FusionObjective {
  double interaction_weight = 1.0;
  double dwell_weight = 0.1;   // per minute of dwell
  double negative_weight = 1.0;       // subtracted per negative feedback
  double profile_visit_weight = 0.5;  // per profile visit
  double completion_weight = 0.5;     // per completed video
  double top_fraction = 0.3;   // share of each account's impressions that counts as "shown first"
  void Validate() const;
};

// What happened on one impression (kUnobserved: not recorded).
struct Outcome {
  ExternalId account = 0;
  uint8_t clicked = 0, interacted = 0;
  float dwell_seconds = 0;
  uint8_t negative = kUnobserved, profile_visit = kUnobserved, completed = kUnobserved;

  // Whether the impression is in a logistic task's sample space, and its label there.
  bool Observed(int task) const;
  uint8_t Label(int task) const;
};

// The objective for the given fused scores (parallel to outcomes).
double FusionObjectiveValue(std::span<const float> fused, std::span<const Outcome> outcomes,
                            const FusionObjective& objective);

enum class FusionMethod { kCem, kEs };
const char* FusionMethodName(FusionMethod method);  // "cem", "es"

struct FusionSearchConfig {
  FusionMethod method = FusionMethod::kCem;
  uint32_t iterations = 20;
  uint32_t population = 48;  // candidates per iteration (ES: population / 2 antithetic pairs)
  uint32_t elite = 8;        // CEM
  uint32_t frozen_tasks = 0;  // bit t: task t's alpha and beta stay at the start's
  uint64_t seed = 1;
};

struct FusionSearchResult {
  FusionWeights best;
  double best_value = 0;     // objective of `best`
  double start_value = 0;    // objective of the starting weights
  double click_only_value = 0;  // objective of ranking by p_click alone
};

// Search (CEM or ES) starting from `start`; alpha in [0, 1], beta in [0, 3].
// The click beta stays at start's (only the betas' ratios change the order);
// ranking by p_click alone is also tried. The result is never worse than
// `start` on these impressions.
FusionSearchResult SearchFusion(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes,
                                const FusionObjective& objective, const FusionWeights& start,
                                const FusionSearchConfig& config = {});

}  // namespace gr::ranking
