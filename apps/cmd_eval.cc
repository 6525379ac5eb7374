#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <set>
#include <unordered_map>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "apps/walk_flags.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "embed/embedding_io.h"
#include "embed/evaluation.h"
#include "embed/skip_gram.h"
#include "eval/consistency.h"
#include "eval/link_holdout.h"
#include "graph/edge_split.h"
#include "version/layout.h"
#include "version/version_store.h"
#ifdef GR_WITH_MPI
#include "apps/on_ranks.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_holdout.h"
#include "dist/partitioned_link_eval.h"
#endif

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
  size_t line_number = 0, unknown = 0, unlabelled = 0;
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
    if (label < 0) {  // Planetoid's "-1" marks a vertex without a label
      ++unlabelled;
      continue;
    }
    do labels[it->second].push_back(label);
    while (fields >> label);
  }
  if (unknown > 0) spdlog::warn("{} labelled vertices have no vector (not in the graph?)", unknown);
  if (unlabelled > 0) spdlog::info("{} vertices with a negative label (= unlabelled) ignored", unlabelled);
  const embed::ClassificationScores s =
      embed::NodeClassification(table.input, labels, args.train_fraction, args.repeats, args.seed);
  if (JsonOutput()) {
    PrintJson({{"labelled_vertices", s.labelled_rows}, {"classes", s.classes}, {"train_fraction", args.train_fraction},
               {"repeats", args.repeats}, {"micro_f1", s.micro_f1}, {"micro_f1_sd", s.micro_f1_sd},
               {"macro_f1", s.macro_f1}, {"macro_f1_sd", s.macro_f1_sd}});
    return;
  }
  std::printf("node classification: %zu labelled vertices, %zu classes, train fraction %.2f, %d repeats\n"
              "Micro-F1 %.4f (sd %.4f)\nMacro-F1 %.4f (sd %.4f)\n",
              s.labelled_rows, s.classes, args.train_fraction, args.repeats, s.micro_f1, s.micro_f1_sd,
              s.macro_f1, s.macro_f1_sd);
}

struct LinkPredictionArgs {
  // Given split: vectors trained on train_edges, scored on the test files.
  std::string embeddings, train_edges, test_edges, test_non_edges;
  // Hold-out mode (walk.input set): split, train, score.
  WalkFlags walk;
  embed::SkipGramConfig train;
  double test_fraction = 0.5;
  std::string hold_out = "random";
  std::string write_split;  // directory for the split's edge files, or empty
  DistributedTrainingFlags distributed;  // under mpirun
  size_t max_pairs = 0;                  // hold-out mode: pairs scored per list (0 = all)
};

// skipped_*: given-split pairs with a vertex that has no vector (-1: hold-out mode, none).
void PrintLinkPrediction(const embed::LinkPredictionScores& s, size_t train, size_t train_non, size_t test,
                         size_t test_non, int64_t skipped_train = -1, int64_t skipped_test = -1) {
  if (JsonOutput()) {
    nlohmann::json out = {{"train_edges", train}, {"train_non_edges", train_non}, {"test_edges", test},
                          {"test_non_edges", test_non}, {"auc_dot", s.dot_auc}, {"auc_hadamard", s.hadamard_auc}};
    if (skipped_train >= 0) out["skipped_pairs"] = {{"train", skipped_train}, {"test", skipped_test}};
    PrintJson(out);
    return;
  }
  if (skipped_train >= 0)
    std::printf("pairs skipped (a vertex without a vector): %lld train, %lld test\n",
                static_cast<long long>(skipped_train), static_cast<long long>(skipped_test));
  std::printf("link prediction: %zu train edges (+%zu sampled non-edges), %zu test edges, %zu test non-edges\n"
              "AUC dot product %.4f\nAUC Hadamard + logistic regression %.4f\n",
              train, train_non, test, test_non, s.dot_auc, s.hadamard_auc);
}

using IdPair = std::pair<ExternalId, ExternalId>;

