// Ingest: from the input text files of DESIGN.md (follows, interactions,
// posts) or a generic edge list to a SocialGraph, with an explicit policy for
// malformed lines, self-loops and duplicate edges, and a report of what was
// read, skipped, dropped and merged.
//
// Files are tab- or comma-separated (edge lists: whitespace), may start with a
// header line and may be gzip-compressed (detected from the content). They
// are read in blocks and parsed in parallel; the result does not depend on the
// thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bulk_vector.h"
#include "graph/social_graph.h"

namespace gr::graph {

enum class SelfLoopPolicy { kDrop, kKeep };
// kSum: one edge, weights added (default); kMax: one edge, largest weight;
// kKeep: parallel edges kept. Merged edges keep the newest time, the union of
// interaction types and the summed dwell.
enum class DuplicatePolicy { kSum, kMax, kKeep };
// Line 1 of a text file: kAuto = a header when its first field is not an
// unsigned integer; kYes = always a header (skipped); kNo = always data.
enum class HeaderPolicy { kAuto, kYes, kNo };
// "auto", "yes" or "no" (command-line and Python spelling); throws
// kInvalidArgument naming the value otherwise.
HeaderPolicy ParseHeaderPolicy(std::string_view value);

struct IngestConfig {
  // Skip (and count) malformed lines instead of failing on the first one.
  bool skip_bad_lines = false;
  // How many bad lines to quote in the report when skipping.
  size_t max_bad_line_examples = 5;
  SelfLoopPolicy self_loops = SelfLoopPolicy::kDrop;
  DuplicatePolicy duplicates = DuplicatePolicy::kSum;
  HeaderPolicy header = HeaderPolicy::kAuto;
  WeightConfig weights;
  int threads = 0;                  // 0 = all cores
  size_t block_bytes = 8u << 20;    // text read per parallel parse step (and the longest line)

  void Validate() const;  // throws kInvalidArgument naming the field
};

// The lines of a plain text file that start in bytes [begin, end): ranks
// that split a file between them read disjoint ranges (dist/) and together
// every line once. Only the range that starts at 0 may hold a header; a bad
// line elsewhere is named by its byte offset (line numbers before the range
// are unknown). A gzip stream cannot be split: a partial range of one is
// kInvalidArgument.
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = UINT64_MAX;
  bool whole() const { return begin == 0 && end == UINT64_MAX; }
};

// Input files; empty path = absent. follows is required by Ingest.
struct InputFiles {
  std::string follows;       // follower_id, followee_id[, timestamp]
  std::string interactions;  // account_id, post_id, type, timestamp[, dwell_ms]
  std::string posts;         // post_id, author_id[, timestamp]
};

// A change since the input files (the server's event log): applied in
// order after the files. A follow or interaction adds an edge as a file row
// would, a post a post (ignored if the files already have it), an account an
// account without edges, an unfollow removes every earlier follow of its pair.
struct GraphChange {
  enum class Kind : uint8_t { kFollow, kUnfollow, kInteraction, kPost, kAccount };
  Kind kind = Kind::kFollow;
  uint8_t interaction = 0;  // kInteraction: InteractionType
  uint32_t time = 0;
  uint32_t dwell_ms = 0;
  ExternalId actor = 0;   // follower, interacting account, author, new account
  ExternalId object = 0;  // followee, post
};

// `dir`/`name`, else `dir`/`name`.gz, whichever exists; "" if neither.
std::string InputFileIn(const std::string& dir, const std::string& name);
// A directory's input files as graphrec batch reads them: follows.tsv
// (required: kNotFound naming the directory without it), interactions.tsv
// and posts.tsv, each plain or .gz.
InputFiles InputFilesIn(const std::string& dir);

struct FileReport {
  std::string path;
  uint64_t lines = 0;          // lines in the file
  uint64_t records = 0;        // lines parsed into records
  uint64_t skipped_lines = 0;  // blank and '#' lines
  uint64_t bad_lines = 0;      // malformed lines skipped (with skip_bad_lines)
  bool header = false;         // line 1 was a header
  std::vector<std::string> bad_examples;  // "path:line: reason (line: '...')"
};

