#include "pipeline/nightly_report.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "embed/embedding_io.h"
#include "pipeline/internal/svg_charts.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::pipeline {
namespace {

using internal::ChartOptions;
using internal::EscapeHtml;
using internal::Point;
using internal::Series;
using Json = nlohmann::json;

constexpr size_t kMapSample = 2000;
constexpr int kMapClusters = 8;

// Every run the report knows of, oldest first: history lines, then the
// manifests of versions still present, then this one (later sources win).
std::vector<Json> Runs(const std::string& artifacts_dir, const Json& current) {
  std::map<std::string, Json> by_version;
  std::ifstream history(version::PathIn(artifacts_dir, version::kHistoryFile));
  std::string line;
  for (size_t number = 1; std::getline(history, line); ++number) {
    const Json run = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!run.is_object() || !run.contains("version")) {
      spdlog::warn("{}:{}: not a history line, skipped", version::kHistoryFile, number);
      continue;
    }
    by_version[run["version"].get<std::string>()] = run;
  }
  for (const std::string& name : version::ListVersions(artifacts_dir)) {
    const Json manifest = Json::parse(version::ReadManifest(artifacts_dir, name), nullptr, false);
    if (manifest.is_object()) by_version[name] = Json::parse(HistoryLine(manifest.dump(), 0));
  }
  by_version[current.value("version", "")] = Json::parse(HistoryLine(current.dump(), 0));
  std::vector<Json> runs;
  for (auto& [name, run] : by_version) runs.push_back(std::move(run));  // version names sort by time
  return runs;
}

double Metric(const Json& run, const char* name) {
  const Json& metrics = run.contains("metrics") ? run["metrics"] : Json::object();
  return metrics.contains(name) && metrics[name].is_number() ? metrics[name].get<double>() : NAN;
}

// "v20261203-072154" -> "12-03 07:21" (the tick label).
std::string ShortName(const std::string& version) {
  if (version.size() == 16 && version[0] == 'v' && version[9] == '-')
    return StrCat(version.substr(5, 2), "-", version.substr(7, 2), " ", version.substr(10, 2), ":", version.substr(12, 2));
  return version.size() > 14 ? version.substr(0, 14) : version;
}

std::string AcrossVersions(const std::vector<Json>& runs, const std::vector<std::pair<std::string, const char*>>& series,
                           ChartOptions options) {
  std::vector<Series> lines;
  for (const auto& [label, metric] : series) {
    Series s{label, {}};
    for (size_t i = 0; i < runs.size(); ++i) {
      const double v = Metric(runs[i], metric);
      if (std::isfinite(v)) s.points.push_back({static_cast<double>(i), v});
    }
    if (!s.points.empty()) lines.push_back(std::move(s));
  }
  for (const Json& run : runs) options.x_tick_names.push_back(ShortName(run.value("version", "")));
  options.x_label = "version";
  return LineChart(lines, options);
}

std::string DegreeChart(const DegreeCounts& degrees) {
  std::vector<Series> series;
  for (const auto& [name, counts] : {std::pair{"following (out)", &degrees.out}, std::pair{"followers (in)", &degrees.in}}) {
    Series s{name, {}};
    for (size_t d = 1; d < counts->size(); ++d)
      if ((*counts)[d] > 0) s.points.push_back({static_cast<double>(d), static_cast<double>((*counts)[d])});
    series.push_back(std::move(s));
  }
  return LineChart(series, {.id = "degrees", .title = "Follow degree distribution", .x_label = "degree",
                            .y_label = "accounts", .log_x = true, .log_y = true, .lines = false});
}

