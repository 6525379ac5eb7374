// Loading the graph a command works on: a snapshot (recognised by its magic)
// or a text edge list "src dst [weight]". Shared by walk and embed.
#pragma once

#include <string>

#include "graph/social_graph.h"

namespace gr::apps {

// Reads `path` as a snapshot if it starts with the snapshot magic, else as an
// edge list (directed or undirected). Logs what was loaded.
graph::SocialGraph LoadGraphInput(const std::string& path, bool directed);

}  // namespace gr::apps
