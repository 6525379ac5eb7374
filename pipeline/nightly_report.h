// The nightly report: one static HTML page per version, inline SVG charts
// and no network access, so it opens from a file anywhere: the quality
// figures (link AUC, HNSW recall, ranker AUC) and drift across versions, run
// time and memory across versions, this run's stage times, the follow
// graph's degree distributions (log-log) and a 2-D map of a sample of
// account vectors coloured by cluster.
//
// Figures across versions come from history.jsonl in the artifacts directory
// (a line per batch run, appended by the batch; it outlives version
// retention) merged with the manifests of the versions still present.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed/embedding_table.h"
#include "graph/social_graph.h"

namespace gr::pipeline {

// Accounts per degree: out[d] accounts follow d others, in[d] have d followers.
struct DegreeCounts {
  std::vector<uint64_t> out, in;
};
DegreeCounts CountDegrees(const graph::SocialGraph& g);

// The history line of a run, from its manifest (JSON text): version,
// finished time, published, gate failures, metrics, stage seconds, total
// seconds, peak memory, counts.
std::string HistoryLine(const std::string& manifest_json, double finished_unix_seconds);
// Appends one line to artifacts_dir/history.jsonl and syncs it. Throws kIo.
void AppendHistory(const std::string& artifacts_dir, const std::string& line);

struct ReportInput {
  std::string artifacts_dir;  // for the history and the other versions' manifests
  std::string manifest_json;  // this version's
  DegreeCounts degrees;
  const embed::EmbeddingTable* vectors = nullptr;  // account vectors (a sample is mapped)
};
std::string RenderReport(const ReportInput& input);

// `graphrec report`: the report of artifacts_dir/version from its files.
std::string RenderReportOfVersion(const std::string& artifacts_dir, const std::string& version);

}  // namespace gr::pipeline
