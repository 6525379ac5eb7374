#include "synth/world.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unordered_set>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "synth/internal/text_rows.h"

namespace gr::synth {
namespace {

using internal::Append;
using internal::AppendClick;
using internal::AppendRow;
using internal::TextOut;

// Independent random streams per entity.
enum Stream : uint64_t { kAccountStream = 1, kPostCountStream, kPostStream, kFollowStream,
                         kReciprocityStream, kInteractionStream, kImpressionStream, kMediaStream,
                         kOutcomeStream };

constexpr uint64_t kIdMask = (uint64_t{1} << 48) - 1;
constexpr int kInterests = 3;
constexpr uint64_t kBlockAccounts = 8192;
constexpr double kDay = 86400.0;

struct Account {
  std::array<uint16_t, kInterests> topics;  // topics[0] is the main topic
  std::array<float, kInterests> weights;    // interest mixture, sums to 1
  float activity;                           // mean 1, log-normal
  float popularity;                         // 0 for non-authors
  bool author;
  bool celebrity;
};

struct Post {
  uint32_t author;
  uint16_t topic;
  uint32_t time;
  float quality;  // drives how often it is shown and clicked
  uint32_t video_ms;  // 0: not a video
};

double Normal(Rng& rng) {  // Box-Muller, one value
  const double u1 = 1.0 - rng.UniformDouble(), u2 = rng.UniformDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

uint64_t Poisson(Rng& rng, double lambda) {
  if (lambda <= 0) return 0;
  if (lambda > 30) return static_cast<uint64_t>(std::max(0.0, std::round(lambda + std::sqrt(lambda) * Normal(rng))));
  const double limit = std::exp(-lambda);
  uint64_t k = 0;
  double p = rng.UniformDouble();
  while (p > limit) {
    ++k;
    p *= rng.UniformDouble();
  }
  return k;
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

uint64_t PostExternalId(uint64_t ordinal) {
  return (((ordinal + 1) * 0xD6E8FEB86659FD93ULL) & kIdMask) | (uint64_t{1} << 48);
}

// Activity by time of day and week: evening peak, quieter nights and weekends.
double Rhythm(double t) {
  const double hour = std::fmod(t / 3600.0, 24.0);
  const auto weekday = static_cast<int>(std::fmod(t / kDay + 4.0, 7.0));  // 1970-01-01 was a Thursday
  const double daily = 0.35 + 0.65 * std::pow(std::sin(M_PI * std::max(0.0, hour - 6.0) / 18.0), 2.0);
  return daily * (weekday >= 5 ? 0.8 : 1.0);
}

struct World {
  explicit World(const WorldConfig& config) : cfg(config) {}
  const WorldConfig& cfg;
  std::vector<Account> accounts;
  std::vector<Post> posts;
  std::vector<uint64_t> post_begin;  // per account + 1: its posts are [post_begin[a], post_begin[a+1])
  std::vector<std::vector<uint32_t>> topic_authors, topic_posts;
  std::vector<AliasTable> topic_author_sampler, topic_post_sampler;
  AliasTable author_sampler, post_sampler, topic_prior;
  std::vector<uint32_t> authors;
  // Each account's own follows (follow-backs excluded), sorted by target:
  // follow_target[follow_begin[a] .. follow_begin[a+1]). 8 bytes per follow.
  std::vector<uint64_t> follow_begin;
  std::vector<uint32_t> follow_target, follow_time;

  bool Follows(uint32_t a, uint32_t b) const {
    return std::binary_search(follow_target.begin() + static_cast<int64_t>(follow_begin[a]),
                              follow_target.begin() + static_cast<int64_t>(follow_begin[a + 1]), b);
  }
  double Affinity(const Account& a, uint16_t topic) const {
    for (int i = 0; i < kInterests; ++i)
      if (a.topics[i] == topic) return a.weights[i];
    return 0.0;
  }
  uint16_t SampleInterest(const Account& a, Rng& rng) const {
    double u = rng.UniformDouble();
    for (int i = 0; i < kInterests - 1; ++i) {
      if (u < a.weights[i]) return a.topics[i];
      u -= a.weights[i];
    }
    return a.topics[kInterests - 1];
  }
  uint32_t SampleAuthorInTopic(uint16_t topic, Rng& rng) const {
    if (topic_authors[topic].empty()) return authors[author_sampler.Sample(rng)];
    return topic_authors[topic][topic_author_sampler[topic].Sample(rng)];
  }
  uint32_t SamplePostInTopic(uint16_t topic, Rng& rng) const {
    if (topic_posts[topic].empty()) return post_sampler.Sample(rng);
    return topic_posts[topic][topic_post_sampler[topic].Sample(rng)];
  }
};

void MakeAccounts(World& w) {
  const WorldConfig& cfg = w.cfg;
  std::vector<double> prior(cfg.topics);
  for (uint32_t t = 0; t < cfg.topics; ++t) prior[t] = 1.0 / std::sqrt(t + 1.0);
  w.topic_prior = AliasTable(prior);
  w.accounts.resize(cfg.accounts);
  ParallelFor(static_cast<int64_t>(cfg.accounts), cfg.threads, 4096, [&](int64_t i) {
    Rng rng = Rng::ForItem(cfg.seed, kAccountStream, static_cast<uint64_t>(i));
    Account& a = w.accounts[i];
    a.topics[0] = static_cast<uint16_t>(w.topic_prior.Sample(rng));
    for (int k = 1; k < kInterests; ++k) {
      uint16_t t;
      do t = static_cast<uint16_t>(rng.Uniform(cfg.topics));
      while (std::find(a.topics.begin(), a.topics.begin() + k, t) != a.topics.begin() + k);
      a.topics[k] = t;
    }
    const double main = 0.55 + 0.35 * rng.UniformDouble();
    const double second = (1.0 - main) * (0.5 + 0.5 * rng.UniformDouble());
    a.weights = {static_cast<float>(main), static_cast<float>(second),
                 static_cast<float>(1.0 - main - second)};
    a.activity = static_cast<float>(std::exp(-0.32 + 0.8 * Normal(rng)));
    a.author = rng.UniformDouble() < cfg.author_share;
    a.celebrity = a.author && rng.UniformDouble() < cfg.celebrity_share;
    // Pareto(alpha = 1.5) popularity: a heavy tail of well-known authors.
    a.popularity = a.author ? static_cast<float>(std::pow(1.0 - rng.UniformDouble(), -1.0 / 1.5) *
                                                  (a.celebrity ? cfg.celebrity_boost : 1.0))
                            : 0.0f;
  });
}

void MakePosts(World& w) {
  const WorldConfig& cfg = w.cfg;
  const uint64_t n = cfg.accounts;
  std::vector<uint64_t> counts(n, 0);
  ParallelFor(static_cast<int64_t>(n), cfg.threads, 4096, [&](int64_t i) {
    if (!w.accounts[i].author) return;
    Rng rng = Rng::ForItem(cfg.seed, kPostCountStream, static_cast<uint64_t>(i));
    counts[i] = std::max<uint64_t>(1, Poisson(rng, cfg.posts_per_author_day * cfg.days *
                                                       std::min(4.0f, w.accounts[i].activity)));
  });
  w.post_begin.assign(n + 1, 0);
  for (uint64_t i = 0; i < n; ++i) w.post_begin[i + 1] = w.post_begin[i] + counts[i];
  w.posts.resize(w.post_begin[n]);
  ParallelFor(static_cast<int64_t>(n), cfg.threads, 4096, [&](int64_t i) {
    const Account& a = w.accounts[i];
    if (!a.author) return;
    Rng rng = Rng::ForItem(cfg.seed, kPostStream, static_cast<uint64_t>(i));
    for (uint64_t p = w.post_begin[i]; p < w.post_begin[i + 1]; ++p) {
      Post& post = w.posts[p];
      post.author = static_cast<uint32_t>(i);
      post.topic = rng.UniformDouble() < 0.8 ? a.topics[0] : w.SampleInterest(a, rng);
      post.time = static_cast<uint32_t>(cfg.start_time + static_cast<int64_t>(rng.UniformDouble() * cfg.days * kDay));
      post.quality = static_cast<float>(std::exp(0.6 * Normal(rng)) * std::sqrt(a.popularity));
      // Media from a stream of its own, so adding it left the other draws as they were.
      Rng media = Rng::ForItem(cfg.seed, kMediaStream, p);
      post.video_ms = media.UniformDouble() < cfg.video_share
                          ? static_cast<uint32_t>(std::min(6e5, 1000.0 * std::exp(std::log(45.0) + 0.8 * Normal(media))))
                          : 0;
    }
  });
}

void MakeSamplers(World& w) {
  const uint32_t topics = w.cfg.topics;
  w.topic_authors.assign(topics, {});
  w.topic_posts.assign(topics, {});
  std::vector<double> author_weights;
  for (uint32_t i = 0; i < w.accounts.size(); ++i) {
    if (!w.accounts[i].author) continue;
    w.authors.push_back(i);
    author_weights.push_back(w.accounts[i].popularity);
    w.topic_authors[w.accounts[i].topics[0]].push_back(i);
  }
  GR_CHECK(!w.authors.empty(), "the world has no authors: raise --accounts or --author-share");
  w.author_sampler = AliasTable(author_weights);
  std::vector<double> post_weights(w.posts.size());
  for (uint32_t p = 0; p < w.posts.size(); ++p) {
    post_weights[p] = w.posts[p].quality;
    w.topic_posts[w.posts[p].topic].push_back(p);
  }
  w.post_sampler = AliasTable(post_weights);
  w.topic_author_sampler.resize(topics);
  w.topic_post_sampler.resize(topics);
  for (uint32_t t = 0; t < topics; ++t) {
    std::vector<double> weights;
    for (uint32_t a : w.topic_authors[t]) weights.push_back(w.accounts[a].popularity);
    if (!weights.empty()) w.topic_author_sampler[t] = AliasTable(weights);
    weights.clear();
    for (uint32_t p : w.topic_posts[t]) weights.push_back(w.posts[p].quality);
    if (!weights.empty()) w.topic_post_sampler[t] = AliasTable(weights);
  }
}

// Draws every account's own follows: a log-normal out-degree, targets mostly
// popular authors of the account's topics, some by global popularity, some
// uniformly random (noise); most predate the window, a tenth fall inside it.
void MakeFollows(World& w) {
  const WorldConfig& cfg = w.cfg;
  const double mu = std::log(cfg.mean_follows) - cfg.follow_sigma * cfg.follow_sigma / 2.0;
  const uint64_t max_follows = std::min<uint64_t>(w.authors.size() + cfg.accounts / 10, 20000);
  w.follow_begin.assign(cfg.accounts + 1, 0);
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> block(kBlockAccounts);
  for (uint64_t first = 0; first < cfg.accounts; first += kBlockAccounts) {
    const uint64_t count = std::min(kBlockAccounts, cfg.accounts - first);
    ParallelFor(static_cast<int64_t>(count), cfg.threads, 64, [&](int64_t k) {
      const uint64_t i = first + static_cast<uint64_t>(k);
      const Account& a = w.accounts[i];
      Rng rng = Rng::ForItem(cfg.seed, kFollowStream, i);
      const auto degree = std::min<uint64_t>(
          max_follows, static_cast<uint64_t>(std::exp(mu + cfg.follow_sigma * Normal(rng))));
      auto& follows = block[k];
      follows.clear();
      std::unordered_set<uint32_t> followed;
      followed.reserve(degree * 2);
      for (uint64_t d = 0; d < degree; ++d) {
        for (int attempt = 0; attempt < 4; ++attempt) {
          const double u = rng.UniformDouble();
          uint32_t target;
          if (u < cfg.topic_follow_share) {
            target = w.SampleAuthorInTopic(w.SampleInterest(a, rng), rng);
          } else if (u < cfg.topic_follow_share + cfg.random_follow_share) {
            target = static_cast<uint32_t>(rng.Uniform(cfg.accounts));
          } else {
            target = w.authors[w.author_sampler.Sample(rng)];
          }
          if (target == i || !followed.insert(target).second) continue;
          const double t = rng.UniformDouble() < 0.9
                               ? static_cast<double>(cfg.start_time) - rng.UniformDouble() * 365 * kDay
                               : static_cast<double>(cfg.start_time) + rng.UniformDouble() * cfg.days * kDay;
          follows.emplace_back(target, static_cast<uint32_t>(t));
          break;
        }
      }
      std::sort(follows.begin(), follows.end());
    });
    for (uint64_t k = 0; k < count; ++k) {
      for (const auto& [target, time] : block[k]) {
        w.follow_target.push_back(target);
        w.follow_time.push_back(time);
      }
      w.follow_begin[first + k + 1] = w.follow_target.size();
    }
  }
}

struct AccountOutput {
  std::string follows, interactions, impressions;
  uint64_t num_follows = 0, num_interactions = 0, num_impressions = 0, clicked = 0, interacted = 0;
  uint64_t negatives = 0, profile_visits = 0, completions = 0;
};

// Follows of account i (plus follow-backs it triggers), its interactions and
// its impressions.
void MakeAccountRows(const World& w, uint64_t i, AccountOutput& out) {
  const WorldConfig& cfg = w.cfg;
  const Account& a = w.accounts[i];
  const uint64_t me = AccountExternalId(i);
  const double window_end = static_cast<double>(cfg.start_time) + cfg.days * kDay;

  // Own follows, then follow-backs this account's follows trigger; a
  // follow-back is skipped where the followee already follows this account,
  // so the file never lists an edge twice.
  Rng rng = Rng::ForItem(cfg.seed, kReciprocityStream, i);
  std::vector<uint32_t> followed_authors;
  for (uint64_t e = w.follow_begin[i]; e < w.follow_begin[i + 1]; ++e) {
    const uint32_t target = w.follow_target[e];
    const uint32_t t = w.follow_time[e];
    AppendRow(out.follows, me, AccountExternalId(target), t);
    ++out.num_follows;
    if (w.post_begin[target + 1] > w.post_begin[target]) followed_authors.push_back(target);
    if (!w.accounts[target].celebrity && rng.UniformDouble() < cfg.reciprocity &&
        !w.Follows(target, static_cast<uint32_t>(i))) {
      const double back = std::min(window_end - 1, t + rng.UniformDouble() * 3 * kDay);
      AppendRow(out.follows, AccountExternalId(target), me, static_cast<uint64_t>(back));
      ++out.num_follows;
    }
  }

  auto sample_post = [&](Rng& r, double from_followed, double from_topic) -> uint32_t {
    const double u = r.UniformDouble();
    if (u < from_followed && !followed_authors.empty()) {
      const uint32_t author = followed_authors[r.Uniform(followed_authors.size())];
      const uint64_t begin = w.post_begin[author], count = w.post_begin[author + 1] - begin;
      return static_cast<uint32_t>(begin + r.Uniform(count));
    }
    if (u < from_followed + from_topic) return w.SamplePostInTopic(w.SampleInterest(a, r), r);
    return static_cast<uint32_t>(r.Uniform(w.posts.size()));
  };
  // A time after the post, following the daily rhythm; < 0 if past the window.
  auto reaction_time = [&](Rng& r, const Post& post) -> double {
    for (int attempt = 0; attempt < 8; ++attempt) {
      const double t = post.time + -std::log(1.0 - r.UniformDouble()) * 8 * 3600.0;
      if (t >= window_end) return -1;
      if (r.UniformDouble() < Rhythm(t)) return t;
    }
    return -1;
  };

  rng = Rng::ForItem(cfg.seed, kInteractionStream, i);
  const uint64_t clicks = Poisson(rng, cfg.clicks_per_account_day * cfg.days * a.activity);
  for (uint64_t c = 0; c < clicks; ++c) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const uint32_t p = sample_post(rng, 0.5, 0.4);
      const Post& post = w.posts[p];
      const double affinity = w.Affinity(a, post.topic);
      const bool follows_author = std::binary_search(followed_authors.begin(), followed_authors.end(), post.author);
      if (post.author == i || rng.UniformDouble() > std::min(1.0, 0.1 + 0.9 * affinity + (follows_author ? 0.3 : 0.0)))
        continue;
      const double t = reaction_time(rng, post);
      if (t < 0) break;
      const uint64_t pid = PostExternalId(p);
      const auto dwell = static_cast<uint64_t>(std::exp(std::log(6000.0) + affinity + 1.0 * Normal(rng)));
      AppendClick(out.interactions, me, pid, static_cast<uint64_t>(t), dwell);
      ++out.num_interactions;
      const double reaction = 0.3 + 0.7 * affinity;
      const std::array<std::pair<const char*, double>, 3> reactions{
          {{"like", cfg.like_rate}, {"comment", cfg.comment_rate}, {"repost", cfg.repost_rate}}};
      for (const auto& [name, rate] : reactions) {
        if (rng.UniformDouble() < rate * reaction) {
          const auto when = static_cast<uint64_t>(std::min(window_end - 1, t + 1 + rng.UniformDouble() * 600));
          out.interactions += StrCat(me, "\t", pid, "\t", name, "\t", when, "\n");
          ++out.num_interactions;
        }
      }
      break;
    }
  }

  rng = Rng::ForItem(cfg.seed, kImpressionStream, i);
  // The sparse outcomes draw from a stream of their own, so adding them left
  // clicks, interactions and dwell as they were.
  Rng outcome_rng = Rng::ForItem(cfg.seed, kOutcomeStream, i);
  for (uint32_t k = 0; k < cfg.impressions_per_account; ++k) {
    const uint32_t p = sample_post(rng, 0.35, 0.3);
    const Post& post = w.posts[p];
    const double t = std::max<double>(post.time, static_cast<double>(cfg.start_time) +
                                                    rng.UniformDouble() * cfg.days * kDay);
    const double affinity = w.Affinity(a, post.topic);
    const bool follows_author = std::binary_search(followed_authors.begin(), followed_authors.end(), post.author);
    const double p_click = Sigmoid(-2.2 + 3.0 * affinity + 1.0 * follows_author + 0.4 * std::log(post.quality));
    const bool clicked = rng.UniformDouble() < p_click;
    const bool interacted = clicked && rng.UniformDouble() < Sigmoid(-3.2 + 3.0 * affinity + 0.7 * follows_author);
    const uint64_t dwell = clicked ? static_cast<uint64_t>(std::exp(std::log(6000.0) + affinity + 0.8 * Normal(rng))) : 0;
    // Negative feedback: mostly on unclicked posts off the account's topics from authors it does not follow.
    const double p_negative = clicked ? 0.005
                                      : Sigmoid(-3.4 + 2.5 * (1.0 - affinity) - 2.0 * follows_author -
                                                0.5 * std::log(post.quality));
    const bool negative = outcome_rng.UniformDouble() < p_negative;
    // Profile visits: clicks on on-topic posts from authors the account does not follow yet.
    const double p_visit = Sigmoid(-6.0 + 3.5 * clicked + 2.5 * affinity - 1.5 * follows_author);
    const bool visited = outcome_rng.UniformDouble() < p_visit;
    // Completion of a clicked video: on-topic and short videos are watched to the end.
    const double p_complete =
        Sigmoid(-0.3 + 2.5 * affinity - 0.9 * std::log(std::max(1.0, post.video_ms / 45000.0)) + 0.5 * follows_author);
    const bool completed = clicked && post.video_ms > 0 && outcome_rng.UniformDouble() < p_complete;
    AppendRow(out.impressions, me, PostExternalId(p), static_cast<uint64_t>(t), clicked, interacted, dwell, negative,
              visited, post.video_ms, completed);
    ++out.num_impressions;
    out.negatives += negative;
    out.profile_visits += visited;
    out.completions += completed;
    out.clicked += clicked;
    out.interacted += interacted;
  }
}

}  // namespace

uint64_t AccountExternalId(uint64_t index) {
  return ((index + 1) * 0x9E3779B97F4A7C15ULL) & kIdMask;
}

WorldSummary GenerateWorld(const WorldConfig& cfg, const std::string& out_dir) {
  cfg.Validate();
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) GR_THROW(ErrorCode::kIo, "cannot create directory ", out_dir, ": ", ec.message());
  auto path = [&](const char* name) {
    return (std::filesystem::path(out_dir) / name).string() + (cfg.gzip ? ".gz" : "");
  };

