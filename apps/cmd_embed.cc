#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "apps/walk_flags.h"
#include "core/error.h"
#include "embed/embedding_io.h"
#include "embed/skip_gram.h"
#include "embed/warm_start.h"
#ifdef GR_WITH_MPI
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_graph.h"
#include "dist/partitioned_ingest.h"
#include "dist/root_training.h"
#include "dist/skip_gram.h"
#include "dist/walks.h"
#include "dist/warm_start.h"
#include "apps/distributed_training.h"
#include "graph/snapshot.h"
#endif

namespace gr::apps {
namespace {

struct EmbedArgs {
  WalkFlags walk;
  std::string output;
  std::string format = "text";
  std::string init;  // previous vectors to warm-start from
  embed::SkipGramConfig train;
  DistributedTrainingFlags distributed;  // under mpirun
};

// Directed walks stop at accounts that follow nobody; on many graphs most of
// the corpus is then missing and the vectors are poor without saying so.
void WarnIfWalksEndedEarly(const graph::SocialGraph& g, const walk::WalkConfig& config,
                           const embed::SkipGramStats& stats) {
  if (config.kind == walk::WalkKind::kMetapath || config.direction == walk::Direction::kBoth) return;
  const double walks = static_cast<double>(g.num_accounts()) * config.walks_per_vertex;
  const double tokens = static_cast<double>(stats.corpus_tokens);
  if (walks == 0 || tokens >= 0.5 * walks * config.walk_length) return;
  spdlog::warn("directed walks ended early: {:.1f} of {} steps per walk on average; accounts that follow nobody "
               "end them. Consider --undirected (or --direction both) for this graph",
               tokens / walks, config.walk_length);
}

// Writes the vectors in the chosen format (native keeps the settings).
void SaveTable(const EmbedArgs& args, const walk::WalkConfig& walk_config, const embed::EmbeddingTable& table,
               int ranks = 1) {
  if (args.format == "text") {
    embed::SaveWord2VecText(table, args.output);
  } else if (args.format == "binary") {
    embed::SaveWord2VecBinary(table, args.output);
  } else {
    embed::SkipGramConfig trained_with = args.train;
    trained_with.seed = walk_config.seed;  // EmbedWalks trains with the walk seed
    nlohmann::json meta = {{"walk", nlohmann::json::parse(walk_config.ToJson())},
                           {"train", nlohmann::json::parse(trained_with.ToJson())},
                           {"input", args.walk.input}};
    if (ranks > 1) meta["mpi_ranks"] = ranks;
    embed::SaveEmbeddings(table, args.output, meta.dump());
  }
}

// Prints the result line (or JSON object) of a run.
void PrintSummary(const EmbedArgs& args, size_t rows, const embed::SkipGramStats& stats, double seconds) {
  if (JsonOutput()) {
    PrintJson({{"vectors", rows}, {"dim", args.train.dim}, {"output", args.output}, {"format", args.format},
               {"corpus_tokens_per_epoch", stats.corpus_tokens}, {"trained_tokens", stats.trained_tokens},
               {"training_seconds", stats.seconds}, {"tokens_per_second", stats.tokens_per_second},
               {"seconds", seconds}});
    return;
  }
  std::printf("vectors: %zu x %u -> %s (%s)\ncorpus tokens per epoch: %llu; trained centre tokens: %llu\n"
              "training: %.1f s, %.0f tokens/s; total %.1f s\n",
              rows, args.train.dim, args.output.c_str(), args.format.c_str(),
              static_cast<unsigned long long>(stats.corpus_tokens),
              static_cast<unsigned long long>(stats.trained_tokens), stats.seconds, stats.tokens_per_second,
              seconds);
}

#ifdef GR_WITH_MPI
// Under mpirun with more than one rank: the follows partitioned by account,
// walks and training over MPI (dist/), rank 0 writes the vectors.
void RunEmbedOnRanks(EmbedArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const MPI_Comm comm = MPI_COMM_WORLD;
  const walk::WalkConfig walk_config = ResolveWalkConfig(args.walk);
  dist::CheckWalksAreDistributed(walk_config);
  GR_CHECK(args.walk.ids == "integer", "under mpirun, ids are integers; --ids string runs without mpirun");
  const bool metapath = walk_config.kind == walk::WalkKind::kMetapath;
  // A snapshot is read by rank 0 and scattered, as the batch does; an input
  // directory's files and a text edge list are read by every rank, a byte
  // range each.
  uint8_t shape[3] = {0, 0, 0};  // snapshot, undirected, input directory
  graph::SocialGraph whole;      // rank 0, a snapshot
  dist::OnEveryRankIfAnyFails(comm, "reading " + args.walk.input, [&] {
    if (dist::Rank(comm) != 0) return;
    shape[2] = std::filesystem::is_directory(args.walk.input) ? 1 : 0;
    if (shape[2] != 0) graph::InputFilesIn(args.walk.input);  // one error on every rank for a directory without follows
    shape[0] = shape[2] == 0 && IsSnapshotFile(args.walk.input) ? 1 : 0;
    if (shape[0] == 0) return;
    whole = graph::LoadSnapshot(args.walk.input);
    shape[1] = whole.undirected ? 1 : 0;
  });
  dist::BroadcastFromRoot(std::span(shape), comm);
  const bool snapshot = shape[0] != 0, directory = shape[2] != 0;
  const bool undirected = snapshot ? shape[1] != 0 : !directory && !args.walk.directed;
  GR_CHECK(!metapath || snapshot || directory,
           "under mpirun, metapath walks need the interactions and posts: an input directory or a snapshot "
           "(graphrec ingest), not the edge list ", args.walk.input);
  // A weighted walk reads the edge list's third field as the weight, as
  // graph::LoadEdgeList does without mpirun.
  const bool weighted = walk_config.StepsByWeight();
  dist::PartitionedFollows part;
  dist::PartitionedPosts posts;
  if (directory) {
    dist::PartitionedInput input =
        dist::IngestPartitioned(graph::InputFilesIn(args.walk.input), {.threads = walk_config.threads}, metapath,
                                weighted, comm);
    part = std::move(input.follows);
    posts = std::move(input.posts);
    if (dist::Rank(comm) == 0) {
      std::string lines;
      for (const graph::FileReport& f : input.report.files) lines += fmt::format(", {} lines of {}", f.lines, f.path);
      spdlog::info("read {} on {} ranks in {:.1f} s{}", args.walk.input, dist::Size(comm), input.report.seconds, lines);
    }
  } else {
    part = snapshot ? dist::ScatterFollowsFromRoot(dist::Rank(comm) == 0 ? &whole : nullptr, comm)
                    : dist::LoadPartitionedFollows(args.walk.input, comm,
                                                   weighted ? dist::ThirdField::kWeight : dist::ThirdField::kIgnored,
                                                   walk_config.threads);
    if (metapath) posts = dist::ScatterPostsFromRoot(dist::Rank(comm) == 0 ? &whole : nullptr, part, weighted, comm);
  }
  whole = {};  // rank 0 keeps its part only
  dist::DistributedWalkConfig walks_config;
  walks_config.walks_per_vertex = walk_config.walks_per_vertex;
  walks_config.walk_length = walk_config.walk_length;
  // An undirected edge list's neighbours are an account's followees and
  // followers together; an undirected snapshot's follows already hold both
  // ends, as its single-process walks read them.
  walks_config.both_directions =
      snapshot || directory ? !undirected && walk_config.direction == walk::Direction::kBoth
                            : undirected || walk_config.direction == walk::Direction::kBoth;
  walks_config.seed = walk_config.seed;
  walks_config.p = walk_config.p;
  walks_config.q = walk_config.q;
  walks_config.weighted = weighted;
  walks_config.threads = walk_config.threads;
  if (metapath) walks_config.metapath = walk::ParseMetapath(walk_config.metapath);
  spdlog::info("{} ranks: {} accounts, {} posts here ({:.1f} MB of lists); walking {} x {} from each start",
               dist::Size(comm), part.accounts.size(), posts.posts.size(),
               static_cast<double>(part.MemoryBytes() + posts.MemoryBytes()) / 1e6, walks_config.walks_per_vertex,
               walks_config.walk_length);
  const dist::DistributedWalks walks =
      dist::DistributedRandomWalks(part, walks_config, comm, metapath ? &posts : nullptr);
  std::unique_ptr<embed::WarmStart> warm;
  if (!args.init.empty()) {
    embed::EmbeddingTable previous;  // read on rank 0, sent to the others
    dist::OnEveryRankIfAnyFails(comm, "reading " + args.init, [&] {
      if (dist::Rank(comm) == 0) previous = embed::LoadAnyEmbeddings(args.init);
    });
    warm = std::make_unique<embed::WarmStart>(
        dist::DistributedWarmStart(dist::Rank(comm) == 0 ? &previous : nullptr, part, comm));
    spdlog::info("warm start from {}: {} accounts copied, {} new accounts from their neighbours, {} random", args.init,
                 warm->copied, warm->averaged, walks.vocabulary - warm->copied - warm->averaged);
  }
  embed::SkipGramConfig train = args.train;
  train.seed = walk_config.seed;  // as EmbedWalks
  train.threads = walk_config.threads;
  dist::DistributedTrainingStats stats;
  const dist::DistributedTrainingConfig sync = DistributedTrainingFromFlags(args.distributed);
  embed::SkipGramResult vectors = dist::DistributedSkipGram(walks, train, sync, comm, &stats, warm.get());
  spdlog::info("trained {} tokens here in {:.1f} s ({:.1f} s exchanging; {} model)", stats.local_tokens,
               stats.training.seconds, stats.sync_seconds, dist::ModelLayoutName(sync.layout));
  std::vector<ExternalId> accounts = dist::GatherAccountsOnRoot(part.accounts, comm);
  const std::vector<ExternalId> post_ids = dist::GatherAccountsOnRoot(posts.posts, comm);  // after the accounts
  uint64_t trained_tokens = stats.training.trained_tokens;  // this rank's; the summary reports all ranks'
  dist::AllReduceSum(std::span(&trained_tokens, 1), comm);
  stats.training.trained_tokens = trained_tokens;
  if (dist::Rank(comm) != 0) return;
  embed::EmbeddingTable table;
  table.ids = std::move(accounts);
  table.kinds.assign(table.ids.size(), embed::TokenKind::kAccount);
  table.ids.insert(table.ids.end(), post_ids.begin(), post_ids.end());
  table.kinds.resize(table.ids.size(), embed::TokenKind::kPost);
  table.input = std::move(vectors.input);
  table.output = std::move(vectors.output);
  SaveTable(args, walk_config, table, dist::Size(comm));
  stats.training.tokens_per_second = static_cast<double>(stats.training.corpus_tokens) * train.epochs /
                                     std::max(stats.training.seconds, 1e-9);
  PrintSummary(args, table.rows(), stats.training,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}
#endif

void RunEmbed(EmbedArgs& args) {
  GR_CHECK(args.init.empty() || ResolveWalkConfig(args.walk).kind != walk::WalkKind::kMetapath,
           "--init warm-starts account walks only; metapath vectors (accounts and posts) start fresh");
#ifdef GR_WITH_MPI
  if (dist::WorldSizeIfStarted() > 1) return RunEmbedOnRanks(args);
#endif
  const auto start = std::chrono::steady_clock::now();
  const walk::WalkConfig walk_config = ResolveWalkConfig(args.walk);
  std::vector<std::string> names;  // by external id, with --ids string
  const graph::SocialGraph g = LoadGraphInput(args.walk.input, args.walk.directed, InputOptions(args.walk), &names);
  GR_CHECK(names.empty() || args.init.empty(), "--init warm-starts integer ids only; drop --init or --ids string");
  GR_CHECK(names.empty() || args.format != "native", "--format native keeps integer ids; with --ids string write ",
           "--format text or binary");
  std::unique_ptr<embed::WarmStart> warm;
  if (!args.init.empty()) {
    const embed::EmbeddingTable previous = embed::LoadAnyEmbeddings(args.init);
    warm = std::make_unique<embed::WarmStart>(embed::MakeWarmStart(previous, g));
    spdlog::info("warm start from {}: {} accounts copied, {} new accounts from their neighbours, {} random",
                 args.init, warm->copied, warm->averaged, g.num_accounts() - warm->copied - warm->averaged);
  }
  spdlog::info("training {}-dimensional vectors: {} walks of length {} per start vertex, {} epochs", args.train.dim,
               walk_config.walks_per_vertex, walk_config.walk_length, args.train.epochs);
  embed::SkipGramStats stats;
  ReportTrainingProgress(args.train);
  embed::EmbeddingTable table = embed::EmbedWalks(g, walk_config, args.train, &stats, warm.get());
  if (!names.empty()) {  // keyed by the input's strings
    table.names.reserve(table.rows());
    for (const ExternalId id : table.ids) table.names.push_back(names[id]);
  }
  WarnIfWalksEndedEarly(g, walk_config, stats);
  SaveTable(args, walk_config, table);
  PrintSummary(args, table.rows(), stats,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

void AddEmbedCommand(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand("embed", "Edge list or snapshot -> walks -> skip-gram vectors, in one step");
  AddWalkFlags(cmd, args->walk);
  cmd->add_option("--output", args->output, "vectors file")->required();
  cmd->add_option("--format", args->format,
                  "text (word2vec text, default), binary (word2vec binary) or native (graphrec .emb, "
                  "with output vectors and settings)")
      ->check(CLI::IsMember({"text", "binary", "native"}))->capture_default_str();
  cmd->add_option("--init", args->init,
                  "warm start: previous vectors (.emb or word2vec text); known accounts start from "
                  "them, new ones from the mean of their known neighbours")
      ->check(CLI::ExistingFile);
  AddTrainingFlags(cmd, args->train);
  AddDistributedTrainingFlags(cmd, args->distributed);
  cmd->callback([args] { RunEmbed(*args); });
}

}  // namespace gr::apps
