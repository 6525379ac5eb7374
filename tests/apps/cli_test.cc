// The command-line contract of the graphrec binary: exit codes, --config
// files, and usage errors that name what is wrong.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.h"
#include "proto/graphrec.grpc.pb.h"
#include "stream/event_log.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::Artifacts;
using ::gr::testing::Contains;
using ::gr::testing::Graphrec;
using ::gr::testing::RunCommand;
using ::gr::testing::ServerProcess;
using ::gr::testing::StartServer;
using ::gr::testing::World;

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

// The subcommand names listed under "Subcommands:" in a --help text.
std::vector<std::string> SubcommandsIn(const std::string& help) {
  std::vector<std::string> names;
  const size_t at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return names;
  std::istringstream lines(help.substr(at + 14));
  for (std::string line; std::getline(lines, line) && line.starts_with("  ");) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

TEST(CliTest, EverySubcommandsHelpShowsAnExample) {
  std::vector<std::string> pending = SubcommandsIn(Graphrec("--help").second);
  ASSERT_GE(pending.size(), 15u);
  size_t checked = 0;
  while (!pending.empty()) {
    const std::string path = pending.back();
    pending.pop_back();
    const auto [code, help] = Graphrec(path + " --help");
    EXPECT_EQ(code, 0) << path;
    EXPECT_TRUE(Contains(help, "\nExample:\n  graphrec ")) << path << ":\n" << help;
    for (const std::string& sub : SubcommandsIn(help)) pending.push_back(path + " " + sub);
    ++checked;
  }
  EXPECT_GE(checked, 24u);  // nested ones included (eval, query, events)
}

TEST(CliTest, ATypoNamesWhatWasTypedAndTheClosestValidName) {
  const std::pair<std::string, std::string> cases[] = {
      {"wlak", "unknown command 'wlak' of graphrec; did you mean 'walk'?"},
      {"eval link-predction", "unknown command 'link-predction' of graphrec eval; did you mean 'link-prediction'?"},
      {StrCat("walk --input ", World(), "/follows.tsv --output x --num-walk 3"),
       "unknown option '--num-walk' of graphrec walk; did you mean '--num-walks'?"},
      {"query --adress 127.0.0.1:1 similar --id 1", "unknown option '--adress' of graphrec query; did you mean '--address'?"},
      // A flag of the whole program, mistyped after a subcommand.
      {"stats x --jsno", "unknown option '--jsno' of graphrec stats; did you mean '--json'?"},
      {"stats x --zzz-unrelated", "unknown option '--zzz-unrelated' of graphrec stats\n"},
  };
  for (const auto& [args, hint] : cases) {
    const auto [code, output] = Graphrec(args);
    EXPECT_EQ(code, 2) << args;
    EXPECT_TRUE(Contains(output, hint)) << args << ": " << output;
  }
  // In a --config file too.
  const std::string conf = ::gr::testing::WriteTextFile("typo.conf", "num-walk = 2\n");
  const auto [code, output] = Graphrec(StrCat("batch --input ", World(), " --artifacts a --config ", conf));
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(Contains(output, ":1: unknown setting 'num-walk' (not a flag of graphrec batch); did you mean 'num-walks'?"))
      << output;
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

TEST(CliTest, LogLevelAndFormatWorkAnywhereOnTheCommandLine) {
  const std::string ingest =
      StrCat(GR_GRAPHREC_BINARY, " ingest --follows ", World(), "/follows.tsv --out ", ::gr::testing::TempPath("g.snap"));
  // Text: ISO-8601 time with the date, then the level.
  const auto [text_code, text] = RunCommand(ingest + " 2>&1 >/dev/null");
  ASSERT_EQ(text_code, 0) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2} info )")))
      << text;
  // JSON after the subcommand's own options: every line one object.
  const auto [json_code, json] = RunCommand(ingest + " --log-format json 2>&1 >/dev/null");
  ASSERT_EQ(json_code, 0) << json;
  std::istringstream lines(json);
  int objects = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto parsed = nlohmann::json::parse(line);  // throws on a line that is not JSON
    EXPECT_EQ(parsed.at("level"), "info");
    EXPECT_FALSE(parsed.at("time").get<std::string>().empty());
    EXPECT_FALSE(parsed.at("message").get<std::string>().empty());
    ++objects;
  }
  EXPECT_GT(objects, 0);
  // A threshold given before the subcommand silences info.
  const auto [quiet_code, quiet] =
      RunCommand(StrCat(GR_GRAPHREC_BINARY, " --log-level warn ", ingest.substr(std::string(GR_GRAPHREC_BINARY).size()),
                        " 2>&1 >/dev/null"));
  ASSERT_EQ(quiet_code, 0) << quiet;
  EXPECT_EQ(quiet, "");
  const auto [bad_code, bad] = Graphrec("ingest --log-level loud --follows x --out y");
  EXPECT_EQ(bad_code, 2);
  EXPECT_TRUE(Contains(bad, "--log-level must be trace, debug, info, warn, error, critical or off, got 'loud'")) << bad;
}

