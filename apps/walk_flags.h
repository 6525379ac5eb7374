// The walk flags shared by `graphrec walk` and `graphrec embed` (node2vec /
// PecanPy names), and their translation into a WalkConfig.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "walk/random_walk.h"

namespace gr::apps {

struct WalkFlags {
  std::string input;
  bool directed = false;
  std::string kind = "auto";
  std::string direction;  // empty = out with --directed, else both
  walk::WalkConfig config;
};

// Registers --input, --num-walks, --walk-length, --p, --q, --weighted,
// --directed, --direction, --kind, --metapath, --workers, --seed on cmd.
void AddWalkFlags(CLI::App* cmd, WalkFlags& flags);

// The WalkConfig the flags ask for (kind "auto" resolved, direction set).
walk::WalkConfig ResolveWalkConfig(const WalkFlags& flags);

}  // namespace gr::apps
