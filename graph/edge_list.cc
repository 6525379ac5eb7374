// Generic edge lists (graph/ingest.h: LoadEdgeList, EdgeListGraph): a file
// or arrays of "src dst [weight]" as accounts and follows.
#include <chrono>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bulk_vector.h"
#include "core/error.h"
#include "core/parallel.h"
#include "graph/ingest.h"
#include "graph/internal/csr_build.h"
#include "graph/internal/id_table.h"
#include "graph/internal/ingest_parts.h"
#include "graph/internal/text_parse.h"

namespace gr::graph {

using internal::CheckFieldCount;
using internal::EdgeRow;
using internal::EdgeRows;
using internal::IdCollector;
using internal::LineError;
using internal::ParseId;
using internal::Seconds;

namespace {

// The graph of parsed edge records: LoadEdgeList's and EdgeListGraph's common
// part. rep.seconds is measured from `start`.
SocialGraph BuildEdgeListGraph(BulkVector<EdgeRecord> edges, bool directed, const IngestConfig& config,
                               IngestReport& rep, std::chrono::steady_clock::time_point start) {
  SocialGraph g;
  g.undirected = !directed;
  internal::IdTable ids;
  {
    IdCollector collector(config.threads);
    collector.Add(edges, [](const EdgeRecord& r, auto emit) {
      emit(r.src);
      emit(r.dst);
    });
    g.accounts = collector.Finish(&ids);
  }
  // One row per edge, and its mirror for an undirected graph unless it is a
  // self-loop; built in parallel slices, each knowing where its rows start.
  const size_t slices = static_cast<size_t>(ResolveThreads(config.threads)) * 4;
  auto slice_begin = [&](size_t s) { return edges.size() * s / slices; };
  std::vector<size_t> first_row(slices + 1, 0);
  for (size_t s = 0; s < slices; ++s) {
    size_t count = slice_begin(s + 1) - slice_begin(s);
    if (!directed)
      for (size_t i = slice_begin(s); i < slice_begin(s + 1); ++i) count += edges[i].src != edges[i].dst;
    first_row[s + 1] = first_row[s] + count;
  }
  EdgeRows rows(first_row[slices]);
  ParallelFor(static_cast<int64_t>(slices), config.threads, 1, [&](int64_t s) {
    EdgeRow* out = rows.data() + first_row[s];
    for (size_t i = slice_begin(s); i < slice_begin(s + 1); ++i) {
      const EdgeRecord& r = edges[i];
      const VertexId u = ids.Find(r.src), v = ids.Find(r.dst);
      *out++ = {u, v, r.weight, 0, 0, 0, r.lines & internal::kMaxRowLines};
      if (!directed && u != v) *out++ = {v, u, r.weight, 0, 0, 0, r.lines & internal::kMaxRowLines};
    }
  });
  edges = {};
  const size_t n = g.accounts.size();
  auto grouped = internal::GroupAndSort(std::move(rows), n, config.threads);
  internal::MergeDuplicates(grouped, config.self_loops, config.duplicates,
                            &rep.follow_self_loops_dropped, &rep.follow_duplicates_merged);
  g.following = internal::BuildCsr(grouped, {.weights = true}, config.threads);
  if (directed) {
    grouped = internal::Reverse(std::move(grouped), n, config.threads);
    g.followers = internal::BuildCsr(grouped, {.weights = true}, config.threads);
  } else {
    g.followers = g.following;
  }
  g.engagements.offsets.assign(n + 1, 0);
  g.authored.offsets.assign(n + 1, 0);
  rep.seconds = Seconds(start);
  return g;
}

}  // namespace

BulkVector<EdgeRecord> ReadEdgeList(const std::string& path, const IngestConfig& config, FileReport* report,
                                    ByteRange range, bool read_weights) {
  config.Validate();
  FileReport local;
  return internal::ParseFile<EdgeRecord>(
      path, config, report != nullptr ? report : &local,
      [read_weights](const std::string_view* f, size_t n, EdgeRecord* r) -> LineError {
        if (auto e = CheckFieldCount(n, 2, 3, "src, dst[, weight]"); !e.empty()) return e;
        if (auto e = ParseId(f[0], "src", &r->src); !e.empty()) return e;
        if (auto e = ParseId(f[1], "dst", &r->dst); !e.empty()) return e;
        r->weight = 1.0f;
        if (read_weights && n > 2 && (!internal::ParseFloat(f[2], &r->weight) || !(r->weight > 0.0f)))
          return StrCat("bad weight '", Excerpt(f[2]), "' (expected a finite number > 0)");
        return {};
      },
      range);
}

SocialGraph LoadEdgeList(const std::string& path, bool directed, const IngestConfig& config,
                         IngestReport* report) {
  config.Validate();
  const auto start = std::chrono::steady_clock::now();
  IngestReport local_report;
  IngestReport& rep = report != nullptr ? *report : local_report;
  rep = IngestReport{};
  rep.files.emplace_back();
  auto edges = ReadEdgeList(path, config, &rep.files.back());
  return BuildEdgeListGraph(std::move(edges), directed, config, rep, start);
}

HeaderPolicy ParseHeaderPolicy(std::string_view value) {
  if (value == "yes") return HeaderPolicy::kYes;
  if (value == "no") return HeaderPolicy::kNo;
  if (value != "auto") GR_THROW(ErrorCode::kInvalidArgument, "header must be auto, yes or no, not '", Excerpt(value), "'");
  return HeaderPolicy::kAuto;
}

SocialGraph LoadEdgeListWithStringIds(const std::string& path, bool directed, const IngestConfig& config,
                                      std::vector<std::string>* names, IngestReport* report) {
  config.Validate();
  GR_CHECK(config.header != HeaderPolicy::kAuto, "with string ids a header cannot be told from data: say whether ",
           "line 1 of ", path, " is a header (--header yes or --header no)");
  std::unordered_map<std::string, ExternalId> id_of;
  names->clear();
  auto intern = [&](std::string_view name) {
    const auto [at, added] = id_of.try_emplace(std::string(name), names->size());
    if (added) names->emplace_back(name);
    return at->second;
  };
  std::vector<ExternalId> src, dst;
  std::vector<float> weights;
  bool weighted = false;
  IngestReport local_report;
  FileReport file{.path = path};
  internal::BlockReader reader(path, config.block_bytes);
  std::string_view block, fields[internal::kMaxFields + 1];
  uint64_t line_number = 0;
  while (reader.Next(&block)) {
    while (!block.empty()) {
      const size_t nl = block.find('\n');
      std::string_view line = block.substr(0, nl);
      block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
      ++line_number;
      ++file.lines;
      while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == '#') {
        ++file.skipped_lines;
        continue;
      }
      if (line_number == 1 && config.header == HeaderPolicy::kYes) {
        file.header = true;
        continue;
      }
      const size_t n = internal::SplitFields(line, fields);
      float weight = 1.0f;
      LineError error = CheckFieldCount(n, 2, 3, "src, dst[, weight]");
      if (error.empty() && n > 2 && (!internal::ParseFloat(fields[2], &weight) || !(weight > 0.0f)))
        error = StrCat("bad weight '", Excerpt(fields[2]), "' (expected a finite number > 0)");
      if (!error.empty()) {
        std::string message = StrCat(path, ":", line_number, ": ", error, " (line: '", internal::ShortLine(line), "')");
        if (!config.skip_bad_lines)
          GR_THROW(ErrorCode::kInvalidArgument, message, "; fix the line or pass --skip-bad-lines to skip such lines");
        ++file.bad_lines;
        if (file.bad_examples.size() < config.max_bad_line_examples) file.bad_examples.push_back(std::move(message));
        continue;
      }
      src.push_back(intern(fields[0]));
      dst.push_back(intern(fields[1]));
      weights.push_back(weight);
      weighted |= n > 2;
      ++file.records;
    }
  }
  if (!weighted) weights.clear();
  SocialGraph g = EdgeListGraph(src, dst, weights, directed, config, report != nullptr ? report : &local_report);
  (report != nullptr ? report : &local_report)->files.push_back(std::move(file));
  return g;
}

SocialGraph EdgeListGraph(std::span<const ExternalId> src, std::span<const ExternalId> dst,
                          std::span<const float> weights, bool directed, const IngestConfig& config,
                          IngestReport* report) {
  config.Validate();
  GR_CHECK(src.size() == dst.size(), "src has ", src.size(), " ids but dst ", dst.size());
  GR_CHECK(weights.empty() || weights.size() == src.size(), "weights has ", weights.size(), " values for ",
           src.size(), " edges");
  const auto start = std::chrono::steady_clock::now();
  IngestReport local_report;
  IngestReport& rep = report != nullptr ? *report : local_report;
  rep = IngestReport{};
  BulkVector<EdgeRecord> edges(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    const float weight = weights.empty() ? 1.0f : weights[i];
    GR_CHECK(weight > 0.0f && std::isfinite(weight), "edge ", i, " (", src[i], " -> ", dst[i], "): weight ", weight,
             " is not a finite number > 0");
    edges[i] = {src[i], dst[i], weight, 1};
  }
  return BuildEdgeListGraph(std::move(edges), directed, config, rep, start);
}

}  // namespace gr::graph
