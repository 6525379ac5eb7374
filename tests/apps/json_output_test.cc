// Machine output: `--json` anywhere on the command line makes every command
// print JSON with one convention (snake_case keys, account and post ids as
// strings).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::Artifacts;
using ::gr::testing::Contains;
using ::gr::testing::RunCommand;
using ::gr::testing::StartServer;
using ::gr::testing::TempPath;
using ::gr::testing::World;

// Keys holding account or post ids, alone or as lists.
bool IsIdKey(const std::string& key) {
  return key == "id" || key == "ids" || key == "query" || key == "account" || key == "post" ||
         (key.size() > 3 && key.compare(key.size() - 3, 3, "_id") == 0);
}

// Every key snake_case (objects under `data_keyed` have data as keys: stage
// names), every id a string of digits.
void CheckConvention(const nlohmann::json& j, const std::string& where, const std::string& key = "") {
  static const std::regex snake_case("[a-z][a-z0-9_]*");
  if (IsIdKey(key)) {
    const std::vector<nlohmann::json> ids = j.is_array() ? j.get<std::vector<nlohmann::json>>()
                                                         : std::vector<nlohmann::json>{j};
    for (const nlohmann::json& id : ids) {
      EXPECT_TRUE(id.is_string() && std::regex_match(id.get<std::string>(), std::regex("[0-9]+")))
          << where << ": " << key << " = " << id.dump();
    }
    return;
  }
  if (j.is_object()) {
    for (const auto& [name, value] : j.items()) {
      if (key != "stage_seconds") {
        EXPECT_TRUE(std::regex_match(name, snake_case)) << where << ": key '" << name << "'";
      }
      CheckConvention(value, where, name);
    }
  } else if (j.is_array()) {
    for (const nlohmann::json& item : j) CheckConvention(item, where, key);
  }
}

// Runs graphrec with `args` (stdout only) and checks each line is a JSON
// object of the convention; returns the last.
nlohmann::json JsonOf(const std::string& args) {
  const auto [code, output] = RunCommand(StrCat(GR_GRAPHREC_BINARY, " ", args, " 2>/dev/null"));
  EXPECT_EQ(code, 0) << args << "\n" << output;
  std::istringstream lines(output);
  nlohmann::json last;
  int objects = 0;
  for (std::string line; std::getline(lines, line);) {
    try {
      last = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      ADD_FAILURE() << args << ": not JSON: " << line;
      continue;
    }
    EXPECT_TRUE(last.is_object()) << args << ": " << line;
    CheckConvention(last, args);
    ++objects;
  }
  EXPECT_GT(objects, 0) << args << " printed nothing";
  return last;
}

