// Writing the generated world's text files (internal to synth/).
#pragma once

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/error.h"

namespace gr::synth::internal {

// A text file written through zlib (plain or gzip) under a temporary name
// and renamed into place by Commit; removed if never committed.
class TextOut {
 public:
  TextOut(std::string path, bool gzip) : path_(std::move(path)), temp_(path_ + ".tmp") {
    gz_ = gzopen(temp_.c_str(), gzip ? "wb1" : "wbT");
    if (gz_ == nullptr) GR_THROW(ErrorCode::kIo, "cannot create ", temp_, ": ", std::strerror(errno));
    gzbuffer(gz_, 1 << 20);
  }
  ~TextOut() {
    if (gz_ != nullptr) {
      gzclose(gz_);
      std::remove(temp_.c_str());
    }
  }
  void Write(const std::string& text) {
    if (!text.empty() && gzwrite(gz_, text.data(), static_cast<unsigned>(text.size())) == 0)
      GR_THROW(ErrorCode::kIo, "write failed for ", temp_);
  }
  void Commit() {
    const int rc = gzclose(gz_);
    gz_ = nullptr;
    if (rc != Z_OK) GR_THROW(ErrorCode::kIo, "close failed for ", temp_);
    std::filesystem::rename(temp_, path_);
  }

 private:
  std::string path_, temp_;
  gzFile gz_ = nullptr;
};

inline void Append(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}
template <typename... Values>
void AppendRow(std::string& out, Values... values) {
  bool first = true;
  ((first ? void() : out.push_back('\t'), first = false, Append(out, static_cast<uint64_t>(values))), ...);
  out.push_back('\n');
}

// account, post, "click", time, dwell: the only type that carries dwell.
inline void AppendClick(std::string& out, uint64_t account, uint64_t post, uint64_t time, uint64_t dwell) {
  Append(out, account);
  out.push_back('\t');
  Append(out, post);
  out += "\tclick\t";
  Append(out, time);
  out.push_back('\t');
  Append(out, dwell);
  out.push_back('\n');
}

}  // namespace gr::synth::internal