struct IngestReport {
  std::vector<FileReport> files;
  uint64_t follow_self_loops_dropped = 0;
  uint64_t follow_duplicates_merged = 0;       // edges folded into another
  uint64_t interaction_duplicates_merged = 0;
  uint64_t post_duplicate_lines = 0;           // repeated identical posts lines
  uint64_t posts_without_author = 0;           // posts seen only in interactions
  uint64_t changes = 0;                        // GraphChanges applied after the files
  uint64_t follows_removed = 0;                // file or change follows undone by an unfollow
  int64_t reference_time = 0;
  double seconds = 0;

  std::string ToText() const;  // human-readable, several lines
  std::string ToJson() const;  // one JSON object
};

// Reads and builds. Throws kInvalidArgument naming file:line for a bad line
// (unless skipping), kIo / kCorruption for unreadable files, and
// kInvalidArgument for a post given two different authors.
SocialGraph Ingest(const InputFiles& files, const IngestConfig& config,
                   IngestReport* report = nullptr, std::span<const GraphChange> changes = {});

// A generic edge list "src dst [weight]" (whitespace, tab or comma), e.g. the
// standard benchmark graphs, loaded as accounts and follows. Undirected: each
// line adds both directions (and followers == following). Weights must be
// finite and > 0; absent = 1.
SocialGraph LoadEdgeList(const std::string& path, bool directed, const IngestConfig& config,
                         IngestReport* report = nullptr);
// An edge list whose ids are any strings without blanks (names, UUIDs):
// each distinct string gets the external id of its first appearance, 0, 1,
// 2, ..., and (*names)[id] is its string. Read by one thread. A header
// cannot be told from data by its look here: config.header must be kYes or
// kNo (kInvalidArgument otherwise).
SocialGraph LoadEdgeListWithStringIds(const std::string& path, bool directed, const IngestConfig& config,
                                      std::vector<std::string>* names, IngestReport* report = nullptr);
// The same graph from arrays: edge i is src[i] -> dst[i] with weights[i]
// (weights empty = all 1). Throws kInvalidArgument for arrays of different
// lengths or a weight that is not finite and > 0.
SocialGraph EdgeListGraph(std::span<const ExternalId> src, std::span<const ExternalId> dst,
                          std::span<const float> weights, bool directed, const IngestConfig& config = {},
                          IngestReport* report = nullptr);

// The rows of the input files (DESIGN.md), as read. `lines`: identical
// consecutive lines folded into one record (unless duplicates are kept).
struct FollowRecord {
  ExternalId src, dst;  // follower, followee
  uint32_t time;        // Unix seconds, 0 = unknown
  uint32_t lines = 1;
  bool operator==(const FollowRecord&) const = default;
};
struct InteractionRecord {
  ExternalId account, post;
  uint32_t time, dwell_ms;
  uint8_t type;  // InteractionType
  uint32_t lines = 1;
  bool operator==(const InteractionRecord&) const = default;
};
struct PostRecord {
  ExternalId post, author;
  uint32_t time;
};

// Reads one input file's rows in file order (of `range` only, if given),
// with Ingest's file handling and bad-line policy (e.g. to replay files as
// events: graphrec events push).
BulkVector<FollowRecord> ReadFollows(const std::string& path, const IngestConfig& config,
                                     FileReport* report = nullptr, ByteRange range = {});
BulkVector<InteractionRecord> ReadInteractions(const std::string& path, const IngestConfig& config,
                                               FileReport* report = nullptr, ByteRange range = {});
BulkVector<PostRecord> ReadPosts(const std::string& path, const IngestConfig& config,
                                 FileReport* report = nullptr, ByteRange range = {});

