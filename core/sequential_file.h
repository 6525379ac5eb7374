// One large file written front to back and published atomically (walk
// corpora: gigabytes written once and not read back by this process).
// Bytes are staged in aligned blocks and written with O_DIRECT where the
// file system allows it, so they go from this buffer to the device without
// a copy into the page cache (on the VMs we run on that copy, not the disk,
// was the bottleneck: 0.3-2 GB/s against 2 GB/s direct). Where O_DIRECT is
// refused (tmpfs, some network file systems) it falls back to ordinary
// writes. Publish() then fsyncs, renames and syncs the directory as
// WriteFileAtomically does; without Publish the temporary file is removed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace gr {

class SequentialFileWriter {
 public:
  enum class Cache { kBypass, kUse };
  // Creates TempPathFor(path). Throws gr::Error(kIo).
  explicit SequentialFileWriter(std::string path, Cache cache = Cache::kBypass);
  ~SequentialFileWriter();  // removes the temporary file unless published
  SequentialFileWriter(const SequentialFileWriter&) = delete;
  SequentialFileWriter& operator=(const SequentialFileWriter&) = delete;

  // Appends size bytes. Not thread-safe. Throws kIo naming the file.
  void Append(const char* data, size_t size);
  // Writes what is staged, fsyncs, renames onto the final path and syncs
  // the directory. Throws kIo (the temporary file is then removed).
  void Publish();

  bool bypasses_cache() const { return direct_; }
  size_t bytes_appended() const { return appended_; }

 private:
  void WriteStaged(size_t size);
  void StopBypassingCache();

  std::string path_, temp_;
  int fd_ = -1;
  bool direct_ = false;
  struct FreeAligned {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, FreeAligned> stage_;  // kStageBytes, block-aligned
  size_t staged_ = 0, appended_ = 0;
};

}  // namespace gr
