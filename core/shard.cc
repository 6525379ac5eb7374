#include "core/shard.h"

#include <charconv>

#include "core/error.h"

namespace gr {

std::string Shard::Name() const { return "shard-" + std::to_string(index) + "-of-" + std::to_string(count); }

Shard Shard::Parse(const std::string& text) {
  constexpr uint32_t kMaxShards = 4096;
  Shard shard;
  const size_t slash = text.find('/');
  const char* const end = text.data() + text.size();
  bool ok = slash != std::string::npos;
  if (ok) {
    const auto [index_end, index_error] = std::from_chars(text.data(), text.data() + slash, shard.index);
    const auto [count_end, count_error] = std::from_chars(text.data() + slash + 1, end, shard.count);
    ok = index_error == std::errc() && index_end == text.data() + slash && count_error == std::errc() &&
         count_end == end && shard.count >= 1 && shard.count <= kMaxShards && shard.index < shard.count;
  }
  GR_CHECK_CODE(ok, ErrorCode::kInvalidArgument, "shard '", text, "' is not K/N with 0 <= K < N <= ", kMaxShards,
                " (e.g. 0/2 and 1/2 for two shards)");
  return shard;
}

}  // namespace gr
