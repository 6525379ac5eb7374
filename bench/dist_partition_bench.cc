// The partitioned follow graph's cost per rank (issue 20):
//   mpirun -np N dist_partition_bench FOLLOWS.tsv [WALKS_PER_VERTEX WALK_LENGTH [P Q]]
//          [--train DIM] [--threads T] [--tokens-per-row X] [--average] [--layout replicated|partitioned]
//          [--passes P] [--seed S] [--score EDGES NON_EDGES] [--weighted] [--from-root]
//          [--world] [--metapath R,R,...] [--holdout F]
// Prints one JSON line per rank: accounts and follow edges held, graph bytes
// (dist::PartitionedFollows::MemoryBytes), bytes sent in the edge exchange,
// lines read and seconds; then the time to give every account its global
// dense id (dist/dense_ids.h); then, given a walk count and length, uniform
// walks in both directions (dist/walks.h), node2vec with P and Q: steps
// taken on the rank, walkers sent away (of them, node2vec adjacency tests
// sent to prev's owner), bytes sent (walkers and the tokens going to their
// assembler), supersteps and seconds (T threads a rank stepping uniform
// and metapath walkers). With --train, skip-gram of DIM
// dimensions on those walks (dist/skip_gram.h; T threads a rank, default
// all cores; synchronising every X x vocabulary tokens, default 0.1;
// --average: averaging the changes instead of summing them; --layout
// partitioned: the model partitioned by account, P passes an epoch): tokens,
// synchronisations, rows synchronised, bytes all-reduced (per token of the
// rank too), seconds training and of them synchronising; --score: the dot
// product AUC of the trained input vectors on the two pair files (external
// ids; pairs with an unknown account skipped), e.g. ca-grqc's GraphGAN split.
// --weighted: the third field is an edge weight and the walks are weighted
// (first order, or node2vec with P and Q).
// --from-root: rank 0 loads the whole graph (graph::LoadEdgeList, as the
// batch holds it) and scatters it (dist::ScatterFollowsFromRoot) instead of
// each rank reading its part; rank 0's line adds its resident memory before
// the scatter and its peak during it (VmHWM, reset through clear_refs), kB.
// --world: the first argument is a generated world's directory (follows,
// interactions, posts), which every rank reads a byte range of
// (dist::IngestPartitioned: "seconds" is the ingest's, "bytes_sent" every
// record sent); with --from-root rank 0 ingests it and scatters the follows
// and the post relations (dist::ScatterPostsFromRoot). The line adds the
// posts held, their lists' bytes, the bytes rank 0 sent of them and the
// rank's peak resident memory until the graph was loaded (VmHWM, kB).
// --metapath:
// the walks are metapath walks along these relations (with --world for
// the posts' relations).
// --holdout F: after the load, the newest F of the follows are held out
// (dist::SplitPartitioned, the batch's hold-out) and the walks run on the
// rest; the line adds its seconds, bytes sent, the follows held out here and
// the rank's peak resident memory (kB, VmHWM reset before it), and the
// seconds to draw the link evaluation's pairs (dist::SampleLinkPairs, 50,000
// a list, as the batch's). With one
// rank and --world, rank 0 also times graph::SplitEdgesForLinkPrediction
// on graph::Ingest's whole graph: the single-process peer in the same run.
// --fold-in (with --holdout): then the batch's fold-in of the held-out
// follows (dist::FoldInOnRoot: 20 walks of 6 from each account at either
// end, over the full graph, into a random 64-dimensional table on rank 0):
// seconds, rows, rank 0's refresh seconds and bytes sent; with one rank and
// --world the single-process embed::RefreshRows on the whole graph too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <nlohmann/json.hpp>

#include <vector>

#include "core/rng.h"
#include "dist/dense_ids.h"
#include "dist/fold_in.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_graph.h"
#include "dist/partitioned_holdout.h"
#include "dist/partitioned_ingest.h"
#include "dist/partitioned_link_eval.h"
#include "dist/skip_gram.h"
#include "dist/walks.h"
#include "embed/evaluation.h"
#include "embed/row_refresh.h"
#include "graph/ingest.h"
#include "synth/world.h"
#include "walk/random_walk.h"
#include "walk/walk_config.h"

namespace {

double DotAuc(const std::string& edges, const std::string& non_edges, const std::vector<uint64_t>& accounts,
              const gr::FloatMatrix& input) {
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  const auto row = [&](uint64_t id) -> int64_t {
    const auto it = std::lower_bound(accounts.begin(), accounts.end(), id);
    return it != accounts.end() && *it == id ? it - accounts.begin() : -1;
  };
  for (const auto& [file, label] : {std::pair{edges, 1}, std::pair{non_edges, 0}}) {
    std::ifstream in(file);
    uint64_t u = 0, v = 0;
    while (in >> u >> v) {
      const int64_t a = row(u), b = row(v);
      if (a < 0 || b < 0) continue;
      scores.push_back(gr::Dot(input.Row(static_cast<size_t>(a)).data(), input.Row(static_cast<size_t>(b)).data(),
                               input.cols()));
      labels.push_back(static_cast<uint8_t>(label));
    }
  }
  return gr::embed::RocAuc(scores, labels);
}

// A /proc/self/status field in kB (VmRSS, VmHWM), 0 if absent.
long StatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return 0;
}

