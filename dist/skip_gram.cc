#include "dist/skip_gram.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_skip_gram.h"
#include "embed/skip_gram_trainer.h"
#include "embed/warm_start.h"

namespace gr::dist {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One matrix of the replica and its copy as of the last synchronisation.
class SyncedMatrix {
 public:
  SyncedMatrix(FloatMatrix& replica, int threads) : replica_(replica), threads_(threads), shared_(replica) {}

  // Makes every rank's replica the shared copy plus the changes of all ranks
  // (or their mean) since the last call, and that the new shared copy.
  void Synchronise(SyncRule rule, MPI_Comm comm, DistributedTrainingStats& stats) {
    const size_t d = replica_.cols();
    const std::vector<size_t> union_rows = RowsChangedOnAnyRank(comm, stats);
    std::vector<float> changes(union_rows.size() * d);
    ParallelFor(static_cast<int64_t>(union_rows.size()), threads_, 256, [&](int64_t i) {
      const size_t r = union_rows[static_cast<size_t>(i)];
      const float* now = replica_.Row(r).data();
      const float* before = shared_.Row(r).data();
      float* change = changes.data() + static_cast<size_t>(i) * d;
      for (size_t x = 0; x < d; ++x) change[x] = now[x] - before[x];
    });
    AllReduceSum(changes, comm);
    const float scale = rule == SyncRule::kAverageChanges ? 1.0f / static_cast<float>(Size(comm)) : 1.0f;
    ParallelFor(static_cast<int64_t>(union_rows.size()), threads_, 256, [&](int64_t i) {
      const size_t r = union_rows[static_cast<size_t>(i)];
      float* now = replica_.Row(r).data();
      float* shared = shared_.Row(r).data();
      const float* change = changes.data() + static_cast<size_t>(i) * d;
      for (size_t x = 0; x < d; ++x) now[x] = shared[x] = shared[x] + scale * change[x];
    });
    stats.rows_synced += union_rows.size();
    stats.reduced_bytes += changes.size() * sizeof(float);
  }

 private:
  // The rows any rank changed since the last synchronisation, ascending.
  std::vector<size_t> RowsChangedOnAnyRank(MPI_Comm comm, DistributedTrainingStats& stats) const {
    const size_t rows = replica_.rows(), d = replica_.cols();
    // 64 rows to a word, a word per loop step: no two threads write one word.
    std::vector<uint64_t> changed((rows + 63) / 64, 0);
    ParallelFor(static_cast<int64_t>(changed.size()), threads_, 64, [&](int64_t word) {
      uint64_t bits = 0;
      const size_t first = static_cast<size_t>(word) * 64;
      for (size_t r = first; r < std::min(rows, first + 64); ++r)
        if (std::memcmp(replica_.Row(r).data(), shared_.Row(r).data(), d * sizeof(float)) != 0)
          bits |= uint64_t{1} << (r - first);
      changed[static_cast<size_t>(word)] = bits;
    });
    AllReduceOr(changed, comm);
    stats.reduced_bytes += changed.size() * sizeof(uint64_t);
    std::vector<size_t> union_rows;
    for (size_t word = 0; word < changed.size(); ++word)
      for (uint64_t bits = changed[word]; bits != 0; bits &= bits - 1)
        union_rows.push_back(word * 64 + static_cast<size_t>(std::countr_zero(bits)));
    return union_rows;
  }

  FloatMatrix& replica_;
  const int threads_;
  FloatMatrix shared_;
};

// Synchronisations per epoch: as configured, or one per
// tokens_per_row_between_syncs x vocabulary tokens of the whole corpus (the
// same on every rank: both figures are global).
uint64_t SyncsPerEpoch(const DistributedTrainingConfig& sync, uint64_t corpus_tokens, size_t vocabulary) {
  if (sync.syncs_per_epoch > 0) return sync.syncs_per_epoch;
  const double between = sync.tokens_per_row_between_syncs * static_cast<double>(vocabulary);
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(static_cast<double>(corpus_tokens) / between)));
}

// Walks of one chunk copied together, in training order.
class ChunkOfWalks {
 public:
  void Gather(const DistributedWalks& walks, std::span<const uint32_t> chosen) {
    tokens_.clear();
    offsets_.assign(1, 0);
    numbers_.clear();
    for (const uint32_t i : chosen) {
      tokens_.insert(tokens_.end(), walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i]),
                     walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i + 1]));
      offsets_.push_back(tokens_.size());
      numbers_.push_back(walks.keys[i]);
    }
  }
  embed::WalkBatch Batch() const { return {.tokens = tokens_, .offsets = offsets_, .numbers = numbers_}; }

 private:
  std::vector<VertexId> tokens_;
  std::vector<uint64_t> offsets_, numbers_;
};

}  // namespace

