#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/parallel.h"
#include "core/sequential_file.h"
#include "walk/random_walk.h"

namespace gr::walk {
namespace {

// Slot copies are this wide whatever the slot: the table and every buffer
// keep this much slack after their last byte.
constexpr size_t kCopyBytes = 32;

}  // namespace

WalkTextWriter::WalkTextWriter(const RandomWalker& walker, const std::function<std::string(VertexId)>& token_text) {
  const size_t vocabulary = walker.vocabulary_size();
  std::vector<std::string> texts(vocabulary);
  size_t longest = 1;
  for (size_t t = 0; t < vocabulary; ++t) {
    texts[t] = token_text ? token_text(static_cast<VertexId>(t)) : walker.TokenText(static_cast<VertexId>(t));
    longest = std::max(longest, texts[t].size());
  }
  GR_CHECK(longest <= 255, "a token's text is ", longest, " bytes; walks are written with keys of up to 255");
  slot_ = (longest + 7) / 8 * 8;
  copy_bytes_ = std::max(kCopyBytes, slot_);
  texts_.assign(vocabulary * slot_ + copy_bytes_, '\0');
  lengths_.resize(vocabulary);
  for (size_t t = 0; t < vocabulary; ++t) {
    std::memcpy(texts_.data() + t * slot_, texts[t].data(), texts[t].size());
    lengths_[t] = static_cast<uint8_t>(texts[t].size());
  }
}

WalkTextWriter::~WalkTextWriter() {
  if (writer_.joinable()) writer_.join();
}

void WalkTextWriter::Format(const WalkCorpus& corpus, std::vector<Part>& parts, int threads) const {
  const size_t walks = corpus.num_walks();
  const size_t num_parts = walks == 0 ? 0 : std::min<size_t>(walks, static_cast<size_t>(ResolveThreads(threads)) * 4);
  parts.resize(num_parts);
  ParallelFor(static_cast<int64_t>(num_parts), threads, 1, [&](int64_t p) {
    const size_t first = walks * static_cast<size_t>(p) / num_parts;
    const size_t last = walks * static_cast<size_t>(p + 1) / num_parts;
    const uint64_t tokens = corpus.offsets[last] - corpus.offsets[first];
    Part& part = parts[static_cast<size_t>(p)];
    // Each token takes its text and one separator; copy_bytes_ of slack for the last copy.
    const size_t needed = tokens * (slot_ + 1) + (last - first) + copy_bytes_;
    if (needed > part.capacity) {
      part.bytes = std::make_unique_for_overwrite<char[]>(needed);
      part.capacity = needed;
    }
    char* const begin = part.bytes.get();
    char* at = begin;
    for (size_t w = first; w < last; ++w) {
      for (const VertexId token : corpus.Walk(w)) {
        if (copy_bytes_ == kCopyBytes) {  // integer ids: a fixed-size copy the compiler inlines
          std::memcpy(at, texts_.data() + size_t{token} * slot_, kCopyBytes);
        } else {
          std::memcpy(at, texts_.data() + size_t{token} * slot_, copy_bytes_);
        }
        at += lengths_[token];
        *at++ = ' ';
      }
      if (at > begin && at[-1] == ' ') --at;
      *at++ = '\n';
    }
    part.size = static_cast<size_t>(at - begin);
  });
}

void WalkTextWriter::Write(const WalkCorpus& corpus, SequentialFileWriter& out, int threads) {
  Format(corpus, parts_[formatting_], threads);
  Flush();
  writer_ = std::thread([this, &out, &parts = parts_[formatting_]] {
    try {
      for (const Part& part : parts) out.Append(part.bytes.get(), part.size);
    } catch (const std::exception& e) {
      write_error_ = e.what();
    }
  });
  formatting_ = 1 - formatting_;
}

void WalkTextWriter::Flush() {
  if (writer_.joinable()) writer_.join();
  if (!write_error_.empty()) {
    const std::string error = std::exchange(write_error_, {});
    GR_THROW(ErrorCode::kIo, "cannot write walks: ", error);
  }
}

}  // namespace gr::walk