// A table of small random values (the fold-in's cost does not depend on them).
gr::FloatMatrix RandomRows(size_t rows, size_t cols, uint64_t seed) {
  gr::FloatMatrix m(rows, cols);
  gr::Rng rng(seed);
  for (size_t r = 0; r < rows; ++r)
    for (float& x : m.Row(r)) x = static_cast<float>(rng.UniformDouble() - 0.5) * 0.1f;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  gr::dist::MpiSession mpi(&argc, &argv);
  std::vector<std::string> positional;
  uint32_t train_dim = 0;
  uint64_t seed = 1;  // walks and training
  bool weighted = false, from_root = false, world = false, fold_in = false;
  std::string score_edges, score_non_edges, metapath;
  double holdout = 0;
  gr::embed::SkipGramConfig training;
  gr::dist::DistributedTrainingConfig sync;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--train" && has_value) {
      train_dim = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (arg == "--threads" && has_value) {
      training.threads = std::stoi(argv[++i]);
    } else if (arg == "--tokens-per-row" && has_value) {
      sync.tokens_per_row_between_syncs = std::stod(argv[++i]);
    } else if (arg == "--score" && i + 2 < argc) {
      score_edges = argv[++i];
      score_non_edges = argv[++i];
    } else if (arg == "--seed" && has_value) {
      seed = std::stoull(argv[++i]);
    } else if (arg == "--layout" && has_value) {
      sync.layout = gr::dist::ParseModelLayout(argv[++i]);
    } else if (arg == "--passes" && has_value) {
      sync.passes_per_epoch = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (arg == "--weighted") {
      weighted = true;
    } else if (arg == "--from-root") {
      from_root = true;
    } else if (arg == "--world") {
      world = true;
    } else if (arg == "--metapath" && has_value) {
      metapath = argv[++i];
    } else if (arg == "--holdout" && has_value) {
      holdout = std::stod(argv[++i]);
    } else if (arg == "--fold-in") {
      fold_in = true;
    } else if (arg == "--average") {
      sync.rule = gr::dist::SyncRule::kAverageChanges;
    } else {
      positional.push_back(arg);
    }
  }
  const size_t n = positional.size();
  if ((n != 1 && n != 3 && n != 5) || (train_dim > 0 && n < 3)) {
    if (mpi.rank() == 0)
      std::fprintf(stderr,
                   "usage: mpirun -np N dist_partition_bench FOLLOWS.tsv [WALKS_PER_VERTEX WALK_LENGTH [P Q]] "
                   "[--train DIM] [--threads T] [--tokens-per-row X] [--average] [--layout replicated|partitioned] [--passes P] "
                   "[--seed S] [--score EDGES NON_EDGES] [--weighted] [--from-root] [--world] [--metapath R,R,...] "
                   "[--holdout F [--fold-in]]\n");
    return 2;
  }
  argc = static_cast<int>(n) + 1;
  for (size_t i = 0; i < n; ++i) argv[i + 1] = positional[i].data();
  long root_rss_before_kb = 0, root_peak_during_scatter_kb = 0;
  std::optional<gr::graph::SocialGraph> whole;
  if (world && from_root && mpi.rank() == 0) {
    const std::string dir = argv[1];
    whole = gr::graph::Ingest({.follows = dir + "/" + gr::synth::kFollowsFile,
                               .interactions = dir + "/" + gr::synth::kInteractionsFile,
                               .posts = dir + "/" + gr::synth::kPostsFile},
                              gr::graph::IngestConfig{});
  } else if (from_root && mpi.rank() == 0) {
    // The third field, when present, is a weight, as LoadEdgeList reads it.
    whole = gr::graph::LoadEdgeList(argv[1], /*directed=*/true, gr::graph::IngestConfig{});
  }
  MPI_Barrier(mpi.comm());
  long load_peak_kb = StatusKb("VmHWM");  // with --from-root, rank 0's ingest
  if (from_root && mpi.rank() == 0) {
    std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
    root_rss_before_kb = StatusKb("VmRSS");
  }
  const auto start = std::chrono::steady_clock::now();
  gr::dist::PartitionedFollows part;
  gr::dist::PartitionedPosts posts;
  if (world && !from_root) {
    gr::dist::PartitionedInput input = gr::dist::IngestPartitioned(
        gr::graph::InputFilesIn(argv[1]), {.threads = training.threads}, {.with_posts = true, .post_weights = weighted},
        mpi.comm());
    part = std::move(input.follows);
    posts = std::move(input.posts);
  } else {
    part = from_root ? gr::dist::ScatterFollowsFromRoot(whole ? &*whole : nullptr, mpi.comm())
                     : gr::dist::LoadPartitionedFollows(argv[1], mpi.comm(),
                                                        weighted ? gr::dist::ThirdField::kWeight
                                                                 : gr::dist::ThirdField::kIgnored,
                                                        training.threads);
    if (from_root && mpi.rank() == 0) root_peak_during_scatter_kb = StatusKb("VmHWM");
    if (world) posts = gr::dist::ScatterPostsFromRoot(whole ? &*whole : nullptr, part, weighted, mpi.comm());
  }
  load_peak_kb = std::max(load_peak_kb, StatusKb("VmHWM"));
  whole.reset();
  MPI_Barrier(mpi.comm());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto numbering = std::chrono::steady_clock::now();
  uint64_t total = 0;
  const std::vector<gr::VertexId> dense = gr::dist::GlobalDenseIds(part.accounts, mpi.comm(), &total);
  MPI_Barrier(mpi.comm());
  const double dense_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - numbering).count();
  nlohmann::json holdout_json;
  if (holdout > 0) {
    const gr::graph::EdgeSplitConfig split_config{
        .test_fraction = holdout, .order = gr::graph::HoldOutOrder::kNewest, .seed = seed};
    std::optional<gr::dist::PartitionedFollows> full;
    if (fold_in) full = part;  // the fold-in walks the full graph
    std::ofstream("/proc/self/clear_refs") << "5";
    const auto split_start = std::chrono::steady_clock::now();
    gr::dist::PartitionedSplit split = gr::dist::SplitPartitioned(std::move(part), split_config, mpi.comm());
    MPI_Barrier(mpi.comm());
    holdout_json = {{"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - split_start).count()},
                    {"bytes_sent", split.bytes_sent},
                    {"held_out_here", split.test_edges.size()},
                    {"held_out", split.requested},
                    {"forest_edges", split.forest_edges},
                    {"peak_rss_kb", StatusKb("VmHWM")}};
    const auto pairs_start = std::chrono::steady_clock::now();
    const gr::dist::LinkPairs pairs = gr::dist::SampleLinkPairs(split, 50000, seed, mpi.comm());
    MPI_Barrier(mpi.comm());
    holdout_json["link_pairs_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pairs_start).count();
    // The batch's fold-in settings (pipeline::BatchConfig::fold_in; window 5).
    const gr::walk::WalkConfig fold_in_walk{.walk_length = 6, .seed = seed, .threads = training.threads};
    const gr::embed::RowRefreshConfig refresh{.walks_per_row = 20, .seed = seed, .threads = training.threads};
    if (fold_in) {
      gr::FloatMatrix input, output;
      if (mpi.rank() == 0) {
        input = RandomRows(total, 64, 1);
        output = RandomRows(total, 64, 2);
      }
      const auto fold_start = std::chrono::steady_clock::now();
      const gr::dist::FoldInOnRanks folded =
          gr::dist::FoldInOnRoot(*full, split.test_edges, fold_in_walk, refresh, mpi.rank() == 0 ? &input : nullptr,
                                 mpi.rank() == 0 ? &output : nullptr, mpi.comm());
      MPI_Barrier(mpi.comm());
      holdout_json["fold_in"] = {
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - fold_start).count()},
          {"rows", folded.rows.size()},
          {"refresh_seconds", folded.stats.seconds},
          {"bytes_sent", folded.bytes_sent}};
      full.reset();
    }
    part = std::move(split.train);
    if (world && mpi.size() == 1) {
      const gr::graph::SocialGraph g = gr::graph::Ingest(gr::graph::InputFilesIn(argv[1]), {});
      std::ofstream("/proc/self/clear_refs") << "5";
      const long rss_kb = StatusKb("VmRSS");
      const auto single_start = std::chrono::steady_clock::now();
      const gr::graph::EdgeSplit single = gr::graph::SplitEdgesForLinkPrediction(g, split_config);
      holdout_json["single_process"] = {
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - single_start).count()},
          {"held_out", single.test_edges.size()},
          {"peak_above_graph_kb", StatusKb("VmHWM") - rss_kb}};
      if (fold_in) {
        gr::FloatMatrix input = RandomRows(g.num_accounts(), 64, 1);
        const gr::FloatMatrix output = RandomRows(g.num_accounts(), 64, 2);
        const auto fold_start = std::chrono::steady_clock::now();
        const gr::embed::RowRefreshStats stats = gr::embed::RefreshRows(
            gr::walk::RandomWalker(g, fold_in_walk), gr::embed::EndpointsOf(single.test_edges),
            gr::embed::DegreeNegativeWeights(g, fold_in_walk.direction), refresh, input, output, single.test_edges);
        holdout_json["single_process"]["fold_in"] = {
            {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - fold_start).count()},
            {"rows", stats.rows},
            {"refresh_seconds", stats.seconds}};
      }
    }
  }
  nlohmann::json walks_json;
  if (argc >= 4) {
    gr::dist::DistributedWalkConfig config;
    config.walks_per_vertex = static_cast<uint32_t>(std::stoul(argv[2]));
    config.walk_length = static_cast<uint32_t>(std::stoul(argv[3]));
    config.seed = seed;
    config.weighted = weighted;
    config.threads = training.threads;
    if (!metapath.empty()) config.metapath = gr::walk::ParseMetapath(metapath);
    if (argc == 6) {
      config.p = std::stod(argv[4]);
      config.q = std::stod(argv[5]);
    }
    MPI_Barrier(mpi.comm());
    const auto walking = std::chrono::steady_clock::now();
    const gr::dist::DistributedWalks walks = gr::dist::DistributedRandomWalks(part, config, mpi.comm(), world ? &posts : nullptr);
    MPI_Barrier(mpi.comm());
    walks_json = {{"steps", walks.steps},
                  {"walks_assembled", walks.keys.size()},
                  {"walker_moves_sent", walks.walker_moves_sent},
                  {"adjacency_tests_sent", walks.adjacency_tests_sent},
                  {"rejected_proposals", walks.rejected_proposals},
                  {"tests_a_filter_would_settle", walks.tests_a_filter_would_settle},
                  {"bytes_sent", walks.bytes_sent},
                  {"table_bytes", walks.table_bytes},
                  {"supersteps", walks.supersteps},
                  {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - walking).count()}};
    if (train_dim > 0) {
      training.dim = train_dim;
      training.seed = seed;
      gr::dist::DistributedTrainingStats stats;
      MPI_Barrier(mpi.comm());
      const auto train_start = std::chrono::steady_clock::now();
      const gr::embed::SkipGramResult vectors = gr::dist::DistributedSkipGram(walks, training, sync, mpi.comm(), &stats);
      MPI_Barrier(mpi.comm());
      const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
      const std::vector<uint64_t> accounts = gr::dist::GatherAccountsOnRoot(part.accounts, mpi.comm());
      walks_json["training"] = {
          {"corpus_tokens", stats.training.corpus_tokens},
          {"local_tokens", stats.local_tokens},
          {"syncs", stats.syncs},
          {"rows_synced", stats.rows_synced},
          {"reduced_bytes", stats.reduced_bytes},
          {"reduced_bytes_per_token", static_cast<double>(stats.reduced_bytes) /
                                          static_cast<double>(std::max<uint64_t>(stats.local_tokens, 1))},
          {"sync_seconds", stats.sync_seconds},
          {"layout", gr::dist::ModelLayoutName(sync.layout)},
          {"record_bytes_sent", stats.record_bytes_sent},
          {"ring_bytes_sent", stats.ring_bytes_sent},
          {"gather_bytes_sent", stats.gather_bytes_sent},
          {"sent_bytes_per_token", static_cast<double>(stats.record_bytes_sent + stats.ring_bytes_sent) /
                                       static_cast<double>(std::max<uint64_t>(stats.local_tokens, 1))},
          {"rounds", stats.rounds},
          {"model_bytes_held", stats.model_bytes_held},
          {"record_bytes_held", stats.record_bytes_held},
          {"seconds", train_seconds}};
      if (!score_edges.empty() && mpi.rank() == 0)
        walks_json["training"]["dot_auc"] = DotAuc(score_edges, score_non_edges, accounts, vectors.input);
    }
  }
  const std::string line = nlohmann::json{{"rank", mpi.rank()},
                                          {"ranks", mpi.size()},
                                          {"accounts", part.accounts.size()},
                                          {"following_edges", part.followees.size()},
                                          {"graph_bytes", part.MemoryBytes()},
                                          {"bytes_sent", part.bytes_sent},
                                          {"lines_read", part.lines_read},
                                          {"posts", posts.posts.size()},
                                          {"post_graph_bytes", posts.MemoryBytes()},
                                          {"post_bytes_sent", posts.bytes_sent},
                                          {"seconds", seconds},
                                          {"accounts_in_all", total},
                                          {"dense_id_seconds", dense_seconds},
                                          {"root_rss_before_scatter_kb", root_rss_before_kb},
                                          {"root_peak_during_scatter_kb", root_peak_during_scatter_kb},
                                          {"load_peak_rss_kb", load_peak_kb},
                                          {"holdout", holdout_json},
                                          {"walks", walks_json}}
                               .dump();
  std::printf("%s\n", line.c_str());
  return 0;
}
