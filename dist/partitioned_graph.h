// The follow graph partitioned across MPI ranks (issue 20): each rank reads a
// disjoint byte range of the follows file and keeps only the adjacency of the
// accounts it owns, so graph memory per rank is about 1/N of the whole.
// (dist/partitioned_ingest.h reads input directories the same way.)
//
// Ownership is by hash of the external id (OwnerOf, core/shard.h's rule, so
// that rank K's accounts are index shard K of N), not by id range: it needs
// no coordination (a rank knows any account's owner from its id alone, which
// walkers moving between ranks ask at every step) and spreads the
// high-degree accounts evenly whatever order ids were issued in. The price is
// no locality: a walk step leaves the rank with probability (N-1)/N.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/shard.h"

namespace gr::graph {
struct SocialGraph;
}

namespace gr::dist {

// The rank that owns `account` among `ranks`.
inline int OwnerOf(ExternalId account, int ranks) {
  return static_cast<int>(ShardOf(account, static_cast<uint32_t>(ranks)));
}

// One rank's part: its accounts (every account of the follows file it owns,
// with or without edges of its own), sorted, with their followees and
// followers (CSR over the same account order, each list sorted, duplicates
// merged; self-follows dropped but their account kept, as graph::Ingest's defaults do).
struct PartitionedFollows {
  std::vector<ExternalId> accounts;
  std::vector<uint64_t> following_offsets, followers_offsets;  // accounts.size() + 1 each
  std::vector<ExternalId> followees, followers;
  // Edge weights parallel to followees and followers (a follow's weight on
  // both sides; duplicates summed), or both empty: every weight 1.
  std::vector<float> followee_weights, follower_weights;
  // The follows' times, parallel to followees, where the reader had them
  // (IngestPartitioned; the hold-out orders by them), else empty.
  std::vector<uint32_t> followee_times;
  uint64_t lines_read = 0;   // data lines this rank parsed (its byte range)
  uint64_t bytes_sent = 0;   // edge records sent to other ranks

  size_t MemoryBytes() const;  // of the arrays above
};

// How LoadPartitionedFollows reads a line's third field.
enum class ThirdField {
  kIgnored,  // a follows file's timestamp (unweighted walks need none)
  kWeight,   // an edge list's weight (graph::LoadEdgeList): finite and > 0, absent = 1
};

// Collective over `comm`: every rank must call it with the same path. Reads a
// plain-text follows file or edge list (follower, followee[, timestamp or
// weight]; graph::ReadEdgeList's rules: tab, comma or space separated, an
// optional header line, blank and '#' lines skipped) on `threads` threads a
// rank, a block at a time. Throws gr::Error on every rank when any rank
// fails: kInvalidArgument naming the file and byte offset of a malformed
// line (on the rank that read it), kIo for an unreadable file,
// kInvalidArgument for a gzip file read by more than one rank (a compressed
// stream cannot be split by byte ranges: decompress it first).
PartitionedFollows LoadPartitionedFollows(const std::string& path, MPI_Comm comm,
                                          ThirdField third = ThirdField::kIgnored, int threads = 1);

// Collective over `comm`: rank 0 sends every rank its part of `g`'s follow
// graph (every account of g, with or without follows; `g` is read on rank 0
// only and may be null elsewhere). For a driver that already holds the
// graph on rank 0 (graphrec batch under mpirun); lines_read counts rank 0's
// edges. The follows' weights travel too when g has any. Rank 0 sends a
// slice of its accounts at a time (about 4M follows), so beside the graph it
// holds one slice's records, not every rank's.
PartitionedFollows ScatterFollowsFromRoot(const graph::SocialGraph* g, MPI_Comm comm);

// One relation as a rank holds it: the lists of the vertices it owns of the
// relation's source kind (parallel to those vertices), each list the whole
// graph's list in its order (ascending dense id) with targets by external id.
struct PartitionedLists {
  std::vector<uint64_t> offsets{0};
  std::vector<ExternalId> targets;
  std::vector<float> weights;  // parallel to targets, or empty: every weight 1
  // Parallel to targets where the reader had them (IngestPartitioned's
  // engaged_by: the interactions' times, for the posts' cold vectors), else empty.
  std::vector<uint32_t> times;

  uint64_t Degree(size_t v) const { return offsets[v + 1] - offsets[v]; }
  size_t MemoryBytes() const;
};

// The relations of posts, partitioned as the follows are: a post belongs to
// rank OwnerOf(post id), so a rank knows any post's owner from its id, as it
// does an account's (metapath walkers step to both).
struct PartitionedPosts {
  // Parallel to the same rank's PartitionedFollows::accounts:
  PartitionedLists interacts;  // an account's posts interacted with (graph::SocialGraph::engagements)
  PartitionedLists authored;   // an account's posts
  // This rank's posts, ascending (every post of the graph it owns, with or
  // without interactions), and theirs:
  std::vector<ExternalId> posts;
  PartitionedLists engaged_by;   // the accounts that interacted (engagers)
  PartitionedLists authored_by;  // the author, if known (graph::AuthoredByGraph)
  uint64_t bytes_sent = 0;       // lists rank 0 sent to other ranks

  size_t MemoryBytes() const;
};

// Collective over `comm`: rank 0 sends every rank the post relations of `g`
// (read on rank 0 only; null elsewhere) for the accounts of `follows` (this
// rank's part from ScatterFollowsFromRoot over the same g) and for the
// posts it owns, with the edge weights when `with_weights` (rank 0's value
// counts). A slice of the vertices at a time (about 4M values), as the
// follows' scatter sends.
PartitionedPosts ScatterPostsFromRoot(const graph::SocialGraph* g, const PartitionedFollows& follows,
                                      bool with_weights, MPI_Comm comm);

}  // namespace gr::dist
