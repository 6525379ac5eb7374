#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "apps/commands.h"
#include "core/error.h"
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

embed::EmbeddingTable LoadVectors(const std::string& path) {
  uint32_t magic = 0;
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&magic), sizeof(magic));
  return magic == embed::kEmbeddingMagic ? embed::LoadEmbeddings(path) : embed::LoadWord2VecText(path);
}

void RunNodeClassification(const NodeClassificationArgs& args) {
  const embed::EmbeddingTable table = LoadVectors(args.embeddings);
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
}

}  // namespace gr::apps
