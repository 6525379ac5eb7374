// The batch's bookkeeping in the artifacts directory (internal to pipeline/):
// the work directory where a version is built with a record of finished
// stages, the lock that keeps two batches apart, and input fingerprints.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace gr::pipeline::internal {

// artifacts/.work holds the version being built and state.json records
// which stages finished, for which inputs and settings (the fingerprint).
// A rerun with the same fingerprint resumes after the last finished stage;
// anything else starts over.
class WorkState {
 public:
  WorkState(std::string dir, std::string fingerprint);

  // Loads the state if it matches the fingerprint; otherwise clears the
  // work directory. Returns the version being resumed ("" if none).
  std::string Open();
  // Starts a fresh record for `version`.
  void Begin(const std::string& version);
  bool Done(const std::string& stage) const;
  // What MarkDone recorded for a finished stage.
  const nlohmann::json& Result(const std::string& stage) const;
  // Records `stage` as finished (state.json rewritten atomically).
  void MarkDone(const std::string& stage, nlohmann::json result);
  // dir/file: where a stage writes its output.
  std::string Path(const std::string& file) const;
  const std::string& dir() const { return dir_; }
  // Deletes state.json and temporary files: the directory is about to
  // become a version.
  void Finish();

 private:
  void Save() const;
  void RemoveTemporaryFiles() const;
  std::string dir_, fingerprint_;
  nlohmann::json state_;
};

// Exclusive flock on artifacts/.lock for the whole run: two batches must not
// build into the same work directory. Throws kInvalidArgument if held.
class BatchLock {
 public:
  explicit BatchLock(const std::string& artifacts_dir);
  ~BatchLock();
  BatchLock(const BatchLock&) = delete;
  BatchLock& operator=(const BatchLock&) = delete;

 private:
  int fd_ = -1;
};

// CRC-32 and size of a file's bytes.
uint32_t FileCrc(const std::string& path, uint64_t* bytes);
// vYYYYMMDD-HHMMSS of the current UTC time.
std::string TimeVersion();

}  // namespace gr::pipeline::internal
