// The command-line contract of the graphrec binary: exit codes, --config
// files, and usage errors that name what is wrong.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::RunCommand;

// Runs graphrec with `args`; stdout and stderr together.
std::pair<int, std::string> Graphrec(const std::string& args) {
  return RunCommand(StrCat(GR_GRAPHREC_BINARY, " ", args, " 2>&1"));
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small generated world (written once per test binary run).
const std::string& World() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::path(::testing::TempDir()) / "cli_test_world").string();
    std::filesystem::remove_all(d);
    const auto [code, output] = Graphrec(StrCat("generate --out ", d, " --accounts 300 --days 3"));
    EXPECT_EQ(code, 0) << output;
    return d;
  }();
  return dir;
}

TEST(CliTest, UsageErrorsExitTwoAndHelpZero) {
  EXPECT_EQ(Graphrec("--help").first, 0);
  EXPECT_EQ(Graphrec("batch --help").first, 0);
  EXPECT_EQ(Graphrec("--version").first, 0);
  for (const std::string args : {"", "no-such-command", "walk --no-such-flag", "walk --input x",
                                 "walk --input /dev/null --output x --num-walks abc", "batch --artifacts a"}) {
    const auto [code, output] = Graphrec(args);
    EXPECT_EQ(code, 2) << args << ": " << output;
    EXPECT_FALSE(output.empty()) << args;
  }
}

TEST(CliTest, AWalkLengthBeyondTheBoundIsAUsageErrorNotAnAllocationFailure) {
  const std::string edges = ::gr::testing::WriteTextFile("edges.txt", "1 2\n2 3\n");
  const auto [code, output] = Graphrec(StrCat("walk --input ", edges, " --output ", ::gr::testing::TempPath("w.txt"),
                                              " --walk-length 1000000000"));
  EXPECT_EQ(code, 2) << output;
  EXPECT_TRUE(Contains(output, "walk_length must be in [1, 100000]")) << output;
}

TEST(CliTest, BatchConfigFileErrorsNameTheFileAndLine) {
  const std::string batch = StrCat("batch --input ", World(), " --artifacts ", ::gr::testing::TempPath("artifacts"));
  {
    const auto [code, output] = Graphrec(batch + " --config /no/such/batch.conf");
    EXPECT_EQ(code, 2) << output;
    EXPECT_TRUE(Contains(output, "cannot read config file /no/such/batch.conf")) << output;
  }
  const std::string conf = ::gr::testing::WriteTextFile("bad.conf", "# nightly\n\nnum-walks = 2\nbogus-key = 1\n");
  {
    const auto [code, output] = Graphrec(StrCat(batch, " --config ", conf));
    EXPECT_EQ(code, 2) << output;
    EXPECT_TRUE(Contains(output, conf + ":4: unknown setting 'bogus-key'")) << output;
  }
  const std::string no_equals = ::gr::testing::WriteTextFile("no-equals.conf", "num-walks 2\n");
  EXPECT_TRUE(Contains(Graphrec(StrCat(batch, " --config=", no_equals)).second, no_equals + ":1: expected 'flag-name = value'"));
  const std::string bad_bool = ::gr::testing::WriteTextFile("bad-bool.conf", "no-ranker = maybe\n");
  EXPECT_TRUE(Contains(Graphrec(StrCat(batch, " --config ", bad_bool)).second, "no-ranker takes true or false"));
}

TEST(CliTest, BatchConfigFileSettingsApplyAndTheCommandLineWins) {
  const std::string batch = StrCat("batch --input ", World(), " --artifacts ", ::gr::testing::TempPath("artifacts"));
  const std::string conf = ::gr::testing::WriteTextFile("zero.conf", "walk-length = 0  # rejected\nnum-walks = 0\n");
  // The file's walk-length is checked first...
  EXPECT_TRUE(Contains(Graphrec(StrCat(batch, " --config ", conf)).second, "walk_length must be in"));
  // ...unless the command line sets it: then the file's num-walks is next.
  const std::string output = Graphrec(StrCat(batch, " --config ", conf, " --walk-length 5")).second;
  EXPECT_FALSE(Contains(output, "walk_length must be in")) << output;
  EXPECT_TRUE(Contains(output, "walks_per_vertex (num-walks) must be >= 1")) << output;
}

