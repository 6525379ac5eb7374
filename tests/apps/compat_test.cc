// Command lines users bring from the reference node2vec and from PecanPy run
// unchanged, and flags that cannot mean the same here are refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

namespace gr {
namespace {

using ::gr::testing::Contains;
using ::gr::testing::Graphrec;

const std::string kKarate = std::string(GR_TEST_DATA_DIR) + "/karate.edgelist";

// A directory laid out as the node2vec repository: graph/karate.edgelist, emb/.
std::string Node2vecCheckout() {
  const std::string dir = ::gr::testing::TempPath("node2vec-checkout");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/graph");
  std::filesystem::create_directories(dir + "/emb");
  std::filesystem::copy_file(kKarate, dir + "/graph/karate.edgelist");
  return dir;
}

// "rows dim" of a word2vec text file.
std::string Word2VecHeader(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(CompatTest, TheReferenceNode2vecReadmeCommandRunsUnchangedOnKarate) {
  const std::string dir = Node2vecCheckout();
  // node2vec's README: python src/main.py --input graph/karate.edgelist --output emb/karate.emd
  const auto [code, output] = Graphrec(
      StrCat("cd ", dir, " && ", GR_GRAPHREC_BINARY, " embed --input graph/karate.edgelist --output emb/karate.emd 2>&1"),
      /*raw=*/true);
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(Word2VecHeader(dir + "/emb/karate.emd"), "34 128");  // node2vec's default 128 dimensions
}

TEST(CompatTest, EveryReferenceNode2vecFlagIsAccepted) {
  const std::string dir = Node2vecCheckout();
  const auto [code, output] = Graphrec(StrCat(
      "embed --input ", dir, "/graph/karate.edgelist --output ", dir, "/emb/k.emd --dimensions 16 --walk-length 20 ",
      "--num-walks 5 --window-size 5 --iter 1 --workers 1 --p 1 --q 1 --weighted --unweighted --directed --undirected"));
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(Word2VecHeader(dir + "/emb/k.emd"), "34 16");
  // --undirected after --directed wins: no dead-end warning.
  EXPECT_FALSE(Contains(output, "walks ended early")) << output;
}

TEST(CompatTest, IterCountsEpochsAndRandomStateIsTheSeed) {
  const std::string out = ::gr::testing::TempPath("k.emd");
  const std::string base = StrCat("--json embed --input ", kKarate, " --output ", out,
                                  " --dimensions 8 --walk-length 10 --num-walks 2 --workers 1 --subsample 0");
  auto trained = [&](const std::string& extra) {
    const auto [code, output] = Graphrec(base + " " + extra + " --log-level warn");
    EXPECT_EQ(code, 0) << output;
    return nlohmann::json::parse(output)["trained_tokens"].get<uint64_t>();
  };
  EXPECT_EQ(trained("--iter 3"), 3 * trained("--iter 1"));
  EXPECT_EQ(trained("--iter 2"), trained("--epochs 2"));
  trained("--random_state 5");
  const std::string with_random_state = ::gr::testing::ReadBytes(out);
  trained("--seed 5");
  EXPECT_EQ(::gr::testing::ReadBytes(out), with_random_state);
  trained("--seed 6");
  EXPECT_NE(::gr::testing::ReadBytes(out), with_random_state);
}

TEST(CompatTest, PecanPysCommandLineRunsAndItsModesAreCheckedAsPecanPyChecksThem) {
  // PecanPy reads tab-separated .edg files.
  std::string tabbed = ::gr::testing::ReadBytes(kKarate);
  for (char& c : tabbed) c = c == ' ' ? '\t' : c;
  const std::string edg = ::gr::testing::WriteTextFile("karate.edg", tabbed);
  const std::string emb = ::gr::testing::TempPath("karate.emb");
  const auto [code, output] =
      Graphrec(StrCat("embed --input ", edg, " --output ", emb, " --mode SparseOTF --delimiter '\\t' --implicit_ids ",
                      "--random_state 1 --verbose --workers 1 --dimensions 8 --epochs 1 --progress-seconds 0"));
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(Word2VecHeader(emb), "34 8");
  EXPECT_TRUE(Contains(output, "ETA")) << "--verbose shows progress:\n" << output;
  EXPECT_FALSE(Contains(Graphrec(StrCat("embed --input ", edg, " --output ", emb, " --progress-seconds 0")).second, "ETA"));

  const std::string prefix = StrCat("embed --input ", edg, " --output ", emb, " ");
  const auto [mode_code, mode_output] = Graphrec(prefix + "--mode FirstOrderUnweighted --p 2");
  EXPECT_EQ(mode_code, 2) << mode_output;
  EXPECT_TRUE(Contains(mode_output, "--mode FirstOrderUnweighted needs p = q = 1")) << mode_output;
  const auto [first_code, first_output] = Graphrec(prefix + "--mode PreCompFirstOrder --q 0.5");
  EXPECT_EQ(first_code, 2) << first_output;
  const auto [delimiter_code, delimiter_output] = Graphrec(prefix + "--delimiter ';'");
  EXPECT_EQ(delimiter_code, 2) << delimiter_output;
  EXPECT_TRUE(Contains(delimiter_output, "--delimiter ';'")) << delimiter_output;
  EXPECT_EQ(Graphrec(prefix + "--mode Bogus").first, 2);
}

TEST(CompatTest, DirectedWalksThatDieEarlyAreWarnedAbout) {
  // Karate's edge list names each friendship once, lower id first: directed
  // walks soon reach a member with no out-edge.
  const auto [code, output] = Graphrec(StrCat("embed --input ", kKarate, " --output ",
                                              ::gr::testing::TempPath("d.emd"), " --directed --dimensions 8"));
  ASSERT_EQ(code, 0) << output;
  EXPECT_TRUE(Contains(output, "directed walks ended early")) << output;
  EXPECT_TRUE(Contains(output, "--undirected")) << output;
}

}  // namespace
}  // namespace gr

namespace gr {
namespace {

TEST(StringIdsCliTest, WalksAndVectorsAreKeyedByTheInputsStrings) {
  const std::string edges = ::gr::testing::WriteTextFile(
      "people.txt", "alice bob\nbob carol\ncarol alice\ndave alice\ne4c1-77 dave\n");
  const std::string walks = ::gr::testing::TempPath("people.walks");
  const auto [code, output] = Graphrec(StrCat("walk --input ", edges, " --output ", walks,
                                              " --ids string --header no --num-walks 2 --walk-length 5"));
  ASSERT_EQ(code, 0) << output;
  const std::string text = ::gr::testing::ReadBytes(walks);
  for (const char* name : {"alice", "bob", "carol", "dave", "e4c1-77"}) EXPECT_TRUE(Contains(text, name)) << text;
  const std::string vectors = ::gr::testing::TempPath("people.vec");
  for (const std::string format : {"text", "binary"}) {
    const auto [embed_code, embed_output] = Graphrec(StrCat("embed --input ", edges, " --output ", vectors,
                                                            " --ids string --header no --dimensions 4 --format ", format));
    ASSERT_EQ(embed_code, 0) << embed_output;
    // Read back by a command that reads vectors: the keys are the names.
    const auto [export_code, exported] =
        Graphrec(StrCat("export --embeddings ", vectors, " --what vectors --format word2vec --out ", vectors, ".txt"));
    ASSERT_EQ(export_code, 0) << exported;
    const std::string back = ::gr::testing::ReadBytes(vectors + ".txt");
    EXPECT_EQ(back.substr(0, 4), "5 4\n");
    EXPECT_TRUE(Contains(back, "\ne4c1-77 ")) << back;
  }
  // Statements the run cannot guess or keep are refused by name.
  const auto [header_code, header_output] = Graphrec(StrCat("walk --input ", edges, " --output ", walks, " --ids string"));
  EXPECT_EQ(header_code, 2) << header_output;
  EXPECT_TRUE(Contains(header_output, "--header yes or --header no")) << header_output;
  const auto [native_code, native_output] = Graphrec(
      StrCat("embed --input ", edges, " --output ", vectors, " --ids string --header no --format native"));
  EXPECT_EQ(native_code, 2) << native_output;
  const auto [integer_code, integer_output] = Graphrec(StrCat("walk --input ", edges, " --output ", walks));
  EXPECT_EQ(integer_code, 2) << integer_output;
  EXPECT_TRUE(Contains(integer_output, "if the ids are strings, pass --ids string")) << integer_output;
}

TEST(StringIdsCliTest, VectorsWithStringKeysAreIndexedAndQueriedWithoutAGraph) {
  const std::string edges = ::gr::testing::WriteTextFile("clubs.txt", "ann ben\nben cid\ncid ann\ndan eve\neve fay\nfay dan\n");
  const std::string vectors = ::gr::testing::TempPath("clubs.vec");
  ASSERT_EQ(Graphrec(StrCat("embed --input ", edges, " --output ", vectors, " --ids string --header no --dimensions 8 ",
                            "--epochs 20 --workers 1")).first, 0);
  const std::string index = ::gr::testing::TempPath("clubs-index");
  const auto [index_code, index_output] = Graphrec(StrCat("index --embeddings ", vectors, " --out ", index, " --exact"));
  ASSERT_EQ(index_code, 0) << index_output;
  const auto [code, output] =
      Graphrec(StrCat("--json recall --embeddings ", vectors, " --index ", index, " --key ann --k 2 --log-level warn"));
  ASSERT_EQ(code, 0) << output;
  const auto answer = nlohmann::json::parse(output);
  EXPECT_EQ(answer["query"], "ann");
  // Two triangles with no edge between them: ann's nearest are its own.
  EXPECT_EQ(std::set<std::string>(answer["ids"].begin(), answer["ids"].end()), (std::set<std::string>{"ben", "cid"}))
      << output;
  const auto [posts_code, posts_output] =
      Graphrec(StrCat("recall --embeddings ", vectors, " --index ", index, " --key ann --kind posts"));
  EXPECT_EQ(posts_code, 2) << posts_output;
  EXPECT_TRUE(Contains(posts_output, "--kind posts needs --graph")) << posts_output;
  EXPECT_EQ(Graphrec(StrCat("recall --embeddings ", vectors, " --index ", index, " --key nobody")).first, 1);
}

TEST(StringIdsCliTest, AHeaderIsSkippedOnlyWhereTheCommandLineSays) {
  const std::string edges = ::gr::testing::WriteTextFile("headed.txt", "7 8\n8 9\n");
  const std::string walks = ::gr::testing::TempPath("headed.walks");
  auto vertices = [&](const std::string& header) {
    const auto [code, output] = Graphrec(StrCat("--json walk --input ", edges, " --output ", walks,
                                                " --num-walks 1 --walk-length 1 --log-level warn --header ", header));
    EXPECT_EQ(code, 0) << output;
    return nlohmann::json::parse(output)["walks"].get<int>();
  };
  EXPECT_EQ(vertices("auto"), 3);
  EXPECT_EQ(vertices("no"), 3);
  EXPECT_EQ(vertices("yes"), 2) << "line 1 skipped: 8 and 9 remain";
}

}  // namespace
}  // namespace gr
