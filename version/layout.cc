#include "version/layout.h"

#include <algorithm>

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
    case IndexFile::kConsistentPosts:
      return "consistent_posts.hnsw";
  }
  return "?";
}

std::string PathIn(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

bool IsValidVersionName(const std::string& version) {
  // A name that is safe in a path, a log line and a terminal.
  constexpr size_t kMaxVersionName = 128;
  if (version.empty() || version.size() > kMaxVersionName || version[0] == '.') return false;
  return std::all_of(version.begin(), version.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string VersionDir(const std::string& artifacts_dir, const std::string& version) {
  GR_CHECK(IsValidVersionName(version), "version must be a plain directory name, got '", Excerpt(version),
           "'");
  return PathIn(artifacts_dir, version);
}

}  // namespace gr::version
