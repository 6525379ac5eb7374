#include "version/version_store.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "embed/embedding_io.h"
#include "graph/graph_parts.h"
#include "graph/snapshot.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/index_io.h"

namespace gr::version {
namespace fs = std::filesystem;

std::string ReadCurrentVersion(const std::string& artifacts_dir) {
  const std::string path = PathIn(artifacts_dir, kCurrentFile);
  std::ifstream in(path);
  if (!in.good()) return "";
  std::string version;
  std::getline(in, version);
  while (!version.empty() && (version.back() == '\r' || version.back() == ' ')) version.pop_back();
  GR_CHECK_CODE(IsValidVersionName(version), ErrorCode::kCorruption, path,
                " does not name a version directory: '", Excerpt(version), "'");
  return version;
}

void PublishVersion(const std::string& artifacts_dir, const std::string& version) {
  const std::string dir = VersionDir(artifacts_dir, version);
  GR_CHECK_CODE(fs::is_directory(dir), ErrorCode::kNotFound, "version directory ", dir,
                " does not exist");
  WriteFileAtomically(PathIn(artifacts_dir, kCurrentFile),
                      [&](std::FILE* out) { std::fprintf(out, "%s\n", version.c_str()); });
}

void WriteVersion(const std::string& artifacts_dir, const std::string& version,
                  const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                  const recall::RecallIndexes& indexes, const std::string& manifest_json,
                  const ranking::Ranker* ranker) {
  GR_CHECK(ReadCurrentVersion(artifacts_dir) != version, "version ", version,
           " is live; write a new one");
  const std::string dir = VersionDir(artifacts_dir, version);
  fs::create_directories(dir);
  graph::SaveSnapshot(g, PathIn(dir, kGraphFile));
  embed::SaveEmbeddings(table, PathIn(dir, kAccountsEmbeddingFile), manifest_json);
  SaveIndexes(indexes, dir);
  if (ranker != nullptr) ranker->Save(PathIn(dir, kRankerFile));
  WriteFileAtomically(PathIn(dir, kManifestFile),
                      [&](std::FILE* out) { std::fputs(manifest_json.c_str(), out); });
}

namespace {
// The member of `indexes` that holds `file`'s index (const or not, as `indexes`).
template <typename Indexes>
auto& IndexSlot(Indexes& indexes, IndexFile file) {
  switch (file) {
    case IndexFile::kAccounts: return indexes.accounts;
    case IndexFile::kAuthors: return indexes.authors;
    case IndexFile::kPosts: return indexes.posts;
    case IndexFile::kConsistentPosts: break;
  }
  return indexes.consistent_posts;
}
}  // namespace

void SaveIndexes(const recall::RecallIndexes& indexes, const std::string& dir) {
  fs::create_directories(dir);
  for (const IndexFile file : kIndexFiles) {
    const std::string path = PathIn(dir, IndexFileName(file));
    const auto& index = IndexSlot(indexes, file);
    if (index != nullptr) {
      recall::SaveIndex(*index, path);
    } else {
      fs::remove(path);  // a stale file from an earlier build must not be picked up
    }
  }
}

namespace {

recall::RecallIndexes LoadIndexFiles(const std::string& dir, size_t dim, std::span<const IndexFile> files) {
  recall::RecallIndexes indexes;
  for (const IndexFile file : files) {
    const std::string path = PathIn(dir, IndexFileName(file));
    // The consistent posts' rows carry one more dimension: the popularity term.
    const size_t file_dim = dim > 0 && file == IndexFile::kConsistentPosts ? dim + 1 : dim;
    if (fs::exists(path)) IndexSlot(indexes, file) = recall::LoadIndex(path, file_dim);
  }
  GR_CHECK_CODE(indexes.accounts != nullptr, ErrorCode::kNotFound, "no ",
                IndexFileName(IndexFile::kAccounts), " in ", dir);
  return indexes;
}

}  // namespace

recall::RecallIndexes LoadIndexes(const std::string& dir, size_t dim) { return LoadIndexFiles(dir, dim, kIndexFiles); }

void SaveIndexShards(const recall::RecallIndexItems& items, const recall::IndexConfig& config, uint32_t count,
                     const std::string& dir) {
  for (uint32_t k = 0; k < count; ++k) {
    const Shard shard{.index = k, .count = count};
    SaveIndexes(recall::BuildRecallIndexes(items.Shard(shard), config), PathIn(dir, shard.Name()));
  }
}

LoadedVersion::LoadedVersion() = default;
LoadedVersion::~LoadedVersion() = default;
LoadedVersion::LoadedVersion(LoadedVersion&&) noexcept = default;
LoadedVersion& LoadedVersion::operator=(LoadedVersion&&) noexcept = default;

std::string ReadManifest(const std::string& artifacts_dir, const std::string& version) {
  std::ifstream manifest(PathIn(VersionDir(artifacts_dir, version), kManifestFile));
  if (!manifest.good()) return "";
  std::ostringstream text;
  text << manifest.rdbuf();
  return text.str();
}

std::string GraphPartPath(const std::string& dir, Shard part) {
  return PathIn(PathIn(dir, part.Name()), kGraphFile);
}

graph::SocialGraph LoadGraph(const std::string& dir) {
  const std::string whole = PathIn(dir, kGraphFile);
  if (fs::exists(whole)) return graph::LoadSnapshot(whole);
  // The part counts of the shard directories that hold a graph part.
  std::vector<uint32_t> counts;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    unsigned index = 0, count = 0;
    char end = 0;
    const std::string name = entry.path().filename().string();
    if (std::sscanf(name.c_str(), "shard-%u-of-%u%c", &index, &count, &end) == 2 && count > 0 &&
        fs::exists(PathIn(entry.path().string(), kGraphFile)))
      counts.push_back(count);
  }
  GR_CHECK_CODE(!error, ErrorCode::kNotFound, "cannot list ", dir, ": ", error.message());
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  GR_CHECK_CODE(!counts.empty(), ErrorCode::kNotFound, dir, " has no ", kGraphFile, " and no graph parts (",
                GraphPartPath(dir, {.index = 0, .count = 2}), ", ...)");
  GR_CHECK_CODE(counts.size() == 1, ErrorCode::kCorruption, dir, " holds graph parts of ", counts[0], " and of ",
                counts[1], " parts");
  std::vector<graph::SocialGraph> parts;
  for (uint32_t k = 0; k < counts[0]; ++k) {
    const Shard expected{.index = k, .count = counts[0]};
    const std::string path = GraphPartPath(dir, expected);
    GR_CHECK_CODE(fs::exists(path), ErrorCode::kNotFound, "graph part ", path, " is missing");
    parts.push_back(graph::LoadSnapshot(path));
    GR_CHECK_CODE(parts.back().part == expected, ErrorCode::kCorruption, path, " holds graph ",
                  parts.back().part.whole() ? "whole" : parts.back().part.Name(), ", not ", expected.Name());
  }
  return graph::MergeGraphParts(parts);
}

