#include "graph/ingest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <parallel/algorithm>

#include "graph/internal/csr_build.h"
#include "graph/internal/id_table.h"
#include "graph/internal/ingest_parts.h"
#include "graph/internal/text_parse.h"

namespace gr::graph {
namespace {

using internal::EdgeRow;
using internal::EdgeRows;
static_assert(internal::kMaxRecordLines == internal::kMaxRowLines, "a record's lines must fit a row");
using internal::CheckFieldCount;
using internal::Decay;
using internal::IdCollector;
using internal::LineError;
using internal::MakeRows;
using internal::ParseId;
using internal::ParseTime;
using internal::ParseU64;
using internal::Seconds;


}  // namespace

std::string InputFileIn(const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {name, name + ".gz"}) {
    const std::filesystem::path path = std::filesystem::path(dir) / candidate;
    if (std::filesystem::exists(path)) return path.string();
  }
  return "";
}

InputFiles InputFilesIn(const std::string& dir) {
  InputFiles files{.follows = InputFileIn(dir, "follows.tsv"),
                   .interactions = InputFileIn(dir, "interactions.tsv"),
                   .posts = InputFileIn(dir, "posts.tsv")};
  GR_CHECK_CODE(!files.follows.empty(), ErrorCode::kNotFound, "no follows.tsv (or .gz) in ", dir);
  return files;
}

void IngestConfig::Validate() const {
  weights.Validate();
  GR_CHECK(block_bytes >= 4096, "block_bytes must be >= 4096, got ", block_bytes);
  GR_CHECK(threads >= 0, "threads must be >= 0 (0 = all), got ", threads);
}

BulkVector<FollowRecord> ReadFollows(const std::string& path, const IngestConfig& config, FileReport* report,
                                     ByteRange range) {
  config.Validate();
  FileReport local;
  return internal::ParseFile<FollowRecord>(
      path, config, report != nullptr ? report : &local,
      [](const std::string_view* f, size_t n, FollowRecord* r) -> LineError {
        if (auto e = CheckFieldCount(n, 2, 3, "follower_id, followee_id[, timestamp]"); !e.empty())
          return e;
        if (auto e = ParseId(f[0], "follower_id", &r->src); !e.empty()) return e;
        if (auto e = ParseId(f[1], "followee_id", &r->dst); !e.empty()) return e;
        return ParseTime(n > 2 ? f[2] : std::string_view(), &r->time);
      },
      range);
}

BulkVector<InteractionRecord> ReadInteractions(const std::string& path, const IngestConfig& config,
                                               FileReport* report, ByteRange range) {
  config.Validate();
  FileReport local;
  return internal::ParseFile<InteractionRecord>(
      path, config, report != nullptr ? report : &local,
      [](const std::string_view* f, size_t n, InteractionRecord* r) -> LineError {
        if (auto e = CheckFieldCount(n, 4, 5, "account_id, post_id, type, timestamp[, dwell_ms]");
            !e.empty())
          return e;
        if (auto e = ParseId(f[0], "account_id", &r->account); !e.empty()) return e;
        if (auto e = ParseId(f[1], "post_id", &r->post); !e.empty()) return e;
        auto type = ParseInteractionType(f[2]);
        if (!type)
          return StrCat("bad type '", Excerpt(f[2]), "' (expected click, like, comment, repost or 0-3)");
        r->type = static_cast<uint8_t>(*type);
        if (auto e = ParseTime(f[3], &r->time); !e.empty()) return e;
        uint64_t dwell = 0;
        if (n > 4 && !f[4].empty() && (!ParseU64(f[4], &dwell) || dwell > UINT32_MAX))
          return StrCat("bad dwell_ms '", Excerpt(f[4]), "' (expected milliseconds, 0 to ", UINT32_MAX, ")");
        r->dwell_ms = static_cast<uint32_t>(dwell);
        return {};
      },
      range);
}

BulkVector<PostRecord> ReadPosts(const std::string& path, const IngestConfig& config, FileReport* report,
                                 ByteRange range) {
  config.Validate();
  FileReport local;
  return internal::ParseFile<PostRecord>(
      path, config, report != nullptr ? report : &local,
      [](const std::string_view* f, size_t n, PostRecord* r) -> LineError {
        if (auto e = CheckFieldCount(n, 2, 3, "post_id, author_id[, timestamp]"); !e.empty())
          return e;
        if (auto e = ParseId(f[0], "post_id", &r->post); !e.empty()) return e;
        if (auto e = ParseId(f[1], "author_id", &r->author); !e.empty()) return e;
        return ParseTime(n > 2 ? f[2] : std::string_view(), &r->time);
      },
      range);
}