// Round by round (as the
// single-process engine orders its corpus), the walks of a round shuffled
// by key. In key order a rank trains all rounds of a few neighbouring
// starts at once, and so does every other rank: N stale updates of the same
// rows summed at each synchronisation (ca-grqc link AUC 0.87 with 2 ranks,
// 0.61 with 4, against 0.96 in one process). Shuffling by start alone is
// not enough: ranks hold alternate rounds of every start, so they would
// still train the same starts at the same time.
std::vector<uint32_t> TrainingOrder(const DistributedWalks& walks, uint64_t seed) {
  const uint64_t walks_per_vertex = std::max<uint32_t>(walks.walks_per_vertex, 1);
  GR_CHECK(walks.keys.size() < UINT32_MAX, "more than 2^32 - 1 walks on one rank");
  std::vector<std::pair<uint64_t, uint64_t>> sort_keys(walks.keys.size());
  for (size_t i = 0; i < walks.keys.size(); ++i) {
    const uint64_t key = walks.keys[i];
    sort_keys[i] = {key % walks_per_vertex, MixSeed(key, seed ^ 0x0dde)};
  }
  std::vector<uint32_t> order(walks.keys.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return sort_keys[a] < sort_keys[b]; });
  return order;
}

const char* ModelLayoutName(ModelLayout layout) {
  return layout == ModelLayout::kPartitioned ? "partitioned" : "replicated";
}

ModelLayout ParseModelLayout(const std::string& name) {
  if (name == "replicated") return ModelLayout::kReplicated;
  if (name == "partitioned") return ModelLayout::kPartitioned;
  throw Error(ErrorCode::kInvalidArgument, "model layout must be replicated or partitioned, got '" + name + "'");
}

embed::SkipGramResult DistributedSkipGram(const DistributedWalks& walks, const embed::SkipGramConfig& config,
                                          const DistributedTrainingConfig& sync, MPI_Comm comm,
                                          DistributedTrainingStats* stats, const embed::WarmStart* warm) {
  const size_t vocabulary = walks.vocabulary;
  // The whole corpus's token counts; every rank checks its own tokens and
  // the settings first, so a bad input fails all ranks together.
  std::vector<uint64_t> counts(vocabulary, 0);
  OnEveryRankIfAnyFails(comm, "checking the training settings and walks", [&] {
    config.Validate();
    GR_CHECK(sync.layout == ModelLayout::kPartitioned || sync.syncs_per_epoch > 0 ||
                 sync.tokens_per_row_between_syncs > 0,
             "tokens_per_row_between_syncs must be > 0 (or syncs_per_epoch set), got ",
             sync.tokens_per_row_between_syncs);
    GR_CHECK(sync.layout != ModelLayout::kPartitioned || sync.passes_per_epoch >= 1,
             "passes_per_epoch must be >= 1, got ", sync.passes_per_epoch);
    GR_CHECK(vocabulary > 0, "empty vocabulary (no accounts on any rank)");
    GR_CHECK(walks.offsets.size() == walks.keys.size() + 1 && walks.offsets.back() == walks.tokens.size(),
             "the walks' offsets, keys and tokens do not match");
    embed::CheckWarmStartShape(warm, vocabulary, config.dim);
    for (VertexId t : walks.tokens) {
      GR_CHECK(t < vocabulary, "token ", t, " outside the vocabulary of ", vocabulary);
      ++counts[t];
    }
  });
  AllReduceSum(counts, comm);

  DistributedTrainingStats local;
  local.local_tokens = walks.tokens.size();
  if (sync.layout == ModelLayout::kPartitioned) {
    embed::SkipGramResult result = PartitionedSkipGram(walks, counts, config, sync.passes_per_epoch, comm, local, warm);
    if (stats != nullptr) *stats = local;
    return result;
  }
  embed::SkipGramTrainer trainer(counts, local.local_tokens * config.epochs, config, warm);
  local.training.corpus_tokens = trainer.corpus_tokens();
  // One rank has nothing to synchronise (nor a shared copy to keep).
  std::vector<SyncedMatrix> synced;
  if (Size(comm) > 1) {
    synced.reserve(2);
    synced.emplace_back(trainer.input(), config.threads);
    synced.emplace_back(trainer.output(), config.threads);
  }
  // The replica and, with more than one rank, the copy last shared.
  local.model_bytes_held = (trainer.input().Data().size() + trainer.output().Data().size()) * sizeof(float) *
                           (synced.empty() ? 1 : 2);
  // The replica and, with more than one rank, the copy last shared.
  local.model_bytes_held = (trainer.input().Data().size() + trainer.output().Data().size()) * sizeof(float) *
                           (synced.empty() ? 1 : 2);
  const std::vector<uint32_t> order = TrainingOrder(walks, config.seed);
  ChunkOfWalks chunk_walks;
  const size_t num_walks = order.size();
  const auto start = Clock::now();
  const uint64_t chunks = synced.empty() ? 1 : SyncsPerEpoch(sync, trainer.corpus_tokens(), vocabulary);
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    for (uint64_t chunk = 0; chunk < chunks; ++chunk) {
      const size_t first = num_walks * chunk / chunks, end = num_walks * (chunk + 1) / chunks;
      chunk_walks.Gather(walks, std::span(order).subspan(first, end - first));
      trainer.Train(chunk_walks.Batch(), epoch);
      if (synced.empty()) continue;
      const auto sync_start = Clock::now();
      for (SyncedMatrix& matrix : synced) matrix.Synchronise(sync.rule, comm, local);
      ++local.syncs;
      local.sync_seconds += SecondsSince(sync_start);
    }
  }
  local.training.seconds = SecondsSince(start);
  local.training.trained_tokens = trainer.trained();
  local.training.tokens_per_second =
      static_cast<double>(local.local_tokens) * config.epochs / std::max(local.training.seconds, 1e-9);
  if (stats != nullptr) *stats = local;
  return trainer.Take();
}

}  // namespace gr::dist
