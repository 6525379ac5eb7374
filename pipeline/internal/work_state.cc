#include "pipeline/internal/work_state.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/atomic_file.h"
#include "core/binary_io.h"
#include "core/error.h"
#include "version/layout.h"

namespace gr::pipeline::internal {
namespace fs = std::filesystem;

WorkState::WorkState(std::string dir, std::string fingerprint)
    : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)) {}

std::string WorkState::Open() {
  const std::string state = Path(version::kWorkStateFile);
  if (fs::exists(state)) {
    try {
      std::ifstream in(state);
      const nlohmann::json j = nlohmann::json::parse(in);
      if (j.at("fingerprint") == fingerprint_) {
        state_ = j;
        RemoveTemporaryFiles();
        return j.at("version");
      }
      spdlog::info("inputs or settings changed since the interrupted run: starting over");
    } catch (const std::exception& e) {
      spdlog::warn("unreadable {} ({}): starting over", state, e.what());
    }
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  return "";
}

void WorkState::Begin(const std::string& version) {
  state_ = {{"fingerprint", fingerprint_}, {"version", version}, {"done", nlohmann::json::object()}};
  Save();
}

bool WorkState::Done(const std::string& stage) const {
  return state_.contains("done") && state_["done"].contains(stage);
}

const nlohmann::json& WorkState::Result(const std::string& stage) const { return state_["done"][stage]; }

void WorkState::MarkDone(const std::string& stage, nlohmann::json result) {
  state_["done"][stage] = std::move(result);
  Save();
}

std::string WorkState::Path(const std::string& file) const { return version::PathIn(dir_, file); }

void WorkState::Finish() {
  RemoveTemporaryFiles();
  fs::remove(Path(version::kWorkStateFile));
}

void WorkState::RemoveTemporaryFiles() const {
  // A run killed while writing leaves TempPathFor's files (name.tmp.PID)
  // behind; they must not become part of the version.
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (entry.is_regular_file() && entry.path().filename().string().find(".tmp.") != std::string::npos) {
      spdlog::info("removing {} left by an interrupted write", entry.path().string());
      fs::remove(entry.path());
    }
  }
}

void WorkState::Save() const {
  WriteFileAtomically(Path(version::kWorkStateFile),
                      [&](std::FILE* out) { std::fputs(state_.dump(2).c_str(), out); });
}

BatchLock::BatchLock(const std::string& artifacts_dir) {
  const std::string path = version::PathIn(artifacts_dir, version::kLockFile);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GR_CHECK_CODE(fd_ >= 0, ErrorCode::kIo, "cannot open ", path);
  GR_CHECK_CODE(::flock(fd_, LOCK_EX | LOCK_NB) == 0, ErrorCode::kInvalidArgument,
                "another graphrec batch is running on ", artifacts_dir, " (", path, " is locked)");
}

BatchLock::~BatchLock() { ::close(fd_); }

uint32_t FileCrc(const std::string& path, uint64_t* bytes) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  uint32_t crc = 0;
  *bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(in.gcount());
    crc = Crc32(std::as_bytes(std::span(buffer.data(), got)), crc);
    *bytes += got;
  }
  return crc;
}

std::string TimeVersion() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char name[32];
  std::strftime(name, sizeof name, "v%Y%m%d-%H%M%S", &utc);
  return name;
}

}  // namespace gr::pipeline::internal