// A sample of unit-length account vectors, clustered (k-means, cosine) and
// projected on their first two principal components.
std::string VectorMap(const embed::EmbeddingTable& table) {
  const size_t dim = table.dim(), step = std::max<size_t>(1, table.rows() / kMapSample);
  std::vector<std::vector<double>> rows;
  for (size_t r = 0; r < table.rows() && rows.size() < kMapSample; r += step) {
    if (table.kinds[r] != embed::TokenKind::kAccount) continue;
    std::vector<double> v(table.input.Row(r).begin(), table.input.Row(r).end());
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    for (double& x : v) x /= norm;
    rows.push_back(std::move(v));
  }
  const ChartOptions options{.id = "vector-map", .title = StrCat("Account vectors: ", rows.size(),
                                                                  " sampled, first two principal components"),
                             .x_label = "component 1", .y_label = "component 2"};
  if (rows.size() < 2 || dim == 0) return internal::ScatterMap({}, {}, 0, options);
  const int k = static_cast<int>(std::min<size_t>(kMapClusters, rows.size()));
  // k-means from evenly spaced rows; a fixed number of rounds (deterministic).
  std::vector<std::vector<double>> centres;
  for (int c = 0; c < k; ++c) centres.push_back(rows[rows.size() * static_cast<size_t>(c) / static_cast<size_t>(k)]);
  std::vector<int> group(rows.size(), 0);
  for (int round = 0; round < 15; ++round) {
    for (size_t i = 0; i < rows.size(); ++i) {
      double best = -2;
      for (int c = 0; c < k; ++c) {
        double dot = 0;
        for (size_t j = 0; j < dim; ++j) dot += rows[i][j] * centres[c][j];
        if (dot > best) best = dot, group[i] = c;
      }
    }
    for (int c = 0; c < k; ++c) {
      std::vector<double> sum(dim, 0.0);
      for (size_t i = 0; i < rows.size(); ++i)
        if (group[i] == c)
          for (size_t j = 0; j < dim; ++j) sum[j] += rows[i][j];
      double norm = 0;
      for (double x : sum) norm += x * x;
      if (norm > 0)
        for (size_t j = 0; j < dim; ++j) centres[c][j] = sum[j] / std::sqrt(norm);
    }
  }
  // Principal components by power iteration on the centred rows (v <- X^T X v).
  std::vector<double> mean(dim, 0.0);
  for (const auto& r : rows)
    for (size_t j = 0; j < dim; ++j) mean[j] += r[j] / static_cast<double>(rows.size());
  std::vector<std::vector<double>> components;
  for (int component = 0; component < 2; ++component) {
    std::vector<double> v(dim);
    for (size_t j = 0; j < dim; ++j) v[j] = 1.0 + 0.1 * static_cast<double>((j * 7 + static_cast<size_t>(component) * 3) % 11);
    for (int iteration = 0; iteration < 60; ++iteration) {
      std::vector<double> next(dim, 0.0);
      for (const auto& r : rows) {
        double dot = 0;
        for (size_t j = 0; j < dim; ++j) dot += (r[j] - mean[j]) * v[j];
        for (size_t j = 0; j < dim; ++j) next[j] += dot * (r[j] - mean[j]);
      }
      for (const auto& previous : components) {  // deflate: orthogonal to the first
        double dot = 0;
        for (size_t j = 0; j < dim; ++j) dot += next[j] * previous[j];
        for (size_t j = 0; j < dim; ++j) next[j] -= dot * previous[j];
      }
      double norm = 0;
      for (double x : next) norm += x * x;
      if (norm == 0) break;
      for (size_t j = 0; j < dim; ++j) v[j] = next[j] / std::sqrt(norm);
    }
    components.push_back(v);
  }
  std::vector<Point> points;
  for (const auto& r : rows) {
    Point p;
    for (size_t j = 0; j < dim; ++j) {
      p.x += (r[j] - mean[j]) * components[0][j];
      p.y += (r[j] - mean[j]) * components[1][j];
    }
    points.push_back(p);
  }
  return internal::ScatterMap(points, group, k, options);
}

std::string Row(const std::string& name, const std::string& value) {
  return StrCat("<tr><th>", EscapeHtml(name), "</th><td>", EscapeHtml(value), "</td></tr>");
}

std::string Figure(double v, int digits = 4) {
  if (!std::isfinite(v)) return "—";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

}  // namespace

DegreeCounts CountDegrees(const graph::SocialGraph& g) {
  DegreeCounts counts;
  for (const auto& [csr, out] : {std::pair{&g.following, &counts.out}, std::pair{&g.followers, &counts.in}}) {
    for (VertexId v = 0; v < csr->num_vertices(); ++v) {
      const uint64_t d = csr->Degree(v);
      if (out->size() <= d) out->resize(d + 1, 0);
      ++(*out)[d];
    }
  }
  return counts;
}

std::string HistoryLine(const std::string& manifest_json, double finished_unix_seconds) {
  const Json m = Json::parse(manifest_json);
  Json line = {{"version", m.value("version", "")}, {"published", m.value("published", false)},
               {"gate_failures", m.value("gate_failures", Json::array())}, {"metrics", m.value("metrics", Json::object())},
               {"stage_seconds", m.value("stage_seconds", Json::object())},
               {"total_seconds", m.value("total_seconds", 0.0)}, {"peak_rss_mb", m.value("peak_rss_mb", 0.0)},
               {"counts", m.value("counts", Json::object())}};
  if (finished_unix_seconds > 0) line["finished_unix_seconds"] = finished_unix_seconds;
  if (m.contains("ranker") && m["ranker"].is_object()) {
    for (const char* name : {"auc_click", "auc_interaction", "gauc_click"})
      if (m["ranker"].contains(name)) line["metrics"][StrCat("ranker_", name)] = m["ranker"][name];
  }
  line["metrics"]["total_seconds"] = line["total_seconds"];
  line["metrics"]["peak_rss_mb"] = line["peak_rss_mb"];
  return line.dump();
}

