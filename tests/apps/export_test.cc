// graphrec export: a version's vectors, indices and graph in open formats,
// opened by the tools users come from (tests/python/export_interop.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::Artifacts;
using ::gr::testing::Contains;
using ::gr::testing::Graphrec;
using ::gr::testing::LiveVersionDir;
using ::gr::testing::RunCommand;


TEST(ExportTest, PythonsHnswlibAnswersAsGraphrecRecallAndNumpyReadsTheVectors) {
  const std::string artifacts = Artifacts("export-artifacts");
  const std::string out = ::gr::testing::TempPath("export-out");
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  for (const std::string& what : {"vectors --format npy --out " + out + "/vectors.npy",
                                 "vectors --format word2vec-binary --out " + out + "/vectors.bin",
                                 "index --index accounts --format hnswlib --out " + out + "/accounts.hnswlib"}) {
    const auto [code, output] = Graphrec(StrCat("export --artifacts ", artifacts, " --what ", what));
    ASSERT_EQ(code, 0) << output;
  }
  // graphrec's own answers for 30 accounts.
  const std::string version = LiveVersionDir(artifacts);
  const std::string ids = out + "/queries.txt";
  RunCommand(StrCat("head -30 ", ::gr::testing::World(), "/follows.tsv | tail -29 | cut -f1 | sort -u > ", ids));
  const std::string recall = out + "/recall.jsonl";
  const auto [recall_code, recall_log] =
      RunCommand(StrCat(GR_GRAPHREC_BINARY, " --json recall --embeddings ", version, "/accounts.emb --graph ", version,
                        "/graph.snap --index ", version, " --kind similar --k 10 --ids-file ", ids, " > ", recall,
                        " 2>/dev/null"));
  ASSERT_EQ(recall_code, 0) << recall_log;
  const auto [code, output] =
      RunCommand(StrCat("/usr/bin/python3 ", GR_SOURCE_DIR, "/tests/python/export_interop.py ", out, " ", recall, " 2>&1"));
  if (code == 77) GTEST_SKIP() << output;
  EXPECT_EQ(code, 0) << output;
  EXPECT_TRUE(Contains(output, " 0 differences")) << output;
}

TEST(ExportTest, AWord2VecBinaryExportIsReadBackByTheCommandsThatReadVectors) {
  const std::string artifacts = Artifacts("export-binary-artifacts");
  const std::string version = LiveVersionDir(artifacts);
  const std::string binary = ::gr::testing::TempPath("vectors.bin");
  ASSERT_EQ(Graphrec(StrCat("export --artifacts ", artifacts, " --what vectors --format word2vec-binary --out ", binary)).first, 0);
  const std::string account = ::gr::testing::RunCommand(StrCat("head -2 ", ::gr::testing::World(), "/follows.tsv | tail -1 | cut -f1")).second;
  auto similar = [&](const std::string& vectors) {
    return Graphrec(StrCat("recall --embeddings ", vectors, " --graph ", version, "/graph.snap --index ", version,
                           " --kind similar --k 5 --id ", account.substr(0, account.find('\n')), " --log-level warn"));
  };
  const auto [native_code, native] = similar(version + "/accounts.emb");
  ASSERT_EQ(native_code, 0) << native;
  EXPECT_EQ(similar(binary), std::make_pair(0, native));
  // The binary converts back to text and to npy without the artifacts.
  const auto [code, output] = Graphrec(StrCat("--json export --embeddings ", binary, " --what vectors --format word2vec --out ",
                                              ::gr::testing::TempPath("vectors.vec")));
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(nlohmann::json::parse(output)["rows"], 300);
}

TEST(ExportTest, TheGraphExportReingestsToTheSameGraph) {
  const std::string artifacts = Artifacts("export-graph-artifacts");
  const std::string edges = ::gr::testing::TempPath("graph.edgelist");
  const auto [code, output] = Graphrec(StrCat("--json export --artifacts ", artifacts, " --what graph --format edgelist --out ", edges));
  ASSERT_EQ(code, 0) << output;
  const auto exported = nlohmann::json::parse(output);
  const auto [stats_code, stats] = Graphrec(StrCat("--json stats ", LiveVersionDir(artifacts), "/graph.snap --log-level warn"));
  ASSERT_EQ(stats_code, 0) << stats;
  const auto [ingest_code, ingest] = Graphrec(StrCat("--json ingest --edge-list ", edges, " --directed --out ",
                                                     ::gr::testing::TempPath("again.snap"), " --log-level warn"));
  ASSERT_EQ(ingest_code, 0) << ingest;
  const auto again = nlohmann::json::parse(ingest);
  EXPECT_EQ(exported["edges"], nlohmann::json::parse(stats)["follow_edges"]) << stats;
  EXPECT_EQ(again["follow_edges"], exported["edges"]) << ingest;
}

TEST(ExportTest, WhatCannotBeExportedIsNamed) {
  const std::string artifacts = Artifacts("export-errors-artifacts");
  const std::string out = ::gr::testing::TempPath("x.out");
  const auto [format_code, format] = Graphrec(StrCat("export --artifacts ", artifacts, " --what index --format npy --out ", out));
  EXPECT_EQ(format_code, 2) << format;
  EXPECT_TRUE(Contains(format, "--what index takes --format hnswlib")) << format;
  const std::string empty = ::gr::testing::TempPath("no-artifacts");
  std::filesystem::create_directories(empty);
  const auto [none_code, none] = Graphrec(StrCat("export --artifacts ", empty, " --what vectors --format npy --out ", out));
  EXPECT_EQ(none_code, 1) << none;
  EXPECT_TRUE(Contains(none, "has no published version")) << none;
  // An exact index has no hnswlib form.
  const std::string version = LiveVersionDir(artifacts);
  const std::string exact = ::gr::testing::TempPath("exact-index");
  ASSERT_EQ(Graphrec(StrCat("index --embeddings ", version, "/accounts.emb --graph ", version, "/graph.snap --exact --out ", exact)).first, 0);
  const std::string exact_artifacts = ::gr::testing::TempPath("exact-artifacts");
  std::filesystem::remove_all(exact_artifacts);
  std::filesystem::create_directories(exact_artifacts + "/v1");
  std::filesystem::copy_file(exact + "/accounts.hnsw", exact_artifacts + "/v1/accounts.hnsw");
  const auto [exact_code, exact_output] =
      Graphrec(StrCat("export --artifacts ", exact_artifacts, " --version v1 --what index --format hnswlib --out ", out));
  EXPECT_EQ(exact_code, 2) << exact_output;
  EXPECT_TRUE(Contains(exact_output, "an exact index has no hnswlib form")) << exact_output;
}

}  // namespace
}  // namespace gr
