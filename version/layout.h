// Every on-disk name of the artifacts directory, in one place (LevelDB's
// db/filename.h idea): the batch writes through these names, the server and
// the commands read through them, and nothing else spells a file name.
//
//   artifacts/
//     CURRENT            the live version's directory name, one line
//     .lock              held by a running batch (flock)
//     .work/             the version a batch is building; state.json records
//                        which stages finished (pipeline/work_state.h)
//     <version>/
//       manifest.json    inputs, parameters, counts, timings, metrics
//       graph.snap       graph snapshot (graph/snapshot.h); or, from a batch
//                        on N MPI ranks, shard-K-of-N/graph.snap: one part
//                        per rank (graph/graph_parts.h; version::LoadGraph)
//       accounts.emb     account vectors, input and output (embed/embedding_io.h)
//       accounts.hnsw, authors.hnsw, posts.hnsw   recall indices (recall/index_io.h)
//       ranker.bin       multi-task ranker; present when the batch trained one
//       consistent_recall.bin, consistent_posts.hnsw   ranker-consistent recall
//                        towers and their post index (ranking/consistent_recall.h)
//       report.html      the nightly report (pipeline/nightly_report.h)
//       shard-K-of-N/    accounts.hnsw, authors.hnsw, posts.hnsw over the ids of
//                        shard K (core/shard.h), for `serve --shard K/N`;
//                        present when the batch ran with --index-shards N
//     history.jsonl      one line per batch run: the report's history
//
// An index directory written by `graphrec index` holds the same *.hnsw names.
#pragma once

#include <string>

namespace gr::version {

inline constexpr const char* kCurrentFile = "CURRENT";
inline constexpr const char* kLockFile = ".lock";
inline constexpr const char* kWorkDir = ".work";
inline constexpr const char* kWorkStateFile = "state.json";
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kGraphFile = "graph.snap";
inline constexpr const char* kAccountsEmbeddingFile = "accounts.emb";
inline constexpr const char* kRankerFile = "ranker.bin";
inline constexpr const char* kConsistentRecallFile = "consistent_recall.bin";
inline constexpr const char* kReportFile = "report.html";
// One line of JSON per batch run (pipeline/nightly_report.h), kept when old
// versions are removed: the report's figures across versions.
inline constexpr const char* kHistoryFile = "history.jsonl";
// The server's event log (stream/event_log.h), beside the versions; a
// version's manifest records the log position it contains under this key.
inline constexpr const char* kEventLogDir = "events";
inline constexpr const char* kEventLogWatermarkKey = "event_log_watermark";

// The recall indices a version holds, in this order.
enum class IndexFile { kAccounts, kAuthors, kPosts, kConsistentPosts };
inline constexpr IndexFile kIndexFiles[] = {IndexFile::kAccounts, IndexFile::kAuthors, IndexFile::kPosts,
                                            IndexFile::kConsistentPosts};
const char* IndexFileName(IndexFile index);  // "accounts.hnsw", ...

// dir/name: the one path join used for every name above.
std::string PathIn(const std::string& dir, const std::string& name);

// artifacts_dir/version. Throws kInvalidArgument unless `version` is a plain
// directory name (IsValidVersionName).
std::string VersionDir(const std::string& artifacts_dir, const std::string& version);
// True if `version` is a plain directory name, as VersionDir requires:
// 1-128 letters, digits, '.', '_' or '-', not starting with '.'.
bool IsValidVersionName(const std::string& version);

}  // namespace gr::version
