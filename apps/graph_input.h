// Inputs commands share: the graph a command works on (a snapshot,
// recognised by its magic, a directory of input files, or a text edge list
// "src dst [weight]"), and
// files of ids (recall --ids-file, rank --posts-file).
#pragma once

#include <string>
#include <vector>

#include "core/ids.h"
#include "graph/ingest.h"
#include "graph/social_graph.h"

namespace gr::apps {

// How a text edge list is read: `--ids integer|string`, `--header auto|yes|no`.
struct GraphInputOptions {
  bool string_ids = false;
  graph::HeaderPolicy header = graph::HeaderPolicy::kAuto;
};

// Reads `path` as a snapshot if it starts with the snapshot magic, as input
// files (graph::InputFilesIn, ingested with the default weights) if it is a
// directory, else as an edge list (directed or undirected). With string ids, *names receives each
// vertex's string by external id (names must then be given; a snapshot is
// refused). Logs what was loaded.
graph::SocialGraph LoadGraphInput(const std::string& path, bool directed, const GraphInputOptions& options = {},
                                  std::vector<std::string>* names = nullptr);

// True if `path` starts with the snapshot magic (false if unreadable).
bool IsSnapshotFile(const std::string& path);

// Appends the ids in `path` (one per line; blank and '#' lines skipped) to
// `ids`. Throws kIo if unreadable, kInvalidArgument naming path:line and
// `what` ("an account id") for a line that is not an unsigned integer.
void ReadIdFile(const std::string& path, const char* what, std::vector<ExternalId>& ids);

}  // namespace gr::apps
