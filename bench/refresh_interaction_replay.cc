// Quality by replay for the incremental refresher, interactions (issue 19;
// refresh_replay does the follows): a version built from the days before
// CUT, then the world's events from CUT on pushed hour by hour, as the
// server takes them (service::LiveEvents, a log in a temporary directory).
// After each hour, the posts users interact with in the next hour (posts
// they had not seen) are predicted by three systems answering as the
// server does for RecallPosts(EMBEDDING):
//   stale        the version as it was, over the live graph (seen posts
//                filtered with it);
//   incremental  a second copy of the version, refreshed after each hour by
//                the server's refresher (service::Refresher, the server's
//                defaults): refreshed account vectors, new and cold posts
//                set in the posts index by the post-vector rule;
//   retrained    a version built from every event before the hour's end
//                (RETRAINED/<hour>, made by run_live_recall_replay.sh refresher;
//                the ceiling), when given.
// A user without a vector the live graph knows gets the popularity fallback,
// as from the server. Figures per hour: recall@K of the next hour's posts
// (up to USERS users), and two AUCs of the next hour's (user, post)
// interactions with posts published by the hour's end, each against the same
// user with a post it had not seen: any post published by then ("auc"), and
// one of about the same age ("auc_same_age": the 50 published nearest to it,
// so a version cannot win by its posts' age alone); scored by cos(user's
// query vector, the post's vector in the posts index), a post without a
// vector (stale: every post newer than the version) below every cosine, a
// user without one every post alike (ties count a half). One JSON line per hour,
// then the means and the share of the stale-to-retrained gap the
// incremental system recovers.
//   refresh_interaction_replay ARTIFACTS WORLD CUT_UNIX_S [PERIODS [USERS [K [RETRAINED [LEARNING_RATE]]]]]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bench/replay_events.h"
#include "core/error.h"
#include "core/matrix.h"
#include "service/live_events.h"
#include "service/live_recall.h"
#include "service/refresher.h"
#include "service/server.h"
#include "version/version_store.h"

