// WorldConfig's checks and WorldSummary's text (the generator is world.cc).
#include "core/error.h"
#include "synth/world.h"

namespace gr::synth {

void WorldConfig::Validate() const {
  GR_CHECK(accounts >= 10 && accounts < (uint64_t{1} << 32) - 1, "accounts must be in [10, 2^32-2], got ", accounts);
  GR_CHECK(topics >= 2 && topics <= 65535, "topics must be in [2, 65535], got ", topics);
  GR_CHECK(days >= 1 && days <= 3650, "days must be in [1, 3650], got ", days);
  GR_CHECK(start_time > 365 * 86400 && start_time + days * 86400LL < UINT32_MAX,
           "start_time must be Unix seconds between 1971 and 2106, got ", start_time);
  GR_CHECK(author_share > 0 && author_share <= 1, "author_share must be in (0, 1], got ", author_share);
  GR_CHECK(celebrity_share >= 0 && celebrity_share < 1, "celebrity_share must be in [0, 1), got ", celebrity_share);
  GR_CHECK(celebrity_boost >= 1, "celebrity_boost must be >= 1, got ", celebrity_boost);
  GR_CHECK(mean_follows > 0, "mean_follows must be > 0, got ", mean_follows);
  GR_CHECK(follow_sigma >= 0 && follow_sigma <= 3, "follow_sigma must be in [0, 3], got ", follow_sigma);
  GR_CHECK(topic_follow_share >= 0 && random_follow_share >= 0 &&
               topic_follow_share + random_follow_share <= 1,
           "topic_follow_share + random_follow_share must be in [0, 1], got ", topic_follow_share,
           " + ", random_follow_share);
  GR_CHECK(reciprocity >= 0 && reciprocity <= 1, "reciprocity must be in [0, 1], got ", reciprocity);
  GR_CHECK(posts_per_author_day > 0, "posts_per_author_day must be > 0, got ", posts_per_author_day);
  GR_CHECK(clicks_per_account_day >= 0, "clicks_per_account_day must be >= 0, got ", clicks_per_account_day);
  for (double rate : {like_rate, comment_rate, repost_rate})
    GR_CHECK(rate >= 0 && rate <= 1, "like/comment/repost rates must be in [0, 1], got ", rate);
  GR_CHECK(video_share >= 0 && video_share <= 1, "video_share must be in [0, 1], got ", video_share);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
}

std::string WorldSummary::ToText() const {
  return StrCat("accounts: ", accounts, " (authors ", authors, ", celebrities ", celebrities,
                ")\nposts: ", posts, "\nfollow lines: ", follows, "\ninteraction lines: ", interactions,
                "\nimpressions: ", impressions, " (clicked ", clicked_impressions, ", interacted ",
                interacted_impressions, ", negative feedback ", negative_impressions, ", profile visits ", profile_visits,
                ", completed videos ", completed_videos, ")\ngeneration took ", seconds, " s\n");
}

}  // namespace gr::synth
