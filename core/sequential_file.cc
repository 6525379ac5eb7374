#include "core/sequential_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace gr {
namespace {

// O_DIRECT wants buffer address, length and file offset aligned to the
// device's logical block; 4 KiB covers every block size in use.
constexpr size_t kBlockBytes = 4096;
constexpr size_t kStageBytes = size_t{8} << 20;

}  // namespace

void SequentialFileWriter::FreeAligned::operator()(char* p) const { std::free(p); }

SequentialFileWriter::SequentialFileWriter(std::string path, Cache cache)
    : path_(std::move(path)), temp_(TempPathFor(path_)) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  if (cache == Cache::kBypass) {
    fd_ = ::open(temp_.c_str(), kFlags | O_DIRECT, 0644);
    direct_ = fd_ >= 0;
  }
  if (fd_ < 0) fd_ = ::open(temp_.c_str(), kFlags, 0644);
  if (fd_ < 0) GR_THROW(ErrorCode::kIo, "cannot create ", temp_, ": ", std::strerror(errno));
  stage_.reset(static_cast<char*>(std::aligned_alloc(kBlockBytes, kStageBytes)));
  if (!stage_) {
    ::close(fd_);
    std::remove(temp_.c_str());
    GR_THROW(ErrorCode::kIo, "cannot allocate the write buffer for ", temp_);
  }
}

SequentialFileWriter::~SequentialFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    std::remove(temp_.c_str());
  }
}

void SequentialFileWriter::StopBypassingCache() {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0)
    GR_THROW(ErrorCode::kIo, "cannot write ", temp_, ": ", std::strerror(errno));
  direct_ = false;
}

void SequentialFileWriter::WriteStaged(size_t size) {
  // Direct writes need whole blocks: the unaligned tail of the file goes
  // through the page cache (only ever at Publish).
  if (direct_ && size % kBlockBytes != 0) StopBypassingCache();
  const char* at = stage_.get();
  while (size > 0) {
    const ssize_t n = ::write(fd_, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && direct_) {  // the file system refuses O_DIRECT after all
      StopBypassingCache();
      continue;
    }
    if (n <= 0) GR_THROW(ErrorCode::kIo, "cannot write ", temp_, ": ", n < 0 ? std::strerror(errno) : "no progress");
    at += n;
    size -= static_cast<size_t>(n);
  }
}

void SequentialFileWriter::Append(const char* data, size_t size) {
  GR_CHECK_CODE(fd_ >= 0, ErrorCode::kIo, "append to ", path_, " after it was published");
  appended_ += size;
  while (size > 0) {
    const size_t take = std::min(size, kStageBytes - staged_);
    std::memcpy(stage_.get() + staged_, data, take);
    staged_ += take;
    data += take;
    size -= take;
    if (staged_ == kStageBytes) {
      WriteStaged(staged_);
      staged_ = 0;
    }
  }
}

void SequentialFileWriter::Publish() {
  GR_CHECK_CODE(fd_ >= 0, ErrorCode::kIo, "publish ", path_, " twice");
  try {
    WriteStaged(staged_);
    staged_ = 0;
    if (::fsync(fd_) != 0) GR_THROW(ErrorCode::kIo, "fsync failed for ", temp_, ": ", std::strerror(errno));
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    std::remove(temp_.c_str());
    throw;
  }
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp_.c_str());
    GR_THROW(ErrorCode::kIo, "cannot write ", temp_, ": ", reason);
  }
  try {
    RenameAndSync(temp_, path_);
  } catch (...) {
    std::remove(temp_.c_str());
    throw;
  }
}

}  // namespace gr
