#include "apps/graph_input.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"

namespace gr::apps {

bool IsSnapshotFile(const std::string& path) {
  uint32_t magic = 0;
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&magic), sizeof(magic));
  return magic == graph::kSnapshotMagic;
}

graph::SocialGraph LoadGraphInput(const std::string& path, bool directed, const GraphInputOptions& options,
                                  std::vector<std::string>* names) {
  const bool snapshot = IsSnapshotFile(path);
  graph::SocialGraph g;
  if (std::filesystem::is_directory(path)) {
    GR_CHECK(!options.string_ids, path, " is an input directory: its ids are integers (drop --ids string)");
    const graph::InputFiles files = graph::InputFilesIn(path);
    graph::IngestReport report;
    g = graph::Ingest(files, {.header = options.header}, &report);
    spdlog::info("ingested {}: {} accounts, {} posts, {} follow edges, {} interaction edges", path, g.num_accounts(),
                 g.num_posts(), g.following.num_edges(), g.engagements.num_edges());
  } else if (options.string_ids) {
    GR_CHECK(!snapshot, path, " is a snapshot: its ids are integers (drop --ids string)");
    GR_CHECK(names != nullptr, "--ids string is not available for this command");
    graph::IngestReport report;
    g = graph::LoadEdgeListWithStringIds(path, directed, {.header = options.header}, names, &report);
    spdlog::info("loaded {} edge list {} with string ids: {} vertices, {} edges ({} self-loops dropped, {} duplicates "
                 "merged)", directed ? "directed" : "undirected", path, g.num_accounts(), g.following.num_edges(),
                 report.follow_self_loops_dropped, report.follow_duplicates_merged);
  } else if (snapshot) {
    g = graph::LoadSnapshot(path);
    spdlog::info("loaded snapshot {}: {} accounts, {} posts, {} follow edges", path, g.num_accounts(),
                 g.num_posts(), g.following.num_edges());
  } else {
    graph::IngestReport report;
    g = graph::LoadEdgeList(path, directed, {.header = options.header}, &report);
    spdlog::info("loaded {} edge list {}: {} vertices, {} edges ({} self-loops dropped, {} duplicates merged)",
                 directed ? "directed" : "undirected", path, g.num_accounts(), g.following.num_edges(),
                 report.follow_self_loops_dropped, report.follow_duplicates_merged);
  }
  return g;
}

void ReadIdFile(const std::string& path, const char* what, std::vector<ExternalId>& ids) {
  std::ifstream in(path);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open ", path);
  std::string line;
  for (size_t line_number = 1; std::getline(in, line); ++line_number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    ExternalId id = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
    GR_CHECK_CODE(ec == std::errc() && end == line.data() + line.size(), ErrorCode::kInvalidArgument, path, ":",
                  line_number, ": expected ", what, ", got '", Excerpt(line), "'");
    ids.push_back(id);
  }
}

}  // namespace gr::apps
