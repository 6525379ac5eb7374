#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/prometheus_text.h"
#include "pipeline/batch.h"

namespace gr::pipeline {

std::string BatchReport::ToJson() const {
  nlohmann::json stage_times = nlohmann::json::object();
  double total = 0;
  for (const auto& s : stages) {
    stage_times[s.stage] = s.seconds;
    total += s.seconds;
  }
  nlohmann::json j = {
      {"version", version},
      {"previous_version", previous_version},
      {"previous_version_error", previous_version_error},
      {"event_log_watermark", event_log_watermark},
      {"event_log", {{"from", event_log_from}, {"events", event_log_events}, {"error", event_log_error}}},
      {"published", published},
      {"gate_failures", gate_failures},
      {"counts", {{"accounts", accounts}, {"posts", posts}, {"follow_edges", follow_edges},
                  {"interaction_edges", interaction_edges}, {"held_out_edges", held_out_edges},
                  {"warm_started_accounts", warm_started_accounts}}},
      {"metrics", {{"link_auc_dot", link_auc_dot}, {"link_auc_hadamard", link_auc_hadamard},
                   {"hnsw_recall_at_10", hnsw_recall_at_10}}},
      {"fold_in", {{"accounts", fold_in_accounts}, {"mean_cosine", fold_in_mean_cosine}, {"seconds", fold_in_seconds},
                   {"link_auc_hadamard", fold_in_link_auc_hadamard}}},
      {"training", {{"tokens", train_tokens}, {"seconds", train_seconds},
                    {"tokens_per_second", train_tokens_per_second}}},
      {"stage_seconds", stage_times},
      {"total_seconds", total},
      {"peak_rss_mb", peak_rss_mb}};
  if (has_ranker) {
    j["ranker"] = {{"train_impressions", ranker_train_impressions}, {"test_impressions", ranker_test_impressions},
                   {"auc_click", ranker_auc_click}, {"auc_interaction", ranker_auc_interaction},
                   {"gauc_click", ranker_gauc_click}, {"dwell_rmse_log", ranker_dwell_rmse_log}};
  }
  if (!consistent_recall_json.empty()) j["consistent_recall"] = nlohmann::json::parse(consistent_recall_json);
  if (!consistency_json.empty()) j["consistency"] = nlohmann::json::parse(consistency_json);
  if (drift_mean_cosine > -2) {
    j["metrics"]["drift_mean_cosine"] = drift_mean_cosine;
    j["metrics"]["drift_neighbour_overlap"] = drift_neighbour_overlap;
  }
  return j.dump();
}

std::string BatchReport::ToText() const {
  std::string text = StrCat("version ", version, published ? " published" : " NOT published",
                            previous_version.empty() ? "" : StrCat(" (previous: ", previous_version, ")"), "\n");
  if (!previous_version_error.empty())
    text += StrCat("  live version unreadable (trained cold, no drift): ", previous_version_error, "\n");
  for (const auto& f : gate_failures) text += StrCat("  gate failed: ", f, "\n");
  if (event_log_events > 0 || !event_log_error.empty())
    text += StrCat("event log: ", event_log_events, " events folded in (sequences ", event_log_from, "..",
                   event_log_watermark, ")", event_log_error.empty() ? "" : StrCat("; ", event_log_error), "\n");
  text += StrCat("graph: ", accounts, " accounts, ", posts, " posts, ", follow_edges, " follow edges, ",
                 interaction_edges, " interaction edges; ", held_out_edges, " newest follows held out\n");
  if (warm_started_accounts > 0) text += StrCat("warm start: ", warm_started_accounts, " accounts from the previous version\n");
  if (train_tokens > 0) {
    char training[160];
    std::snprintf(training, sizeof training, "training: %llu tokens in %.1f s, %.0f tokens/s\n",
                  static_cast<unsigned long long>(train_tokens), train_seconds, train_tokens_per_second);
    text += training;
  }
  if (fold_in_accounts > 0) {
    char fold_in[200];
    std::snprintf(fold_in, sizeof fold_in,
                  "fold-in: the held-out follows refreshed %llu accounts' vectors (mean cosine to before %.4f; "
                  "Hadamard AUC on them after %.4f)\n",
                  static_cast<unsigned long long>(fold_in_accounts), fold_in_mean_cosine, fold_in_link_auc_hadamard);
    text += fold_in;
  }
  char metrics[512];
  std::snprintf(metrics, sizeof metrics, "link prediction AUC (newest follows%s): dot %.4f, Hadamard %.4f\n"
                "HNSW recall@10 vs exact: %.4f\n", fold_in_accounts > 0 ? ", before the fold-in" : "", link_auc_dot,
                link_auc_hadamard, hnsw_recall_at_10);
  text += metrics;
  if (has_ranker) {
    std::snprintf(metrics, sizeof metrics,
                  "ranker (last day, %llu impressions; trained on %llu): click AUC %.4f, interaction AUC %.4f, "
                  "click GAUC %.4f, dwell RMSE (log) %.4f\n",
                  static_cast<unsigned long long>(ranker_test_impressions),
                  static_cast<unsigned long long>(ranker_train_impressions), ranker_auc_click, ranker_auc_interaction,
                  ranker_gauc_click, ranker_dwell_rmse_log);
    text += metrics;
  }
  if (!consistent_recall_json.empty()) {
    const nlohmann::json t = nlohmann::json::parse(consistent_recall_json);
    std::snprintf(metrics, sizeof metrics,
                  "consistent recall towers: %llu accounts, %llu ranker pairs, %llu causal pairs; pairs in the "
                  "ranker's order %.4f -> %.4f\n",
                  static_cast<unsigned long long>(t.at("accounts").get<uint64_t>()),
                  static_cast<unsigned long long>(t.at("pairs").get<uint64_t>()),
                  static_cast<unsigned long long>(t.at("causal_pairs").get<uint64_t>()),
                  t.at("pair_accuracy_before").get<double>(), t.at("pair_accuracy_after").get<double>());
    text += metrics;
  }
  if (!consistency_json.empty()) {
    const nlohmann::json c = nlohmann::json::parse(consistency_json);
    const auto top = c.at("top").get<uint32_t>();
    text += StrCat("recall consistency (overlap@", top, " with the ranker's top ", top, " of ", c.at("catalogue").get<uint64_t>(),
                   " posts, ", c.at("accounts").get<uint64_t>(), " accounts):");
    std::string source;
    for (const auto& row : c.at("rows")) {
      if (row.at("source") != source) {
        source = row.at("source");
        text += StrCat("\n  ", source, ":");
      }
      std::snprintf(metrics, sizeof metrics, " K=%u %.3f", row.at("k").get<uint32_t>(), row.at("overlap").get<double>());
      text += metrics;
    }
    text += "\n";
  }
  if (drift_mean_cosine > -2) {
    std::snprintf(metrics, sizeof metrics, "drift vs %s: mean cosine %.4f, top-10 neighbour overlap %.4f\n",
                  previous_version.c_str(), drift_mean_cosine, drift_neighbour_overlap);
    text += metrics;
  }
  double total = 0;
  for (const auto& s : stages) {
    std::snprintf(metrics, sizeof metrics, "  %-18s %8.1f s\n", s.stage.c_str(), s.seconds);
    text += metrics;
    total += s.seconds;
  }
  std::snprintf(metrics, sizeof metrics, "  %-18s %8.1f s, peak RSS %.0f MB\n", "total", total, peak_rss_mb);
  return text + metrics;
}

std::string BatchReport::ToPrometheus(double finished_unix_seconds) const {
  PrometheusText out;
  const MetricLabels version_label{{"version", version}};
  out.Gauge("graphrec_batch_finished_timestamp_seconds", "When the last batch run ended (Unix time).",
            finished_unix_seconds);
  out.Family("graphrec_batch_published", "gauge", "1 if the last run published its version, 0 if the gate failed.");
  out.Sample("graphrec_batch_published", version_label, published ? 1 : 0);
  out.Gauge("graphrec_batch_gate_failures", "Quality-gate checks the last run failed.",
            static_cast<double>(gate_failures.size()));
  out.Family("graphrec_batch_stage_seconds", "gauge", "Wall time of each stage of the last run.");
  double total = 0;
  for (const StageTime& s : stages) {
    out.Sample("graphrec_batch_stage_seconds", {{"stage", s.stage}}, s.seconds);
    total += s.seconds;
  }
  out.Gauge("graphrec_batch_seconds", "Wall time of the last run, all stages.", total);
  out.Gauge("graphrec_batch_peak_rss_bytes", "Peak resident memory of the last run.", peak_rss_mb * 1024 * 1024);
  out.Family("graphrec_batch_graph_size", "gauge", "Accounts, posts and edges of the last run's graph.");
  for (const auto& [what, count] : {std::pair<const char*, uint64_t>{"accounts", accounts},
                                    {"posts", posts},
                                    {"follow_edges", follow_edges},
                                    {"interaction_edges", interaction_edges}}) {
    out.Sample("graphrec_batch_graph_size", {{"what", what}}, static_cast<double>(count));
  }
  out.Gauge("graphrec_batch_event_log_events", "Events of the server's log folded into the last run.",
            static_cast<double>(event_log_events));
  out.Gauge("graphrec_batch_training_tokens_per_second", "Skip-gram training rate of the last run (0 if resumed "
            "past training).", train_tokens_per_second);
  out.Family("graphrec_batch_link_auc", "gauge", "Link-prediction AUC on the newest follows, by edge score.");
  out.Sample("graphrec_batch_link_auc", {{"score", "dot"}}, link_auc_dot);
  out.Sample("graphrec_batch_link_auc", {{"score", "hadamard"}}, link_auc_hadamard);
  out.Gauge("graphrec_batch_hnsw_recall_at_10", "HNSW recall@10 against exact search.", hnsw_recall_at_10);
  out.Gauge("graphrec_batch_fold_in_accounts", "Accounts whose vectors took in the held-out follows.",
            static_cast<double>(fold_in_accounts));
  out.Gauge("graphrec_batch_fold_in_mean_cosine", "Mean cosine of those accounts' vectors before and after the fold-in.",
            fold_in_mean_cosine);
  out.Gauge("graphrec_batch_fold_in_link_auc_hadamard",
            "Hadamard link AUC of the published vectors on the held-out follows they took in (a check, not quality).",
            fold_in_link_auc_hadamard);
  if (drift_mean_cosine > -2) {
    out.Gauge("graphrec_batch_drift_mean_cosine", "Mean cosine of account vectors to the previous version's.",
              drift_mean_cosine);
    out.Gauge("graphrec_batch_drift_neighbour_overlap",
              "Top-10 similar-account overlap with the previous version.", drift_neighbour_overlap);
  }
  if (has_ranker) {
    out.Family("graphrec_batch_ranker_auc", "gauge", "Ranker AUC on the held-out last days, by task.");
    out.Sample("graphrec_batch_ranker_auc", {{"task", "click"}}, ranker_auc_click);
    out.Sample("graphrec_batch_ranker_auc", {{"task", "interaction"}}, ranker_auc_interaction);
    out.Gauge("graphrec_batch_ranker_gauc_click", "Ranker click AUC averaged per account (GAUC).", ranker_gauc_click);
  }
  if (!consistency_json.empty()) {
    out.Family("graphrec_batch_recall_consistency", "gauge",
               "Overlap of a recall source's ranked top with the ranker's top over the catalogue (overlap@15), by source and K.");
    for (const auto& row : nlohmann::json::parse(consistency_json).at("rows"))
      out.Sample("graphrec_batch_recall_consistency",
                 {{"source", row.at("source").get<std::string>()}, {"k", std::to_string(row.at("k").get<uint32_t>())}},
                 row.at("overlap").get<double>());
  }
  return out.text();
}

}  // namespace gr::pipeline
