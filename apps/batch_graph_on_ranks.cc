#include "apps/batch_graph_on_ranks.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "apps/on_ranks.h"
#include "core/error.h"
#include "core/shard.h"
#include "dist/fold_in.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_holdout.h"
#include "dist/partitioned_index_items.h"
#include "dist/partitioned_ingest.h"
#include "dist/partitioned_link_eval.h"
#include "dist/root_training.h"
#include "graph/snapshot.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::apps {
namespace {

namespace fs = std::filesystem;

// The steps rank 0 asks the others to follow (dist::AskRanksToFollowStep).
enum Step : uint32_t { kIngest = 1, kResume, kHoldOut, kTrain, kScoreHeldOut, kFoldIn, kIndexItems };

// Rank 0's `value` on every rank.
template <typename T>
void BroadcastValue(T& value, MPI_Comm comm) {
  static_assert(std::is_trivially_copyable_v<T>);
  dist::BroadcastFromRoot(std::span(reinterpret_cast<uint8_t*>(&value), sizeof value), comm);
}

// Accounts per degree (pipeline::CountDegrees) of this rank's lists.
std::vector<uint64_t> DegreeHistogram(const std::vector<uint64_t>& offsets) {
  std::vector<uint64_t> counts;
  for (size_t v = 0; v + 1 < offsets.size(); ++v) {
    const uint64_t degree = offsets[v + 1] - offsets[v];
    if (counts.size() <= degree) counts.resize(degree + 1, 0);
    ++counts[degree];
  }
  return counts;
}

void AddInto(std::vector<uint64_t>& sum, std::span<const uint64_t> counts) {
  if (sum.size() < counts.size()) sum.resize(counts.size(), 0);
  for (size_t d = 0; d < counts.size(); ++d) sum[d] += counts[d];
}

// What every rank holds of the batch's graph, and the steps, each one
// collective over every rank: rank 0 passes the arguments, which the steps
// broadcast (the others pass placeholders); results are rank 0's.
class GraphSteps {
 public:
  GraphSteps(const pipeline::BatchConfig& config, const DistributedTrainingFlags& flags, MPI_Comm comm)
      : c_(config), flags_(flags), comm_(comm), rank_(dist::Rank(comm)) {
    input_.directory = true;  // walks as over an input directory's follows
  }

  pipeline::GraphSummary Ingest(std::span<const graph::GraphChange> root_changes, std::string work_dir) {
    CheckSameRun(work_dir);
    std::vector<graph::GraphChange> changes(root_changes.begin(), root_changes.end());
    uint64_t count = changes.size();
    dist::BroadcastFromRoot(std::span(&count, 1), comm_);
    changes.resize(count);
    static_assert(std::is_trivially_copyable_v<graph::GraphChange>);
    dist::BroadcastFromRoot(std::span(reinterpret_cast<uint8_t*>(changes.data()), count * sizeof(graph::GraphChange)),
                            comm_);
    graph::InputFiles files;
    dist::OnEveryRankIfAnyFails(comm_, "the input files", [&] { files = graph::InputFilesIn(c_.input_dir); });
    dist::PartitionedInput read =
        dist::IngestPartitioned(files, {.threads = c_.run.threads},
                                Options(/*keep_graph_part=*/true), comm_, changes);
    const std::string part = version::GraphPartPath(work_dir, ThisPart());
    dist::OnEveryRankIfAnyFails(comm_, "saving the graph parts", [&] {
      const fs::path parent = fs::path(part).parent_path();
      std::error_code error;
      fs::create_directories(parent, error);
      GR_CHECK_CODE(!error, ErrorCode::kIo, "cannot create ", parent.string(), ": ", error.message());
      graph::SaveSnapshot(read.graph_part, part);
    });
    // Rank 0's later stages (the ranker's features, the report) merge the parts.
    dist::OnEveryRankIfAnyFails(comm_, "the graph parts on rank 0", [&] {
      if (rank_ != 0) return;
      for (uint32_t k = 1; k < ThisPart().count; ++k) {
        const std::string path = version::GraphPartPath(work_dir, {.index = k, .count = ThisPart().count});
        std::error_code error;
        GR_CHECK_CODE(fs::exists(path, error), ErrorCode::kIo, "rank ", k, " wrote its graph part ", path,
                      ", which rank 0 cannot see: the artifact directory must be on storage every rank shares");
      }
    });
    if (rank_ == 0)
      spdlog::info("ingested on {} ranks in {:.1f} s; each rank saved its part of the graph", ThisPart().count,
                   read.report.seconds);
    input_.follows = std::move(read.follows);
    input_.posts = std::move(read.posts);
    return Summary();
  }

