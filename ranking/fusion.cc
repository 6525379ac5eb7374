#include "ranking/fusion.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace gr::ranking {
namespace {

constexpr int kParams = 2 * kNumTasks;  // alphas, then betas
constexpr float kAlphaHigh = 1, kBetaHigh = 3;
double High(int i) { return i < kNumTasks ? kAlphaHigh : kBetaHigh; }

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
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const Outcome& o = outcomes[i];
      const auto seen = [&](int task) { return o.Observed(task) ? o.Label(task) : 0; };
      value[i] = o.clicked + objective.interaction_weight * o.interacted + objective.dwell_weight * o.dwell_seconds / 60.0 -
                 objective.negative_weight * seen(kNegativeTask) + objective.profile_visit_weight * seen(kProfileVisitTask) +
                 objective.completion_weight * seen(kCompletionTask);
    }
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

std::array<float, kParams> ToParams(const FusionWeights& w) {
  std::array<float, kParams> p{};
  for (int t = 0; t < kNumTasks; ++t) {
    p[t] = w.alpha[t];
    p[kNumTasks + t] = w.beta[t];
  }
  return p;
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
  for (int t = 0; t < kNumTasks; ++t) {
    if (beta[t] == 0) continue;
    const std::string value = t == kNegativeTask ? "(1 - negative)" : TaskName(t);
    text += StrCat(text.empty() ? "" : " * ", "(", value, " + ", alpha[t], ")^", beta[t]);
  }
  return text.empty() ? "1" : text;
}

