// Internal to graph/: reading delimited text files (plain or gzip) in blocks
// and parsing their lines in parallel into records, with line-numbered errors.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/bulk_vector.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "graph/ingest.h"

namespace gr::graph::internal {

inline constexpr size_t kMaxFields = 12;

// Splits `line` on tabs or commas; a line with neither is split on runs of
// spaces. Returns the field count (kMaxFields + 1 when there are more).
size_t SplitFields(std::string_view line, std::string_view* fields);

// Decimal digits only (no sign, no spaces), at most 2^64 - 1.
inline bool ParseU64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(text[i])) - '0';
    if (digit > 9) return false;
    if (i < 19) {  // 19 digits cannot overflow
      value = value * 10 + digit;
    } else if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, digit, &value)) {
      return false;
    }
  }
  *out = value;
  return true;
}
bool ParseFloat(std::string_view text, float* out);

// Number of '\n' bytes in `text`.
size_t CountNewlines(std::string_view text);

// Reads a plain or gzip-compressed text file in blocks that end on a line
// boundary. A plain regular file is read with `threads` parallel preads per
// block (the copy out of the page cache is a large part of reading a cached
// file) and the next block is asked of the disk while the caller parses this
// one; gzip files and pipes go through zlib. A plain file is read up to the
// size it had when opened. With a `range`, only the lines that start in it
// (plain files; kInvalidArgument for others). Throws kIo / kCorruption
// naming the file.
class BlockReader {
 public:
  BlockReader(const std::string& path, size_t block_bytes, int threads = 1, ByteRange range = {});
  ~BlockReader();
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;
  // Next block of whole lines (the last may lack its '\n'); false at the end.
  // The view stays valid until the next call.
  bool Next(std::string_view* block);
  // The file's size (the range's, with one) when known up front (a plain
  // file), else 0; how many bytes the blocks so far held; and the file
  // offset of the last block's first byte.
  size_t size_hint() const { return range_size_; }
  size_t offset() const { return offset_; }
  uint64_t block_file_offset() const { return block_file_offset_; }

 private:
  bool OpenPlain();
  size_t ReadPlain(char* to, size_t bytes);
  void Fill();
  std::string path_;
  int threads_;
  size_t offset_ = 0;
  int fd_ = -1;  // plain file
  size_t plain_size_ = 0;
  size_t plain_pos_ = 0;
  size_t range_size_ = 0;
  uint64_t range_end_ = UINT64_MAX;
  uint64_t cursor_ = 0;             // file offset of buffer_[begin_]
  uint64_t block_file_offset_ = 0;
  bool skip_partial_line_ = false;  // the range starts after the line that holds its first byte
  void* gz_ = nullptr;  // gzFile, for everything else
  std::unique_ptr<char[]> buffer_;
  size_t buffer_size_ = 0;
  size_t begin_ = 0;     // start of unread data in buffer_
  size_t end_ = 0;       // end of valid data in buffer_
  bool eof_ = false;
};

// Most identical lines one record may stand for (the 24 bits of
// EdgeRow::lines).
inline constexpr uint32_t kMaxRecordLines = (1u << 24) - 1;

// Result of parsing one line: empty = ok, otherwise the reason it is bad.
using LineError = std::string;

std::string ShortLine(std::string_view line);

