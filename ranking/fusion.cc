#include "ranking/fusion.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace gr::ranking {
namespace {

constexpr int kParams = 2 * kNumTasks;
constexpr std::array<float, kParams> kLow{0, 0, 0, 0, 0, 0};
constexpr std::array<float, kParams> kHigh{1, 1, 1, 3, 3, 3};

// Impressions grouped by account (accounts with >= 2 impressions), and each
// impression's value under the objective.
struct Groups {
  std::vector<uint32_t> order;   // impression indices, grouped
  std::vector<size_t> begin;     // group g is order[begin[g] .. begin[g+1])
  std::vector<double> value;     // per impression

  Groups(std::span<const Outcome> outcomes, const FusionObjective& objective) {
    order.resize(outcomes.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return outcomes[a].account < outcomes[b].account; });
    std::vector<uint32_t> kept;
    for (size_t i = 0; i < order.size();) {
      size_t j = i;
      while (j < order.size() && outcomes[order[j]].account == outcomes[order[i]].account) ++j;
      if (j - i >= 2) {
        begin.push_back(kept.size());
        kept.insert(kept.end(), order.begin() + static_cast<int64_t>(i), order.begin() + static_cast<int64_t>(j));
      }
      i = j;
    }
    begin.push_back(kept.size());
    order = std::move(kept);
    value.resize(outcomes.size());
    for (size_t i = 0; i < outcomes.size(); ++i)
      value[i] = outcomes[i].clicked + objective.interaction_weight * outcomes[i].interacted +
                 objective.dwell_weight * outcomes[i].dwell_seconds / 60.0;
  }
  size_t size() const { return begin.size() - 1; }

  double Evaluate(std::span<const float> fused, double top_fraction) const {
    if (size() == 0) return 0;
    double total = 0;
    std::vector<uint32_t> group;
    for (size_t g = 0; g + 1 < begin.size(); ++g) {
      group.assign(order.begin() + static_cast<int64_t>(begin[g]), order.begin() + static_cast<int64_t>(begin[g + 1]));
      const auto top = std::max<size_t>(1, static_cast<size_t>(std::lround(top_fraction * static_cast<double>(group.size()))));
      // Ties broken by position, so equal scores give a deterministic value.
      std::partial_sort(group.begin(), group.begin() + static_cast<int64_t>(top), group.end(), [&](uint32_t a, uint32_t b) {
        return fused[a] != fused[b] ? fused[a] > fused[b] : a < b;
      });
      for (size_t k = 0; k < top; ++k) total += value[group[k]];
    }
    return total / static_cast<double>(size());
  }
};

FusionWeights FromParams(const std::array<float, kParams>& p) {
  FusionWeights w;
  for (int t = 0; t < kNumTasks; ++t) {
    w.alpha[t] = p[t];
    w.beta[t] = p[kNumTasks + t];
  }
  return w;
}

void Fuse(std::span<const TaskScores> predictions, const FusionWeights& weights, std::vector<float>& fused) {
  fused.resize(predictions.size());
  for (size_t i = 0; i < predictions.size(); ++i) fused[i] = FusedScore(predictions[i], weights);
}

