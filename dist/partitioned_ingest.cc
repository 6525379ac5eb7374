#include "dist/partitioned_ingest.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <span>
#include <unordered_set>

#include "core/error.h"
#include "dist/mpi_session.h"
#include "graph/graph_parts.h"
#include "graph/snapshot.h"
#include "graph/social_graph.h"

namespace gr::dist {
namespace {

using graph::FollowRecord;
using graph::InteractionRecord;
using graph::PostRecord;

// Sends each record to the owners of the two vertices `owners_of` names
// (once to a rank that owns both) and returns the records that arrived
// here. Records travel as their bytes: they are plain structs.
template <typename Record, typename OwnersOf>
BulkVector<Record> SendToOwners(BulkVector<Record> records, OwnersOf owners_of, MPI_Comm comm,
                                uint64_t* bytes_sent) {
  static_assert(std::is_trivially_copyable_v<Record> && sizeof(Record) % sizeof(uint64_t) == 0);
  constexpr uint64_t kWords = sizeof(Record) / sizeof(uint64_t);
  const int ranks = Size(comm), me = Rank(comm);
  std::vector<uint64_t> counts(ranks, 0);
  for (const Record& r : records) {
    const auto [a, b] = owners_of(r);
    counts[a] += kWords;
    if (b != a) counts[b] += kWords;
  }
  std::vector<uint64_t> at(ranks, 0);
  for (int r = 1; r < ranks; ++r) at[r] = at[r - 1] + counts[r - 1];
  std::vector<uint64_t> flat(at.back() + counts.back());
  for (const Record& r : records) {
    const auto [a, b] = owners_of(r);
    std::memcpy(flat.data() + at[a], &r, sizeof(Record));
    at[a] += kWords;
    if (b == a) continue;
    std::memcpy(flat.data() + at[b], &r, sizeof(Record));
    at[b] += kWords;
  }
  records = {};
  *bytes_sent += (flat.size() - counts[me]) * sizeof(uint64_t);
  std::vector<uint64_t> arrived = ExchangeValues(flat, counts, comm);
  std::vector<uint64_t>().swap(flat);
  BulkVector<Record> out(arrived.size() / kWords);
  if (!out.empty()) std::memcpy(static_cast<void*>(out.data()), arrived.data(), out.size() * sizeof(Record));
  return out;
}

// Every rank's counts of each file added up; `header` if any rank saw one.
void SumFileReports(std::vector<graph::FileReport>& files, MPI_Comm comm) {
  std::vector<uint64_t> counts;
  for (const graph::FileReport& f : files)
    counts.insert(counts.end(), {f.lines, f.records, f.skipped_lines, f.bad_lines, f.header ? 1u : 0u});
  AllReduceSum(std::span(counts), comm);
  for (size_t i = 0; i < files.size(); ++i) {
    const uint64_t* c = counts.data() + 5 * i;
    files[i].lines = c[0];
    files[i].records = c[1];
    files[i].skipped_lines = c[2];
    files[i].bad_lines = c[3];
    files[i].header = c[4] != 0;
  }
}

// The changes that touch this rank's vertices, in log order, for
// graph::ApplyChanges: a follow or unfollow goes to both accounts' owners, an
// interaction to the account's and the post's, a new account to its owner.
// A new post keeps the first author its records or the changes give it, and
// only the post's owner has all its records: it decides which post changes
// stand and sends those to their authors' owners too.
std::vector<graph::GraphChange> ChangesHere(std::span<const graph::GraphChange> changes,
                                            const BulkVector<PostRecord>& posts, MPI_Comm comm, uint64_t* bytes_sent) {
  using Kind = graph::GraphChange::Kind;
  const int ranks = Size(comm), me = Rank(comm);
  const auto mine = [&](ExternalId id) { return OwnerOf(id, ranks) == me; };
  std::unordered_set<ExternalId> known;  // posts of this rank that have a record
  for (const PostRecord& p : posts)
    if (mine(p.post)) known.insert(p.post);
  std::vector<graph::GraphChange> here;
  BulkVector<graph::GraphChange> new_posts;  // this rank's posts' first changes
  for (const graph::GraphChange& c : changes) {
    if (c.kind == Kind::kPost) {
      if (mine(c.object) && known.insert(c.object).second) new_posts.push_back(c);
    } else if (mine(c.actor) || (c.kind != Kind::kAccount && mine(c.object))) {
      here.push_back(c);
    }
  }
  here.insert(here.end(), new_posts.begin(), new_posts.end());
  const BulkVector<graph::GraphChange> authored_here = SendToOwners(
      std::move(new_posts), [&](const graph::GraphChange& c) { return std::pair{OwnerOf(c.actor, ranks), OwnerOf(c.actor, ranks)}; },
      comm, bytes_sent);
  for (const graph::GraphChange& c : authored_here)
    if (!mine(c.object)) here.push_back(c);  // else already here as the post's
  return here;
}

// The lists of `relation` for `vertices` (dense ids of `part`), targets by
// external id, appended as PartitionedLists keeps them.
void CopyLists(const graph::CsrGraph& relation, std::span<const VertexId> vertices,
               std::span<const ExternalId> target_ids, bool with_weights, std::vector<uint64_t>& offsets,
               std::vector<ExternalId>& targets, std::vector<float>& weights) {
  offsets.assign(1, 0);
  for (const VertexId v : vertices) {
    if (v < relation.num_vertices()) {
      for (EdgeIndex e = relation.Begin(v); e < relation.End(v); ++e) {
        targets.push_back(target_ids[relation.targets[e]]);
        if (with_weights) weights.push_back(relation.Weight(e));
      }
    }
    offsets.push_back(targets.size());
  }
}

void CopyLists(const graph::CsrGraph& relation, std::span<const VertexId> vertices,
               std::span<const ExternalId> target_ids, bool with_weights, PartitionedLists& out) {
  CopyLists(relation, vertices, target_ids, with_weights, out.offsets, out.targets, out.weights);
}

// The times of `relation`'s lists for `vertices`, as CopyLists copies the
// lists (nothing when the relation has none).
void CopyTimes(const graph::CsrGraph& relation, std::span<const VertexId> vertices, std::vector<uint32_t>& times) {
  if (relation.times.empty()) return;
  for (const VertexId v : vertices)
    if (v < relation.num_vertices())
      for (EdgeIndex e = relation.Begin(v); e < relation.End(v); ++e) times.push_back(relation.times[e]);
}

// The dense ids of the vertices of `ids` this rank owns (ascending ids).
std::vector<VertexId> Owned(const graph::IdMap& ids, MPI_Comm comm) {
  const int ranks = Size(comm), me = Rank(comm);
  std::vector<VertexId> owned;
  const std::span<const ExternalId> external = ids.external_ids();
  for (VertexId v = 0; v < external.size(); ++v)
    if (OwnerOf(external[v], ranks) == me) owned.push_back(v);
  return owned;
}

// The lists of this rank's vertices of `part` (a graph of the records of
// its vertices, or its graph part), as PartitionedInput keeps them.
void CopyOwnLists(const graph::SocialGraph& part, bool follow_weights, const PartitionedIngestOptions& options,
                  MPI_Comm comm, PartitionedInput& out) {
  const std::vector<VertexId> accounts = Owned(part.accounts, comm);
  const std::span<const ExternalId> account_ids = part.accounts.external_ids(), post_ids = part.posts.external_ids();
  PartitionedFollows& f = out.follows;
  for (const VertexId v : accounts) f.accounts.push_back(account_ids[v]);
  CopyLists(part.following, accounts, account_ids, follow_weights, f.following_offsets, f.followees,
            f.followee_weights);
  CopyLists(part.followers, accounts, account_ids, follow_weights, f.followers_offsets, f.followers,
            f.follower_weights);
  CopyTimes(part.following, accounts, f.followee_times);
  if (options.with_posts) {
    const bool post_weights = options.post_weights;
    PartitionedPosts& p = out.posts;
    CopyLists(part.engagements, accounts, post_ids, post_weights, p.interacts);
    CopyLists(part.authored, accounts, post_ids, post_weights, p.authored);
    const std::vector<VertexId> own_posts = Owned(part.posts, comm);
    for (const VertexId v : own_posts) p.posts.push_back(post_ids[v]);
    CopyLists(part.engagers, own_posts, account_ids, post_weights, p.engaged_by);
    CopyTimes(part.engagers, own_posts, p.engaged_by.times);
    CopyLists(graph::AuthoredByGraph(part), own_posts, account_ids, post_weights, p.authored_by);
  }
}

}  // namespace

graph::ByteRange RangeOf(const std::string& path, MPI_Comm comm) {
  const auto ranks = static_cast<uint64_t>(Size(comm)), me = static_cast<uint64_t>(Rank(comm));
  if (ranks == 1) return {};
  // Rank 0's size, so that the ranges tile the file even while it grows.
  struct stat st {};
  uint64_t size = Rank(comm) == 0 && stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  BroadcastFromRoot(std::span(&size, 1), comm);
  return {.begin = size * me / ranks, .end = me + 1 == ranks ? UINT64_MAX : size * (me + 1) / ranks};
}

PartitionedInput IngestPartitioned(const graph::InputFiles& files, const graph::IngestConfig& config,
                                   PartitionedIngestOptions options, MPI_Comm comm,
                                   std::span<const graph::GraphChange> changes) {
  config.Validate();
  GR_CHECK(!files.follows.empty(), "a follows file is required");
  const auto start = std::chrono::steady_clock::now();
  const int ranks = Size(comm);
  PartitionedInput out;
  graph::IngestReport& report = out.report;
  BulkVector<FollowRecord> follows;
  BulkVector<InteractionRecord> interactions;
  BulkVector<PostRecord> posts;
  const graph::ByteRange follows_range = RangeOf(files.follows, comm);
  const graph::ByteRange interactions_range = files.interactions.empty() ? graph::ByteRange{}
                                                                         : RangeOf(files.interactions, comm);
  const graph::ByteRange posts_range = files.posts.empty() ? graph::ByteRange{} : RangeOf(files.posts, comm);
  OnEveryRankIfAnyFails(comm, "reading the input files", [&] {
    report.files.emplace_back();
    follows = graph::ReadFollows(files.follows, config, &report.files.back(), follows_range);
    if (!files.interactions.empty()) {
      report.files.emplace_back();
      interactions = graph::ReadInteractions(files.interactions, config, &report.files.back(), interactions_range);
    }
    if (!files.posts.empty()) {
      report.files.emplace_back();
      posts = graph::ReadPosts(files.posts, config, &report.files.back(), posts_range);
    }
  });
  out.follows.lines_read = report.files.front().records;
  SumFileReports(report.files, comm);

  uint64_t& bytes = out.follows.bytes_sent;
  follows = SendToOwners(
      std::move(follows), [&](const FollowRecord& r) { return std::pair{OwnerOf(r.src, ranks), OwnerOf(r.dst, ranks)}; },
      comm, &bytes);
  interactions = SendToOwners(
      std::move(interactions),
      [&](const InteractionRecord& r) { return std::pair{OwnerOf(r.account, ranks), OwnerOf(r.post, ranks)}; }, comm,
      &bytes);
  posts = SendToOwners(
      std::move(posts), [&](const PostRecord& r) { return std::pair{OwnerOf(r.post, ranks), OwnerOf(r.author, ranks)}; },
      comm, &bytes);

  // The changes after the files, on the records of the vertices they touch.
  std::vector<ExternalId> lone_accounts;
  if (!changes.empty()) {
    const std::vector<graph::GraphChange> here = ChangesHere(changes, posts, comm, &bytes);
    OnEveryRankIfAnyFails(comm, "applying the changes", [&] {
      graph::IngestReport counts;
      lone_accounts = graph::ApplyChanges(here, follows, interactions, posts, counts);
    });
    report.changes = changes.size();
  }

  // The weights decay to the newest time of the whole input, as Ingest's:
  // after the changes, since an unfollow may remove the newest follow.
  graph::IngestConfig part_config = config;
  if (part_config.weights.reference_time < 0) {
    uint64_t newest = graph::NewestTime(follows, interactions, posts);
    MPI_Allreduce(MPI_IN_PLACE, &newest, 1, MPI_UINT64_T, MPI_MAX, comm);
    part_config.weights.reference_time = static_cast<int64_t>(newest);
  }
  report.reference_time = part_config.weights.reference_time;

  // The graph of the records here: whole lists for this rank's vertices,
  // parts of lists for the other ends of their edges (dropped below).
  graph::SocialGraph part;
  OnEveryRankIfAnyFails(comm, "building the graph", [&] {
    graph::IngestReport counts;
    part = graph::BuildGraph(std::move(follows), std::move(interactions), std::move(posts), part_config, counts, {},
                             files.posts, lone_accounts);
  });
  uint64_t follow_weights = part.following.has_weights() ? 1 : 0;  // the whole graph has them if any part has
  AllReduceOr(std::span(&follow_weights, 1), comm);

  CopyOwnLists(part, follow_weights != 0, options, comm, out);
  if (options.keep_graph_part)
    out.graph_part = graph::CutGraphPart(part, {.index = static_cast<uint32_t>(Rank(comm)), .count = static_cast<uint32_t>(ranks)});
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

PartitionedInput ReadGraphPart(const std::string& path, PartitionedIngestOptions options, MPI_Comm comm) {
  const auto start = std::chrono::steady_clock::now();
  const Shard expected{.index = static_cast<uint32_t>(Rank(comm)), .count = static_cast<uint32_t>(Size(comm))};
  graph::SocialGraph part;
  OnEveryRankIfAnyFails(comm, "reading the graph parts", [&] {
    part = graph::LoadSnapshot(path);
    GR_CHECK(part.part == expected, path, " holds graph ", part.part.whole() ? "whole" : part.part.Name(), ", not ",
             expected.Name(), " (one part per rank, as many ranks as parts)");
  });
  uint64_t follow_weights = part.following.has_weights() ? 1 : 0;
  AllReduceOr(std::span(&follow_weights, 1), comm);
  PartitionedInput out;
  CopyOwnLists(part, follow_weights != 0, options, comm, out);
  out.report.reference_time = part.reference_time;
  if (options.keep_graph_part) out.graph_part = std::move(part);
  out.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace gr::dist
