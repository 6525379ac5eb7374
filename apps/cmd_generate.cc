#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/output.h"
#include "synth/world.h"

namespace gr::apps {

void AddGenerateCommand(CLI::App& app) {
  auto cfg = std::make_shared<synth::WorldConfig>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("generate", "Write a synthetic microblog world with known topics");
  cmd->add_option("--out", *out, "output directory (created if missing)")->required();
  cmd->add_option("--accounts", cfg->accounts, "number of accounts")->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "random seed; same seed = byte-identical files")->capture_default_str();
  cmd->add_option("--topics", cfg->topics, "hidden topics (communities)")->capture_default_str();
  cmd->add_option("--days", cfg->days, "days of posts, interactions and impressions")->capture_default_str();
  cmd->add_option("--start-time", cfg->start_time, "Unix seconds of day 0")->capture_default_str();
  cmd->add_option("--author-share", cfg->author_share, "share of accounts that post")->capture_default_str();
  cmd->add_option("--celebrity-share", cfg->celebrity_share, "share of authors that are celebrities")->capture_default_str();
  cmd->add_option("--celebrity-boost", cfg->celebrity_boost, "popularity multiplier of a celebrity")->capture_default_str();
  cmd->add_option("--mean-follows", cfg->mean_follows, "mean follow out-degree")->capture_default_str();
  cmd->add_option("--follow-sigma", cfg->follow_sigma, "log-normal sigma of the out-degree")->capture_default_str();
  cmd->add_option("--topic-follow-share", cfg->topic_follow_share, "share of follows within the follower's topics")->capture_default_str();
  cmd->add_option("--random-follow-share", cfg->random_follow_share, "share of uniformly random (noise) follows")->capture_default_str();
  cmd->add_option("--reciprocity", cfg->reciprocity, "chance a followed non-celebrity follows back")->capture_default_str();
  cmd->add_option("--posts-per-author-day", cfg->posts_per_author_day, "mean posts per author per day")->capture_default_str();
  cmd->add_option("--clicks-per-account-day", cfg->clicks_per_account_day, "mean clicks per account per day")->capture_default_str();
  cmd->add_option("--like-rate", cfg->like_rate, "P(like | click) at full topic affinity")->capture_default_str();
  cmd->add_option("--comment-rate", cfg->comment_rate, "P(comment | click) at full topic affinity")->capture_default_str();
  cmd->add_option("--repost-rate", cfg->repost_rate, "P(repost | click) at full topic affinity")->capture_default_str();
  cmd->add_option("--impressions-per-account", cfg->impressions_per_account, "ranker training rows per account")->capture_default_str();
  cmd->add_option("--video-share", cfg->video_share, "share of posts that are videos (impressions record their length and completion)")->capture_default_str();
  cmd->add_flag("--gzip", cfg->gzip, "write .tsv.gz files");
  cmd->add_option("--threads", cfg->threads, "threads, 0 = all cores (output does not depend on it)")->capture_default_str();
  cmd->callback([cfg, out] {
    spdlog::info("generating {} accounts into {}", cfg->accounts, *out);
    const synth::WorldSummary summary = synth::GenerateWorld(*cfg, *out);
    if (JsonOutput()) {
      PrintJson({{"out", *out}, {"accounts", summary.accounts}, {"authors", summary.authors},
                 {"celebrities", summary.celebrities}, {"posts", summary.posts}, {"follows", summary.follows},
                 {"interactions", summary.interactions}, {"impressions", summary.impressions},
                 {"clicked_impressions", summary.clicked_impressions},
                 {"interacted_impressions", summary.interacted_impressions},
                 {"negative_impressions", summary.negative_impressions}, {"profile_visits", summary.profile_visits},
                 {"completed_videos", summary.completed_videos}, {"seconds", summary.seconds}});
    } else {
      std::fputs(summary.ToText().c_str(), stdout);
    }
  });
}

}  // namespace gr::apps
