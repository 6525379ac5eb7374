#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <set>
#include <unordered_map>

#include "apps/commands.h"
#include "core/error.h"
#include "core/rng.h"
#include "embed/embedding_io.h"
#include "embed/evaluation.h"

namespace gr::apps {
namespace {

struct NodeClassificationArgs {
  std::string embeddings, labels;
  double train_fraction = 0.5;
  int repeats = 10;
  uint64_t seed = 1;
};

void RunNodeClassification(const NodeClassificationArgs& args) {
  const embed::EmbeddingTable table = embed::LoadAnyEmbeddings(args.embeddings);
  std::unordered_map<std::string, size_t> row_of;
  for (size_t r = 0; r < table.rows(); ++r) row_of[table.Key(r)] = r;
  std::ifstream in(args.labels);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open ", args.labels);
  std::vector<std::vector<int>> labels(table.rows());
  std::string line, key;
  size_t line_number = 0, unknown = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    int label;
    GR_CHECK(static_cast<bool>(fields >> key >> label), args.labels, ":", line_number,
             ": expected 'vertex label [label ...]'");
    const auto it = row_of.find(key);
    if (it == row_of.end()) {
      ++unknown;
      continue;
    }
    do labels[it->second].push_back(label);
    while (fields >> label);
  }
  if (unknown > 0) spdlog::warn("{} labelled vertices have no vector (not in the graph?)", unknown);
  const embed::ClassificationScores s =
      embed::NodeClassification(table.input, labels, args.train_fraction, args.repeats, args.seed);
  std::printf("node classification: %zu labelled vertices, %zu classes, train fraction %.2f, %d repeats\n"
              "Micro-F1 %.4f (sd %.4f)\nMacro-F1 %.4f (sd %.4f)\n",
              s.labelled_rows, s.classes, args.train_fraction, args.repeats, s.micro_f1, s.micro_f1_sd,
              s.macro_f1, s.macro_f1_sd);
}

struct LinkPredictionArgs {
  std::string embeddings, train_edges, test_edges, test_non_edges;
  uint64_t seed = 1;
};

// Reads "a b" pairs of vertex keys; pairs with a key that has no vector are counted in *skipped.
std::vector<embed::RowPair> ReadPairs(const std::string& path,
                                      const std::unordered_map<std::string, size_t>& row_of, size_t* skipped) {
  std::ifstream in(path);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open ", path);
  std::vector<embed::RowPair> pairs;
  std::string line, a, b;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    GR_CHECK(static_cast<bool>(fields >> a >> b), path, ":", line_number, ": expected 'vertex vertex'");
    const auto ia = row_of.find(a), ib = row_of.find(b);
    if (ia == row_of.end() || ib == row_of.end()) {
      ++*skipped;
      continue;
    }
    pairs.emplace_back(ia->second, ib->second);
  }
  return pairs;
}

void RunLinkPrediction(const LinkPredictionArgs& args) {
  const embed::EmbeddingTable table = embed::LoadAnyEmbeddings(args.embeddings);
  std::unordered_map<std::string, size_t> row_of;
  for (size_t r = 0; r < table.rows(); ++r) row_of[table.Key(r)] = r;
  size_t skipped_train = 0, skipped_test = 0;
  const auto train = ReadPairs(args.train_edges, row_of, &skipped_train);
  const auto test = ReadPairs(args.test_edges, row_of, &skipped_test);
  const auto test_non = ReadPairs(args.test_non_edges, row_of, &skipped_test);
  // Train non-edges: as many uniformly random pairs that are not train edges.
  std::set<embed::RowPair> known;
  for (const auto& [u, v] : train) known.insert({std::min(u, v), std::max(u, v)});
  std::vector<embed::RowPair> train_non;
  Rng rng(args.seed);
  GR_CHECK(table.rows() >= 2, "too few vectors");
  while (train_non.size() < train.size()) {
    const size_t u = rng.Uniform(table.rows()), v = rng.Uniform(table.rows());
    if (u != v && !known.count({std::min(u, v), std::max(u, v)})) train_non.emplace_back(u, v);
  }
  const embed::LinkPredictionScores s = embed::LinkPrediction(table.input, train, train_non, test, test_non);
  std::printf("link prediction: %zu train edges (+%zu sampled non-edges), %zu test edges, %zu test non-edges\n"
              "pairs skipped (a vertex without a vector): %zu train, %zu test\n"
              "AUC dot product %.4f\nAUC Hadamard + logistic regression %.4f\n",
              train.size(), train_non.size(), test.size(), test_non.size(), skipped_train, skipped_test,
              s.dot_auc, s.hadamard_auc);
}

}  // namespace

void AddEvalCommand(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Offline quality of embeddings");
  eval->require_subcommand(1);
  auto args = std::make_shared<NodeClassificationArgs>();
  auto* nc = eval->add_subcommand("node-classification",
                                  "One-vs-rest logistic regression on labelled vertices; Micro/Macro-F1");
  nc->add_option("--embeddings", args->embeddings, "vectors (.emb or word2vec text)")->required()->check(CLI::ExistingFile);
  nc->add_option("--labels", args->labels, "lines 'vertex label [label ...]' (multi-label allowed)")
      ->required()->check(CLI::ExistingFile);
  nc->add_option("--train-fraction", args->train_fraction, "share of labelled vertices to train on")->capture_default_str();
  nc->add_option("--repeats", args->repeats, "random splits averaged")->capture_default_str();
  nc->add_option("--seed", args->seed, "split seed")->capture_default_str();
  nc->callback([args] { RunNodeClassification(*args); });

  auto lp_args = std::make_shared<LinkPredictionArgs>();
  auto* lp = eval->add_subcommand("link-prediction",
                                  "AUC of held-out edges vs non-edges: dot product, and Hadamard + logistic regression");
  lp->add_option("--embeddings", lp_args->embeddings, "vectors trained without the test edges")
      ->required()->check(CLI::ExistingFile);
  lp->add_option("--train-edges", lp_args->train_edges, "edges the vectors were trained on: 'a b' per line")
      ->required()->check(CLI::ExistingFile);
  lp->add_option("--test-edges", lp_args->test_edges, "held-out edges")->required()->check(CLI::ExistingFile);
  lp->add_option("--test-non-edges", lp_args->test_non_edges, "held-out non-edges")->required()->check(CLI::ExistingFile);
  lp->add_option("--seed", lp_args->seed, "seed of the sampled train non-edges")->capture_default_str();
  lp->callback([lp_args] { RunLinkPrediction(*lp_args); });
}

}  // namespace gr::apps