  pipeline::GraphSummary Resume(std::string work_dir) {
    CheckSameRun(work_dir);
    dist::PartitionedInput read =
        dist::ReadGraphPart(version::GraphPartPath(work_dir, ThisPart()), Options(/*keep_graph_part=*/false), comm_);
    input_.follows = std::move(read.follows);
    input_.posts = std::move(read.posts);
    return Summary();
  }

  uint64_t HoldOut(graph::EdgeSplitConfig config) {
    BroadcastValue(config, comm_);
    // Only the fold-in walks the full follows; metapath vectors skip it.
    const bool keep_full = c_.fold_in_held_out && c_.walk.kind != walk::WalkKind::kMetapath;
    dist::PartitionedFollows follows = keep_full ? input_.follows : std::move(input_.follows);
    if (!keep_full) input_.follows = {};
    split_ = dist::SplitPartitioned(std::move(follows), config, comm_);
    uint64_t held_out = split_.test_edges.size();
    dist::AllReduceSum(std::span(&held_out, 1), comm_);
    return held_out;
  }

  embed::EmbeddingTable Train(const walk::WalkConfig& walk, embed::SkipGramConfig train,
                              const embed::EmbeddingTable* previous, embed::SkipGramStats* stats,
                              uint64_t* warm_started) {
    BroadcastValue(train.learning_rate, comm_);  // a warm start's is scaled on rank 0
    return TrainOnRanks(input_, split_.train, walk, train, flags_, previous, comm_, stats, warm_started);
  }

  embed::LinkPredictionScores ScoreHeldOut(const embed::EmbeddingTable* table, uint64_t max_pairs, uint64_t seed) {
    BroadcastValue(max_pairs, comm_);
    BroadcastValue(seed, comm_);
    const dist::LinkPairs pairs = dist::SampleLinkPairs(split_, max_pairs, seed, comm_);
    return rank_ == 0 ? dist::ScoreLinkPairs(pairs, *table) : embed::LinkPredictionScores{};
  }

  embed::RowRefreshStats FoldIn(const walk::WalkConfig& short_walks, const embed::RowRefreshConfig& config,
                                embed::EmbeddingTable* table,
                                const std::function<void(std::span<const VertexId> rows)>& before) {
    const auto start = std::chrono::steady_clock::now();
    dist::FoldInOnRanks done =
        dist::FoldInOnRoot(input_.follows, split_.test_edges, short_walks, config,
                           table != nullptr ? &table->input : nullptr, table != nullptr ? &table->output : nullptr,
                           comm_, size_t{1} << 18, before);
    // The walks and their gathering too, not only rank 0's refresh.
    done.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return done.stats;
  }

  recall::RecallIndexItems IndexItems(const embed::EmbeddingTable* table) {
    recall::RecallIndexItems items =
        dist::CollectIndexItemsOnRoot(split_.train, input_.posts, table, {}, {}, comm_);
    // The last graph step: the ranks' memory goes to the index shards.
    input_.follows = {};
    input_.posts = {};
    split_ = {};
    return items;
  }

  // Ranks 1..N-1: one step of rank 0's, with this rank's own settings.
  void Follow(uint32_t step) {
    switch (static_cast<Step>(step)) {
      case kIngest:
        Ingest({}, "");
        return;
      case kResume:
        Resume("");
        return;
      case kHoldOut:
        HoldOut({});
        return;
      case kTrain: {
        embed::SkipGramStats stats;
        Train(c_.walk, c_.train, nullptr, &stats, nullptr);
        return;
      }
      case kScoreHeldOut:
        ScoreHeldOut(nullptr, 0, 0);
        return;
      case kFoldIn:
        FoldIn(pipeline::FoldInWalks(c_), c_.fold_in, nullptr, {});
        return;
      case kIndexItems:
        IndexItems(nullptr);
        return;
    }
    throw Error(ErrorCode::kInternal, StrCat("rank ", rank_, ": unknown batch graph step ", step));
  }

  uint64_t accounts() const { return accounts_; }