TEST(JsonOutputTest, EveryOfflineCommandPrintsJsonWithIdsAsStrings) {
  const std::string dir = TempPath("json");
  std::filesystem::remove_all(dir);
  const std::string world = dir + "/world";
  // --json before the subcommand, after it, and between its options.
  EXPECT_EQ(JsonOf(StrCat("--json generate --out ", world, " --accounts 200 --days 3"))["accounts"], 200);
  const std::string snap = dir + "/g.snap";
  EXPECT_EQ(JsonOf(StrCat("ingest --follows ", world, "/follows.tsv --interactions ", world, "/interactions.tsv --posts ",
                          world, "/posts.tsv --json --out ", snap))["accounts"], 200);
  const nlohmann::json stats = JsonOf(StrCat("stats ", snap, " --json"));
  EXPECT_TRUE(stats["degrees"].contains("follow_out_degree")) << stats.dump();
  EXPECT_GT(JsonOf(StrCat("walk --input ", snap, " --output ", dir, "/walks.txt --num-walks 1 --walk-length 5 --json"))
                ["walks"].get<uint64_t>(), 0u);
  const std::string emb = dir + "/a.emb";
  EXPECT_EQ(JsonOf(StrCat("embed --input ", snap, " --output ", emb, " --format native --dimensions 8 --num-walks 2 "
                          "--walk-length 10 --json"))["vectors"], 200);
  EXPECT_TRUE(JsonOf(StrCat("eval link-prediction --input ", snap, " --dimensions 8 --num-walks 2 --walk-length 10 "
                            "--json"))
                  .contains("auc_hadamard"));
  // Labels: the world's topics without their header line.
  {
    std::ifstream topics(world + "/account_topics.tsv");
    std::ofstream labels(dir + "/labels.txt");
    std::string line;
    std::getline(topics, line);
    while (std::getline(topics, line)) labels << line << "\n";
  }
  EXPECT_TRUE(JsonOf(StrCat("eval node-classification --embeddings ", emb, " --labels ", dir, "/labels.txt "
                            "--repeats 2 --json"))
                  .contains("micro_f1"));
  const nlohmann::json index =
      JsonOf(StrCat("index --embeddings ", emb, " --graph ", snap, " --out ", dir, "/index --json"));
  EXPECT_EQ(index["indexes"]["accounts"]["vectors"], 200);
  std::istringstream follows(::gr::testing::ReadBytes(world + "/follows.tsv"));
  std::string header, account;
  std::getline(follows, header);
  follows >> account;
  const nlohmann::json recalled = JsonOf(StrCat("recall --embeddings ", emb, " --graph ", snap, " --index ", dir,
                                                "/index --kind posts --id ", account, " --k 3 --json"));
  EXPECT_EQ(recalled["query"], account);
  EXPECT_EQ(recalled["ids"].size(), 3u);
  // The ranker's three commands.
  const std::string ranker_inputs = StrCat(" --graph ", snap, " --embeddings ", emb, " --workers 1");
  const std::string model = dir + "/ranker.bin";
  const nlohmann::json trained = JsonOf(StrCat("rank-train", ranker_inputs, " --impressions ", world,
                                               "/impressions.tsv --output ", model, " --epochs 1 --json"));
  EXPECT_TRUE(trained["test"].contains("auc_click")) << trained.dump();
  EXPECT_EQ(JsonOf(StrCat("--json rank-eval", ranker_inputs, " --impressions ", world, "/impressions.tsv --model ",
                          model))["impressions"],
            trained["test"]["impressions"]);
  const nlohmann::json ranked =
      JsonOf(StrCat("rank", ranker_inputs, " --model ", model, " --account ", account, " --posts ",
                    recalled["ids"][0].get<std::string>(), " ", recalled["ids"][1].get<std::string>(), " --json"));
  EXPECT_EQ(ranked["account"], account);
  EXPECT_EQ(ranked["results"].size(), 2u);
  // The batch prints its report.
  const nlohmann::json batch =
      JsonOf(StrCat("batch --input ", world, " --artifacts ", dir, "/artifacts --dimensions 8 --num-walks 1 "
                    "--walk-length 10 --no-ranker --min-link-auc 0 --workers 1 --json"));
  EXPECT_EQ(batch["published"], true);
  EXPECT_EQ(batch["counts"]["accounts"], 200);
}

TEST(JsonOutputTest, ServerCommandsPrintJsonWithIdsAsStrings) {
  const std::string artifacts = Artifacts("json-artifacts");
  const auto server = StartServer(artifacts, "json");
  ASSERT_FALSE(server.address.empty()) << server.log;
  std::istringstream follows(::gr::testing::ReadBytes(World() + "/follows.tsv"));
  std::string header, account, followee;
  std::getline(follows, header);
  follows >> account >> followee;
  const std::string new_follows =
      ::gr::testing::WriteTextFile("json-follows.tsv", StrCat("777000000002\t", followee, "\t1\n"));
  const nlohmann::json pushed =
      JsonOf(StrCat("events push --address ", server.address, " --follows ", new_follows, " --json"));
  const nlohmann::json similar =
      JsonOf(StrCat("query --address ", server.address, " similar --id ", account, " --k 3 --json"));
  const nlohmann::json info = JsonOf(StrCat("--json query --address ", server.address, " info"));
  server.Kill("TERM");
  EXPECT_EQ(pushed["events"], 1);
  EXPECT_EQ(similar["ids"].size(), 3u) << similar.dump();
  EXPECT_TRUE(info.contains("event_log_end")) << info.dump();
}

}  // namespace
}  // namespace gr