// --write-split: the three pair files (external ids, in the given order).
void WriteSplit(const std::string& dir, const std::vector<IdPair>& train_edges, const std::vector<IdPair>& test_edges,
                const std::vector<IdPair>& test_non_edges) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, pairs] : {std::pair{"train_edges", &train_edges}, std::pair{"test_edges", &test_edges},
                                    std::pair{"test_non_edges", &test_non_edges}}) {
    WriteFileAtomically(dir + "/" + name + ".txt", [&](std::FILE* out) {
      for (const auto& [u, v] : *pairs)
        std::fprintf(out, "%llu %llu\n", static_cast<unsigned long long>(u), static_cast<unsigned long long>(v));
    });
  }
  spdlog::info("split written to {}/{{train_edges,test_edges,test_non_edges}}.txt", dir);
}

std::vector<IdPair> External(const graph::SocialGraph& g, const std::vector<graph::VertexPair>& pairs) {
  std::vector<IdPair> ids;
  ids.reserve(pairs.size());
  for (const auto& [u, v] : pairs) ids.emplace_back(g.accounts.ToExternal(u), g.accounts.ToExternal(v));
  return ids;
}

graph::EdgeSplitConfig SplitConfig(const LinkPredictionArgs& args) {
  return {.test_fraction = args.test_fraction,
          .order = args.hold_out == "newest" ? graph::HoldOutOrder::kNewest : graph::HoldOutOrder::kRandom,
          .seed = args.walk.run.SeedFor(SeedStream::kHoldOut)};
}

#ifdef GR_WITH_MPI
std::vector<IdPair> Sorted(std::vector<IdPair> pairs) {
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// Under mpirun: each rank reads its part of the input; the hold-out, the
// walks and the training run on the ranks (dist/), and rank 0 scores the
// pairs with the vectors it gathered. No rank holds the whole graph.
void RunHoldOutLinkPredictionOnRanks(const LinkPredictionArgs& args, const walk::WalkConfig& walk_config) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = dist::Rank(comm) == 0;
  const auto start = std::chrono::steady_clock::now();
  double last = 0;
  const auto lap = [&](const char* stage) {
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (root) spdlog::info("{}: {:.2f} s", stage, now - last);
    last = now;
  };
  GR_CHECK(args.write_split.empty() || args.max_pairs == 0,
           "under mpirun, --write-split writes the pairs scored: it needs every pair (--max-pairs 0)");
  RanksInput input = ReadInputOnRanks(args.walk, walk_config, comm);
  GR_CHECK(!input.snapshot, "under mpirun, link prediction reads an input directory or an edge list, not the "
           "snapshot ", args.walk.input, " (one process would hold it whole): run it without mpirun");
  GR_CHECK(!input.undirected, "under mpirun, link prediction holds out directed follows: give an input directory "
           "or --directed (an undirected edge list runs without mpirun)");
  lap("read");
  dist::PartitionedSplit split = dist::SplitPartitioned(std::move(input.follows), SplitConfig(args), comm);
  lap("hold-out");
  const dist::LinkPairs pairs =
      dist::SampleLinkPairs(split, args.max_pairs, args.walk.run.SeedFor(SeedStream::kLinkEval), comm);
  if (root)
    spdlog::info("held out {} of {} follow edges ({} requested; {} kept as a spanning forest)", pairs.test_edges.size(),
                 split.candidate_edges, split.requested, split.forest_edges);
  lap("pairs");
  if (root && !args.write_split.empty())  // ascending, as a plain run's edges are
    WriteSplit(args.write_split, Sorted(pairs.train_edges), Sorted(pairs.test_edges), Sorted(pairs.test_non_edges));
  embed::SkipGramStats stats;
  const embed::EmbeddingTable table =
      TrainOnRanks(input, split.train, walk_config, args.train, args.distributed, nullptr, comm, &stats);
  lap("walks and training");
  if (!root) return;
  const embed::LinkPredictionScores scores = dist::ScoreLinkPairs(pairs, table);
  lap("scoring");
  PrintLinkPrediction(scores, pairs.train_edges.size(), pairs.train_non_edges.size(), pairs.test_edges.size(),
                      pairs.test_non_edges.size());
}
#endif

