#include "graph/internal/text_parse.h"

#include <zlib.h>

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
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

std::string ShortLine(std::string_view line) { return Excerpt(line, 120); }

BlockReader::BlockReader(const std::string& path, size_t block_bytes) : path_(path) {
  GR_CHECK(block_bytes >= 64, "block size too small: ", block_bytes);
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) GR_THROW(ErrorCode::kIo, "cannot open ", path, ": ", std::strerror(errno));
  gzbuffer(gz, 1 << 20);
  gz_ = gz;
  buffer_.resize(block_bytes);
}

BlockReader::~BlockReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

void BlockReader::Fill() {
  auto gz = static_cast<gzFile>(gz_);
  if (begin_ > 0) {  // move the unread tail to the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < buffer_.size() && !eof_) {
    const auto want = static_cast<unsigned>(std::min<size_t>(buffer_.size() - end_, 1u << 30));
    const int got = gzread(gz, buffer_.data() + end_, want);
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
  Fill();
  if (begin_ == end_) return false;
  std::string_view data(buffer_.data() + begin_, end_ - begin_);
  size_t cut = data.size();
  if (!eof_) {
    const size_t last_newline = data.rfind('\n');
    if (last_newline == std::string_view::npos)
      GR_THROW(ErrorCode::kInvalidArgument, path_, ": a line is longer than ", buffer_.size(),
               " bytes (not a text edge file?)");
    cut = last_newline + 1;
  }
  *block = data.substr(0, cut);
  begin_ += cut;
  return true;
}

}  // namespace gr::graph::internal
