#include "graph/internal/text_parse.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace gr::graph::internal {

size_t SplitFields(std::string_view line, std::string_view* fields) {
  const char* p = line.data();
  const char* const end = p + line.size();
  const char* q = p;
  while (q < end && *q != '\t' && *q != ',') ++q;
  auto trimmed = [](const char* b, const char* e) {
    while (b < e && *b == ' ') ++b;
    while (e > b && e[-1] == ' ') --e;
    return std::string_view(b, static_cast<size_t>(e - b));
  };
  size_t n = 0;
  if (q < end) {  // tab- or comma-delimited: empty fields are kept
    const char* start = p;
    while (true) {
      if (n == kMaxFields) return kMaxFields + 1;
      fields[n++] = trimmed(start, q);
      if (q == end) return n;
      start = q + 1;
      q = start;
      while (q < end && *q != '\t' && *q != ',') ++q;
    }
  }
  while (p < end) {  // whitespace-separated
    while (p < end && *p == ' ') ++p;
    if (p == end) break;
    const char* e = p;
    while (e < end && *e != ' ') ++e;
    if (n == kMaxFields) return kMaxFields + 1;
    fields[n++] = std::string_view(p, static_cast<size_t>(e - p));
    p = e;
  }
  return n;
}

bool ParseFloat(std::string_view text, float* out) {
  // Whole numbers (counts, timestamps) are most weights: converting the
  // integer rounds to nearest like from_chars, and is several times faster.
  uint64_t whole = 0;
  if (text.size() <= 19 && ParseU64(text, &whole)) {
    *out = static_cast<float>(whole);
    return true;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

size_t CountNewlines(std::string_view text) {
  // Eight bytes at a time: a byte of x is zero where text has '\n', and
  // ((b & 0x7f) + 0x7f) | b has its high bit set exactly when byte b is not
  // zero (no carry crosses a byte).
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const char* p = text.data();
  const size_t n = text.size();
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    const uint64_t x = word ^ (kOnes * '\n');
    const uint64_t nonzero = ((x & ~kHigh) + ~kHigh) | x;
    count += static_cast<size_t>(__builtin_popcountll(~nonzero & kHigh));
  }
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

std::string ShortLine(std::string_view line) { return Excerpt(line, 120); }

BlockReader::BlockReader(const std::string& path, size_t block_bytes, int threads, ByteRange range)
    : path_(path), threads_(std::max(1, threads)) {
  GR_CHECK(block_bytes >= 64, "block size too small: ", block_bytes);
  GR_CHECK(range.begin <= range.end, path, ": byte range [", range.begin, ", ", range.end, ") is reversed");
  buffer_ = std::make_unique_for_overwrite<char[]>(block_bytes);
  buffer_size_ = block_bytes;
  if (OpenPlain()) {
    range_size_ = plain_size_;
    if (range.whole()) return;
    // A line is the range's if its first byte is: start on the byte before
    // and skip through the first newline (which may be that byte).
    const uint64_t begin = std::min<uint64_t>(range.begin, plain_size_);
    range_end_ = std::min<uint64_t>(range.end, plain_size_);
    range_size_ = range_end_ - begin;
    if (begin > 0) {
      plain_pos_ = begin - 1;
      cursor_ = begin - 1;
      skip_partial_line_ = true;
    }
    return;
  }
  if (!range.whole()) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) GR_THROW(ErrorCode::kIo, "cannot open ", path, ": ", std::strerror(errno));
    GR_THROW(ErrorCode::kInvalidArgument, path, " is compressed or not a regular file, so it cannot be read in byte ",
             "ranges (as ranks under mpirun split their input): decompress it to a plain file");
  }
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) GR_THROW(ErrorCode::kIo, "cannot open ", path, ": ", std::strerror(errno));
  gzbuffer(gz, 1 << 20);
  gz_ = gz;
}

