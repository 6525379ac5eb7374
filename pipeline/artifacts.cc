#include "pipeline/artifacts.h"

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "embed/embedding_io.h"
#include "graph/snapshot.h"
#include "ranking/ranker.h"

namespace gr::pipeline {

std::string VersionPath(const std::string& artifacts_dir, const std::string& version) {
  return (std::filesystem::path(artifacts_dir) / version).string();
}

std::string ReadCurrentVersion(const std::string& artifacts_dir) {
  const std::string path = (std::filesystem::path(artifacts_dir) / kCurrentFile).string();
  std::ifstream in(path);
  if (!in.good()) return "";
  std::string version;
  std::getline(in, version);
  while (!version.empty() && (version.back() == '\r' || version.back() == ' ')) version.pop_back();
  GR_CHECK_CODE(!version.empty() && version.find('/') == std::string::npos && version[0] != '.',
                ErrorCode::kCorruption, path, " does not name a version directory: '", version, "'");
  return version;
}

void PublishVersion(const std::string& artifacts_dir, const std::string& version) {
  GR_CHECK_CODE(std::filesystem::is_directory(VersionPath(artifacts_dir, version)), ErrorCode::kNotFound,
                "version directory ", VersionPath(artifacts_dir, version), " does not exist");
  WriteFileAtomically((std::filesystem::path(artifacts_dir) / kCurrentFile).string(),
                      [&](std::FILE* out) { std::fprintf(out, "%s\n", version.c_str()); });
}

void WriteModelVersion(const std::string& artifacts_dir, const std::string& version, const graph::SocialGraph& g,
                       const embed::EmbeddingTable& table, const recall::RecallIndexes& indexes,
                       const std::string& manifest_json, const ranking::Ranker* ranker) {
  GR_CHECK(ReadCurrentVersion(artifacts_dir) != version, "version ", version, " is live; write a new one");
  const std::string dir = VersionPath(artifacts_dir, version);
  std::filesystem::create_directories(dir);
  graph::SaveSnapshot(g, (std::filesystem::path(dir) / kGraphFile).string());
  embed::SaveEmbeddings(table, (std::filesystem::path(dir) / kAccountsEmbeddingFile).string(), manifest_json);
  recall::SaveRecallIndexes(indexes, dir);
  if (ranker != nullptr) ranker->Save((std::filesystem::path(dir) / kRankerFile).string());
  WriteFileAtomically((std::filesystem::path(dir) / kManifestFile).string(),
                      [&](std::FILE* out) { std::fputs(manifest_json.c_str(), out); });
}

}  // namespace gr::pipeline
