// A synthetic microblog world with known hidden structure, written as the
// input files of DESIGN.md, so that quality can be measured against ground
// truth. It is the built-in default data set of the README's main command,
// the tests and the benchmarks. The model is documented in README.md
// ("graphrec generate").
//
// Output depends only on the config (seed included), never on the thread
// count: every random draw comes from an Rng derived from (seed, stream,
// entity). Accounts are generated in blocks, so memory stays bounded by the
// per-account and per-post tables (tens of bytes each) plus one block of text.
#pragma once

#include <cstdint>
#include <string>

namespace gr::synth {

struct WorldConfig {
  uint64_t accounts = 2000;           // >= 10
  uint32_t topics = 20;               // hidden communities, >= 2
  uint32_t days = 14;                 // days of posts, interactions and impressions, >= 1
  int64_t start_time = 1767225600;    // Unix seconds of day 0 (2026-01-01 00:00 UTC)
  double author_share = 0.1;          // share of accounts that post, (0, 1]
  double celebrity_share = 0.002;     // share of authors that are celebrities, [0, 1)
  double celebrity_boost = 100;       // popularity multiplier of a celebrity, >= 1
  double mean_follows = 30;           // mean out-degree (log-normal), > 0
  double follow_sigma = 1.0;          // log-normal sigma of the out-degree, >= 0
  double topic_follow_share = 0.8;    // follows chosen within the follower's topics, [0, 1]
  double random_follow_share = 0.05;  // uniform random follows (noise); the rest go by popularity
  double reciprocity = 0.15;          // chance a followed non-celebrity follows back, [0, 1]
  double posts_per_author_day = 0.5;  // mean posts per author per day, > 0
  double clicks_per_account_day = 2;  // mean clicks per active account per day, >= 0
  double like_rate = 0.25;            // P(like | click) at full topic affinity, [0, 1]
  double comment_rate = 0.04;         // P(comment | click) at full affinity, [0, 1]
  double repost_rate = 0.03;          // P(repost | click) at full affinity, [0, 1]
  uint32_t impressions_per_account = 20;  // ranker training rows per account
  double video_share = 0.3;           // share of posts that are videos, [0, 1]
  bool gzip = false;                  // write .tsv.gz instead of .tsv
  uint64_t seed = 1;
  int threads = 0;                    // 0 = all cores; output does not depend on it

  void Validate() const;  // throws kInvalidArgument naming the field
};

// File names written into the output directory (".gz" appended when gzip).
inline constexpr const char* kFollowsFile = "follows.tsv";
inline constexpr const char* kPostsFile = "posts.tsv";
inline constexpr const char* kInteractionsFile = "interactions.tsv";
inline constexpr const char* kImpressionsFile = "impressions.tsv";
inline constexpr const char* kAccountTopicsFile = "account_topics.tsv";  // account_id, topic
inline constexpr const char* kPostTopicsFile = "post_topics.tsv";        // post_id, topic

struct WorldSummary {
  uint64_t accounts = 0, authors = 0, celebrities = 0, posts = 0;
  uint64_t follows = 0, interactions = 0, impressions = 0;
  uint64_t clicked_impressions = 0, interacted_impressions = 0;
  uint64_t negative_impressions = 0, profile_visits = 0, completed_videos = 0;
  double seconds = 0;
  std::string ToText() const;
};

// Writes every file into `out_dir` (created if missing). Each file is
// written under a temporary name and renamed when complete. Throws kIo.
WorldSummary GenerateWorld(const WorldConfig& config, const std::string& out_dir);

// External id of account number i (0-based generation order): a bijective
// scramble into [1, 2^48), so ids are large, sparse and not in file order.
uint64_t AccountExternalId(uint64_t index);

}  // namespace gr::synth