TEST(CliTest, ProgressHasRateAndEtaWhenAskedAndIsQuietOffATerminal) {
  const std::string batch = StrCat("batch --input ", World(), " --artifacts ", ::gr::testing::TempPath("artifacts"),
                                   " --dimensions 8 --num-walks 1 --walk-length 10 --min-link-auc 0 --min-ranker-auc 0 --workers 1");
  // Asked, every 0 s: each long step reports share, rate and ETA, then done.
  const auto [code, log] = RunCommand(StrCat(GR_GRAPHREC_BINARY, " --progress always --progress-seconds 0 ", batch,
                                             " 2>&1 >/dev/null"));
  ASSERT_EQ(code, 0) << log;
  for (const std::string step : {"reading ", "training", "HNSW index build", "exact search", "ranker training"}) {
    EXPECT_TRUE(std::regex_search(log, std::regex(step + R"([^\n]*: [0-9.]+% \([0-9]+ of [0-9]+ [a-z]+\), [0-9]+ [a-z]+/s, ETA [0-9]+ s)")))
        << step << "\n" << log;
  }
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(HNSW index build: done, [0-9]+ vectors in [0-9.]+ s)"))) << log;
  // Not a terminal (as here) and not asked: no progress lines.
  const auto [quiet_code, quiet] = RunCommand(StrCat(GR_GRAPHREC_BINARY, " ", batch, " --progress-seconds 0 2>&1 >/dev/null"));
  ASSERT_EQ(quiet_code, 0) << quiet;
  EXPECT_FALSE(Contains(quiet, "ETA")) << quiet;
  EXPECT_EQ(Graphrec("walk --progress sometimes").first, 2);
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
  // The node exporter's file: one line per stage, the gate's verdict.
  const std::string metrics = ::gr::testing::ReadBytes(artifacts + "/batch.prom");
  EXPECT_TRUE(Contains(metrics, "graphrec_batch_published{version=\"from-config\"} 1\n")) << metrics;
  EXPECT_TRUE(Contains(metrics, "graphrec_batch_stage_seconds{stage=\"walks + training\"} ")) << metrics;
  EXPECT_TRUE(Contains(metrics, "graphrec_batch_graph_size{what=\"accounts\"} 300\n")) << metrics;
}

TEST(CliTest, AFailedGateOrRunIsInTheMetricsFile) {
  const std::string artifacts = ::gr::testing::TempPath("gate-metrics-artifacts");
  std::filesystem::remove_all(artifacts);
  const std::string metrics_file = ::gr::testing::TempPath("nightly.prom");
  const std::string batch = StrCat("batch --input ", World(), " --artifacts ", artifacts, " --metrics-file ",
                                   metrics_file, " --dimensions 8 --num-walks 1 --walk-length 10 --no-ranker");
  EXPECT_EQ(Graphrec(batch + " --min-link-auc 0.999").first, 3);
  std::string metrics = ::gr::testing::ReadBytes(metrics_file);
  EXPECT_TRUE(Contains(metrics, "graphrec_batch_gate_failures 1\n")) << metrics;
  EXPECT_TRUE(std::regex_search(metrics, std::regex("graphrec_batch_published\\{version=\"[^\"]+\"\\} 0\n")))
      << metrics;
  // A run that throws (here: an unreadable follows file) still ends the file.
  const std::string broken = ::gr::testing::TempPath("broken-world");
  std::filesystem::remove_all(broken);
  std::filesystem::create_directories(broken);
  ::gr::testing::WriteTextFile("broken-world/follows.tsv", "1\tnot-a-number\t5\n");
  EXPECT_NE(Graphrec(StrCat("batch --input ", broken, " --artifacts ", artifacts, " --metrics-file ", metrics_file))
                .first, 0);
  metrics = ::gr::testing::ReadBytes(metrics_file);
  EXPECT_TRUE(Contains(metrics, "graphrec_batch_published{version=\"\"} 0\n")) << metrics;
}

