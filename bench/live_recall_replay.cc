// Quality by replay (issue 18): a version built from the days before CUT,
// then the world's events from CUT on streamed into a live graph period by
// period (an hour by default; a day for real data sets with day timestamps
// or few events an hour). After each period, for users who interact in the
// next one, recall@K of the posts they interact with then (posts they had
// already seen do not count) for three sources: EMBEDDING (the stale
// version's post index, seen posts filtered with the live graph), WALKS
// (random walks over the live graph) and MIXED (both by reciprocal rank),
// next to a baseline any of them should beat: POPULAR, the posts with the
// most interactions in the last 7 days (the user's seen posts left out).
// One JSON line per period, then the means: over periods, and pooled over
// every user-period (the steadier figure when periods have few users).
//   live_recall_replay ARTIFACTS WORLD CUT_UNIX_S [PERIODS [USERS [K [PERIOD_S]]]]
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "bench/replay_events.h"
#include "core/error.h"
#include "graph/live_graph.h"
#include "recall/walk_recall.h"
#include "version/version_store.h"

using gr::ExternalId;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: live_recall_replay ARTIFACTS WORLD CUT_UNIX_S [PERIODS [USERS [K [PERIOD_S]]]]\n");
    return 2;
  }
  const std::string artifacts = argv[1], world = argv[2];
  const auto cut = static_cast<uint32_t>(std::stoul(argv[3]));
  const int periods = argc > 4 ? std::stoi(argv[4]) : 24;
  const size_t max_users = argc > 5 ? std::stoul(argv[5]) : 300;
  const size_t k = argc > 6 ? std::stoul(argv[6]) : 50;
  const uint32_t period_s = argc > 7 ? static_cast<uint32_t>(std::stoul(argv[7])) : 3600;

  auto loaded = std::make_shared<gr::version::LoadedVersion>(
      gr::version::LoadVersion(artifacts, gr::version::ReadCurrentVersion(artifacts)));
  const gr::recall::Recaller recaller(loaded->graph, loaded->table, loaded->indexes);
  gr::graph::LiveGraph live(std::shared_ptr<const gr::graph::SocialGraph>(loaded, &loaded->graph));

  // The world's events from the cut on, by period.
  const gr::bench::WorldEvents world_events = gr::bench::ReadWorldEvents(world, cut, periods, period_s);
  const auto& by_period = world_events.by_period;
  const auto& interaction_times = world_events.interaction_times;

  std::map<std::string, std::vector<double>> all;
  std::map<std::string, double> pooled;
  size_t pooled_users = 0;
  std::mt19937_64 rng(7);
  for (int h = 0; h + 1 < periods; ++h) {
    for (const gr::stream::Event& e : by_period[static_cast<size_t>(h)]) {
      if (e.kind == gr::stream::EventKind::kPost) live.AddPost(e.object, e.actor, e.time);
      if (e.kind == gr::stream::EventKind::kFollow) live.Follow(e.actor, e.object, e.time);
      if (e.kind == gr::stream::EventKind::kInteraction)
        live.Interact(e.actor, e.object, static_cast<gr::graph::InteractionType>(e.interaction), e.time, e.dwell_ms);
    }
    // Next period's interactions, per user, of posts the user had not seen.
    std::map<ExternalId, std::set<ExternalId>> targets;
    for (const gr::stream::Event& e : by_period[static_cast<size_t>(h + 1)]) {
      if (e.kind != gr::stream::EventKind::kInteraction) continue;
      const gr::VertexId u = live.FindAccount(e.actor);
      bool seen = false;
      if (u != gr::kNoVertex)
        for (const auto& i : live.Engagements(u)) seen |= live.PostId(i.post) == e.object;
      if (!seen) targets[e.actor].insert(e.object);
    }
    // POPULAR: interactions of the 7 days before the period's end, most first.
    const uint32_t period_end = cut + period_s * static_cast<uint32_t>(h + 1);
    std::unordered_map<ExternalId, uint32_t> recent_counts;
    for (auto it = std::lower_bound(interaction_times.begin(), interaction_times.end(),
                                    std::pair<uint32_t, ExternalId>{period_end - std::min(period_end, 7u * 86400u), 0});
         it != interaction_times.end() && it->first < period_end; ++it)
      ++recent_counts[it->second];
    std::vector<std::pair<uint32_t, ExternalId>> popular;
    for (const auto& [post, count] : recent_counts) popular.emplace_back(count, post);
    std::sort(popular.begin(), popular.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<ExternalId> users;
    for (const auto& [user, posts] : targets) users.push_back(user);
    std::shuffle(users.begin(), users.end(), rng);
    if (users.size() > max_users) users.resize(max_users);
    std::map<std::string, double> sum;
    for (const ExternalId user : users) {
      const std::set<ExternalId>& want = targets[user];
      std::unordered_set<ExternalId> known;  // posts the user has seen
      if (const gr::VertexId u = live.FindAccount(user); u != gr::kNoVertex)
        for (const auto& i : live.Engagements(u)) known.insert(live.PostId(i.post));
      std::vector<gr::recall::RecallResult> embedding, walks, most_popular;
      try {
        embedding = recaller.Recall(gr::recall::RecallKind::kPosts, user, k + known.size(), true);
        std::erase_if(embedding, [&](const auto& r) { return known.contains(r.id); });
        if (embedding.size() > k) embedding.resize(k);
      } catch (const gr::Error&) {  // a user the version has no vector for
      }
      try {
        walks = gr::recall::WalkRecall(live, user, gr::recall::WalkTarget::kPosts, k, true);
      } catch (const gr::Error&) {
      }
      const auto mixed = gr::recall::FuseByReciprocalRank({walks, embedding}, k);
      for (size_t i = 0; i < popular.size() && most_popular.size() < k; ++i)
        if (!known.contains(popular[i].second)) most_popular.push_back({popular[i].second, static_cast<float>(popular[i].first)});
      auto recall = [&](const std::vector<gr::recall::RecallResult>& got) {
        size_t hits = 0;
        for (const auto& r : got) hits += want.contains(r.id);
        return static_cast<double>(hits) / static_cast<double>(want.size());
      };
      sum["embedding"] += recall(embedding);
      sum["walks"] += recall(walks);
      sum["mixed"] += recall(mixed);
      sum["popular"] += recall(most_popular);
    }
    for (const auto& [source, total] : sum) pooled[source] += total;
    pooled_users += users.size();
    nlohmann::json line = {{"period", h + 1}, {"users", users.size()}, {"events_applied", by_period[static_cast<size_t>(h)].size()}};
    for (const auto& [source, total] : sum) {
      const double mean = total / static_cast<double>(std::max<size_t>(1, users.size()));
      line["recall_at_k_" + source] = mean;
      if (!users.empty()) all[source].push_back(mean);
    }
    std::printf("%s\n", line.dump().c_str());
  }
  nlohmann::json means = {{"k", k}, {"periods", periods}, {"period_seconds", period_s}, {"user_periods", pooled_users}, {"version_accounts", loaded->graph.num_accounts()},
                          {"live_new_accounts", live.counts().new_accounts}, {"live_new_posts", live.counts().new_posts}};
  for (const auto& [source, values] : all) {
    double total = 0;
    for (const double v : values) total += v;
    means["mean_recall_at_k_" + source] = total / static_cast<double>(std::max<size_t>(1, values.size()));
    means["pooled_recall_at_k_" + source] = pooled[source] / static_cast<double>(std::max<size_t>(1, pooled_users));
  }
  std::printf("%s\n", means.dump().c_str());
  return 0;
}
