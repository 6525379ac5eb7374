#include "dist/partitioned_holdout.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <span>
#include <type_traits>

#include "core/error.h"
#include "core/rng.h"
#include "dist/mpi_session.h"

namespace gr::dist {
namespace {

using graph::HeldOutBefore;
using graph::HoldOutCandidate;

static_assert(std::is_trivially_copyable_v<HoldOutCandidate> && sizeof(HoldOutCandidate) % sizeof(uint64_t) == 0);
constexpr size_t kWords = sizeof(HoldOutCandidate) / sizeof(uint64_t);

// Candidates travel as their bytes, in the 64-bit values ExchangeValues carries.
std::vector<uint64_t> ToWords(std::span<const HoldOutCandidate> candidates) {
  std::vector<uint64_t> words(candidates.size() * kWords);
  if (!words.empty()) std::memcpy(words.data(), candidates.data(), candidates.size_bytes());
  return words;
}

std::vector<HoldOutCandidate> FromWords(const std::vector<uint64_t>& words) {
  std::vector<HoldOutCandidate> candidates(words.size() / kWords);
  if (!candidates.empty()) std::memcpy(static_cast<void*>(candidates.data()), words.data(), candidates.size() * sizeof(HoldOutCandidate));
  return candidates;
}

// This rank's follows (by owned follower), in hold-out order.
std::vector<HoldOutCandidate> OwnCandidates(const PartitionedFollows& part, const graph::EdgeSplitConfig& config) {
  const bool newest = config.order == graph::HoldOutOrder::kNewest && !part.followee_times.empty();
  std::vector<HoldOutCandidate> candidates;
  candidates.reserve(part.followees.size());
  for (size_t a = 0; a < part.accounts.size(); ++a) {
    const uint64_t begin = part.following_offsets[a];
    for (uint64_t j = begin; j < part.following_offsets[a + 1]; ++j) {
      const ExternalId src = part.accounts[a], dst = part.followees[j];
      if (src == dst) continue;
      candidates.push_back({.src = src,
                            .dst = dst,
                            .tie = graph::HoldOutTie(config.seed, src, dst),
                            .time = newest ? part.followee_times[j] : 0u,
                            .index = static_cast<uint32_t>(j - begin)});
    }
  }
  std::sort(candidates.begin(), candidates.end(), HeldOutBefore);
  return candidates;
}

// The spanning forest of `ordered` (in hold-out order) that the hold-out keeps.
std::vector<HoldOutCandidate> ForestOf(std::span<const HoldOutCandidate> ordered) {
  const std::vector<uint8_t> in_forest = graph::SpanningForestFromBack(ordered);
  std::vector<HoldOutCandidate> forest;
  for (size_t i = 0; i < ordered.size(); ++i)
    if (in_forest[i]) forest.push_back(ordered[i]);
  return forest;
}

// Rank 0's forest of the whole graph: each rank's forest merged pairwise up
// a binary tree (at step s, rank r + s sends to rank r for r a multiple of 2s).
std::vector<HoldOutCandidate> MergeForests(std::vector<HoldOutCandidate> forest, MPI_Comm comm, uint64_t* bytes_sent) {
  const int ranks = Size(comm), me = Rank(comm);
  for (int step = 1; step < ranks; step *= 2) {
    std::vector<uint64_t> counts(ranks, 0), words;
    if (me % (2 * step) == step) {
      words = ToWords(forest);
      counts[me - step] = words.size();
      *bytes_sent += words.size() * sizeof(uint64_t);
      forest = {};
    }
    const std::vector<HoldOutCandidate> arrived = FromWords(ExchangeValues(words, counts, comm));
    if (arrived.empty()) continue;
    std::vector<HoldOutCandidate> both(forest.size() + arrived.size());
    std::merge(forest.begin(), forest.end(), arrived.begin(), arrived.end(), both.begin(), HeldOutBefore);
    forest = ForestOf(both);
  }
  return forest;
}

// Flags the candidates of `own` (in order) that are in rank 0's forest of
// the whole graph, which it sends each edge's follower's owner.
std::vector<uint8_t> MarkForest(const std::vector<HoldOutCandidate>& own, const std::vector<HoldOutCandidate>& forest,
                                MPI_Comm comm, uint64_t* bytes_sent) {
  const int ranks = Size(comm);
  std::vector<std::vector<HoldOutCandidate>> by_owner(ranks);
  for (const HoldOutCandidate& c : forest) by_owner[OwnerOf(c.src, ranks)].push_back(c);
  std::vector<uint64_t> counts(ranks, 0), words;
  for (int r = 0; r < ranks; ++r) {
    const std::vector<uint64_t> part = ToWords(by_owner[r]);
    counts[r] = part.size();
    if (r != Rank(comm)) *bytes_sent += part.size() * sizeof(uint64_t);
    words.insert(words.end(), part.begin(), part.end());
    std::vector<HoldOutCandidate>().swap(by_owner[r]);
  }
  const std::vector<HoldOutCandidate> mine = FromWords(ExchangeValues(words, counts, comm));  // in order
  std::vector<uint8_t> in_forest(own.size(), 0);
  size_t k = 0;
  for (size_t i = 0; i < own.size() && k < mine.size(); ++i) {
    if (HeldOutBefore(own[i], mine[k])) continue;
    GR_CHECK_CODE(!HeldOutBefore(mine[k], own[i]), ErrorCode::kInternal,
                  "hold-out: rank 0's forest has a follow its follower's owner does not");
    in_forest[i] = 1;
    ++k;
  }
  GR_CHECK_CODE(k == mine.size(), ErrorCode::kInternal, "hold-out: rank 0's forest has a follow its follower's owner does not");
  return in_forest;
}

uint64_t SumOverRanks(uint64_t value, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_UINT64_T, MPI_SUM, comm);
  return value;
}

// A candidate's place in the order but for the ids and index: time
// (descending) and tie, in 96 bits, so that a binary search over it finds
// the boundary in 96 steps.
Uint128 Ordinal(const HoldOutCandidate& c) { return (static_cast<Uint128>(UINT32_MAX - c.time) << 64) | c.tie; }

size_t CountUpTo(std::span<const HoldOutCandidate> ordered, Uint128 ordinal) {
  return static_cast<size_t>(
      std::partition_point(ordered.begin(), ordered.end(), [&](const HoldOutCandidate& c) { return Ordinal(c) <= ordinal; }) -
      ordered.begin());
}

// How many of this rank's non-forest candidates (in order) are held out:
// its share of the first `requested` of every rank's.
size_t HeldOutPrefix(std::span<const HoldOutCandidate> kept_out, uint64_t requested, MPI_Comm comm) {
  const uint64_t total = SumOverRanks(kept_out.size(), comm);
  if (requested >= total) return kept_out.size();
  if (requested == 0) return 0;
  // The smallest ordinal with `requested` candidates at or before it.
  Uint128 lo = 0, hi = (Uint128{1} << 96) - 1;
  while (lo < hi) {
    const Uint128 mid = lo + (hi - lo) / 2;
    if (SumOverRanks(CountUpTo(kept_out, mid), comm) >= requested) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const size_t before = lo == 0 ? 0 : CountUpTo(kept_out, lo - 1);
  const uint64_t needed = requested - SumOverRanks(before, comm);  // >= 1 of those at ordinal lo
  // Those share time and tie (repeated rows of a pair, or a hash collision):
  // rank 0 orders them all and names the last one held out.
  const std::span<const HoldOutCandidate> at = kept_out.subspan(before, CountUpTo(kept_out, lo) - before);
  std::vector<uint64_t> counts(Size(comm), 0);
  counts[0] = at.size() * kWords;
  std::vector<HoldOutCandidate> tied = FromWords(ExchangeValues(ToWords(at), counts, comm));
  std::vector<uint64_t> last(kWords, 0);
  if (Rank(comm) == 0) {
    std::sort(tied.begin(), tied.end(), HeldOutBefore);
    GR_CHECK_CODE(needed <= tied.size(), ErrorCode::kInternal, "hold-out: the boundary search lost candidates");
    last = ToWords(std::span(&tied[needed - 1], 1));
  }
  BroadcastFromRoot(std::span(last), comm);
  const HoldOutCandidate boundary = FromWords(last).front();
  return static_cast<size_t>(std::upper_bound(kept_out.begin(), kept_out.end(), boundary, HeldOutBefore) -
                             kept_out.begin());
}

// Drops the entries flagged in `removed` from a CSR's lists and the arrays
// parallel to them.
void RemoveFlagged(const std::vector<uint8_t>& removed, std::vector<uint64_t>& offsets,
                   std::vector<ExternalId>& targets, std::vector<float>& weights, std::vector<uint32_t>* times) {
  uint64_t kept = 0;
  for (size_t a = 0; a + 1 < offsets.size(); ++a) {
    const uint64_t begin = offsets[a], end = offsets[a + 1];
    offsets[a] = kept;
    for (uint64_t j = begin; j < end; ++j) {
      if (removed[j]) continue;
      targets[kept] = targets[j];
      if (!weights.empty()) weights[kept] = weights[j];
      if (times != nullptr && !times->empty()) (*times)[kept] = (*times)[j];
      ++kept;
    }
  }
  offsets.back() = kept;
  targets.resize(kept);
  if (!weights.empty()) weights.resize(kept);
  if (times != nullptr && !times->empty()) times->resize(kept);
}

size_t AccountIndex(const PartitionedFollows& part, ExternalId account) {
  const auto it = std::lower_bound(part.accounts.begin(), part.accounts.end(), account);
  GR_CHECK_CODE(it != part.accounts.end() && *it == account, ErrorCode::kInternal, "hold-out: account ", account,
                " is not on its owner");
  return static_cast<size_t>(it - part.accounts.begin());
}

// Removes the held-out follows from the followee lists here and from the
// follower lists at their followees' owners.
void RemoveHeldOut(std::span<const HoldOutCandidate> held_out, PartitionedFollows& part, MPI_Comm comm,
                   uint64_t* bytes_sent) {
  const int ranks = Size(comm), me = Rank(comm);
  const bool weighted = !part.followee_weights.empty();
  std::vector<uint8_t> removed(part.followees.size(), 0);
  std::vector<std::vector<uint64_t>> to(ranks);  // (followee, follower, weight bits) at the followee's owner
  for (const HoldOutCandidate& c : held_out) {
    const uint64_t j = part.following_offsets[AccountIndex(part, c.src)] + c.index;
    removed[j] = 1;
    const uint32_t weight_bits = weighted ? std::bit_cast<uint32_t>(part.followee_weights[j]) : 0;
    to[OwnerOf(c.dst, ranks)].insert(to[OwnerOf(c.dst, ranks)].end(), {c.dst, c.src, weight_bits});
  }
  RemoveFlagged(removed, part.following_offsets, part.followees, part.followee_weights, &part.followee_times);
  std::vector<uint64_t> counts(ranks), words;
  for (int r = 0; r < ranks; ++r) {
    counts[r] = to[r].size();
    if (r != me) *bytes_sent += to[r].size() * sizeof(uint64_t);
    words.insert(words.end(), to[r].begin(), to[r].end());
    std::vector<uint64_t>().swap(to[r]);
  }
  const std::vector<uint64_t> arrived = ExchangeValues(words, counts, comm);
  removed.assign(part.followers.size(), 0);
  for (size_t i = 0; i + 3 <= arrived.size(); i += 3) {
    const size_t a = AccountIndex(part, arrived[i]);
    // The list is ascending: the follower's rows are together; take one
    // not yet removed with the follow's weight.
    auto row = std::lower_bound(part.followers.begin() + static_cast<ptrdiff_t>(part.followers_offsets[a]),
                                part.followers.begin() + static_cast<ptrdiff_t>(part.followers_offsets[a + 1]),
                                arrived[i + 1]);
    const auto end = part.followers.begin() + static_cast<ptrdiff_t>(part.followers_offsets[a + 1]);
    for (; row != end && *row == arrived[i + 1]; ++row) {
      const auto j = static_cast<size_t>(row - part.followers.begin());
      if (!removed[j] && (!weighted || std::bit_cast<uint32_t>(part.follower_weights[j]) == arrived[i + 2])) break;
    }
    GR_CHECK_CODE(row != end && *row == arrived[i + 1], ErrorCode::kInternal, "hold-out: follow ", arrived[i + 1],
                  " -> ", arrived[i], " is not in its followee's follower list");
    removed[static_cast<size_t>(row - part.followers.begin())] = 1;
  }
  RemoveFlagged(removed, part.followers_offsets, part.followers, part.follower_weights, nullptr);
}

}  // namespace

PartitionedSplit SplitPartitioned(PartitionedFollows part, const graph::EdgeSplitConfig& config, MPI_Comm comm) {
  config.Validate();
  PartitionedSplit split;
  std::vector<HoldOutCandidate> candidates = OwnCandidates(part, config);
  split.candidate_edges = SumOverRanks(candidates.size(), comm);
  split.requested =
      static_cast<uint64_t>(std::llround(config.test_fraction * static_cast<double>(split.candidate_edges)));
  std::vector<HoldOutCandidate> forest = MergeForests(ForestOf(candidates), comm, &split.bytes_sent);
  split.forest_edges = forest.size();
  BroadcastFromRoot(std::span(&split.forest_edges, 1), comm);
  const std::vector<uint8_t> in_forest = MarkForest(candidates, forest, comm, &split.bytes_sent);
  std::vector<HoldOutCandidate>().swap(forest);
  // The candidates outside the forest, in order: the ones that may be held out.
  size_t kept = 0;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!in_forest[i]) candidates[kept++] = candidates[i];
  candidates.resize(kept);
  candidates.resize(HeldOutPrefix(candidates, split.requested, comm));
  const std::vector<HoldOutCandidate>& held_out = candidates;
  for (const HoldOutCandidate& c : held_out) split.test_edges.emplace_back(c.src, c.dst);
  std::sort(split.test_edges.begin(), split.test_edges.end());
  RemoveHeldOut(held_out, part, comm, &split.bytes_sent);
  split.train = std::move(part);
  return split;
}

}  // namespace gr::dist
