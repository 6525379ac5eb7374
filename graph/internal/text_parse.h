// Internal to graph/: reading delimited text files (plain or gzip) in blocks
// and parsing their lines in parallel into records, with line-numbered errors.
#pragma once

#include <charconv>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "graph/ingest.h"

namespace gr::graph::internal {

inline constexpr size_t kMaxFields = 8;

// Splits `line` on tabs or commas; a line with neither is split on runs of
// spaces. Returns the field count (kMaxFields + 1 when there are more).
size_t SplitFields(std::string_view line, std::string_view* fields);

inline bool ParseU64(std::string_view text, uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}
bool ParseFloat(std::string_view text, float* out);

// Reads a plain or gzip-compressed text file in blocks that end on a line
// boundary. Throws kIo / kCorruption naming the file.
class BlockReader {
 public:
  BlockReader(const std::string& path, size_t block_bytes);
  ~BlockReader();
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;
  // Next block of whole lines (the last may lack its '\n'); false at the end.
  bool Next(std::string_view* block);

 private:
  void Fill();
  std::string path_;
  void* gz_ = nullptr;  // gzFile
  std::string buffer_;
  size_t begin_ = 0;     // start of unread data in buffer_
  size_t end_ = 0;       // end of valid data in buffer_
  bool eof_ = false;
};

// Result of parsing one line: empty = ok, otherwise the reason it is bad.
using LineError = std::string;

std::string ShortLine(std::string_view line);

// Parses every line of `path` with parse_line(fields, field_count, &record),
// in parallel, keeping file order. Line 1 is a header if its first field is
// not an unsigned integer. Blank lines and lines starting with '#' are
// skipped. A bad line throws kInvalidArgument "path:line: reason", or with
// options.skip_bad_lines is counted in *report.
template <typename Record, typename ParseLine>
std::vector<Record> ParseFile(const std::string& path, const IngestConfig& options,
                              FileReport* report, ParseLine parse_line) {
  report->path = path;
  std::vector<Record> records;
  BlockReader reader(path, options.block_bytes);
  const int threads = ResolveThreads(options.threads);
  uint64_t next_line = 1;
  std::string_view block;
  while (reader.Next(&block)) {
    const size_t num_parts = static_cast<size_t>(threads) * 4;
    std::vector<size_t> starts{0};
    for (size_t p = 1; p < num_parts; ++p) {
      size_t pos = block.size() * p / num_parts;
      if (pos < starts.back()) continue;
      const size_t nl = block.find('\n', pos);
      if (nl == std::string_view::npos) break;
      if (nl + 1 > starts.back()) starts.push_back(nl + 1);
    }
    starts.push_back(block.size());
    const size_t parts = starts.size() - 1;
    struct BadLine { uint64_t local_line; std::string reason; std::string text; };
    struct PartResult {
      std::vector<Record> records;
      std::vector<BadLine> bad;
      uint64_t lines = 0, skipped = 0;
      bool header = false;
    };
    std::vector<PartResult> results(parts);
    const bool first_block = next_line == 1;
    ParallelFor(static_cast<int64_t>(parts), threads, 1, [&](int64_t p) {
      PartResult& result = results[p];
      std::string_view text = block.substr(starts[p], starts[p + 1] - starts[p]);
      std::string_view fields[kMaxFields + 1];
      while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const uint64_t local = result.lines++;
        // CRLF, and the \r\r\n some converted files carry (SNAP's email-Eu-core).
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') { ++result.skipped; continue; }
        const size_t n = SplitFields(line, fields);
        if (first_block && p == 0 && local == 0) {
          uint64_t ignored;
          if (!ParseU64(fields[0], &ignored)) { result.header = true; continue; }
        }
        Record record{};
        LineError error = parse_line(fields, n, &record);
        if (error.empty()) {
          result.records.push_back(record);
        } else {
          result.bad.push_back({local, std::move(error), ShortLine(line)});
        }
      }
    });
    for (PartResult& result : results) {
      for (BadLine& bad : result.bad) {
        const uint64_t line_number = next_line + bad.local_line;
        std::string message = StrCat(path, ":", line_number, ": ", bad.reason, " (line: '",
                                     bad.text, "')");
        if (!options.skip_bad_lines) {
          GR_THROW(ErrorCode::kInvalidArgument, message,
                   "; fix the line or pass --skip-bad-lines to skip such lines");
        }
        ++report->bad_lines;
        if (report->bad_examples.size() < options.max_bad_line_examples)
          report->bad_examples.push_back(std::move(message));
      }
      report->header |= result.header;
      report->lines += result.lines;
      report->skipped_lines += result.skipped;
      next_line += result.lines;
      records.insert(records.end(), result.records.begin(), result.records.end());
    }
  }
  report->records = records.size();
  return records;
}

}  // namespace gr::graph::internal