namespace {

BulkVector<FollowRecord> ParseFollows(const std::string& path, const IngestConfig& config, IngestReport& rep) {
  rep.files.emplace_back();
  return ReadFollows(path, config, &rep.files.back());
}

BulkVector<InteractionRecord> ParseInteractions(const std::string& path, const IngestConfig& config,
                                                IngestReport& rep) {
  if (path.empty()) return {};
  rep.files.emplace_back();
  return ReadInteractions(path, config, &rep.files.back());
}

BulkVector<PostRecord> ParsePosts(const std::string& path, const IngestConfig& config, IngestReport& rep) {
  if (path.empty()) return {};
  rep.files.emplace_back();
  return ReadPosts(path, config, &rep.files.back());
}

// Dense ids of every account and post the records name.
void CollectIds(const BulkVector<FollowRecord>& follows,
                const BulkVector<InteractionRecord>& interactions,
                const BulkVector<PostRecord>& posts, const std::vector<ExternalId>& lone_accounts, int threads,
                SocialGraph& g, internal::IdTable& account_ids, internal::IdTable& post_ids) {
  {
    IdCollector collector(threads);
    collector.Add(follows, [](const FollowRecord& r, auto emit) {
      emit(r.src);
      emit(r.dst);
    });
    collector.Add(lone_accounts, [](ExternalId id, auto emit) { emit(id); });
    collector.Add(interactions, [](const InteractionRecord& r, auto emit) { emit(r.account); });
    collector.Add(posts, [](const PostRecord& r, auto emit) { emit(r.author); });
    g.accounts = collector.Finish(&account_ids);
  }
  {
    IdCollector collector(threads);
    collector.Add(interactions, [](const InteractionRecord& r, auto emit) { emit(r.post); });
    collector.Add(posts, [](const PostRecord& r, auto emit) { emit(r.post); });
    g.posts = collector.Finish(&post_ids);
  }
}

// post_author, post_time and the authored lists: one author per post;
// identical repeated lines are merged, two authors are an error.
void BuildAuthorship(BulkVector<PostRecord>& posts, const std::string& path,
                     const internal::IdTable& account_ids, const internal::IdTable& post_ids,
                     int threads, SocialGraph& g, IngestReport& rep) {
  // Authorship: one author per post; identical repeated lines are merged.
  __gnu_parallel::sort(posts.begin(), posts.end(), [](const PostRecord& a, const PostRecord& b) {
    return std::tie(a.post, a.author, a.time) < std::tie(b.post, b.author, b.time);
  });
  g.post_author.assign(g.posts.size(), kNoVertex);
  g.post_time.assign(g.posts.size(), 0);
  for (size_t i = 0; i < posts.size(); ++i) {
    const PostRecord& r = posts[i];
    if (i > 0 && posts[i - 1].post == r.post) {
      GR_CHECK(posts[i - 1].author == r.author, path, ": post ", r.post, " is given two authors, ",
               posts[i - 1].author, " and ", r.author);
      ++rep.post_duplicate_lines;
      continue;
    }
    const VertexId p = post_ids.Find(r.post);
    g.post_author[p] = account_ids.Find(r.author);
    g.post_time[p] = r.time;
  }
  rep.posts_without_author =
      static_cast<uint64_t>(std::count(g.post_author.begin(), g.post_author.end(), kNoVertex));
  {
    EdgeRows rows;
    for (VertexId p = 0; p < g.post_author.size(); ++p) {
      if (g.post_author[p] != kNoVertex) rows.push_back({g.post_author[p], p, 1.0f, 0, 0, 0});
    }
    g.authored =
        internal::BuildCsr(internal::GroupAndSort(std::move(rows), g.accounts.size(), threads),
                           {.weights = false}, threads);
  }
}

// following and followers, weighted by type and time decay.
void BuildFollowEdges(BulkVector<FollowRecord>& follows, const IngestConfig& config,
                      int64_t reference, const internal::IdTable& account_ids, SocialGraph& g,
                      IngestReport& rep) {
  const WeightConfig& w = config.weights;
  const size_t num_accounts = g.accounts.size();
  auto rows = MakeRows(follows, config.threads, [&](const FollowRecord& r) {
    const double weight = w.follow * Decay(r.time, reference, w.follow_half_life_days);
    return EdgeRow{account_ids.Find(r.src), account_ids.Find(r.dst), internal::StoredWeight(weight), r.time, 0, 0,
                   r.lines & internal::kMaxRowLines};
  });
  follows = {};
  auto grouped = internal::GroupAndSort(std::move(rows), num_accounts, config.threads);
  internal::MergeDuplicates(grouped, config.self_loops, config.duplicates,
                            &rep.follow_self_loops_dropped, &rep.follow_duplicates_merged);
  g.following = internal::BuildCsr(grouped, {.weights = true, .times = true}, config.threads);
  grouped = internal::Reverse(std::move(grouped), num_accounts, config.threads);
  g.followers = internal::BuildCsr(grouped, {.weights = true}, config.threads);
}

// engagements and engagers, weighted by type and time decay.
void BuildInteractionEdges(BulkVector<InteractionRecord>& interactions, const IngestConfig& config,
                           int64_t reference, const internal::IdTable& account_ids,
                           const internal::IdTable& post_ids, SocialGraph& g, IngestReport& rep) {
  const WeightConfig& w = config.weights;
  const size_t num_accounts = g.accounts.size(), num_posts = g.posts.size();
  auto rows = MakeRows(interactions, config.threads, [&](const InteractionRecord& r) {
    const double weight =
        w.interaction[r.type] * Decay(r.time, reference, w.interaction_half_life_days);
    return EdgeRow{account_ids.Find(r.account),
                   post_ids.Find(r.post),
                   internal::StoredWeight(weight),
                   r.time,
                   r.dwell_ms,
                   1u << r.type,
                   r.lines & internal::kMaxRowLines};
  });
  interactions = {};
  auto grouped = internal::GroupAndSort(std::move(rows), num_accounts, config.threads);
  uint64_t no_self_loops = 0;
  internal::MergeDuplicates(grouped, SelfLoopPolicy::kKeep, config.duplicates, &no_self_loops,
                            &rep.interaction_duplicates_merged);
  g.engagements = internal::BuildCsr(
      grouped, {.weights = true, .times = true, .types = true, .dwell = true}, config.threads);
  grouped = internal::Reverse(std::move(grouped), num_posts, config.threads);
  g.engagers = internal::BuildCsr(grouped, {.weights = true, .times = true}, config.threads);
}

}  // namespace