// An edge list's rows "src dst [weight]" in file order (of `range` only, if
// given), with LoadEdgeList's rules: the weight finite and > 0, absent = 1;
// with `read_weights` false the third field is not read (a follows file's
// timestamp) and every weight is 1.
struct EdgeRecord {
  ExternalId src, dst;
  float weight;
  uint32_t lines = 1;
  bool operator==(const EdgeRecord&) const = default;
};
BulkVector<EdgeRecord> ReadEdgeList(const std::string& path, const IngestConfig& config, FileReport* report = nullptr,
                                    ByteRange range = {}, bool read_weights = true);

// Ingest's second half, first step: folds `changes` (in log order) into
// records read from the files. An unfollow removes the pair's follows; the
// pair's last follow, if after its last unfollow or absent from the files,
// is added with its time; interactions are added; a post keeps the first
// author the files or the changes give it. Returns the accounts the changes
// add (kAccount) for BuildGraph's lone_accounts. Counts in report.changes
// and report.follows_removed. Throws kInvalidArgument for an unknown
// interaction type.
std::vector<ExternalId> ApplyChanges(std::span<const GraphChange> changes, BulkVector<FollowRecord>& follows,
                                     BulkVector<InteractionRecord>& interactions, BulkVector<PostRecord>& posts,
                                     IngestReport& report);

// The newest time of the records: the decay's reference time unless
// configured.
uint32_t NewestTime(const BulkVector<FollowRecord>& follows, const BulkVector<InteractionRecord>& interactions,
                    const BulkVector<PostRecord>& posts);

// Ingest's second half: the graph of records already read (the changes
// applied after them, with ApplyChanges; `lone_accounts`: accounts that
// exist without records, e.g. from a caller's own ApplyChanges). `posts_path` names the posts file in the
// error for a post given two authors. The graph's lists depend on the set
// of records only, not on their order, so any split of the files read and
// gathered by source builds each source's lists as Ingest does (dist/
// builds its ranks' parts so, with config.weights.reference_time set to the
// whole input's). The report gets the merge and change counts; its files
// are left as they are.
SocialGraph BuildGraph(BulkVector<FollowRecord> follows, BulkVector<InteractionRecord> interactions,
                       BulkVector<PostRecord> posts, const IngestConfig& config, IngestReport& report,
                       std::span<const GraphChange> changes = {}, const std::string& posts_path = "posts",
                       std::span<const ExternalId> lone_accounts = {});

// One row of the impressions file (ranker training data): a post shown to an
// account at `time`, and what the account did with it.
inline constexpr uint8_t kUnobservedOutcome = 255;

struct Impression {
  ExternalId account = 0;
  ExternalId post = 0;
  uint32_t time = 0;       // Unix seconds
  uint8_t clicked = 0;     // 0 or 1
  uint8_t interacted = 0;  // 0 or 1 (like, comment, repost, ...)
  uint32_t dwell_ms = 0;   // 0 when not clicked
  // Optional columns (older files have none): kUnobservedOutcome when absent.
  uint8_t negative = kUnobservedOutcome;       // "not interested" / hide: 0 or 1
  uint8_t profile_visit = kUnobservedOutcome;  // visited the author's profile: 0 or 1
  uint32_t video_ms = 0;                       // the post's video length; 0 = not a video
  uint8_t completed = kUnobservedOutcome;      // clicked videos: watched to the end, 0 or 1
};

// Reads "account_id, post_id, timestamp, clicked, interacted, dwell_ms[,
// negative, profile_visit, video_ms, completed]" rows (DESIGN.md), in file
// order, with the same file handling and bad-line policy as Ingest
// (config.skip_bad_lines, threads, block_bytes). The flags must be 0 or 1 (the
// optional outcomes may be "-": not recorded);
// completed is kept for clicked videos only (unobserved elsewhere).
std::vector<Impression> ReadImpressions(const std::string& path, const IngestConfig& config,
                                        FileReport* report = nullptr);

}  // namespace gr::graph
