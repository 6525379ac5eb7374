#include "apps/graph_input.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <fstream>

#include "graph/ingest.h"
#include "graph/snapshot.h"

namespace gr::apps {

graph::SocialGraph LoadGraphInput(const std::string& path, bool directed) {
  uint32_t magic = 0;
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&magic), sizeof(magic));
  graph::SocialGraph g;
  if (magic == graph::kSnapshotMagic) {
    g = graph::LoadSnapshot(path);
    spdlog::info("loaded snapshot {}: {} accounts, {} posts, {} follow edges", path, g.num_accounts(),
                 g.num_posts(), g.following.num_edges());
  } else {
    graph::IngestReport report;
    g = graph::LoadEdgeList(path, directed, {}, &report);
    spdlog::info("loaded {} edge list {}: {} vertices, {} edges ({} self-loops dropped, {} duplicates merged)",
                 directed ? "directed" : "undirected", path, g.num_accounts(), g.following.num_edges(),
                 report.follow_self_loops_dropped, report.follow_duplicates_merged);
  }
  return g;
}

}  // namespace gr::apps