TEST(CliTest, BatchRunsWithTheSettingsOfItsConfigFile) {
  const std::string artifacts = ::gr::testing::TempPath("configured-artifacts");
  std::filesystem::remove_all(artifacts);
  const std::string conf = ::gr::testing::WriteTextFile(
      "nightly.conf", "dimensions = 16\nnum-walks = 1\nwalk-length = 10\nno-ranker = true\nmin-link-auc = 0\n"
                      "version = 'from-config'\nworkers = 1\n");
  const auto [code, output] = Graphrec(StrCat("batch --input ", World(), " --artifacts ", artifacts, " --config ", conf));
  ASSERT_EQ(code, 0) << output;
  const auto parameters =
      nlohmann::json::parse(::gr::testing::ReadBytes(artifacts + "/from-config/manifest.json"))["parameters"];
  EXPECT_EQ(parameters["train"]["dim"], 16);
  EXPECT_EQ(parameters["walk"]["walk_length"], 10);
  EXPECT_EQ(parameters["walk"]["walks_per_vertex"], 1);
  EXPECT_FALSE(std::filesystem::exists(artifacts + "/from-config/ranker.bin"));
}

TEST(CliTest, EventsPushReachesARunningServerAndItsLog) {
  const std::string artifacts = ::gr::testing::TempPath("events-artifacts");
  std::filesystem::remove_all(artifacts);
  const auto [batch_code, batch_output] =
      Graphrec(StrCat("batch --input ", World(), " --artifacts ", artifacts,
                      " --dimensions 8 --num-walks 1 --walk-length 10 --no-ranker --min-link-auc 0 --workers 1"));
  ASSERT_EQ(batch_code, 0) << batch_output;
  // Two accounts of the world, and a new one that follows both.
  std::istringstream world_follows(::gr::testing::ReadBytes(World() + "/follows.tsv"));
  std::string header, a, b, rest;
  world_follows >> header >> header >> header >> a >> b >> rest;
  const std::string follows = ::gr::testing::WriteTextFile("new-follows.tsv", StrCat("777000000001\t", a, "\t1\n",
                                                                                      "777000000001\t", b, "\t2\n"));
  const std::string log = ::gr::testing::TempPath("events-serve.log"), pid = ::gr::testing::TempPath("events-serve.pid");
  std::filesystem::remove(log);
  ASSERT_EQ(std::system(StrCat("sh -c 'echo $$ > ", pid, "; exec ", GR_GRAPHREC_BINARY, " serve --artifacts ", artifacts,
                               " --address 127.0.0.1:0 --stats-log-seconds 0 > ", log, " 2>&1' &")
                            .c_str()),
            0);
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {  // "graphrec serve: listening on port N"
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = std::filesystem::exists(log) ? ::gr::testing::ReadBytes(log) : "";
    const size_t at = text.find("graphrec serve: listening on port ");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos)
      port = text.substr(at + 34, text.find('\n', at) - at - 34);
  }
  ASSERT_FALSE(port.empty()) << ::gr::testing::ReadBytes(log);
  const std::string address = "127.0.0.1:" + port;
  const auto [push_code, push_output] = Graphrec(StrCat("events push --address ", address, " --follows ", follows));
  const auto [info_code, info_output] = Graphrec(StrCat("query --address ", address, " info"));
  const auto [walks_code, walks_output] =
      Graphrec(StrCat("query --address ", address, " posts --id 777000000001 --k 5 --source walks"));
  std::system(StrCat("kill $(cat ", pid, ")").c_str());
  EXPECT_EQ(push_code, 0) << push_output;
  EXPECT_TRUE(Contains(push_output, "events: 2 pushed")) << push_output;
  EXPECT_TRUE(Contains(push_output, "log sequences: 0..1")) << push_output;
  EXPECT_EQ(info_code, 0) << info_output;
  EXPECT_TRUE(Contains(info_output, "live_new_accounts: 1")) << info_output;
  EXPECT_TRUE(Contains(info_output, "live_follows: 2")) << info_output;
  EXPECT_EQ(walks_code, 0) << walks_output;  // a new account answers from its events
  EXPECT_TRUE(Contains(walks_output, "version:")) << walks_output;
  EXPECT_TRUE(std::filesystem::exists(artifacts + "/events/00000000000000000000.events"));
  // No file, or a server that is not there: errors, not hangs.
  EXPECT_EQ(Graphrec("events push --address 127.0.0.1:1").first, 2);
  const auto [down_code, down_output] = Graphrec(StrCat("events push --timeout 2 --address 127.0.0.1:1 --follows ", follows));
  EXPECT_NE(down_code, 0);
  EXPECT_TRUE(Contains(down_output, "events 0..1 (0 acknowledged before them)")) << down_output;
}

}  // namespace
}  // namespace gr