void FusionWeights::ParseInto(std::span<const std::string> entries, const char* what,
                              std::array<float, kNumTasks>& values) {
  const auto number = [&](const std::string& text, const std::string& entry) {
    size_t used = 0;
    float v = 0;
    try {
      v = std::stof(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    GR_CHECK(used == text.size() && !text.empty(), what, ": '", entry, "' is not a number");
    return v;
  };
  const bool named = !entries.empty() && entries[0].find('=') != std::string::npos;
  if (!named) {
    GR_CHECK(entries.size() == kNumTasks, what, " takes ", kNumTasks, " numbers (", TaskName(0), " ", TaskName(1), " ",
             TaskName(2), " ", TaskName(3), " ", TaskName(4), " ", TaskName(5), ") or task=value entries, got ",
             entries.size(), " value(s)");
    for (int t = 0; t < kNumTasks; ++t) values[t] = number(entries[t], entries[t]);
    return;
  }
  for (const std::string& entry : entries) {
    const size_t eq = entry.find('=');
    GR_CHECK(eq != std::string::npos, what, ": '", entry, "' is not task=value (mixing numbers and task=value)");
    const auto task = ParseTask(entry.substr(0, eq));
    GR_CHECK(task.has_value(), what, ": unknown task '", entry.substr(0, eq), "' in '", entry,
             "' (click, interaction, dwell, negative, profile_visit, completion)");
    values[*task] = number(entry.substr(eq + 1), entry);
  }
}

const char* FusionMethodName(FusionMethod method) { return method == FusionMethod::kEs ? "es" : "cem"; }

bool Outcome::Observed(int task) const {
  switch (task) {
    case kClickTask:
    case kInteractionTask: return true;
    case kDwellTask: return clicked != 0;
    case kNegativeTask: return negative != kUnobserved;
    case kProfileVisitTask: return profile_visit != kUnobserved;
    case kCompletionTask: return clicked != 0 && completed != kUnobserved;
  }
  return false;
}

uint8_t Outcome::Label(int task) const {
  switch (task) {
    case kClickTask: return clicked;
    case kInteractionTask: return interacted;
    case kNegativeTask: return negative;
    case kProfileVisitTask: return profile_visit;
    case kCompletionTask: return completed;
  }
  return 0;
}

float FusedScore(const TaskScores& scores, const FusionWeights& weights) {
  double score = 1.0;
  for (int t = 0; t < kNumTasks; ++t) {
    if (weights.beta[t] == 0) continue;
    double v = scores[t];
    if (t == kDwellTask) v /= 60.0;  // dwell in minutes
    if (t == kNegativeTask) v = 1.0 - v;  // a penalty: likely hidden, lower score
    score *= std::pow(std::max(0.0, v) + weights.alpha[t], weights.beta[t]);
  }
  return static_cast<float>(score);
}

void FusionObjective::Validate() const {
  GR_CHECK(std::isfinite(interaction_weight) && interaction_weight >= 0, "interaction_weight must be >= 0");
  GR_CHECK(std::isfinite(dwell_weight) && dwell_weight >= 0, "dwell_weight must be >= 0");
  GR_CHECK(std::isfinite(negative_weight) && negative_weight >= 0, "negative_weight must be >= 0");
  GR_CHECK(std::isfinite(profile_visit_weight) && profile_visit_weight >= 0, "profile_visit_weight must be >= 0");
  GR_CHECK(std::isfinite(completion_weight) && completion_weight >= 0, "completion_weight must be >= 0");
  GR_CHECK(top_fraction > 0 && top_fraction <= 1, "top_fraction must be in (0, 1], got ", top_fraction);
}

double FusionObjectiveValue(std::span<const float> fused, std::span<const Outcome> outcomes,
                            const FusionObjective& objective) {
  objective.Validate();
  GR_CHECK(fused.size() == outcomes.size(), "scores and outcomes differ in length");
  return Groups(outcomes, objective).Evaluate(fused, objective.top_fraction);
}

namespace {

// The cross-entropy method: a Gaussian per parameter refitted to the elite.
void SearchCem(const std::function<double(const std::array<float, kParams>&)>& value_of, const FusionWeights& start,
               const std::array<bool, kParams>& fixed, const FusionSearchConfig& config, FusionSearchResult& result) {
  std::array<double, kParams> mean{}, sigma{};
  const std::array<float, kParams> from = ToParams(start);
  for (int i = 0; i < kParams; ++i) {
    mean[i] = from[i];
    sigma[i] = fixed[i] ? 0.0 : i < kNumTasks ? 0.3 : 0.8;
  }
  Rng rng(MixSeed(config.seed, 0x63656dULL));  // "cem"
  std::vector<std::pair<double, std::array<float, kParams>>> population(config.population);
  for (uint32_t iteration = 0; iteration < config.iterations; ++iteration) {
    for (auto& [value, params] : population) {
      for (int i = 0; i < kParams; ++i)
        params[i] = static_cast<float>(std::clamp(mean[i] + sigma[i] * Normal(rng), 0.0, High(i)));
      value = value_of(params);
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
      sigma[i] = fixed[i] ? 0.0 : std::max(0.01, std::sqrt(s / config.elite));  // floor keeps the search from freezing early
    }
  }
}

// An evolution strategy (Salimans et al., 2017): antithetic perturbations of
// one point, a step along their centred-rank-weighted sum.
void SearchEs(const std::function<double(const std::array<float, kParams>&)>& value_of, const FusionWeights& start,
              const std::array<bool, kParams>& fixed, const FusionSearchConfig& config, FusionSearchResult& result) {
  std::array<double, kParams> theta{}, sigma{};
  const std::array<float, kParams> from = ToParams(start);
  for (int i = 0; i < kParams; ++i) {
    theta[i] = from[i];
    sigma[i] = fixed[i] ? 0.0 : i < kNumTasks ? 0.1 : 0.3;
  }
  const uint32_t pairs = std::max(1u, config.population / 2);
  Rng rng(MixSeed(config.seed, 0x6573ULL));  // "es"
  std::vector<std::array<double, kParams>> noise(pairs);
  std::vector<double> values(2 * pairs);
  std::array<float, kParams> candidate{};
  const auto at = [&](uint32_t k, double sign) {
    for (int i = 0; i < kParams; ++i)
      candidate[i] = static_cast<float>(std::clamp(theta[i] + sign * sigma[i] * noise[k][i], 0.0, High(i)));
    const double v = value_of(candidate);
    if (v > result.best_value) {
      result.best_value = v;
      result.best = FromParams(candidate);
    }
    return v;
  };
  for (uint32_t iteration = 0; iteration < config.iterations; ++iteration) {
    for (uint32_t k = 0; k < pairs; ++k) {
      for (double& e : noise[k]) e = Normal(rng);
      values[2 * k] = at(k, +1);
      values[2 * k + 1] = at(k, -1);
    }
    // Centred ranks in [-0.5, 0.5]: the step does not depend on the objective's scale.
    std::vector<uint32_t> order(values.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return values[a] < values[b]; });
    std::vector<double> rank(values.size());
    for (size_t r = 0; r < order.size(); ++r)
      rank[order[r]] = values.size() > 1 ? static_cast<double>(r) / static_cast<double>(values.size() - 1) - 0.5 : 0.0;
    for (int i = 0; i < kParams; ++i) {
      double step = 0;
      for (uint32_t k = 0; k < pairs; ++k) step += (rank[2 * k] - rank[2 * k + 1]) * noise[k][i];
      theta[i] = std::clamp(theta[i] + sigma[i] * step / pairs * 2.0, 0.0, High(i));
    }
  }
}

}  // namespace

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
  FusionWeights click_only;
  click_only.alpha.fill(0);
  click_only.beta.fill(0);
  click_only.beta[kClickTask] = 1;
  result.click_only_value = value_of(click_only);
  if (start.beta[kClickTask] > 0) {  // ranking by p_click alone is always a candidate
    click_only.beta[kClickTask] = start.beta[kClickTask];
    if (result.click_only_value > result.best_value) {
      result.best = click_only;
      result.best_value = result.click_only_value;
    }
  }
  // Scaling every beta by one factor keeps the order, so the click beta stays
  // at its start: the search runs along the ridge's cross-section, not along it.
  std::array<bool, kParams> fixed{};
  fixed[kNumTasks + kClickTask] = true;
  for (int t = 0; t < kNumTasks; ++t)
    if ((config.frozen_tasks >> t) & 1u) fixed[t] = fixed[kNumTasks + t] = true;
  const std::function<double(const std::array<float, kParams>&)> params_value = [&](const std::array<float, kParams>& p) {
    return value_of(FromParams(p));
  };
  if (config.method == FusionMethod::kCem) {
    SearchCem(params_value, start, fixed, config, result);
  } else {
    SearchEs(params_value, start, fixed, config, result);
  }
  return result;
}

}  // namespace gr::ranking