LoadedVersion LoadVersion(const std::string& artifacts_dir, const std::string& version, Shard shard) {
  const std::string dir = VersionDir(artifacts_dir, version);
  GR_CHECK_CODE(fs::is_directory(dir), ErrorCode::kNotFound, "version directory ", dir,
                " does not exist");
  LoadedVersion loaded;
  loaded.version = version;
  loaded.manifest_json = ReadManifest(artifacts_dir, version);
  loaded.graph = LoadGraph(dir);
  loaded.table = embed::LoadEmbeddings(PathIn(dir, kAccountsEmbeddingFile));
  if (shard.whole()) {
    loaded.indexes = LoadIndexes(dir, loaded.table.dim());
  } else {
    const std::string shard_dir = PathIn(dir, shard.Name());
    GR_CHECK_CODE(fs::is_directory(shard_dir), ErrorCode::kNotFound, "version ", version, " has no ", shard.Name(),
                  " (", shard_dir, "): run the batch with --index-shards ", shard.count);
    constexpr IndexFile kSharded[] = {IndexFile::kAccounts, IndexFile::kAuthors, IndexFile::kPosts};
    loaded.indexes = LoadIndexFiles(shard_dir, loaded.table.dim(), kSharded);
    // The ranker-consistent index is not sharded: every shard answers it whole.
    if (const std::string path = PathIn(dir, IndexFileName(IndexFile::kConsistentPosts)); fs::exists(path))
      loaded.indexes.consistent_posts = recall::LoadIndex(path, loaded.table.dim() + 1);
  }
  if (const std::string ranker = PathIn(dir, kRankerFile); fs::exists(ranker))
    loaded.ranker = std::make_unique<ranking::Ranker>(ranking::Ranker::Load(ranker));
  if (const std::string towers = PathIn(dir, kConsistentRecallFile); fs::exists(towers))
    loaded.consistent_recall =
        std::make_unique<ranking::ConsistentRecall>(ranking::ConsistentRecall::Load(towers));
  GR_CHECK_CODE((loaded.consistent_recall != nullptr) == (loaded.indexes.consistent_posts != nullptr),
                ErrorCode::kCorruption, "version ", version, " has one of ", kConsistentRecallFile, " and ",
                IndexFileName(IndexFile::kConsistentPosts), " without the other");
  return loaded;
}

uint64_t EventLogWatermarkOf(std::string_view manifest_json) {
  const nlohmann::json manifest = nlohmann::json::parse(manifest_json, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object()) return 0;
  const auto it = manifest.find(kEventLogWatermarkKey);
  return it != manifest.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::vector<std::string> ListVersions(const std::string& artifacts_dir) {
  std::vector<std::pair<fs::file_time_type, std::string>> versions;
  for (const auto& entry : fs::directory_iterator(artifacts_dir)) {
    const std::string manifest = PathIn(entry.path().string(), kManifestFile);
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && IsValidVersionName(name) && fs::exists(manifest))
      versions.emplace_back(fs::last_write_time(manifest), name);
  }
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> names;
  for (auto& v : versions) names.push_back(std::move(v.second));
  return names;
}

void RemoveOldVersions(const std::string& artifacts_dir, uint32_t keep) {
  const std::string live = ReadCurrentVersion(artifacts_dir);
  const std::vector<std::string> versions = ListVersions(artifacts_dir);
  for (size_t i = keep; i < versions.size(); ++i) {
    if (versions[i] == live) continue;
    spdlog::info("removing old version {}", PathIn(artifacts_dir, versions[i]));
    fs::remove_all(PathIn(artifacts_dir, versions[i]));
  }
}

}  // namespace gr::version