TEST(CliTest, EventsPushReachesARunningServerAndItsLog) {
  const std::string artifacts = Artifacts("events-artifacts");
  // Two accounts of the world, and a new one that follows both.
  std::istringstream world_follows(::gr::testing::ReadBytes(World() + "/follows.tsv"));
  std::string header, a, b, rest;
  world_follows >> header >> header >> header >> a >> b >> rest;
  const std::string follows = ::gr::testing::WriteTextFile("new-follows.tsv", StrCat("777000000001\t", a, "\t1\n",
                                                                                      "777000000001\t", b, "\t2\n"));
  const ServerProcess server = StartServer(artifacts, "events");
  ASSERT_FALSE(server.address.empty()) << server.log;
  const std::string& address = server.address;
  const auto [push_code, push_output] = Graphrec(StrCat("events push --address ", address, " --follows ", follows));
  const auto [info_code, info_output] = Graphrec(StrCat("query --address ", address, " info"));
  const auto [walks_code, walks_output] =
      Graphrec(StrCat("query --address ", address, " posts --id 777000000001 --k 5 --source walks"));
  server.Kill("TERM");
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

TEST(CliTest, QueryAndPushOverTlsWithATokenFromTheEnvironment) {
  const std::string base = ::gr::testing::TempPath("cli-tls");
  if (std::system(StrCat("openssl req -x509 -newkey rsa:2048 -nodes -keyout ", base, "-key.pem -out ", base,
                         "-cert.pem -days 2 -subj /CN=localhost -addext 'subjectAltName=IP:127.0.0.1' >/dev/null 2>&1")
                      .c_str()) != 0)
    GTEST_SKIP() << "no openssl command";
  const std::string tokens = ::gr::testing::WriteTextFile("cli-tokens", "writer-token-0123456789 read,write\n");
  const ServerProcess server =
      StartServer(Artifacts("tls-artifacts"), "tls",
                  StrCat("--tls-cert ", base, "-cert.pem --tls-key ", base, "-key.pem --auth-tokens ", tokens));
  ASSERT_FALSE(server.address.empty()) << server.log;
  const std::string follows = ::gr::testing::WriteTextFile("tls-follows.tsv", "777000000009\t1\t1\n");
  const std::string tls = StrCat(" --tls-ca ", base, "-cert.pem");
  const auto [plain_code, plain] = Graphrec(StrCat("query --timeout 2 --address ", server.address, " info"));
  const auto [no_token_code, no_token] = Graphrec(StrCat("query --address ", server.address, tls, " info"));
  const auto [info_code, info] =
      Graphrec(StrCat("GRAPHREC_TOKEN=writer-token-0123456789 ", GR_GRAPHREC_BINARY, " query --address ",
                      server.address, tls, " info 2>&1; true"), /*raw=*/true);
  const auto [push_code, push] = Graphrec(StrCat("events push --token writer-token-0123456789 --address ",
                                                 server.address, tls, " --follows ", follows));
  server.Kill("TERM");
  EXPECT_NE(plain_code, 0) << plain;
  EXPECT_NE(no_token_code, 0);
  EXPECT_TRUE(Contains(no_token, "bearer token")) << no_token;
  EXPECT_TRUE(Contains(info, "version:")) << info;
  EXPECT_EQ(push_code, 0) << push;
}

TEST(CliTest, EveryAcknowledgedEventSurvivesKillNineOfTheServer) {
  const std::string artifacts = Artifacts("kill-artifacts");
  const ServerProcess server = StartServer(artifacts, "kill");
  ASSERT_FALSE(server.address.empty()) << server.log;
  // Pushes of 3 follows each, from two threads, until the server dies.
  auto stub = graphrec::v1::Graphrec::NewStub(grpc::CreateChannel(server.address, grpc::InsecureChannelCredentials()));
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::pair<uint64_t, uint64_t>> acknowledged;  // (first sequence, follower)
  std::vector<std::thread> pushers;
  for (uint64_t t = 0; t < 2; ++t) {
    pushers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(); ++i) {
        const uint64_t follower = 800000000000ULL + t * 1000000 + i;
        graphrec::v1::PushEventsRequest request;
        for (uint64_t followee : {1, 2, 3}) {
          auto* e = request.add_events();
          e->set_kind(graphrec::v1::EVENT_FOLLOW);
          e->set_actor(follower);
          e->set_object(followee);
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        graphrec::v1::PushEventsResponse response;
        if (!stub->PushEvents(&context, request, &response).ok()) return;
        std::lock_guard lock(mutex);
        acknowledged.emplace_back(response.first_sequence(), follower);
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard lock(mutex);
    if (acknowledged.size() >= 200) break;
  }
  server.Kill("KILL");
  stop = true;
  for (std::thread& pusher : pushers) pusher.join();
  ASSERT_GE(acknowledged.size(), 50u);
  // Each acknowledged request is in the log exactly once, where its answer said.
  std::map<uint64_t, std::vector<stream::Event>> by_sequence;
  stream::ReadEventLog(artifacts + "/events", 0, UINT64_MAX,
                       [&](uint64_t sequence, const stream::Event& e) { by_sequence[sequence].push_back(e); });
  std::map<uint64_t, int> follower_requests;
  for (const auto& [sequence, events] : by_sequence) {
    ASSERT_EQ(events.size(), 1u);
    if (sequence % 3 == 0) ++follower_requests[events[0].actor];
  }
  for (const auto& [first, follower] : acknowledged) {
    ASSERT_TRUE(by_sequence.contains(first + 2)) << first;
    EXPECT_EQ(by_sequence[first][0].actor, follower);
    EXPECT_EQ(by_sequence[first + 2][0].object, 3u);
    EXPECT_EQ(follower_requests[follower], 1) << follower;
  }
  // The restarted server replays them all into its live graph.
  const ServerProcess restarted = StartServer(artifacts, "kill-restart");
  ASSERT_FALSE(restarted.address.empty()) << restarted.log;
  const auto [info_code, info] = Graphrec(StrCat("query --address ", restarted.address, " --json info"));
  restarted.Kill("TERM");
  ASSERT_EQ(info_code, 0) << info;
  const auto json = nlohmann::json::parse(info);
  EXPECT_GE(std::stoull(json["event_log_end"].get<std::string>()), 3 * acknowledged.size());
}

}  // namespace
}  // namespace gr
