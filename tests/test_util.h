// Helpers shared by the test binaries: temporary files and the location of
// ../shared/data (tests that need it skip with a message when it is absent).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>

#include "core/binary_io.h"
#include "core/error.h"

namespace gr::testing {

inline std::string TempPath(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string prefix = info ? std::string(info->test_suite_name()) + "_" + info->name() + "_" : "";
  std::replace(prefix.begin(), prefix.end(), '/', '_');  // parameterized test names
  return (std::filesystem::path(::testing::TempDir()) / (prefix + name)).string();
}

inline std::string WriteTextFile(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// ../shared/data/<relative>, or "" if the shared data folder is absent.
// GR_SHARED_DATA overrides the location.
inline std::string SharedDataPath(const std::string& relative) {
  const char* env = std::getenv("GR_SHARED_DATA");
  const std::filesystem::path root = env ? env : GR_SHARED_DATA_DIR;
  const auto path = root / relative;
  return std::filesystem::exists(path) ? path.string() : "";
}

// Edits the payload of section `name` of a sectioned binary file
// (core/binary_io.h) in place and stores the payload's new checksum: a file
// whose checksums are valid over whatever content the edit made.
inline void EditSectionPayload(const std::string& path, std::string_view name,
                               const std::function<void(std::string& payload)>& edit) {
  std::string bytes = ReadBytes(path);
  auto u32 = [&](size_t at) { uint32_t v; std::memcpy(&v, bytes.data() + at, 4); return v; };
  const uint32_t sections = u32(8);
  size_t at = 16;
  for (uint32_t s = 0; s < sections; ++s) {
    const uint32_t name_size = u32(at);
    const std::string section = bytes.substr(at + 4, name_size);
    at += 4 + name_size;
    const uint32_t element_size = u32(at);
    uint64_t count;
    std::memcpy(&count, bytes.data() + at + 4, 8);
    const size_t crc_at = at + 12, payload_at = crc_at + 4, payload_size = element_size * count;
    if (section == name) {
      std::string payload = bytes.substr(payload_at, payload_size);
      edit(payload);
      ASSERT_EQ(payload.size(), payload_size) << "the edit must keep the payload's size";
      const uint32_t crc = Crc32(std::as_bytes(std::span(payload.data(), payload.size())));
      bytes.replace(payload_at, payload_size, payload);
      std::memcpy(bytes.data() + crc_at, &crc, 4);
      WriteBytes(path, bytes);
      return;
    }
    at = payload_at + payload_size;
  }
  FAIL() << path << " has no section " << name;
}

// Runs `command` in a shell; returns its exit code (-1 if it did not exit)
// and its stdout (append " 2>&1" to the command for stderr too).
inline std::pair<int, std::string> RunCommand(const std::string& command) {
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// The message of the gr::Error that fn throws, or "" if it throws none.
inline std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The code of the gr::Error that fn throws; a test failure if it throws none.
inline ErrorCode CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorCode::kInternal;
}

}  // namespace gr::testing

// Skips the current test unless ../shared/data/<relative> exists; binds its path.
#define GR_REQUIRE_SHARED_DATA(var, relative)                                              \
  const std::string var = ::gr::testing::SharedDataPath(relative);                         \
  if (var.empty()) GTEST_SKIP() << "shared data set " << (relative)                         \
                                << " not found (expected under ../shared/data); skipping"
