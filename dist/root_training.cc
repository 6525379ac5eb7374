#include "dist/root_training.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "dist/index_shards.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_graph.h"
#include "dist/skip_gram.h"
#include "dist/walks.h"
#include "embed/warm_start.h"
#include "graph/social_graph.h"

namespace gr::dist {
namespace {

enum class Command : uint32_t { kTrain = 1, kStop = 2, kIndexShards = 3, kDriverStep = 4 };

constexpr size_t kMaxMetapathRelations = 32;  // what a request carries

// What rank 0 broadcasts before each job: the settings the other ranks need
// (they never see rank 0's configuration objects) and the warm start's shape.
struct Request {
  Command command = Command::kStop;
  uint32_t walks_per_vertex = 0, walk_length = 0, both_directions = 0, weighted = 0;
  uint64_t walk_seed = 0;
  double p = 1, q = 1;
  uint32_t dim = 0, window = 0, negatives = 0, epochs = 0;
  float learning_rate = 0;
  double subsample = 0;
  int32_t threads = 0;
  double tokens_per_row_between_syncs = 0;
  ModelLayout layout = ModelLayout::kReplicated;
  uint32_t passes_per_epoch = 0;
  uint64_t warm_rows = 0, warm_output_rows = 0;  // 0: no warm start / no output rows in it
  uint64_t warm_cols = 0;
  uint32_t index_shards = 0;  // kIndexShards
  uint32_t driver_step = 0;   // kDriverStep
  recall::IndexConfig index;
  uint32_t metapath_length = 0;  // 0: account walks
  walk::Relation metapath[kMaxMetapathRelations] = {};
};
static_assert(std::is_trivially_copyable_v<Request>);

void Broadcast(Request& request, MPI_Comm comm) { MPI_Bcast(&request, sizeof request, MPI_BYTE, 0, comm); }

// Rank 0's warm start on every rank (the same rows everywhere, as
// DistributedSkipGram needs): rank 0's own, a received copy (in `received`)
// elsewhere; null when the request has none.
const embed::WarmStart* ShareWarmStart(const embed::WarmStart* root_warm, const Request& request, MPI_Comm comm,
                                       embed::WarmStart& received) {
  if (request.warm_rows == 0) return nullptr;
  const bool root = Rank(comm) == 0;
  if (!root) {
    received.input = FloatMatrix(request.warm_rows, request.warm_cols);
    if (request.warm_output_rows > 0) received.output = FloatMatrix(request.warm_output_rows, request.warm_cols);
  }
  std::vector<uint8_t> known(request.warm_rows);
  if (root) std::ranges::copy(root_warm->known, known.begin());
  BroadcastFromRoot(std::span(known), comm);
  // The root only reads its buffers in a broadcast.
  embed::WarmStart& rows = root ? const_cast<embed::WarmStart&>(*root_warm) : received;
  BroadcastFromRoot(rows.input.Data(), comm);
  BroadcastFromRoot(rows.output.Data(), comm);
  if (root) return root_warm;
  received.known.assign(known.begin(), known.end());
  return &received;
}

// The part every rank plays in one job: its part of the graph, its walks,
// its replica of the model. Rank 0 passes the graph and warm start.
embed::SkipGramResult Train(const Request& request, const graph::SocialGraph* g, const embed::WarmStart* root_warm,
                            MPI_Comm comm, DistributedTrainingStats* stats, uint64_t* vocabulary) {
  const PartitionedFollows part = ScatterFollowsFromRoot(g, comm);
  const bool metapath = request.metapath_length > 0;
  const PartitionedPosts posts = metapath ? ScatterPostsFromRoot(g, part, request.weighted != 0, comm)
                                          : PartitionedPosts{};
  embed::WarmStart received;
  const embed::WarmStart* warm = ShareWarmStart(root_warm, request, comm, received);
  const DistributedWalkConfig walk_config{.walks_per_vertex = request.walks_per_vertex,
                                          .walk_length = request.walk_length,
                                          .both_directions = request.both_directions != 0,
                                          .seed = request.walk_seed,
                                          .p = request.p,
                                          .q = request.q,
                                          .weighted = request.weighted != 0,
                                          .metapath = {request.metapath, request.metapath + request.metapath_length},
                                          .threads = request.threads};
  spdlog::info("rank {} of {}: {} accounts, {} posts ({:.1f} MB of graph) here; walking {} x {} from each", Rank(comm),
               Size(comm), part.accounts.size(), posts.posts.size(),
               static_cast<double>(part.MemoryBytes() + posts.MemoryBytes()) / 1e6, walk_config.walks_per_vertex,
               walk_config.walk_length);
  const DistributedWalks walks = DistributedRandomWalks(part, walk_config, comm, metapath ? &posts : nullptr);
  spdlog::info("rank {}: walked; {:.1f} MB of walk tables (index, dense ids, alias tables)", Rank(comm),
               static_cast<double>(walks.table_bytes) / 1e6);
  *vocabulary = walks.vocabulary;
  embed::SkipGramConfig train;
  train.dim = request.dim;
  train.window = request.window;
  train.negatives = request.negatives;
  train.epochs = request.epochs;
  train.learning_rate = request.learning_rate;
  train.subsample = request.subsample;
  train.seed = request.walk_seed;  // as embed::EmbedWalks
  train.threads = request.threads;
  DistributedTrainingConfig sync;
  sync.tokens_per_row_between_syncs = request.tokens_per_row_between_syncs;
  sync.layout = request.layout;
  sync.passes_per_epoch = request.passes_per_epoch;
  return DistributedSkipGram(walks, train, sync, comm, stats, warm);
}

}  // namespace

void CheckWalksAreDistributed(const walk::WalkConfig& walk) {
  if (walk.kind == walk::WalkKind::kMetapath) {
    GR_CHECK(walk::ParseMetapath(walk.metapath).size() <= kMaxMetapathRelations, "under mpirun, a metapath has at most ",
             kMaxMetapathRelations, " relations");
    return;
  }
  GR_CHECK(walk.direction != walk::Direction::kIn, "under mpirun, --direction is out or both");
}

embed::EmbeddingTable TrainOnEveryRank(const graph::SocialGraph& g, const walk::WalkConfig& walk,
                                       const embed::SkipGramConfig& train, embed::SkipGramStats* stats,
                                       const embed::WarmStart* warm, const DistributedTrainingConfig& sync,
                                       MPI_Comm comm) {
  GR_CHECK_CODE(Rank(comm) == 0, ErrorCode::kInternal, "TrainOnEveryRank runs on rank 0");
  CheckWalksAreDistributed(walk);
  walk.Validate();
  train.Validate();
  GR_CHECK(sync.tokens_per_row_between_syncs > 0 && sync.syncs_per_epoch == 0 && sync.rule == SyncRule::kSumChanges,
           "the tokens per row between synchronisations must be > 0, got ", sync.tokens_per_row_between_syncs);
  GR_CHECK(sync.passes_per_epoch >= 1, "the passes per epoch must be >= 1, got ", sync.passes_per_epoch);
  Request request{.command = Command::kTrain,
                  .walks_per_vertex = walk.walks_per_vertex,
                  .walk_length = walk.walk_length,
                  .both_directions = walk.direction == walk::Direction::kBoth ? 1u : 0u,
                  .weighted = walk.StepsByWeight() ? 1u : 0u,
                  .walk_seed = walk.seed,
                  .p = walk.p,
                  .q = walk.q,
                  .dim = train.dim,
                  .window = train.window,
                  .negatives = train.negatives,
                  .epochs = train.epochs,
                  .learning_rate = train.learning_rate,
                  .subsample = train.subsample,
                  .threads = walk.threads,
                  .tokens_per_row_between_syncs = sync.tokens_per_row_between_syncs,
                  .layout = sync.layout,
                  .passes_per_epoch = sync.passes_per_epoch};
  // The vocabulary: accounts, then posts for metapath walks (as embed::EmbedWalks).
  uint64_t expected_vocabulary = g.num_accounts();
  if (walk.kind == walk::WalkKind::kMetapath) {
    const std::vector<walk::Relation> path = walk::ParseMetapath(walk.metapath);
    std::ranges::copy(path, request.metapath);
    request.metapath_length = static_cast<uint32_t>(path.size());
    expected_vocabulary += g.num_posts();
  }
  if (warm != nullptr) {
    GR_CHECK(warm->input.rows() == expected_vocabulary && warm->known.size() == expected_vocabulary &&
                 (warm->output.empty() || warm->output.rows() == expected_vocabulary) &&
                 (warm->output.empty() || warm->output.cols() == warm->input.cols()),
             "warm start of ", warm->input.rows(), " rows for a vocabulary of ", expected_vocabulary);
    request.warm_rows = warm->input.rows();
    request.warm_cols = warm->input.cols();
    request.warm_output_rows = warm->output.rows();
  }
  Broadcast(request, comm);
  DistributedTrainingStats dstats;
  uint64_t vocabulary = 0;
  embed::SkipGramResult trained = Train(request, &g, warm, comm, &dstats, &vocabulary);
  uint64_t trained_tokens = dstats.training.trained_tokens;  // this rank's
  AllReduceSum(std::span(&trained_tokens, 1), comm);
  GR_CHECK_CODE(vocabulary == expected_vocabulary, ErrorCode::kInternal, "distributed walks saw a vocabulary of ",
                vocabulary, ", the graph has ", expected_vocabulary);
  spdlog::info("trained on {} ranks ({} model): {} tokens here in {:.1f} s ({:.1f} s exchanging)", Size(comm),
               ModelLayoutName(sync.layout), dstats.local_tokens, dstats.training.seconds, dstats.sync_seconds);
  if (stats != nullptr) {
    *stats = dstats.training;
    stats->trained_tokens = trained_tokens;
    stats->tokens_per_second = static_cast<double>(stats->corpus_tokens) * train.epochs /
                               std::max(stats->seconds, 1e-9);
  }
  embed::EmbeddingTable table;
  table.ids.assign(g.accounts.external_ids().begin(), g.accounts.external_ids().end());
  table.kinds.assign(table.ids.size(), embed::TokenKind::kAccount);
  if (request.metapath_length > 0) {
    table.ids.insert(table.ids.end(), g.posts.external_ids().begin(), g.posts.external_ids().end());
    table.kinds.resize(table.ids.size(), embed::TokenKind::kPost);
  }
  table.input = std::move(trained.input);
  table.output = std::move(trained.output);
  return table;
}

void SaveIndexShardsOnEveryRank(const recall::RecallIndexItems& items, const recall::IndexConfig& config,
                                uint32_t count, const std::string& dir, MPI_Comm comm,
                                const std::function<void()>& meanwhile) {
  GR_CHECK_CODE(Rank(comm) == 0, ErrorCode::kInternal, "SaveIndexShardsOnEveryRank runs on rank 0");
  config.Validate();
  GR_CHECK(count >= 1, "index shards must be >= 1, got ", count);
  Request request{.command = Command::kIndexShards, .index_shards = count, .index = config};
  Broadcast(request, comm);
  SaveIndexShardsFromRoot(items, config, count, dir, comm, meanwhile);
}

void AskRanksToFollowStep(uint32_t step, MPI_Comm comm) {
  GR_CHECK_CODE(Rank(comm) == 0, ErrorCode::kInternal, "AskRanksToFollowStep runs on rank 0");
  Request request{.command = Command::kDriverStep, .driver_step = step};
  Broadcast(request, comm);
}

void StopRanks(MPI_Comm comm) {
  Request request{.command = Command::kStop};
  Broadcast(request, comm);
}

void FollowRootTraining(MPI_Comm comm, const std::function<void(uint32_t step)>& on_step) {
  for (;;) {
    Request request;
    Broadcast(request, comm);
    if (request.command == Command::kStop) return;
    if (request.command == Command::kIndexShards) {
      BuildIndexShardsForRoot(request.index, request.index_shards, comm);
      continue;
    }
    if (request.command == Command::kDriverStep) {
      try {
        GR_CHECK_CODE(on_step != nullptr, ErrorCode::kInternal, "rank ", Rank(comm), " has no driver steps");
        on_step(request.driver_step);
      } catch (const Error& e) {
        spdlog::warn("rank {}: step {} failed on every rank: {}", Rank(comm), request.driver_step, e.what());
      }
      continue;
    }
    DistributedTrainingStats stats;
    uint64_t vocabulary = 0;
    try {
      Train(request, nullptr, nullptr, comm, &stats, &vocabulary);
      uint64_t trained_tokens = stats.training.trained_tokens;
      AllReduceSum(std::span(&trained_tokens, 1), comm);
      spdlog::info("rank {}: trained {} tokens in {:.1f} s ({:.1f} s exchanging)", Rank(comm), stats.local_tokens,
                   stats.training.seconds, stats.sync_seconds);
    } catch (const Error& e) {
      spdlog::warn("rank {}: training failed on every rank: {}", Rank(comm), e.what());
    }
  }
}

}  // namespace gr::dist
