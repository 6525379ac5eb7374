// The text and JSON forms of the ranker's metrics and training report.
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "ranking/ranker.h"

namespace gr::ranking {
namespace {

nlohmann::json Number(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

}  // namespace

std::string RankingMetrics::ToText() const {
  return StrCat("impressions ", impressions, " (clicks ", clicks, ", interactions ", interactions, ")\n",
                "click AUC ", auc_click, "\ninteraction AUC ", auc_interaction, "\nnegative feedback AUC ", auc_negative,
                " (", negatives, " of ", negative_observed, ")\nprofile visit AUC ", auc_profile_visit, " (",
                profile_visits, " of ", profile_visit_observed, ")\ncompletion AUC ", auc_completion, " (",
                completions, " of ", completion_observed, " clicked videos)\nclick GAUC ", gauc_click, " over ",
                gauc_accounts, " accounts\ndwell RMSE (log 1+s) ", dwell_rmse_log, ", MAE ", dwell_mae_seconds,
                " s\nfusion objective ", objective, "\n");
}

std::string RankingMetrics::ToJson() const {
  return nlohmann::json{{"impressions", impressions}, {"clicks", clicks}, {"interactions", interactions},
                        {"auc_click", Number(auc_click)}, {"auc_interaction", Number(auc_interaction)},
                        {"gauc_click", Number(gauc_click)}, {"gauc_accounts", gauc_accounts},
                        {"auc_negative", Number(auc_negative)}, {"negatives", negatives},
                        {"negative_observed", negative_observed}, {"auc_profile_visit", Number(auc_profile_visit)},
                        {"profile_visits", profile_visits}, {"profile_visit_observed", profile_visit_observed},
                        {"auc_completion", Number(auc_completion)}, {"completions", completions},
                        {"completion_observed", completion_observed},
                        {"dwell_rmse_log", dwell_rmse_log}, {"dwell_mae_seconds", dwell_mae_seconds},
                        {"objective", objective}}
      .dump();
}

std::string RankerTrainReport::ToText() const {
  std::string text = StrCat("examples: train ", train_examples, ", validation ", validation_examples, ", skipped ",
                            skipped, " (account or post unknown to the graph)\nfeatures built in ", feature_seconds,
                            " s\nmodel: ", training.parameters, " parameters, ", training.examples_seen,
                            " examples in ", training.seconds, " s (", training.examples_per_second, " examples/s)\n");
  for (size_t e = 0; e < training.epoch_loss.size(); ++e) {
    text += StrCat("  epoch ", e + 1, " loss:");
    for (int t = 0; t < kNumTasks; ++t)
      if (training.task_examples[t] > 0) text += StrCat(t == 0 ? " " : ", ", TaskName(t), " ", training.epoch_loss[e][t]);
    text += "\n";
  }
  text += "tasks (examples, loss weight):";
  for (int t = 0; t < kNumTasks; ++t)
    text += StrCat(t == 0 ? " " : ", ", TaskName(t), " ", training.task_examples[t], " ", training.loss_weights[t],
                   task_untrained[t] ? " (no examples: out of the fusion)" : "");
  text += "\n";
  if (training.connections > 0)
    text += StrCat("SNR connections open: ", training.open_connections, " of ", training.connections, "\n");
  if (fusion_searched) {
    text += StrCat("fusion search (validation objective): start ", fusion.start_value, ", click only ",
                   fusion.click_only_value, ", best ", fusion.best_value, " with ", fusion.best.ToText(), "\n");
    if (fusion_guarded)
      text += StrCat("fusion guard (newer half of the validation days, unseen by the search): start ", guard_start_value, ", best ",
                     guard_best_value, fusion_kept_start ? ": kept the start" : ": kept the search's best", "\n");
  }
  return text;
}

std::string RankerTrainReport::ToJson() const {
  nlohmann::json tasks = nlohmann::json::object();
  for (int t = 0; t < kNumTasks; ++t)
    tasks[TaskName(t)] = {{"examples", training.task_examples[t]},
                          {"loss_weight", training.loss_weights[t]},
                          {"final_loss", training.epoch_loss.empty() ? nlohmann::json(nullptr)
                                                                     : Number(training.epoch_loss.back()[t])},
                          {"untrained", task_untrained[t]}};
  nlohmann::json j{{"train_examples", train_examples}, {"validation_examples", validation_examples},
                   {"skipped", skipped}, {"parameters", training.parameters}, {"training_seconds", training.seconds},
                   {"tasks", tasks}, {"fusion_searched", fusion_searched}};
  if (training.connections > 0)
    j["snr"] = {{"connections", training.connections}, {"open_connections", training.open_connections}};
  if (fusion_searched) {
    j["fusion_search"] = {{"start", fusion.start_value}, {"click_only", fusion.click_only_value},
                          {"best", fusion.best_value}, {"guarded", fusion_guarded},
                          {"kept_start", fusion_kept_start}};
    if (fusion_guarded) {
      j["fusion_search"]["guard_start"] = guard_start_value;
      j["fusion_search"]["guard_best"] = guard_best_value;
    }
  }
  return j.dump();
}

}  // namespace gr::ranking