SocialGraph BuildGraph(BulkVector<FollowRecord> follows, BulkVector<InteractionRecord> interactions,
                       BulkVector<PostRecord> posts, const IngestConfig& config, IngestReport& rep,
                       std::span<const GraphChange> changes, const std::string& posts_path,
                       std::span<const ExternalId> given_lone_accounts) {
  config.Validate();
  std::vector<ExternalId> lone_accounts = ApplyChanges(changes, follows, interactions, posts, rep);
  lone_accounts.insert(lone_accounts.end(), given_lone_accounts.begin(), given_lone_accounts.end());
  const int64_t reference = config.weights.reference_time >= 0 ? config.weights.reference_time
                                                                : NewestTime(follows, interactions, posts);
  rep.reference_time = reference;

  SocialGraph g;
  g.reference_time = reference;
  internal::IdTable account_ids, post_ids;
  CollectIds(follows, interactions, posts, lone_accounts, config.threads, g, account_ids, post_ids);
  BuildAuthorship(posts, posts_path, account_ids, post_ids, config.threads, g, rep);
  posts = {};
  BuildFollowEdges(follows, config, reference, account_ids, g, rep);
  BuildInteractionEdges(interactions, config, reference, account_ids, post_ids, g, rep);
  return g;
}

SocialGraph Ingest(const InputFiles& files, const IngestConfig& config, IngestReport* report,
                   std::span<const GraphChange> changes) {
  config.Validate();
  GR_CHECK(!files.follows.empty(), "a follows file is required");
  const auto start = std::chrono::steady_clock::now();
  IngestReport local_report;
  IngestReport& rep = report != nullptr ? *report : local_report;
  rep = IngestReport{};
  BulkVector<FollowRecord> follows = ParseFollows(files.follows, config, rep);
  BulkVector<InteractionRecord> interactions = ParseInteractions(files.interactions, config, rep);
  BulkVector<PostRecord> posts = ParsePosts(files.posts, config, rep);
  SocialGraph g = BuildGraph(std::move(follows), std::move(interactions), std::move(posts), config, rep, changes,
                             files.posts);
  rep.seconds = Seconds(start);
  return g;
}