 private:
  Shard ThisPart() const {
    return {.index = static_cast<uint32_t>(rank_), .count = static_cast<uint32_t>(dist::Size(comm_))};
  }

  dist::PartitionedIngestOptions Options(bool keep_graph_part) const {
    // The posts always: the index items need their engagers, metapath walks their lists.
    return {.with_posts = true, .post_weights = c_.walk.StepsByWeight(), .keep_graph_part = keep_graph_part};
  }

  // The followers run the steps with their own settings: they must be rank 0's.
  void CheckSameRun(std::string& work_dir) {
    dist::BroadcastFromRoot(work_dir, comm_);
    const std::string mine = StrCat(c_.ToJson(), "|", c_.input_dir, "|", c_.artifacts_dir, "|", flags_.model, "|",
                                    flags_.sync_tokens_per_row, "|", flags_.passes_per_epoch);
    std::string root = mine;
    dist::BroadcastFromRoot(root, comm_);
    dist::OnEveryRankIfAnyFails(comm_, "the batch settings", [&] {
      GR_CHECK(root == mine, "rank ", rank_,
               " runs the batch with other settings than rank 0 (every rank needs the same flags, config file, "
               "--input and --artifacts)");
    });
  }

  // The graph's counts and degree histograms summed over the ranks (rank 0's).
  pipeline::GraphSummary Summary() {
    const dist::PartitionedFollows& f = input_.follows;
    std::array<uint64_t, 4> counts = {f.accounts.size(), input_.posts.posts.size(), f.followees.size(),
                                      input_.posts.interacts.targets.size()};
    dist::AllReduceSum(counts, comm_);
    accounts_ = counts[0];
    const std::vector<uint64_t> out = DegreeHistogram(f.following_offsets), in = DegreeHistogram(f.followers_offsets);
    std::vector<uint64_t> mine = {out.size(), in.size()};
    mine.insert(mine.end(), out.begin(), out.end());
    mine.insert(mine.end(), in.begin(), in.end());
    const std::vector<uint64_t> all = dist::GatherOnRoot(mine, comm_);  // each rank's block in turn
    pipeline::GraphSummary summary{
        .accounts = counts[0], .posts = counts[1], .follow_edges = counts[2], .interaction_edges = counts[3]};
    for (size_t at = 0; at < all.size();) {
      const uint64_t out_size = all[at], in_size = all[at + 1];
      at += 2;
      AddInto(summary.degrees.out, std::span(all).subspan(at, out_size));
      at += out_size;
      AddInto(summary.degrees.in, std::span(all).subspan(at, in_size));
      at += in_size;
    }
    return summary;
  }

  const pipeline::BatchConfig c_;
  const DistributedTrainingFlags flags_;
  const MPI_Comm comm_;
  const int rank_;
  RanksInput input_;  // this rank's follows (kept whole for the fold-in) and posts
  dist::PartitionedSplit split_;
  uint64_t accounts_ = 0;  // on every rank
};

// Rank 0's face of the steps: each method asks the other ranks to follow.
class BatchGraphOnRanks final : public pipeline::BatchGraph {
 public:
  BatchGraphOnRanks(const pipeline::BatchConfig& config, const DistributedTrainingFlags& flags, MPI_Comm comm)
      : steps_(config, flags, comm), comm_(comm) {}

  // The files and threads are the config's, as on every rank.
  pipeline::GraphSummary Ingest(const graph::InputFiles&, std::span<const graph::GraphChange> changes,
                                const std::string& work_dir, int) override {
    dist::AskRanksToFollowStep(kIngest, comm_);
    return steps_.Ingest(changes, work_dir);
  }

  pipeline::GraphSummary Resume(const std::string& work_dir) override {
    dist::AskRanksToFollowStep(kResume, comm_);
    return steps_.Resume(work_dir);
  }

  uint64_t HoldOut(const graph::EdgeSplitConfig& config) override {
    dist::AskRanksToFollowStep(kHoldOut, comm_);
    return steps_.HoldOut(config);
  }

  embed::EmbeddingTable Train(const walk::WalkConfig& walk, const embed::SkipGramConfig& train,
                              const embed::EmbeddingTable* previous, embed::SkipGramStats* stats,
                              uint64_t* warm_started) override {
    dist::AskRanksToFollowStep(kTrain, comm_);
    embed::SkipGramStats unused;
    return steps_.Train(walk, train, previous, stats != nullptr ? stats : &unused, warm_started);
  }