  World w(cfg);
  MakeAccounts(w);
  MakePosts(w);
  MakeSamplers(w);
  MakeFollows(w);

  WorldSummary summary;
  summary.accounts = cfg.accounts;
  summary.authors = w.authors.size();
  summary.posts = w.posts.size();
  for (const Account& a : w.accounts) summary.celebrities += a.celebrity;

  {
    TextOut topics(path(kAccountTopicsFile), cfg.gzip);
    std::string text = "account_id\ttopic\n";
    for (uint64_t i = 0; i < cfg.accounts; ++i) {
      AppendRow(text, AccountExternalId(i), w.accounts[i].topics[0]);
      if (text.size() > (1 << 20)) { topics.Write(text); text.clear(); }
    }
    topics.Write(text);
    topics.Commit();
  }
  {
    TextOut posts(path(kPostsFile), cfg.gzip), topics(path(kPostTopicsFile), cfg.gzip);
    std::string post_text = "post_id\tauthor_id\ttimestamp\n", topic_text = "post_id\ttopic\n";
    for (uint64_t p = 0; p < w.posts.size(); ++p) {
      AppendRow(post_text, PostExternalId(p), AccountExternalId(w.posts[p].author), w.posts[p].time);
      AppendRow(topic_text, PostExternalId(p), w.posts[p].topic);
      if (post_text.size() > (1 << 20)) {
        posts.Write(post_text);
        topics.Write(topic_text);
        post_text.clear();
        topic_text.clear();
      }
    }
    posts.Write(post_text);
    topics.Write(topic_text);
    posts.Commit();
    topics.Commit();
  }