// Parses every line of `path` (of `range` only, if given) with
// parse_line(fields, field_count, &record), in parallel, keeping file order.
// Line 1 is a header if its first field is not an unsigned integer (only
// a range from byte 0 has line 1; a bad line in another is named by its
// byte offset). Blank lines and lines starting with '#' are
// skipped. A bad line throws kInvalidArgument "path:line: reason", or with
// options.skip_bad_lines is counted in *report. A Record with a `lines`
// count folds identical consecutive lines into one (unless
// options.duplicates keeps duplicates). Records come in a BulkVector unless
// Records names another vector type.
template <typename Record, typename Records = BulkVector<Record>, typename ParseLine>
Records ParseFile(const std::string& path, const IngestConfig& options, FileReport* report,
                  ParseLine parse_line, ByteRange range = {}) {
  static_assert(std::is_trivially_copyable_v<Record>);
  report->path = path;
  Records records;
  const int threads = ResolveThreads(options.threads);
  BlockReader reader(path, options.block_bytes, threads, range);
  const bool has_line_one = range.begin == 0;
  const bool fold_repeats = options.duplicates != DuplicatePolicy::kKeep;
  uint64_t next_line = 1;
  ProgressMeter progress(StrCat("reading ", path), "bytes", reader.size_hint());
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
    struct BadLine { uint64_t local_line; uint64_t byte; std::string reason; std::string text; };
    struct PartResult {
      size_t first_slot = 0;  // records[first_slot, first_slot + lines) are this part's
      uint64_t lines = 0, skipped = 0, records = 0;
      std::vector<BadLine> bad;
      bool header = false;
    };
    std::vector<PartResult> results(parts);
    // Each part parses straight into its own slots of `records`, one per line
    // (an upper bound on its records); lines that yield none leave gaps that
    // are closed afterwards.
    ParallelFor(static_cast<int64_t>(parts), threads, 1, [&](int64_t p) {
      const std::string_view text = block.substr(starts[p], starts[p + 1] - starts[p]);
      results[p].lines = CountNewlines(text) + (text.empty() || text.back() == '\n' ? 0 : 1);
    });
    size_t slots = records.size();
    for (PartResult& result : results) {
      result.first_slot = slots;
      slots += result.lines;
    }
    if (records.capacity() < slots && reader.size_hint() > 0 && next_line > 1) {
      // Later blocks: reserve for the whole file at this block's density.
      const double per_byte = static_cast<double>(slots) / static_cast<double>(reader.offset());
      records.reserve(static_cast<size_t>(per_byte * static_cast<double>(reader.size_hint()) * 1.05) + 1);
    }
    records.resize(slots);
    const bool first_block = next_line == 1 && has_line_one;
    ParallelFor(static_cast<int64_t>(parts), threads, 1, [&](int64_t p) {
      PartResult& result = results[p];
      Record* out = records.data() + result.first_slot;
      std::string_view text = block.substr(starts[p], starts[p + 1] - starts[p]);
      std::string_view fields[kMaxFields + 1];
      for (uint64_t local = 0; !text.empty(); ++local) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        // CRLF, and the \r\r\n some converted files carry (SNAP's email-Eu-core).
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') { ++result.skipped; continue; }
        const size_t n = SplitFields(line, fields);
        if (first_block && p == 0 && local == 0 && options.header != HeaderPolicy::kNo) {
          uint64_t ignored;
          if (options.header == HeaderPolicy::kYes || !ParseU64(fields[0], &ignored)) {
            result.header = true;
            continue;
          }
        }
        Record& record = out[result.records];
        record = Record{};
        LineError error = parse_line(fields, n, &record);
        if (error.empty()) {
          if constexpr (requires { record.lines; }) {
            // A line identical to the one before adds to its count instead
            // of a record (a file of one repeated line takes no memory per
            // line); rows keep the count up to kMaxRowLines.
            if (fold_repeats && result.records > 0) {
              Record& previous = out[result.records - 1];
              record.lines = previous.lines;
              if (record == previous && previous.lines < kMaxRecordLines) {
                ++previous.lines;
                continue;
              }
              record.lines = 1;
            }
          }
          ++result.records;
        } else {
          result.bad.push_back({local, reader.block_file_offset() + static_cast<uint64_t>(line.data() - block.data()),
                                std::move(error), ShortLine(line)});
        }
      }
    });
    size_t kept = results.front().first_slot;
    for (PartResult& result : results) {
      for (BadLine& bad : result.bad) {
        const uint64_t line_number = next_line + bad.local_line;
        std::string message = has_line_one ? StrCat(path, ":", line_number, ": ", bad.reason, " (line: '",
                                                    bad.text, "')")
                                           : StrCat(path, ": line at byte ", bad.byte, ": ", bad.reason, " (line: '",
                                                    bad.text, "')");
        // Line 1 was guessed to be a header, and the first line after it is
        // not numeric either: perhaps no header at all, but string ids.
        if (options.header == HeaderPolicy::kAuto && results.front().header && line_number == 2)
          message += "; line 1 was taken as a header because its first field is not a number: if the ids are "
                     "strings, pass --ids string with --header yes or no";
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
      if (kept != result.first_slot)
        std::memmove(records.data() + kept, records.data() + result.first_slot,
                     result.records * sizeof(Record));
      kept += result.records;
    }
    records.resize(kept);
    progress.Add(block.size());
  }
  report->records = records.size();
  if constexpr (requires(Record r) { r.lines; }) {
    report->records = 0;
    for (const Record& r : records) report->records += r.lines;  // lines that made records
  }
  return records;
}

}  // namespace gr::graph::internal
