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
#include "apps/on_ranks.h"
#include "dist/mpi_session.h"
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
  const RanksInput input = ReadInputOnRanks(args.walk, walk_config, comm);
  embed::EmbeddingTable previous;  // --init, read on rank 0
  if (!args.init.empty())
    dist::OnEveryRankIfAnyFails(comm, "reading " + args.init, [&] {
      if (dist::Rank(comm) == 0) previous = embed::LoadAnyEmbeddings(args.init);
    });
  embed::SkipGramStats stats;
  embed::EmbeddingTable table = TrainOnRanks(input, input.follows, walk_config, args.train, args.distributed,
                                             args.init.empty() ? nullptr : &previous, comm, &stats);
  if (dist::Rank(comm) != 0) return;
  SaveTable(args, walk_config, table, dist::Size(comm));
  PrintSummary(args, table.rows(), stats,
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
