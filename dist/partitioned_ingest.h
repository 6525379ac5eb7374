// The input files (follows, interactions, posts) read by every rank at once
// into its part of graph::Ingest's graph (issue 20): no rank reads or holds
// the whole input. Rank k parses bytes [size x k/N, size x (k+1)/N) of each
// file, sends each record to the owners (OwnerOf) of the vertices it names,
// and builds the lists of its own vertices from what arrived with
// graph::BuildGraph. A vertex's lists depend on the set of its records only,
// so each is the single-process graph's list, in its order, with its
// weights: the same parts ScatterFollowsFromRoot and ScatterPostsFromRoot
// cut from that graph.
#pragma once

#include <mpi.h>

#include "dist/partitioned_graph.h"
#include "graph/ingest.h"

namespace gr::dist {

// Collective: this rank's share of `path`'s bytes for a read split between
// the ranks of `comm` (graph::ByteRange): bytes [size x k/N, size x (k+1)/N)
// of the size rank 0 sees, the last rank to the end; the whole file for one
// rank (a gzip file can be read there, not split). For a file rank 0 cannot
// see, every range starts at 0 and the readers name the file.
graph::ByteRange RangeOf(const std::string& path, MPI_Comm comm);

// What IngestPartitioned keeps besides the follows.
struct PartitionedIngestOptions {
  bool with_posts = false;     // the post relations (metapath walks)
  bool post_weights = false;   // with their weights
  bool keep_graph_part = false;  // this rank's graph::CutGraphPart (for a snapshot in parts)
};

struct PartitionedInput {
  PartitionedFollows follows;  // lines_read: the follows this rank parsed; bytes_sent: every record it sent
  PartitionedPosts posts;      // empty without with_posts
  // This rank's part of graph::Ingest's graph, as graph::CutGraphPart cuts
  // it (part K of N for rank K of N): every list of its vertices with all
  // of their edge fields, and its posts' authors and times; empty without
  // keep_graph_part. graph::MergeGraphParts of the ranks' parts is Ingest's graph.
  graph::SocialGraph graph_part;
  // The files' counts summed over the ranks (bad_examples: this rank's
  // part's), the changes given, the decay's reference time and this rank's
  // seconds. The merge counts and follows_removed are not filled: each rank
  // merges and removes records of others' vertices too.
  graph::IngestReport report;
};

// Collective over `comm` (the same arguments on every rank). The files must
// be plain text when there is more than one rank (a gzip stream cannot be
// split). `options.with_posts`: the post relations too (metapath walks),
// with their weights when `post_weights`; the follows carry their weights
// when the graph has any, as ScatterFollowsFromRoot's. Throws gr::Error on every rank
// when any fails: a bad line is named by file and byte offset on the rank
// that read it (unless config.skip_bad_lines), a post with two authors
// names the post. `changes` (the event log's since the files, in log order,
// the same on every rank) are applied as graph::Ingest applies them: each
// rank applies those that touch its vertices, and the reference time is the
// newest after them.
PartitionedInput IngestPartitioned(const graph::InputFiles& files, const graph::IngestConfig& config,
                                   PartitionedIngestOptions options, MPI_Comm comm,
                                   std::span<const graph::GraphChange> changes = {});

// Collective over `comm`: this rank's input as IngestPartitioned gave it,
// from the graph part it saved at `path` (graph::SaveSnapshot of its
// graph_part; rank K of N reads part K of N): the same lists, weights and
// times, the report's reference time (its counts are not kept), and the
// part itself with keep_graph_part. For a batch resumed after a crash.
// Throws on every rank when any fails: the snapshot's errors, or kInvalidArgument for
// another rank's part.
PartitionedInput ReadGraphPart(const std::string& path, PartitionedIngestOptions options, MPI_Comm comm);

}  // namespace gr::dist