namespace {

using namespace gr;

struct System {
  std::shared_ptr<const service::Model> model;
  service::LiveState live;
  std::shared_ptr<const service::RefreshedVectors> refreshed;  // null: none
};

// The user's query vector as the server searches with it; empty if none.
std::vector<float> QueryOf(const System& s, ExternalId user) {
  if (s.refreshed != nullptr)
    if (const std::vector<float>* v = s.refreshed->Find(s.model->version, user)) return *v;
  const auto row = s.model->account_row.find(user);
  if (row == s.model->account_row.end()) return {};
  const auto r = s.model->table.input.Row(row->second);
  return {r.begin(), r.end()};
}

// RecallPosts(EMBEDDING, exclude seen) as GraphrecService::Recall answers it.
std::vector<recall::RecallResult> RecallPosts(const System& s, ExternalId user, size_t k) {
  const std::vector<float> query = QueryOf(s, user);
  if (query.empty()) {
    if (s.live.graph->FindAccount(user) == kNoVertex) return {};
    return service::PopularFallback(*s.model, s.live, recall::RecallKind::kPosts, user, k, true);
  }
  try {
    return service::RecallBySource(*s.model, s.live, recall::RecallKind::kPosts, user, k, true,
                                   service::RecallSource::kEmbedding, {}, query);
  } catch (const Error&) {
    return {};
  }
}

// cos(query, the post's indexed vector); -2 (below any cosine) without one.
float PostScore(const System& s, const std::vector<float>& query, ExternalId post) {
  if (query.empty()) return 0;
  const std::optional<std::vector<float>> v = s.model->recaller->IndexedVector(recall::RecallKind::kPosts, post);
  if (!v) return -2;
  return static_cast<float>(Cosine(query, *v));
}

// P(positive scores above negative), ties a half.
double Auc(const std::vector<std::pair<float, float>>& pairs) {
  if (pairs.empty()) return 0;
  double wins = 0;
  for (const auto& [pos, neg] : pairs) wins += pos > neg ? 1.0 : pos == neg ? 0.5 : 0.0;
  return wins / static_cast<double>(pairs.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: refresh_interaction_replay ARTIFACTS WORLD CUT_UNIX_S [PERIODS [USERS [K [RETRAINED [LEARNING_RATE]]]]]\n");
    return 2;
  }
  try {
    const std::string artifacts = argv[1], world = argv[2];
    const auto cut = static_cast<uint32_t>(std::stoul(argv[3]));
    const int periods = argc > 4 ? std::stoi(argv[4]) : 24;
    const size_t max_users = argc > 5 ? std::stoul(argv[5]) : 300;
    const size_t k = argc > 6 ? std::stoul(argv[6]) : 50;
    const std::string retrained_dir = argc > 7 && std::string(argv[7]) != "-" ? argv[7] : "";
    constexpr uint32_t kHour = 3600;

    const std::string version = version::ReadCurrentVersion(artifacts);
    const auto stale_model = service::Model::Load(artifacts, version);
    const auto refreshed_model = service::Model::Load(artifacts, version);  // its indices are updated in place
    char log_dir[] = "/tmp/refresh_interaction_replay.XXXXXX";
    GR_CHECK(mkdtemp(log_dir) != nullptr, "cannot make a temporary directory");
    service::LiveEvents events(log_dir, {.sync = stream::SyncPolicy::kNone});
    events.Rebuild(refreshed_model);
    events.TakeTouched();
    const service::ServerOptions server;  // the refresher as the server runs it
    service::Refresher refresher(embed::RowRefreshConfig{.walks_per_row = server.refresh_walks,
                                                         .learning_rate = argc > 8 ? std::stof(argv[8])
                                                                                   : server.refresh_learning_rate,
                                                         .new_edge_share = server.refresh_new_follow_share,
                                                         .threads = 1});

    const bench::WorldEvents world_events = bench::ReadWorldEvents(world, cut, periods, kHour);
    // Posts by publication time, for the AUC's negatives.
    std::vector<std::pair<uint32_t, ExternalId>> posts_by_time;
    for (const auto& r : graph::ReadPosts(world + "/posts.tsv", {})) posts_by_time.emplace_back(r.time, r.post);
    std::sort(posts_by_time.begin(), posts_by_time.end());
    std::unordered_map<ExternalId, size_t> position;  // in posts_by_time
    for (size_t i = 0; i < posts_by_time.size(); ++i) position[posts_by_time[i].second] = i;

    const std::vector<std::string> names = {"stale", "incremental", "retrained"};
    std::map<std::string, double> recall_sum, auc_sum, auc_same_age_sum;
    int measured_periods = 0, gap_periods = 0;
    double gap_recovered = 0;
    std::mt19937_64 rng(7);
    for (int h = 0; h + 1 < periods; ++h) {
      const auto& hour_events = world_events.by_period[static_cast<size_t>(h)];
      if (!hour_events.empty()) events.Push(hour_events);
      const service::RefreshPassReport pass = refresher.Pass(*events.state(), events.TakeTouched());
      const std::shared_ptr<const service::LiveState> live = events.state();
      std::vector<System> systems = {{stale_model, {stale_model, live->graph, 0}, nullptr},
                                     {refreshed_model, *live, refresher.vectors()}};
      const uint32_t hour_end = cut + kHour * static_cast<uint32_t>(h + 1);
      if (!retrained_dir.empty()) {
        const std::string dir = retrained_dir + "/" + std::to_string(h + 1);
        auto model = service::Model::Load(dir, version::ReadCurrentVersion(dir));
        auto graph = std::make_shared<graph::LiveGraph>(std::shared_ptr<const graph::SocialGraph>(model, &model->graph));
        systems.push_back({model, {model, graph, 0}, nullptr});
      }
      // The next hour's interactions with posts the user had not seen.
      std::map<ExternalId, std::set<ExternalId>> targets;
      std::map<ExternalId, std::unordered_set<ExternalId>> seen;
      for (const stream::Event& e : world_events.by_period[static_cast<size_t>(h + 1)]) {
        if (e.kind != stream::EventKind::kInteraction) continue;
        auto [it, inserted] = seen.try_emplace(e.actor);
        if (inserted)
          if (const VertexId u = live->graph->FindAccount(e.actor); u != kNoVertex)
            for (const auto& i : live->graph->Engagements(u)) it->second.insert(live->graph->PostId(i.post));
        if (!it->second.contains(e.object)) targets[e.actor].insert(e.object);
      }
      // AUC pairs: each target published by the hour's end (nothing can
      // score a later one) against a post the user had not seen: any post
      // published by then, and one of about the same age (of the 50 posts
      // published nearest to it), where a version's age alone cannot win.
      const size_t published = static_cast<size_t>(
          std::lower_bound(posts_by_time.begin(), posts_by_time.end(), std::pair<uint32_t, ExternalId>{hour_end, 0}) -
          posts_by_time.begin());
      auto pick_negative = [&](ExternalId user, size_t from, size_t to) {  // a post of [from, to)
        ExternalId negative = 0;
        for (int tries = 0; tries < 20; ++tries) {
          negative = posts_by_time[std::uniform_int_distribution<size_t>(from, to - 1)(rng)].second;
          if (!seen[user].contains(negative) && !targets[user].contains(negative)) break;
        }
        return negative;
      };
      struct Pair {
        ExternalId user, positive, any_negative, same_age_negative;
      };
      std::vector<Pair> pairs;
      for (const auto& [user, posts] : targets)
        for (const ExternalId post : posts) {
          const auto at = position.find(post);
          if (at == position.end() || at->second >= published) continue;
          const size_t from = at->second >= 25 ? at->second - 25 : 0, to = std::min(published, at->second + 26);
          pairs.push_back({user, post, pick_negative(user, 0, published), pick_negative(user, from, to)});
        }
      std::vector<ExternalId> users;
      for (const auto& [user, posts] : targets) users.push_back(user);
      std::shuffle(users.begin(), users.end(), rng);
      if (users.size() > max_users) users.resize(max_users);

      nlohmann::json line = {{"hour", h + 1},
                             {"events", hour_events.size()},
                             {"refreshed_accounts", pass.refreshed},
                             {"posts_indexed", pass.posts_indexed},
                             {"users", users.size()},
                             {"pairs", pairs.size()}};
      std::map<std::string, double> recall_at_k, auc, auc_same_age;
      for (size_t si = 0; si < systems.size(); ++si) {
        const System& s = systems[si];
        double recall_total = 0;
        for (const ExternalId user : users) {
          size_t hits = 0;
          for (const auto& r : RecallPosts(s, user, k)) hits += targets[user].contains(r.id);
          recall_total += static_cast<double>(hits) / static_cast<double>(targets[user].size());
        }
        std::vector<std::pair<float, float>> any_age, same_age, any_age_new, any_age_old;
        std::vector<float> query;
        ExternalId query_user = 0;
        for (const Pair& p : pairs) {
          if (query.empty() || p.user != query_user) query = QueryOf(s, p.user), query_user = p.user;
          const float positive = PostScore(s, query, p.positive);
          any_age.emplace_back(positive, PostScore(s, query, p.any_negative));
          (posts_by_time[position.at(p.positive)].first >= cut ? any_age_new : any_age_old).push_back(any_age.back());
          same_age.emplace_back(positive, PostScore(s, query, p.same_age_negative));
        }
        recall_at_k[names[si]] = users.empty() ? 0 : recall_total / static_cast<double>(users.size());
        auc[names[si]] = Auc(any_age);
        auc_same_age[names[si]] = Auc(same_age);
        line[names[si]] = {
            {"recall_at_k", recall_at_k[names[si]]}, {"auc", auc[names[si]]}, {"auc_same_age", auc_same_age[names[si]]},
            {"auc_new_posts", Auc(any_age_new)}, {"auc_old_posts", Auc(any_age_old)}, {"new_post_pairs", any_age_new.size()}};
      }
      if (!users.empty()) {
        ++measured_periods;
        for (const auto& [name, value] : recall_at_k) recall_sum[name] += value;
        for (const auto& [name, value] : auc) auc_sum[name] += value;
        for (const auto& [name, value] : auc_same_age) auc_same_age_sum[name] += value;
        if (auc.contains("retrained") && auc["retrained"] - auc["stale"] > 0.002) {
          const double share = (auc["incremental"] - auc["stale"]) / (auc["retrained"] - auc["stale"]);
          line["auc_gap_recovered"] = share;
          gap_recovered += share;
          ++gap_periods;
        }
      }
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
    }
    nlohmann::json means = {{"k", k}, {"periods", measured_periods}};
    for (const auto& [name, total] : recall_sum)
      means[name] = {{"recall_at_k", total / std::max(1, measured_periods)},
                     {"auc", auc_sum[name] / std::max(1, measured_periods)},
                     {"auc_same_age", auc_same_age_sum[name] / std::max(1, measured_periods)}};
    if (gap_periods > 0) means["auc_gap_recovered_mean_of_hours"] = gap_recovered / gap_periods;
    if (recall_sum.contains("retrained"))
      for (const auto& [figure, sums] :
           {std::pair{"auc", &auc_sum}, {"auc_same_age", &auc_same_age_sum}, {"recall_at_k", &recall_sum}})
        if (const double gap = (*sums)["retrained"] - (*sums)["stale"]; gap > 0)
          means[std::string(figure) + "_gap_recovered"] = ((*sums)["incremental"] - (*sums)["stale"]) / gap;
    std::printf("%s\n", means.dump().c_str());
    std::filesystem::remove_all(log_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refresh_interaction_replay: %s\n", e.what());
    return 1;
  }
  return 0;
}
