// The artifact layout of DESIGN.md: one directory per published version and
// a CURRENT file naming the live one.
//
//   artifacts/
//     CURRENT            the live version's directory name, one line
//     <version>/
//       manifest.json    inputs, parameters, counts, timings, metrics
//       graph.snap       graph snapshot
//       accounts.emb     account vectors (input and output)
//       accounts.hnsw, authors.hnsw, posts.hnsw   recall indices
//
// A version is written completely (every file synced) before CURRENT is
// replaced by an atomic rename, so readers see either the old or the new
// version, never a half-written one.
#pragma once

#include <string>

#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "recall/recall.h"

namespace gr::ranking {
class Ranker;
}  // namespace gr::ranking

namespace gr::pipeline {

inline constexpr const char* kCurrentFile = "CURRENT";
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kGraphFile = "graph.snap";
inline constexpr const char* kAccountsEmbeddingFile = "accounts.emb";
inline constexpr const char* kRankerFile = "ranker.bin";  // optional: present when the batch trained a ranker

// artifacts_dir/version.
std::string VersionPath(const std::string& artifacts_dir, const std::string& version);

// The version named in artifacts_dir/CURRENT, or "" if there is no CURRENT.
// Throws kCorruption for a name that is empty, has a '/', or starts with '.'.
std::string ReadCurrentVersion(const std::string& artifacts_dir);

// Makes `version` live by replacing CURRENT atomically. Throws kNotFound if
// the version directory does not exist, kIo if CURRENT cannot be written.
void PublishVersion(const std::string& artifacts_dir, const std::string& version);

// Writes the files of one version into artifacts_dir/version (created; it
// must not be live). Each file is written atomically and synced; the
// manifest is written last. Does not publish.
void WriteModelVersion(const std::string& artifacts_dir, const std::string& version, const graph::SocialGraph& g,
                       const embed::EmbeddingTable& table, const recall::RecallIndexes& indexes,
                       const std::string& manifest_json, const ranking::Ranker* ranker = nullptr);

}  // namespace gr::pipeline