// Hold-out mode: split the input graph, train on the rest, score.
void RunHoldOutLinkPrediction(const LinkPredictionArgs& args) {
  const walk::WalkConfig walk_config = ResolveWalkConfig(args.walk);
  GR_CHECK(walk_config.kind != walk::WalkKind::kMetapath, "link prediction scores follow edges: use account walks");
#ifdef GR_WITH_MPI
  if (dist::WorldSizeIfStarted() > 1) return RunHoldOutLinkPredictionOnRanks(args, walk_config);
#endif
  std::vector<std::string> names;  // unused: the evaluation prints no keys
  const graph::SocialGraph g = LoadGraphInput(args.walk.input, args.walk.directed, InputOptions(args.walk), &names);
  const graph::EdgeSplit split = graph::SplitEdgesForLinkPrediction(g, SplitConfig(args));
  spdlog::info("held out {} of {} follow edges ({} requested; {} kept as a spanning forest)", split.test_edges.size(),
               split.candidate_edges, split.requested, split.forest_edges);
  GR_CHECK(!split.test_edges.empty(), "nothing could be held out: every edge is needed to keep the graph connected");
  if (!args.write_split.empty())
    WriteSplit(args.write_split, External(g, graph::FollowPairs(split.train)), External(g, split.test_edges),
               External(g, split.test_non_edges));
  const embed::EmbeddingTable table = embed::EmbedWalks(split.train, walk_config, args.train);
  // The same protocol and seeds as the batch's quality gate, on every pair.
  const eval::HeldOutLinkScores s = eval::ScoreHeldOutFollows(g, split, table.input, args.max_pairs,
                                                              args.walk.run.SeedFor(SeedStream::kLinkEval));
  PrintLinkPrediction(s.auc, s.train_edges, s.train_non_edges, s.test_edges, s.test_non_edges);
}

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
  if (!args.walk.input.empty()) return RunHoldOutLinkPrediction(args);
  GR_CHECK(!args.embeddings.empty() && !args.train_edges.empty() && !args.test_edges.empty() &&
               !args.test_non_edges.empty(),
           "give either --input (hold-out mode) or --embeddings, --train-edges, --test-edges and --test-non-edges");
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
  Rng rng(args.walk.run.SeedFor(SeedStream::kLinkEval));
  GR_CHECK(table.rows() >= 2, "too few vectors");
  while (train_non.size() < train.size()) {
    const size_t u = rng.Uniform(table.rows()), v = rng.Uniform(table.rows());
    if (u != v && !known.count({std::min(u, v), std::max(u, v)})) train_non.emplace_back(u, v);
  }
  PrintLinkPrediction(embed::LinkPrediction(table.input, train, train_non, test, test_non), train.size(),
                      train_non.size(), test.size(), test_non.size(), static_cast<int64_t>(skipped_train),
                      static_cast<int64_t>(skipped_test));
}

struct ConsistencyArgs {
  std::string artifacts, version;
  eval::VersionConsistencyConfig config;
};

void RunConsistency(const ConsistencyArgs& args) {
  const std::string version = args.version.empty() ? version::ReadCurrentVersion(args.artifacts) : args.version;
  GR_CHECK_CODE(!version.empty(), ErrorCode::kNotFound, args.artifacts, " has no published version (no ",
                version::kCurrentFile, "); give --version");
  const version::LoadedVersion loaded = version::LoadVersion(args.artifacts, version);
  GR_CHECK_CODE(loaded.ranker != nullptr, ErrorCode::kNotFound, "version ", version,
                " has no ranker (the batch trains one when its input has impressions)");
  const ranking::FeatureSource features(loaded.graph, loaded.table, loaded.ranker->feature_config(),
                                        loaded.ranker->centroids(), args.config.metric.threads);
  const eval::ConsistencyReport report = eval::MeasureVersionConsistency(loaded.graph, loaded.indexes, loaded.table,
                                                                         *loaded.ranker, features, args.config,
                                                                         loaded.consistent_recall.get());
  if (JsonOutput()) {
    nlohmann::json out = nlohmann::json::parse(report.ToJson());
    out["version"] = version;
    out["config"] = nlohmann::json::parse(args.config.ToJson());
    PrintJson(out);
    return;
  }
  std::printf("# version %s, ideal = the ranker's top %u, wide = its top %u\n%s", version.c_str(),
              args.config.metric.top, args.config.metric.wide, report.ToText().c_str());
}

}  // namespace

