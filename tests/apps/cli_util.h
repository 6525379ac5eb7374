// Helpers of the graphrec command-line tests: run the binary, a small
// generated world, a served version.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>

#include "core/error.h"
#include "tests/test_util.h"

namespace gr::testing {

// Runs graphrec with `args`; stdout and stderr together. With raw, `args`
// is the whole shell command.
inline std::pair<int, std::string> Graphrec(const std::string& args, bool raw = false) {
  return RunCommand(raw ? args : StrCat(GR_GRAPHREC_BINARY, " ", args, " 2>&1"));
}

inline bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small generated world (written once per test binary run).
inline const std::string& World() {
  static const std::string dir = [] {
    // One per process: ctest runs each test as its own process, two at a time,
    // and a shared directory was regenerated under a running test.
    const std::string d =
        (std::filesystem::path(::testing::TempDir()) / StrCat("cli_test_world_", ::getpid())).string();
    std::filesystem::remove_all(d);
    const auto [code, output] = Graphrec(StrCat("generate --out ", d, " --accounts 300 --days 3"));
    EXPECT_EQ(code, 0) << output;
    return d;
  }();
  return dir;
}

// `graphrec serve` as a child process on a free port (address empty if it
// did not start; log holds its output then).
struct ServerProcess {
  std::string address, log, pid_file;
  void Kill(const char* signal) const { std::system(StrCat("kill -", signal, " $(cat ", pid_file, ")").c_str()); }
};

inline ServerProcess StartServer(const std::string& artifacts, const std::string& name, const std::string& extra = "") {
  ServerProcess server;
  const std::string log = ::gr::testing::TempPath(name + "-serve.log");
  server.pid_file = ::gr::testing::TempPath(name + "-serve.pid");
  std::filesystem::remove(log);
  std::system(StrCat("sh -c 'echo $$ > ", server.pid_file, "; exec ", GR_GRAPHREC_BINARY, " serve --artifacts ",
                     artifacts, " --address 127.0.0.1:0 --stats-log-seconds 0 ", extra, " > ", log, " 2>&1' &")
                  .c_str());
  for (int i = 0; i < 400 && server.address.empty(); ++i) {  // "graphrec serve: listening on port N"
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.log = std::filesystem::exists(log) ? ::gr::testing::ReadBytes(log) : "";
    const size_t at = server.log.find("graphrec serve: listening on port ");
    if (at != std::string::npos && server.log.find('\n', at) != std::string::npos)
      server.address = "127.0.0.1:" + server.log.substr(at + 34, server.log.find('\n', at) - at - 34);
  }
  return server;
}

// A published version of World() in a fresh directory.
inline std::string Artifacts(const std::string& name) {
  const std::string artifacts = ::gr::testing::TempPath(name);
  std::filesystem::remove_all(artifacts);
  const auto [code, output] =
      Graphrec(StrCat("batch --input ", World(), " --artifacts ", artifacts,
                      " --dimensions 8 --num-walks 1 --walk-length 10 --no-ranker --min-link-auc 0 --workers 1"));
  EXPECT_EQ(code, 0) << output;
  return artifacts;
}

// artifacts/<the version CURRENT names>.
inline std::string LiveVersionDir(const std::string& artifacts) {
  std::string version = ReadBytes(artifacts + "/CURRENT");
  while (!version.empty() && version.back() == '\n') version.pop_back();
  return artifacts + "/" + version;
}

}  // namespace gr::testing