BlockReader::~BlockReader() {
  if (fd_ >= 0) close(fd_);
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

// Opens `path` for preads if it is a regular file that does not start with
// the gzip magic; false leaves the zlib path to read it (and report errors).
bool BlockReader::OpenPlain() {
  // stat first: opening a pipe only to close it again would break it.
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char magic[2] = {0, 0};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {
    close(fd);
    return false;
  }
  fd_ = fd;
  plain_size_ = static_cast<size_t>(st.st_size);
  posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  return true;
}

// Reads up to `bytes` at the current position in parallel slices; fewer only
// at the end of the file (as it was when opened).
size_t BlockReader::ReadPlain(char* to, size_t bytes) {
  const size_t n = std::min(bytes, plain_size_ - plain_pos_);
  constexpr size_t kMinSlice = size_t{4} << 20;
  const size_t slices = std::clamp<size_t>(n / kMinSlice, 1, static_cast<size_t>(threads_));
  ParallelFor(static_cast<int64_t>(slices), threads_, 1, [&](int64_t s) {
    size_t at = n * static_cast<size_t>(s) / slices;
    const size_t slice_end = n * static_cast<size_t>(s + 1) / slices;
    while (at < slice_end) {
      const ssize_t got = pread(fd_, to + at, slice_end - at, static_cast<off_t>(plain_pos_ + at));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) GR_THROW(ErrorCode::kIo, "cannot read ", path_, ": ", std::strerror(errno));
      if (got == 0)
        GR_THROW(ErrorCode::kIo, "cannot read ", path_, ": it shrank from ", plain_size_,
                 " bytes while being read");
      at += static_cast<size_t>(got);
    }
  });
  plain_pos_ += n;
  // Ask for the next block now; the disk reads it while this one is parsed.
  if (plain_pos_ < plain_size_)
    posix_fadvise(fd_, static_cast<off_t>(plain_pos_), static_cast<off_t>(buffer_size_), POSIX_FADV_WILLNEED);
  return n;
}

void BlockReader::Fill() {
  if (begin_ > 0) {  // move the unread tail to the front
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (fd_ >= 0) {
    if (!eof_) {
      end_ += ReadPlain(buffer_.get() + end_, buffer_size_ - end_);
      eof_ = plain_pos_ == plain_size_;
    }
    return;
  }
  auto gz = static_cast<gzFile>(gz_);
  while (end_ < buffer_size_ && !eof_) {
    const auto want = static_cast<unsigned>(std::min<size_t>(buffer_size_ - end_, 1u << 30));
    const int got = gzread(gz, buffer_.get() + end_, want);
    if (got < 0) {
      int errnum = 0;
      const char* message = gzerror(gz, &errnum);
      GR_THROW(ErrorCode::kCorruption, "cannot read ", path_, ": ",
               errnum == Z_ERRNO ? std::strerror(errno) : message,
               " (truncated or corrupt gzip file?)");
    }
    if (got == 0) {
      int errnum = 0;
      const char* message = gzerror(gz, &errnum);
      if (errnum != Z_OK && errnum != Z_STREAM_END)
        GR_THROW(ErrorCode::kCorruption, "cannot read ", path_, ": ", message);
      eof_ = true;
    }
    end_ += static_cast<size_t>(got);
  }
}

bool BlockReader::Next(std::string_view* block) {
  while (skip_partial_line_) {
    Fill();
    const std::string_view data(buffer_.get() + begin_, end_ - begin_);
    const size_t newline = data.find('\n');
    const size_t skip = newline == std::string_view::npos ? data.size() : newline + 1;
    begin_ += skip;
    cursor_ += skip;
    skip_partial_line_ = newline == std::string_view::npos && !eof_;
  }
  if (cursor_ >= range_end_) return false;
  Fill();
  if (begin_ == end_) return false;
  std::string_view data(buffer_.get() + begin_, end_ - begin_);
  size_t cut = data.size();
  if (!eof_) {
    const size_t last_newline = data.rfind('\n');
    if (last_newline == std::string_view::npos)
      GR_THROW(ErrorCode::kInvalidArgument, path_, ": a line is longer than ", buffer_size_,
               " bytes (not a text edge file?)");
    cut = last_newline + 1;
  }
  if (cursor_ + cut > range_end_) {  // end with the line that holds the range's last byte
    const size_t newline = data.find('\n', range_end_ - 1 - cursor_);
    if (newline != std::string_view::npos) cut = std::min(cut, newline + 1);
  }
  *block = data.substr(0, cut);
  block_file_offset_ = cursor_;
  begin_ += cut;
  offset_ += cut;
  cursor_ += cut;
  return true;
}

}  // namespace gr::graph::internal
