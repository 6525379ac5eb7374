#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace gr {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

void FsyncDirectory(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  const std::string name = dir.empty() ? std::string(".") : dir.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) GR_THROW(ErrorCode::kIo, "cannot open ", name, " to sync: ", ErrnoText());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) GR_THROW(ErrorCode::kIo, "fsync failed for ", name, ": ", ErrnoText());
}

}  // namespace

std::string TempPathFor(const std::string& path) { return StrCat(path, ".tmp.", ::getpid()); }

void PublishTempFile(std::FILE* file, const std::string& temp, const std::string& path) {
  const bool written = std::ferror(file) == 0 && std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const std::string error = written ? "" : ErrnoText();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::remove(temp.c_str());
    GR_THROW(ErrorCode::kIo, "cannot write ", temp, ": ", written ? ErrnoText() : error);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = ErrnoText();
    std::remove(temp.c_str());
    GR_THROW(ErrorCode::kIo, "cannot rename ", temp, " to ", path, ": ", reason);
  }
  FsyncDirectory(path);
}

void RenameAndSync(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    GR_THROW(ErrorCode::kIo, "cannot rename ", from, " to ", to, ": ", ErrnoText());
  FsyncDirectory(to);
}

void WriteFileAtomically(const std::string& path, const std::function<void(std::FILE*)>& write) {
  const std::string temp = TempPathFor(path);
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) GR_THROW(ErrorCode::kIo, "cannot create ", temp, ": ", ErrnoText());
  try {
    write(file);
  } catch (...) {
    std::fclose(file);
    std::remove(temp.c_str());
    throw;
  }
  PublishTempFile(file, temp, path);
}

}  // namespace gr