std::string IngestReport::ToText() const {
  std::string out;
  for (const FileReport& f : files) {
    out += StrCat(f.path, ": ", f.lines, " lines, ", f.records, " records",
                  f.header ? ", header skipped" : "",
                  f.skipped_lines ? StrCat(", ", f.skipped_lines, " blank/comment") : "",
                  f.bad_lines ? StrCat(", ", f.bad_lines, " bad lines skipped") : "", "\n");
    for (const std::string& example : f.bad_examples) out += StrCat("  bad: ", example, "\n");
  }
  out += StrCat("follow self-loops dropped: ", follow_self_loops_dropped,
                "; follow duplicates merged: ", follow_duplicates_merged,
                "; interaction duplicates merged: ", interaction_duplicates_merged, "\n");
  out += StrCat("repeated post lines: ", post_duplicate_lines,
                "; posts without known author: ", posts_without_author, "\n");
  if (changes > 0) out += StrCat("changes applied: ", changes, "; follows removed by unfollows: ", follows_removed, "\n");
  out += StrCat("reference time: ", reference_time, "; ingest took ", seconds, " s\n");
  return out;
}

std::string IngestReport::ToJson() const {
  nlohmann::json j;
  for (const FileReport& f : files) {
    j["files"].push_back({{"path", f.path},
                          {"lines", f.lines},
                          {"records", f.records},
                          {"header", f.header},
                          {"skipped_lines", f.skipped_lines},
                          {"bad_lines", f.bad_lines},
                          {"bad_examples", f.bad_examples}});
  }
  j["follow_self_loops_dropped"] = follow_self_loops_dropped;
  j["follow_duplicates_merged"] = follow_duplicates_merged;
  j["interaction_duplicates_merged"] = interaction_duplicates_merged;
  j["post_duplicate_lines"] = post_duplicate_lines;
  j["posts_without_author"] = posts_without_author;
  j["changes"] = changes;
  j["follows_removed"] = follows_removed;
  j["reference_time"] = reference_time;
  j["seconds"] = seconds;
  return j.dump();
}

std::vector<Impression> ReadImpressions(const std::string& path, const IngestConfig& config,
                                        FileReport* report) {
  config.Validate();
  FileReport local;
  if (report == nullptr) report = &local;
  const auto flag = [](std::string_view field, const char* what, uint8_t* out) -> LineError {
    if (field == "0" || field == "1") {
      *out = field == "1";
      return {};
    }
    return StrCat("bad ", what, " '", Excerpt(field), "' (expected 0 or 1)");
  };
  // The optional outcomes may be '-' where the source did not record them.
  const auto optional_flag = [&](std::string_view field, const char* what, uint8_t* out) -> LineError {
    if (field == "-") {
      *out = kUnobservedOutcome;
      return {};
    }
    return flag(field, what, out);
  };
  return internal::ParseFile<Impression, std::vector<Impression>>(
      path, config, report, [&](const std::string_view* f, size_t n, Impression* r) -> LineError {
        if (auto e = CheckFieldCount(n, 6, 10,
                                     "account_id, post_id, timestamp, clicked, interacted, dwell_ms[, negative, "
                                     "profile_visit, video_ms, completed]");
            !e.empty())
          return e;
        if (n != 6 && n != 10)
          return StrCat(n, " fields: expected 6 (account_id .. dwell_ms) or 10 (+ negative, profile_visit, video_ms, completed)");
        if (auto e = ParseId(f[0], "account_id", &r->account); !e.empty()) return e;
        if (auto e = ParseId(f[1], "post_id", &r->post); !e.empty()) return e;
        if (auto e = ParseTime(f[2], &r->time); !e.empty()) return e;
        if (auto e = flag(f[3], "clicked", &r->clicked); !e.empty()) return e;
        if (auto e = flag(f[4], "interacted", &r->interacted); !e.empty()) return e;
        uint64_t dwell = 0;
        if (!ParseU64(f[5], &dwell) || dwell > UINT32_MAX)
          return StrCat("bad dwell_ms '", Excerpt(f[5]), "' (expected milliseconds, 0 to ", UINT32_MAX, ")");
        r->dwell_ms = static_cast<uint32_t>(dwell);
        if (n == 6) return {};
        if (auto e = optional_flag(f[6], "negative", &r->negative); !e.empty()) return e;
        if (auto e = optional_flag(f[7], "profile_visit", &r->profile_visit); !e.empty()) return e;
        uint64_t video = 0;
        if (!ParseU64(f[8], &video) || video > UINT32_MAX)
          return StrCat("bad video_ms '", Excerpt(f[8]), "' (expected milliseconds, 0 = not a video)");
        r->video_ms = static_cast<uint32_t>(video);
        if (auto e = optional_flag(f[9], "completed", &r->completed); !e.empty()) return e;
        if (!r->clicked || r->video_ms == 0) r->completed = kUnobservedOutcome;  // only clicked videos complete
        return {};
      });
}

}  // namespace gr::graph
