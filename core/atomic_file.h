// Publishing files so that a crash never leaves a half-written file under
// the final name: content goes to a temporary file next to it, which is
// flushed, fsynced and renamed into place, and the directory is fsynced.
// Used by every writer of results (sectioned binaries, walks, vectors).
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace gr {

// The temporary name used for `path`: path + ".tmp." + pid.
std::string TempPathFor(const std::string& path);

// Flushes, fsyncs and closes `file` (open on `temp`), renames temp onto
// `path` and fsyncs the directory. `file` is closed even on failure; on
// failure temp is removed. Throws gr::Error(kIo).
void PublishTempFile(std::FILE* file, const std::string& temp, const std::string& path);

// Opens TempPathFor(path), calls write(file), then PublishTempFile. If write
// throws, the temporary file is removed and the exception passes on.
void WriteFileAtomically(const std::string& path, const std::function<void(std::FILE*)>& write);

// Renames `from` onto `to` (files or directories; one rename(2), atomic on
// one file system) and fsyncs the directory holding `to`. Throws kIo.
void RenameAndSync(const std::string& from, const std::string& to);

}  // namespace gr
