// Sectioned binary files: the one layout shared by every graphrec artifact
// (graph snapshot, embeddings, indices, ranker). All integers little-endian.
//
//   header : magic u32 | format version u32 | section count u32 | crc32 of those 12 bytes u32
//   section: name length u32 | name bytes | element size u32 | element count u64
//            | crc32 of payload u32 | payload (element size x count bytes)
//
// SectionWriter writes to a temporary file and publishes it by an atomic
// rename on Commit(), so a crash never leaves a half-written file under the
// final name. SectionReader validates every size against the file length
// before allocating, and every checksum, throwing gr::Error(kCorruption)
// naming the file, the section and the byte offset. Neither is thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace gr {

// CRC-32 (zlib polynomial) of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32(std::span<const std::byte> bytes, uint32_t crc = 0);

class SectionWriter {
 public:
  // Opens TempPathFor(path) for writing. Throws kIo if it cannot.
  SectionWriter(std::string path, uint32_t magic, uint32_t version);
  ~SectionWriter();  // removes the temporary file unless committed
  SectionWriter(const SectionWriter&) = delete;
  SectionWriter& operator=(const SectionWriter&) = delete;

  template <typename T>
  void Add(std::string_view name, std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    AddBytes(name, sizeof(T), values.size(), std::as_bytes(values));
  }
  template <typename T>
  void Add(std::string_view name, const std::vector<T>& values) {
    Add(name, std::span<const T>(values));
  }
  void AddString(std::string_view name, std::string_view text) {
    AddBytes(name, 1, text.size(), std::as_bytes(std::span(text.data(), text.size())));
  }

  // Writes the header and publishes the file (core/atomic_file.h).
  // Throws kIo on any failure.
  void Commit();

 private:
  void AddBytes(std::string_view name, uint32_t element_size, uint64_t count,
                std::span<const std::byte> bytes);
  void Write(const void* data, size_t size);

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  uint32_t magic_;
  uint32_t version_;
  uint32_t num_sections_ = 0;
  bool committed_ = false;
};

class SectionReader {
 public:
  // Opens `path` and checks the header. Throws kIo if it cannot be opened and
  // kCorruption if the header is short, has a wrong checksum, or a magic other
  // than `magic` (the message then says "not a <what> file").
  SectionReader(std::string path, uint32_t magic, std::string_view what);
  ~SectionReader();
  SectionReader(const SectionReader&) = delete;
  SectionReader& operator=(const SectionReader&) = delete;

  uint32_t version() const { return version_; }
  uint32_t num_sections() const { return num_sections_; }
  const std::string& path() const { return path_; }

  // Reads the next section; it must be called `name` and hold elements of
  // sizeof(T) bytes. Throws kCorruption otherwise.
  template <typename T>
  std::vector<T> Read(std::string_view name) {
    static_assert(std::is_trivially_copyable_v<T>);
    const uint64_t count = ReadSectionHeader(name, sizeof(T));
    std::vector<T> values(count);
    ReadPayload(name, std::as_writable_bytes(std::span(values)));
    return values;
  }
  std::string ReadString(std::string_view name);

  // Throws kCorruption if bytes or sections remain unread.
  void ExpectEnd();

  // Throws kCorruption with the file, the current offset and the message.
  [[noreturn]] void Fail(const std::string& message) const;

 private:
  uint64_t ReadSectionHeader(std::string_view name, uint32_t element_size);
  void ReadPayload(std::string_view name, std::span<std::byte> out);
  void ReadRaw(void* out, size_t size, std::string_view what);

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  uint32_t version_ = 0;
  uint32_t num_sections_ = 0;
  uint32_t sections_read_ = 0;
  uint32_t pending_crc_ = 0;
};

}  // namespace gr
