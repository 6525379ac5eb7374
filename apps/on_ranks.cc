#include "apps/on_ranks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "apps/distributed_training.h"
#include "apps/graph_input.h"
#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_ingest.h"
#include "dist/root_training.h"
#include "dist/skip_gram.h"
#include "dist/walks.h"
#include "dist/warm_start.h"
#include "embed/warm_start.h"
#include "graph/snapshot.h"

namespace gr::apps {

RanksInput ReadInputOnRanks(const WalkFlags& flags, const walk::WalkConfig& walk_config, MPI_Comm comm) {
  dist::CheckWalksAreDistributed(walk_config);
  GR_CHECK(flags.ids == "integer", "under mpirun, ids are integers; --ids string runs without mpirun");
  const bool metapath = walk_config.kind == walk::WalkKind::kMetapath;
  uint8_t shape[3] = {0, 0, 0};  // snapshot, undirected, input directory
  graph::SocialGraph whole;      // rank 0, a snapshot
  dist::OnEveryRankIfAnyFails(comm, "reading " + flags.input, [&] {
    if (dist::Rank(comm) != 0) return;
    shape[2] = std::filesystem::is_directory(flags.input) ? 1 : 0;
    if (shape[2] != 0) graph::InputFilesIn(flags.input);  // one error on every rank for a directory without follows
    shape[0] = shape[2] == 0 && IsSnapshotFile(flags.input) ? 1 : 0;
    if (shape[0] == 0) return;
    whole = graph::LoadSnapshot(flags.input);
    shape[1] = whole.undirected ? 1 : 0;
  });
  dist::BroadcastFromRoot(std::span(shape), comm);
  RanksInput input;
  input.snapshot = shape[0] != 0;
  input.directory = shape[2] != 0;
  input.undirected = input.snapshot ? shape[1] != 0 : !input.directory && !flags.directed;
  GR_CHECK(!metapath || input.snapshot || input.directory,
           "under mpirun, metapath walks need the interactions and posts: an input directory or a snapshot "
           "(graphrec ingest), not the edge list ", flags.input);
  // A weighted walk reads the edge list's third field as the weight, as
  // graph::LoadEdgeList does without mpirun.
  const bool weighted = walk_config.StepsByWeight();
  if (input.directory) {
    dist::PartitionedInput read =
        dist::IngestPartitioned(graph::InputFilesIn(flags.input), {.threads = walk_config.threads},
                                {.with_posts = metapath, .post_weights = weighted}, comm);
    input.follows = std::move(read.follows);
    input.posts = std::move(read.posts);
    if (dist::Rank(comm) == 0) {
      std::string lines;
      for (const graph::FileReport& f : read.report.files) lines += fmt::format(", {} lines of {}", f.lines, f.path);
      spdlog::info("read {} on {} ranks in {:.1f} s{}", flags.input, dist::Size(comm), read.report.seconds, lines);
    }
  } else {
    input.follows = input.snapshot
                        ? dist::ScatterFollowsFromRoot(dist::Rank(comm) == 0 ? &whole : nullptr, comm)
                        : dist::LoadPartitionedFollows(flags.input, comm,
                                                       weighted ? dist::ThirdField::kWeight : dist::ThirdField::kIgnored,
                                                       walk_config.threads);
    if (metapath)
      input.posts = dist::ScatterPostsFromRoot(dist::Rank(comm) == 0 ? &whole : nullptr, input.follows, weighted, comm);
  }
  return input;
}

embed::EmbeddingTable TrainOnRanks(const RanksInput& input, const dist::PartitionedFollows& follows,
                                   const walk::WalkConfig& walk_config, embed::SkipGramConfig train,
                                   const DistributedTrainingFlags& flags, const embed::EmbeddingTable* previous,
                                   MPI_Comm comm, embed::SkipGramStats* stats, uint64_t* warm_started) {
  const bool metapath = walk_config.kind == walk::WalkKind::kMetapath;
  const dist::PartitionedPosts& posts = input.posts;
  dist::DistributedWalkConfig walks_config;
  walks_config.walks_per_vertex = walk_config.walks_per_vertex;
  walks_config.walk_length = walk_config.walk_length;
  // An undirected edge list's neighbours are an account's followees and
  // followers together; an undirected snapshot's follows already hold both
  // ends, as its single-process walks read them.
  walks_config.both_directions =
      input.snapshot || input.directory ? !input.undirected && walk_config.direction == walk::Direction::kBoth
                                        : input.undirected || walk_config.direction == walk::Direction::kBoth;
  walks_config.seed = walk_config.seed;
  walks_config.p = walk_config.p;
  walks_config.q = walk_config.q;
  walks_config.weighted = walk_config.StepsByWeight();
  walks_config.threads = walk_config.threads;
  if (metapath) walks_config.metapath = walk::ParseMetapath(walk_config.metapath);
  spdlog::info("{} ranks: {} accounts, {} posts here ({:.1f} MB of lists); walking {} x {} from each start",
               dist::Size(comm), follows.accounts.size(), posts.posts.size(),
               static_cast<double>(follows.MemoryBytes() + posts.MemoryBytes()) / 1e6, walks_config.walks_per_vertex,
               walks_config.walk_length);
  const dist::DistributedWalks walks =
      dist::DistributedRandomWalks(follows, walks_config, comm, metapath ? &posts : nullptr);
  std::unique_ptr<embed::WarmStart> warm;
  uint64_t warm_start = dist::Rank(comm) == 0 && previous != nullptr ? 1 : 0;
  dist::BroadcastFromRoot(std::span(&warm_start, 1), comm);
  if (warm_start != 0) {
    warm = std::make_unique<embed::WarmStart>(
        dist::DistributedWarmStart(dist::Rank(comm) == 0 ? previous : nullptr, follows, comm,
                                   metapath ? &posts : nullptr));
    spdlog::info("warm start: {} accounts copied, {} new accounts from their neighbours, {} random", warm->copied,
                 warm->averaged, walks.vocabulary - warm->copied - warm->averaged);
    if (warm_started != nullptr) *warm_started = warm->copied;
  }
  train.seed = walk_config.seed;  // as EmbedWalks
  train.threads = walk_config.threads;
  dist::DistributedTrainingStats distributed;
  const dist::DistributedTrainingConfig sync = DistributedTrainingFromFlags(flags);
  embed::SkipGramResult vectors = dist::DistributedSkipGram(walks, train, sync, comm, &distributed, warm.get());
  spdlog::info("trained {} tokens here in {:.1f} s ({:.1f} s exchanging; {} model)", distributed.local_tokens,
               distributed.training.seconds, distributed.sync_seconds, dist::ModelLayoutName(sync.layout));
  std::vector<ExternalId> accounts = dist::GatherAccountsOnRoot(follows.accounts, comm);
  // Rows after the accounts' for the posts metapath walks visit.
  const std::vector<ExternalId> post_ids =
      metapath ? dist::GatherAccountsOnRoot(posts.posts, comm) : std::vector<ExternalId>{};
  uint64_t trained_tokens = distributed.training.trained_tokens;  // this rank's; the summary reports all ranks'
  dist::AllReduceSum(std::span(&trained_tokens, 1), comm);
  *stats = distributed.training;
  stats->trained_tokens = trained_tokens;
  stats->tokens_per_second = static_cast<double>(stats->corpus_tokens) * train.epochs / std::max(stats->seconds, 1e-9);
  embed::EmbeddingTable table;
  if (dist::Rank(comm) != 0) return table;
  table.ids = std::move(accounts);
  table.kinds.assign(table.ids.size(), embed::TokenKind::kAccount);
  table.ids.insert(table.ids.end(), post_ids.begin(), post_ids.end());
  table.kinds.resize(table.ids.size(), embed::TokenKind::kPost);
  table.input = std::move(vectors.input);
  table.output = std::move(vectors.output);
  return table;
}

}  // namespace gr::apps