  TextOut follows(path(kFollowsFile), cfg.gzip), interactions(path(kInteractionsFile), cfg.gzip),
      impressions(path(kImpressionsFile), cfg.gzip);
  follows.Write("follower_id\tfollowee_id\ttimestamp\n");
  interactions.Write("account_id\tpost_id\ttype\ttimestamp\tdwell_ms\n");
  impressions.Write(
      "account_id\tpost_id\ttimestamp\tclicked\tinteracted\tdwell_ms\tnegative\tprofile_visit\tvideo_ms\tcompleted\n");
  std::vector<AccountOutput> block(kBlockAccounts);
  for (uint64_t first = 0; first < cfg.accounts; first += kBlockAccounts) {
    const uint64_t count = std::min(kBlockAccounts, cfg.accounts - first);
    ParallelFor(static_cast<int64_t>(count), cfg.threads, 16, [&](int64_t k) {
      block[k] = AccountOutput{};
      MakeAccountRows(w, first + static_cast<uint64_t>(k), block[k]);
    });
    for (uint64_t k = 0; k < count; ++k) {
      follows.Write(block[k].follows);
      interactions.Write(block[k].interactions);
      impressions.Write(block[k].impressions);
      summary.follows += block[k].num_follows;
      summary.interactions += block[k].num_interactions;
      summary.impressions += block[k].num_impressions;
      summary.clicked_impressions += block[k].clicked;
      summary.interacted_impressions += block[k].interacted;
      summary.negative_impressions += block[k].negatives;
      summary.profile_visits += block[k].profile_visits;
      summary.completed_videos += block[k].completions;
    }
  }
  follows.Commit();
  interactions.Commit();
  impressions.Commit();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace gr::synth
