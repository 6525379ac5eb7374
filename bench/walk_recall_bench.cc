// The walk recall kernel (recall/walk_recall) without gRPC: a version's
// graph snapshot in a LiveGraph, optionally a delta of random follows and
// interactions on top (spread over all accounts, the cache's worst case),
// then WalkRecall for random accounts with edges, one thread. Prints one
// JSON line: microseconds per query and the delta's size. Profile it with
// perf record; compare builds with bench/run_ab.sh-style A/B runs.
//   walk_recall_bench GRAPH_SNAP [QUERIES [DELTA_EDGES [TARGET posts|authors [MAX_STEPS]]]]
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "core/rng.h"
#include "graph/live_graph.h"
#include "graph/snapshot.h"
#include "recall/walk_recall.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: walk_recall_bench GRAPH_SNAP [QUERIES [DELTA_EDGES [posts|authors [MAX_STEPS]]]]\n");
    return 2;
  }
  const size_t queries = argc > 2 ? std::stoul(argv[2]) : 2000;
  const size_t delta_edges = argc > 3 ? std::stoul(argv[3]) : 0;
  const bool posts = argc <= 4 || std::string(argv[4]) != "authors";
  gr::recall::WalkRecallConfig config;
  if (argc > 5) config.max_steps = static_cast<uint32_t>(std::stoul(argv[5]));

  auto base = std::make_shared<const gr::graph::SocialGraph>(gr::graph::LoadSnapshot(argv[1]));
  gr::graph::LiveGraph live(base);
  const size_t accounts = base->num_accounts(), num_posts = base->num_posts();
  gr::FastRng rng(42);
  uint32_t newest = 0;
  for (const uint32_t t : base->post_time) newest = std::max(newest, t);
  for (size_t i = 0; i < delta_edges; ++i) {
    const gr::ExternalId a = base->accounts.ToExternal(static_cast<gr::VertexId>(rng.Uniform(accounts)));
    if (i % 2 == 0 || num_posts == 0) {
      live.Follow(a, base->accounts.ToExternal(static_cast<gr::VertexId>(rng.Uniform(accounts))), newest + static_cast<uint32_t>(i / 1000));
    } else {
      live.Interact(a, base->posts.ToExternal(static_cast<gr::VertexId>(rng.Uniform(num_posts))), gr::graph::InteractionType::kClick,
                    newest + static_cast<uint32_t>(i / 1000), 0);
    }
  }
  std::vector<gr::ExternalId> users;
  while (users.size() < queries) {
    const auto v = static_cast<gr::VertexId>(rng.Uniform(accounts));
    if (live.FolloweeCount(v) + live.EngagementCount(v) > 0) users.push_back(base->accounts.ToExternal(static_cast<gr::VertexId>(v)));
  }
  size_t answers = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const gr::ExternalId user : users)
    answers += gr::recall::WalkRecall(live, user, posts ? gr::recall::WalkTarget::kPosts : gr::recall::WalkTarget::kAuthors,
                                      50, true, config)
                   .size();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const nlohmann::json line = {{"queries", queries},
                               {"target", posts ? "posts" : "authors"},
                               {"max_steps", config.max_steps},
                               {"delta_edges", delta_edges},
                               {"delta_bytes", live.DeltaMemoryBytes()},
                               {"mean_answers", static_cast<double>(answers) / static_cast<double>(queries)},
                               {"us_per_query", seconds * 1e6 / static_cast<double>(queries)}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}