void AddEvalCommand
(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Offline quality of embeddings and of a version's recall funnel");
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
  auto* lp = eval->add_subcommand(
      "link-prediction",
      "AUC of held-out edges vs non-edges by dot product and by Hadamard + logistic regression; either hold "
      "out edges of --input and train on the rest, or score given vectors on a given split");
  lp->add_option("--embeddings", lp_args->embeddings, "given split: vectors trained without the test edges")
      ->check(CLI::ExistingFile);
  lp->add_option("--train-edges", lp_args->train_edges, "given split: edges the vectors were trained on, 'a b' per line")
      ->check(CLI::ExistingFile);
  lp->add_option("--test-edges", lp_args->test_edges, "given split: held-out edges")->check(CLI::ExistingFile);
  lp->add_option("--test-non-edges", lp_args->test_non_edges, "given split: held-out non-edges")
      ->check(CLI::ExistingFile);
  AddWalkFlags(lp, lp_args->walk);
  lp->get_option("--input")->required(false)->description(
      "hold-out mode: graph snapshot, input directory or edge list whose edges are split, trained on and scored");
  for (const char* given : {"--embeddings", "--train-edges", "--test-edges", "--test-non-edges"})
    lp->get_option("--input")->excludes(lp->get_option(given));
  AddTrainingFlags(lp, lp_args->train);
  AddDistributedTrainingFlags(lp, lp_args->distributed);
  lp->add_option("--test-fraction", lp_args->test_fraction,
                 "hold-out mode: share of edges held out (a spanning forest is always kept)")
      ->capture_default_str();
  lp->add_option("--hold-out", lp_args->hold_out, "hold-out mode: which edges, random or newest (by follow time)")
      ->check(CLI::IsMember({"random", "newest"}))->capture_default_str();
  lp->add_option("--max-pairs", lp_args->max_pairs,
                 "hold-out mode: score a uniform sample of this many training edges and held-out edges (and as "
                 "many non-edges each) instead of all (0); the batch samples 50000")
      ->capture_default_str();
  lp->add_option("--write-split", lp_args->write_split,
                 "hold-out mode: write train_edges.txt, test_edges.txt, test_non_edges.txt (external ids) here, "
                 "to score other tools on the same split");
  lp->callback([lp_args] { RunLinkPrediction(*lp_args); });

  auto c_args = std::make_shared<ConsistencyArgs>();
  eval::VersionConsistencyConfig& c = c_args->config;
  auto* cons = eval->add_subcommand(
      "consistency",
      "Funnel consistency of a published version: for sampled accounts the ranker scores the whole catalogue "
      "(its top is the ideal); each recall source (embedding, authors, consistent when the version has the towers, "
      "popular, random) recalls K posts and the "
      "ranker orders them; prints overlap@top with the ideal and the share of the ranker's wider top recalled");
  cons->add_option("--artifacts", c_args->artifacts, "artifacts directory")->required()->check(CLI::ExistingDirectory);
  cons->add_option("--version", c_args->version, "version to measure (default: the live one)");
  cons->add_option("--accounts", c.accounts, "accounts sampled (with a vector and an interaction)")
      ->capture_default_str();
  cons->add_option("--window-days", c.window_days,
                   "catalogue: posts of this many days before the scoring time; 0 = every post")
      ->capture_default_str();
  cons->add_option("--max-catalogue", c.max_catalogue,
                   "a larger window is sampled uniformly to this many posts (stated in the output); 0 = no limit")
      ->capture_default_str();
  cons->add_option("--ks", c.metric.ks, "recall depths K")->delimiter(',')->capture_default_str();
  cons->add_option("--top", c.metric.top, "size of the ideal (the ranker's top over the catalogue)")
      ->capture_default_str();
  cons->add_option("--wide", c.metric.wide, "the wider top whose recalled share is reported")->capture_default_str();
  cons->add_option("--time", c.time, "scoring time, Unix seconds (default: the graph's newest time + 1)");
  cons->add_option("--seed", c.seed, "account and catalogue sampling seed")->capture_default_str();
  cons->add_option("--workers", c.metric.threads, "threads, 0 = all cores")->capture_default_str();
  cons->callback([c_args] { RunConsistency(*c_args); });
}


}  // namespace gr::apps