  embed::LinkPredictionScores ScoreHeldOut(const embed::EmbeddingTable& table, size_t max_pairs,
                                           uint64_t seed) override {
    dist::AskRanksToFollowStep(kScoreHeldOut, comm_);
    return steps_.ScoreHeldOut(&table, max_pairs, seed);
  }

  embed::RowRefreshStats FoldIn(const walk::WalkConfig& short_walks, const embed::RowRefreshConfig& config,
                                embed::EmbeddingTable& table,
                                const std::function<void(std::span<const VertexId> rows)>& before) override {
    if (table.rows() != steps_.accounts()) {  // as the local graph's check of the walks' vocabulary
      spdlog::warn("fold-in skipped: the graph has {} accounts, the table {} rows", steps_.accounts(), table.rows());
      return {};
    }
    dist::AskRanksToFollowStep(kFoldIn, comm_);
    return steps_.FoldIn(short_walks, config, &table, before);
  }

  recall::RecallIndexItems IndexItems(const embed::EmbeddingTable& table) override {
    dist::AskRanksToFollowStep(kIndexItems, comm_);
    return steps_.IndexItems(&table);
  }

 private:
  GraphSteps steps_;
  const MPI_Comm comm_;
};

}  // namespace

bool EveryRankSeesTheFiles(const pipeline::BatchConfig& config, MPI_Comm comm) {
  const bool root = dist::Rank(comm) == 0;
  std::string probe;  // a file rank 0 wrote into the artifact directory; "" if it could not
  if (root) {
    try {
      fs::create_directories(config.artifacts_dir);
      probe = version::PathIn(config.artifacts_dir, StrCat(".rank-probe-", getpid()));
      std::FILE* file = std::fopen(probe.c_str(), "w");
      if (file == nullptr || std::fclose(file) != 0) probe.clear();
    } catch (const std::exception& e) {
      spdlog::warn("cannot write into {}: {}", config.artifacts_dir, e.what());
      probe.clear();
    }
  }
  dist::BroadcastFromRoot(probe, comm);
  // Ranks without the input, ranks without the probe, and gzip files (rank 0's view).
  std::error_code error;  // an unreadable path is as good as a missing one here
  std::array<uint64_t, 3> missing = {1, probe.empty() || !fs::exists(probe, error) ? 1u : 0u, 0};
  try {
    const graph::InputFiles files = graph::InputFilesIn(config.input_dir);
    missing[0] = 0;
    for (const std::string& path : {files.follows, files.interactions, files.posts}) {
      if (!path.empty() && path.ends_with(".gz") && root) missing[2] = 1;
    }
  } catch (const Error&) {  // no follows file: counted as missing
  }
  dist::AllReduceSum(missing, comm);
  if (!root) return missing == std::array<uint64_t, 3>{};
  if (!probe.empty()) fs::remove(probe, error);
  if (missing[0] > 0 || missing[1] > 0)
    spdlog::info("the graph stays on rank 0, the walks and training use every rank: {} of {} ranks cannot see the "
                 "input {} and {} the artifacts {} (the graph on every rank needs both on storage every rank shares)",
                 missing[0], dist::Size(comm), config.input_dir, missing[1], config.artifacts_dir);
  else if (missing[2] > 0)
    spdlog::info("the graph stays on rank 0, the walks and training use every rank: the input {} has gzip files, "
                 "which cannot be split between the ranks' readers (decompress them to read on every rank)",
                 config.input_dir);
  return missing == std::array<uint64_t, 3>{};
}

std::unique_ptr<pipeline::BatchGraph> MakeBatchGraphOnRanks(const pipeline::BatchConfig& config,
                                                            const DistributedTrainingFlags& flags, MPI_Comm comm) {
  GR_CHECK_CODE(dist::Rank(comm) == 0, ErrorCode::kInternal, "MakeBatchGraphOnRanks runs on rank 0");
  return std::make_unique<BatchGraphOnRanks>(config, flags, comm);
}

void FollowBatchGraph(const pipeline::BatchConfig& config, const DistributedTrainingFlags& flags, MPI_Comm comm) {
  GraphSteps steps(config, flags, comm);
  dist::FollowRootTraining(comm, [&](uint32_t step) { steps.Follow(step); });
}

}  // namespace gr::apps
