#include "version/layout.h"

#include <filesystem>

#include "core/error.h"

namespace gr::version {

const char* IndexFileName(IndexFile index) {
  switch (index) {
    case IndexFile::kAccounts:
      return "accounts.hnsw";
    case IndexFile::kAuthors:
      return "authors.hnsw";
    case IndexFile::kPosts:
      return "posts.hnsw";
  }
  return "?";
}

std::string PathIn(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

bool IsValidVersionName(const std::string& version) {
  return !version.empty() && version.find('/') == std::string::npos && version[0] != '.';
}

std::string VersionDir(const std::string& artifacts_dir, const std::string& version) {
  GR_CHECK(IsValidVersionName(version), "version must be a plain directory name, got '", version,
           "'");
  return PathIn(artifacts_dir, version);
}

}  // namespace gr::version
