// Shared by the libFuzzer targets: the input as a file (the readers take
// paths), and the contract every reader is fuzzed against.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "core/error.h"

// Readers log what they load; at thousands of inputs a second that is the
// cost of the run. (Each target includes this header once.)
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

namespace gr::fuzz {

// The fuzzer's bytes in an anonymous in-memory file, opened by path.
class FuzzFile {
 public:
  FuzzFile(const uint8_t* data, size_t size) : fd_(memfd_create("graphrec-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    for (size_t done = 0; done < size;) {
      const ssize_t n = write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~FuzzFile() { close(fd_); }
  FuzzFile(const FuzzFile&) = delete;
  FuzzFile& operator=(const FuzzFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// A reader may reject its input only with gr::Error: anything else (a
// crash, a sanitizer report, std::bad_alloc, another exception type)
// escapes and libFuzzer reports it.
template <typename Fn>
void ExpectOnlyGrErrors(Fn&& fn) {
  try {
    fn();
  } catch (const gr::Error&) {
  }
}

}  // namespace gr::fuzz