void AppendHistory(const std::string& artifacts_dir, const std::string& line) {
  const std::string path = version::PathIn(artifacts_dir, version::kHistoryFile);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  GR_CHECK_CODE(fd >= 0, ErrorCode::kIo, "cannot open ", path, " for appending");
  const std::string text = line + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  GR_CHECK_CODE(ok, ErrorCode::kIo, "cannot append to ", path);
}

std::string RenderReport(const ReportInput& input) {
  const Json manifest = Json::parse(input.manifest_json);
  const std::vector<Json> runs = Runs(input.artifacts_dir, manifest);
  const std::string version = manifest.value("version", "");
  const Json counts = manifest.value("counts", Json::object());
  const Json current = Json::parse(HistoryLine(input.manifest_json, 0));
  std::string failures;
  for (const auto& f : manifest.value("gate_failures", Json::array())) failures += f.get<std::string>() + "; ";

  std::string html = StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>graphrec nightly report ",
      EscapeHtml(version), "</title><style>body{font-family:sans-serif;margin:24px;color:#222}"
      "table{border-collapse:collapse;margin-bottom:16px}th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #ddd}"
      ".charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #ddd}</style></head><body>\n",
      "<h1>graphrec nightly report: ", EscapeHtml(version), "</h1>\n<table id=\"summary\">",
      Row("published", manifest.value("published", false) ? "yes" : StrCat("no: ", failures)),
      Row("previous version", manifest.value("previous_version", "")),
      Row("accounts / posts", StrCat(counts.value("accounts", 0), " / ", counts.value("posts", 0))),
      Row("follow / interaction edges", StrCat(counts.value("follow_edges", 0), " / ", counts.value("interaction_edges", 0))),
      Row("link AUC (dot / Hadamard)", StrCat(Figure(Metric(current, "link_auc_dot")), " / ",
                                              Figure(Metric(current, "link_auc_hadamard")))),
      Row("HNSW recall@10", Figure(Metric(current, "hnsw_recall_at_10"))),
      Row("ranker click AUC", Figure(Metric(current, "ranker_auc_click"))),
      Row("drift (mean cosine / top-10 overlap)", StrCat(Figure(Metric(current, "drift_mean_cosine")), " / ",
                                                         Figure(Metric(current, "drift_neighbour_overlap")))),
      Row("total time", StrCat(Figure(manifest.value("total_seconds", 0.0), 1), " s")),
      Row("peak memory", StrCat(Figure(manifest.value("peak_rss_mb", 0.0), 0), " MB")),
      Row("versions in the history", StrCat(runs.size())), "</table>\n<div class=\"charts\">\n");
  html += AcrossVersions(runs,
                         {{"link AUC dot", "link_auc_dot"}, {"link AUC Hadamard", "link_auc_hadamard"},
                          {"HNSW recall@10", "hnsw_recall_at_10"}, {"ranker click AUC", "ranker_auc_click"}},
                         {.id = "quality", .title = "Quality across versions", .y_label = "AUC / recall"});
  html += AcrossVersions(runs, {{"mean cosine", "drift_mean_cosine"}, {"top-10 overlap", "drift_neighbour_overlap"}},
                         {.id = "drift", .title = "Drift from the previous version", .y_label = "similarity"});
  html += AcrossVersions(runs, {{"total seconds", "total_seconds"}},
                         {.id = "run-time", .title = "Batch run time across versions", .y_label = "seconds"});
  html += AcrossVersions(runs, {{"peak RSS MB", "peak_rss_mb"}},
                         {.id = "memory", .title = "Peak memory across versions", .y_label = "MB"});
  std::vector<std::pair<std::string, double>> stages;
  const Json stage_seconds = manifest.value("stage_seconds", Json::object());
  for (const auto& [name, seconds] : stage_seconds.items()) stages.push_back({name, seconds.get<double>()});
  html += internal::BarChart(stages, {.id = "stages", .title = "Stage times of this run"}, "s");
  html += DegreeChart(input.degrees);
  if (input.vectors != nullptr) html += VectorMap(*input.vectors);
  html += "\n</div>\n</body></html>\n";
  return html;
}

std::string RenderReportOfVersion(const std::string& artifacts_dir, const std::string& version_name) {
  const std::string dir = version::VersionDir(artifacts_dir, version_name);
  const std::string manifest = version::ReadManifest(artifacts_dir, version_name);
  GR_CHECK_CODE(!manifest.empty(), ErrorCode::kNotFound, dir, " has no ", version::kManifestFile);
  const graph::SocialGraph g = version::LoadGraph(dir);
  const embed::EmbeddingTable table = embed::LoadEmbeddings(version::PathIn(dir, version::kAccountsEmbeddingFile));
  return RenderReport({.artifacts_dir = artifacts_dir, .manifest_json = manifest, .degrees = CountDegrees(g),
                       .vectors = &table});
}

}  // namespace gr::pipeline