double Normal(Rng& rng) {
  const double u1 = 1.0 - rng.UniformDouble(), u2 = rng.UniformDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

void FusionWeights::Validate() const {
  for (int t = 0; t < kNumTasks; ++t) {
    GR_CHECK(std::isfinite(alpha[t]) && alpha[t] >= 0, "fusion alpha of ", TaskName(t), " must be >= 0, got ", alpha[t]);
    GR_CHECK(std::isfinite(beta[t]) && beta[t] >= 0, "fusion beta of ", TaskName(t), " must be >= 0, got ", beta[t]);
  }
}

std::string FusionWeights::ToText() const {
  std::string text;
  for (int t = 0; t < kNumTasks; ++t)
    text += StrCat(t > 0 ? " * " : "", "(", TaskName(t), " + ", alpha[t], ")^", beta[t]);
  return text;
}

float FusedScore(const TaskScores& scores, const FusionWeights& weights) {
  double score = 1.0;
  for (int t = 0; t < kNumTasks; ++t) {
    const double p = t == kDwellTask ? scores[t] / 60.0 : scores[t];  // dwell in minutes
    score *= std::pow(std::max(0.0, p) + weights.alpha[t], weights.beta[t]);
  }
  return static_cast<float>(score);
}

void FusionObjective::Validate() const {
  GR_CHECK(std::isfinite(interaction_weight) && interaction_weight >= 0, "interaction_weight must be >= 0");
  GR_CHECK(std::isfinite(dwell_weight) && dwell_weight >= 0, "dwell_weight must be >= 0");
  GR_CHECK(top_fraction > 0 && top_fraction <= 1, "top_fraction must be in (0, 1], got ", top_fraction);
}

double FusionObjectiveValue(std::span<const float> fused, std::span<const Outcome> outcomes,
                            const FusionObjective& objective) {
  objective.Validate();
  GR_CHECK(fused.size() == outcomes.size(), "scores and outcomes differ in length");
  return Groups(outcomes, objective).Evaluate(fused, objective.top_fraction);
}

FusionSearchResult SearchFusion(std::span<const TaskScores> predictions, std::span<const Outcome> outcomes,
                                const FusionObjective& objective, const FusionWeights& start,
                                const FusionSearchConfig& config) {
  objective.Validate();
  start.Validate();
  GR_CHECK(predictions.size() == outcomes.size(), "predictions and outcomes differ in length");
  GR_CHECK(config.population >= 2 && config.elite >= 1 && config.elite <= config.population,
           "fusion search: need population >= 2 and 1 <= elite <= population");
  const Groups groups(outcomes, objective);
  GR_CHECK(groups.size() > 0, "fusion search needs accounts with at least two impressions");
  std::vector<float> fused;
  const auto value_of = [&](const FusionWeights& w) {
    Fuse(predictions, w, fused);
    return groups.Evaluate(fused, objective.top_fraction);
  };
  FusionSearchResult result;
  result.best = start;
  result.start_value = result.best_value = value_of(start);
  result.click_only_value = value_of({{0, 0, 0}, {1, 0, 0}});
  if (start.beta[kClickTask] > 0) {  // ranking by p_click alone is always a candidate
    const FusionWeights click_only{{0, 0, 0}, {start.beta[kClickTask], 0, 0}};
    if (result.click_only_value > result.best_value) {
      result.best = click_only;
      result.best_value = result.click_only_value;
    }
  }

  std::array<double, kParams> mean{}, sigma{};
  for (int t = 0; t < kNumTasks; ++t) {
    mean[t] = start.alpha[t];
    mean[kNumTasks + t] = start.beta[t];
    sigma[t] = 0.3;
    sigma[kNumTasks + t] = 0.8;
  }
  // Scaling every beta by one factor keeps the order, so the click beta stays
  // at its start: the search runs along the ridge's cross-section, not along it.
  constexpr int kFixed = kNumTasks + kClickTask;
  sigma[kFixed] = 0;
  Rng rng(MixSeed(config.seed, 0x63656dULL));  // "cem"
  std::vector<std::pair<double, std::array<float, kParams>>> population(config.population);
  for (uint32_t iteration = 0; iteration < config.iterations; ++iteration) {
    for (auto& [value, params] : population) {
      for (int i = 0; i < kParams; ++i)
        params[i] = static_cast<float>(std::clamp(mean[i] + sigma[i] * Normal(rng), double{kLow[i]}, double{kHigh[i]}));
      value = value_of(FromParams(params));
    }
    std::stable_sort(population.begin(), population.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (population[0].first > result.best_value) {
      result.best_value = population[0].first;
      result.best = FromParams(population[0].second);
    }
    for (int i = 0; i < kParams; ++i) {
      double m = 0, s = 0;
      for (uint32_t e = 0; e < config.elite; ++e) m += population[e].second[i];
      m /= config.elite;
      for (uint32_t e = 0; e < config.elite; ++e) s += (population[e].second[i] - m) * (population[e].second[i] - m);
      mean[i] = m;
      sigma[i] = i == kFixed ? 0.0 : std::max(0.01, std::sqrt(s / config.elite));  // floor keeps the search from freezing early
    }
  }
  return result;
}

}  // namespace gr::ranking
