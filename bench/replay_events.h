// A world's events from a cut on, by period, for the replay benchmarks
// (live_recall_replay, refresh_interaction_replay): posts, follows and
// interactions of the input files as the server's events, each period's in
// time order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/ingest.h"
#include "stream/event.h"

namespace gr::bench {

struct WorldEvents {
  std::vector<std::vector<stream::Event>> by_period;
  // (time, post) of every interaction of the world, cut or not, by time: the
  // POPULAR baseline counts them.
  std::vector<std::pair<uint32_t, ExternalId>> interaction_times;
};

inline WorldEvents ReadWorldEvents(const std::string& world, uint32_t cut, int periods, uint32_t period_s) {
  using stream::EventKind;
  WorldEvents w;
  w.by_period.resize(static_cast<size_t>(periods));
  auto add = [&](const stream::Event& e) {
    if (e.time < cut || uint64_t{e.time} >= cut + uint64_t{period_s} * static_cast<uint64_t>(periods)) return;
    w.by_period[(e.time - cut) / period_s].push_back(e);
  };
  const graph::IngestConfig config;
  for (const auto& r : graph::ReadPosts(world + "/posts.tsv", config))
    add({.kind = EventKind::kPost, .time = r.time, .actor = r.author, .object = r.post});
  for (const auto& r : graph::ReadFollows(world + "/follows.tsv", config))
    add({.kind = EventKind::kFollow, .time = r.time, .actor = r.src, .object = r.dst});
  for (const auto& r : graph::ReadInteractions(world + "/interactions.tsv", config)) {
    add({.kind = EventKind::kInteraction, .interaction = r.type, .time = r.time, .dwell_ms = r.dwell_ms,
         .actor = r.account, .object = r.post});
    w.interaction_times.emplace_back(r.time, r.post);
  }
  std::sort(w.interaction_times.begin(), w.interaction_times.end());
  for (auto& events : w.by_period)
    std::stable_sort(events.begin(), events.end(),
                     [](const stream::Event& a, const stream::Event& b) { return a.time < b.time; });
  return w;
}

}  // namespace gr::bench
