// Writing, publishing and reading whole versions of the artifacts directory
// (names in version/layout.h).
//
// A version is written completely (every file synced, the manifest last)
// before CURRENT is replaced by an atomic rename, so readers see either the
// old or the new version, never a half-written one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "recall/recall.h"
#include "version/layout.h"

namespace gr::ranking {
class Ranker;
class ConsistentRecall;
}  // namespace gr::ranking

namespace gr::version {

// The version named in artifacts_dir/CURRENT, or "" if there is no CURRENT.
// Throws kCorruption for a name that is not a plain directory name.
std::string ReadCurrentVersion(const std::string& artifacts_dir);

// Makes `version` live by replacing CURRENT atomically. Throws kNotFound if
// the version directory does not exist, kIo if CURRENT cannot be written.
void PublishVersion(const std::string& artifacts_dir, const std::string& version);

// Writes the files of one version into artifacts_dir/version (created; it
// must not be live). Each file is written atomically and synced; the
// manifest is written last. `ranker` may be null. Does not publish.
void WriteVersion(const std::string& artifacts_dir, const std::string& version,
                  const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                  const recall::RecallIndexes& indexes, const std::string& manifest_json,
                  const ranking::Ranker* ranker = nullptr);

// The recall indices of a version or index directory: each present index is
// written atomically; an absent one's stale file is removed.
void SaveIndexes(const recall::RecallIndexes& indexes, const std::string& dir);
// Loads the index files present in dir; throws kNotFound if accounts.hnsw is
// missing and kInvalidArgument if a dimension differs from `dim` (0 = any).
recall::RecallIndexes LoadIndexes(const std::string& dir, size_t dim = 0);

// The index shards of a version: for each K < count, the accounts, authors
// and posts indices over shard K's ids of `items`
// (recall::CollectRecallIndexItems), written to dir/shard-K-of-N.
void SaveIndexShards(const recall::RecallIndexItems& items, const recall::IndexConfig& config, uint32_t count,
                     const std::string& dir);

// Where part `part` of the graph of a version (or of the batch's work
// directory) `dir` is kept when the graph is stored in parts, one per MPI
// rank (graph/graph_parts.h): dir/shard-K-of-N/graph.snap.
std::string GraphPartPath(const std::string& dir, Shard part);

// The graph of a version or work directory `dir`: dir/graph.snap, or else
// the merge of its parts (GraphPartPath, every K of one N). Throws kNotFound
// naming what is missing, kCorruption for parts that do not fit together,
// or the snapshot's errors.
graph::SocialGraph LoadGraph(const std::string& dir);

// One version as read from disk.
struct LoadedVersion {
  std::string version;
  std::string manifest_json;  // "" if the version has none
  graph::SocialGraph graph;
  embed::EmbeddingTable table;
  recall::RecallIndexes indexes;
  std::unique_ptr<ranking::Ranker> ranker;  // null when the version has none
  // The ranker-consistent recall towers; null when the version has none
  // (then indexes.consistent_posts is null too).
  std::unique_ptr<ranking::ConsistentRecall> consistent_recall;

  LoadedVersion();
  ~LoadedVersion();
  LoadedVersion(LoadedVersion&&) noexcept;
  LoadedVersion& operator=(LoadedVersion&&) noexcept;
};

// Reads artifacts_dir/version. Throws kNotFound if the directory is missing,
// or gr::Error naming the file that is missing or damaged. A shard other
// than the whole takes the accounts, authors and posts indices from the
// version's shard directory (kNotFound, saying how to write it, if absent).
LoadedVersion LoadVersion(const std::string& artifacts_dir, const std::string& version, Shard shard = {});

// The text of artifacts_dir/version/manifest.json, "" if there is none.
std::string ReadManifest(const std::string& artifacts_dir, const std::string& version);

// The event log position a version's manifest records (kEventLogWatermarkKey),
// 0 when the manifest is empty, not JSON or without the key.
uint64_t EventLogWatermarkOf(std::string_view manifest_json);

// Version directories (those with a manifest), newest manifest first.
std::vector<std::string> ListVersions(const std::string& artifacts_dir);

// Removes the oldest version directories beyond `keep`, never the live one.
void RemoveOldVersions(const std::string& artifacts_dir, uint32_t keep);

}  // namespace gr::version
