#include "dist/partitioned_link_eval.h"

#include <algorithm>
#include <functional>
#include <span>
#include <unordered_set>

#include "core/error.h"
#include "core/rng.h"
#include "dist/mpi_session.h"

namespace gr::dist {
namespace {

// Rank 0 sends each rank r its requests (requests[r], `request_width`
// values each; only rank 0's argument is read), every rank answers each
// with `answer_width` values, and rank 0 gets the answers in the order of
// its requests, rank by rank. Collective.
std::vector<uint64_t> AskRanks(const std::vector<std::vector<uint64_t>>& requests, size_t request_width,
                               size_t answer_width,
                               const std::function<void(const uint64_t* request, uint64_t* answer)>& answer,
                               MPI_Comm comm) {
  const int ranks = Size(comm);
  std::vector<uint64_t> counts(ranks, 0), flat;
  if (Rank(comm) == 0) {
    for (int r = 0; r < ranks; ++r) {
      counts[r] = requests[r].size();
      flat.insert(flat.end(), requests[r].begin(), requests[r].end());
    }
  }
  const std::vector<uint64_t> mine = ExchangeValues(flat, counts, comm);
  std::vector<uint64_t> answers(mine.size() / request_width * answer_width);
  for (size_t i = 0; i < mine.size() / request_width; ++i)
    answer(mine.data() + i * request_width, answers.data() + i * answer_width);
  std::vector<uint64_t> to_root(ranks, 0);
  to_root[0] = answers.size();
  return ExchangeValues(answers, to_root, comm);
}

// Every rank's `count` on rank 0 (zeros elsewhere).
std::vector<uint64_t> CountsOnRoot(uint64_t count, MPI_Comm comm) {
  std::vector<uint64_t> counts(Size(comm), 0);
  MPI_Gather(&count, 1, MPI_UINT64_T, counts.data(), 1, MPI_UINT64_T, 0, comm);
  return counts;
}

// k distinct indices of [0, total), uniformly (all of them when k is 0 or
// at least total), ascending: Floyd's algorithm.
std::vector<uint64_t> SampleIndices(uint64_t total, size_t k, Rng& rng) {
  std::vector<uint64_t> chosen;
  if (k == 0 || k >= total) {
    chosen.resize(total);
    for (uint64_t i = 0; i < total; ++i) chosen[i] = i;
    return chosen;
  }
  std::unordered_set<uint64_t> taken;
  for (uint64_t j = total - k; j < total; ++j) {
    const uint64_t t = rng.Uniform(j + 1);
    taken.insert(taken.insert(t).second ? t : j);
  }
  chosen.assign(taken.begin(), taken.end());
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// Global indices (ascending) as each rank's local ones, given the ranks' counts.
std::vector<std::vector<uint64_t>> ByRank(const std::vector<uint64_t>& global, const std::vector<uint64_t>& counts) {
  std::vector<std::vector<uint64_t>> local(counts.size());
  uint64_t first = 0;
  size_t r = 0;
  for (const uint64_t index : global) {
    while (index >= first + counts[r]) first += counts[r++];
    local[r].push_back(index - first);
  }
  return local;
}

// A uniform sample of up to max_pairs (0 = all) of the pairs the ranks
// hold (`count` here, the i-th by `pair_at`), on rank 0.
std::vector<AccountPair> SamplePairs(uint64_t count, const std::function<AccountPair(uint64_t)>& pair_at,
                                     size_t max_pairs, Rng& rng, MPI_Comm comm) {
  const std::vector<uint64_t> counts = CountsOnRoot(count, comm);
  std::vector<std::vector<uint64_t>> requests;
  if (Rank(comm) == 0) {
    uint64_t total = 0;
    for (const uint64_t c : counts) total += c;
    requests = ByRank(SampleIndices(total, max_pairs, rng), counts);
  }
  const std::vector<uint64_t> answers = AskRanks(requests, 1, 2, [&](const uint64_t* index, uint64_t* pair) {
    std::tie(pair[0], pair[1]) = pair_at(*index);
  }, comm);
  std::vector<AccountPair> pairs;
  for (size_t i = 0; i + 1 < answers.size(); i += 2) pairs.emplace_back(answers[i], answers[i + 1]);
  return pairs;
}

struct PairHash {
  size_t operator()(const AccountPair& p) const { return MixSeed(p.first, p.second); }
};

// Whether follower -> followee is a follow of the whole graph (a training
// or a held-out follow); `follower` is an account of this rank.
bool IsFollow(const PartitionedSplit& split, ExternalId follower, ExternalId followee) {
  const PartitionedFollows& f = split.train;
  const auto it = std::lower_bound(f.accounts.begin(), f.accounts.end(), follower);
  if (it == f.accounts.end() || *it != follower) return false;
  const size_t a = static_cast<size_t>(it - f.accounts.begin());
  const auto begin = f.followees.begin() + static_cast<ptrdiff_t>(f.following_offsets[a]);
  const auto end = f.followees.begin() + static_cast<ptrdiff_t>(f.following_offsets[a + 1]);
  return std::binary_search(begin, end, followee) ||
         std::binary_search(split.test_edges.begin(), split.test_edges.end(), AccountPair{follower, followee});
}

// `count` distinct pairs of accounts, u != v, that are not follows of the
// whole graph, drawn uniformly by rank 0 in rounds: it draws account
// numbers, asks their ranks for the ids, then asks each pair's follower's
// owner whether it is a follow.
std::vector<AccountPair> SampleNonEdges(const PartitionedSplit& split, size_t count, Rng& rng, MPI_Comm comm) {
  const int ranks = Size(comm);
  const bool root = Rank(comm) == 0;
  const std::vector<uint64_t> counts = CountsOnRoot(split.train.accounts.size(), comm);
  uint64_t accounts = split.train.accounts.size();
  MPI_Allreduce(MPI_IN_PLACE, &accounts, 1, MPI_UINT64_T, MPI_SUM, comm);
  const uint64_t max_tries = 100 * static_cast<uint64_t>(count) + 1000;
  uint64_t tries = 0;
  std::vector<AccountPair> found;
  std::unordered_set<AccountPair, PairHash> taken;
  if (Rank(comm) == 0) taken.reserve(count);
  for (;;) {
    // Rank 0 decides whether to go on; every rank must know.
    uint64_t state[2] = {found.size() < count ? 1u : 0u, 0};  // more to draw, failed
    if (root && state[0] != 0 && (accounts < 2 || tries > max_tries)) state[1] = 1;
    BroadcastFromRoot(std::span(state), comm);
    GR_CHECK_CODE(state[1] == 0, ErrorCode::kInvalidArgument, "could not sample ", count, " non-edges among ",
                  accounts, " accounts (graph too small or too dense)");
    if (state[0] == 0) break;
    // Twice the pairs still missing: most random pairs of a sparse graph are non-edges.
    const size_t batch = 2 * (count - found.size()) + 16;
    std::vector<uint64_t> draws;
    if (root) {
      draws.resize(2 * batch);
      for (uint64_t& d : draws) d = rng.Uniform(accounts);
      tries += batch;
    }
    // The draws as account ids, asked in ascending order (ByRank's), put
    // back in draw order.
    std::vector<std::pair<uint64_t, uint64_t>> sorted(draws.size());  // (draw, its place)
    for (size_t i = 0; i < draws.size(); ++i) sorted[i] = {draws[i], i};
    std::sort(sorted.begin(), sorted.end());
    std::vector<uint64_t> ascending(sorted.size());
    for (size_t i = 0; i < sorted.size(); ++i) ascending[i] = sorted[i].first;
    const std::vector<uint64_t> ids_sorted =
        AskRanks(root ? ByRank(ascending, counts) : std::vector<std::vector<uint64_t>>{}, 1, 1,
                 [&](const uint64_t* index, uint64_t* id) { *id = split.train.accounts[*index]; }, comm);
    std::vector<ExternalId> ids(draws.size());
    for (size_t i = 0; i < sorted.size() && root; ++i) ids[sorted[i].second] = ids_sorted[i];
    // Candidate pairs to their follower's owner, who says which are follows.
    std::vector<AccountPair> candidates;
    std::vector<std::vector<uint64_t>> checks(ranks);
    for (size_t i = 0; root && i < batch; ++i) {
      const AccountPair pair{ids[2 * i], ids[2 * i + 1]};
      if (pair.first == pair.second) continue;
      candidates.push_back(pair);
      checks[OwnerOf(pair.first, ranks)].insert(checks[OwnerOf(pair.first, ranks)].end(), {pair.first, pair.second});
    }
    const std::vector<uint64_t> follows = AskRanks(checks, 2, 1, [&](const uint64_t* pair, uint64_t* is_follow) {
      *is_follow = IsFollow(split, pair[0], pair[1]) ? 1 : 0;
    }, comm);
    if (!root) continue;
    // The answers come rank by rank, each in its candidates' order.
    std::vector<size_t> next(ranks, 0), first(ranks, 0);
    for (int r = 1; r < ranks; ++r) first[r] = first[r - 1] + checks[r - 1].size() / 2;
    for (const AccountPair& pair : candidates) {
      const int owner = OwnerOf(pair.first, ranks);
      const bool is_follow = follows[first[owner] + next[owner]++] != 0;
      if (found.size() < count && !is_follow && taken.insert(pair).second) found.push_back(pair);
    }
  }
  return found;
}

}  // namespace

LinkPairs SampleLinkPairs(const PartitionedSplit& split, size_t max_pairs, uint64_t seed, MPI_Comm comm) {
  uint64_t held_out = split.test_edges.size();
  MPI_Allreduce(MPI_IN_PLACE, &held_out, 1, MPI_UINT64_T, MPI_SUM, comm);
  GR_CHECK(held_out > 0, "nothing could be held out: every edge is needed to keep the graph connected");
  const PartitionedFollows& f = split.train;
  // The i-th followee entry here, with its follower: the account whose list holds i.
  const auto follow_at = [&](uint64_t i) {
    const auto list = std::upper_bound(f.following_offsets.begin(), f.following_offsets.end(), i) - 1;
    return AccountPair{f.accounts[static_cast<size_t>(list - f.following_offsets.begin())], f.followees[i]};
  };
  LinkPairs pairs;
  Rng train_rng(MixSeed(seed, 1)), test_rng(MixSeed(seed, 2)), non_edge_rng(MixSeed(seed, 4));
  pairs.train_edges = SamplePairs(f.followees.size(), follow_at, max_pairs, train_rng, comm);
  pairs.test_edges = SamplePairs(split.test_edges.size(), [&](uint64_t i) { return split.test_edges[i]; }, max_pairs,
                                 test_rng, comm);
  uint64_t sizes[2] = {pairs.test_edges.size(), pairs.train_edges.size()};
  BroadcastFromRoot(std::span(sizes), comm);
  std::vector<AccountPair> non_edges = SampleNonEdges(split, sizes[0] + sizes[1], non_edge_rng, comm);
  if (Rank(comm) == 0) {
    pairs.test_non_edges.assign(non_edges.begin(), non_edges.begin() + static_cast<ptrdiff_t>(sizes[0]));
    pairs.train_non_edges.assign(non_edges.begin() + static_cast<ptrdiff_t>(sizes[0]), non_edges.end());
  }
  return pairs;
}

embed::LinkPredictionScores ScoreLinkPairs(const LinkPairs& pairs, const embed::EmbeddingTable& table) {
  std::vector<std::pair<ExternalId, size_t>> rows;  // account id, row
  for (size_t r = 0; r < table.rows(); ++r)
    if (table.kinds.empty() || table.kinds[r] == embed::TokenKind::kAccount) rows.emplace_back(table.ids[r], r);
  std::sort(rows.begin(), rows.end());
  const auto row_of = [&](ExternalId account) {
    const auto it = std::lower_bound(rows.begin(), rows.end(), std::pair<ExternalId, size_t>{account, 0});
    GR_CHECK(it != rows.end() && it->first == account, "account ", account, " of a scored pair has no vector");
    return it->second;
  };
  const auto as_rows = [&](const std::vector<AccountPair>& list) {
    std::vector<embed::RowPair> out;
    out.reserve(list.size());
    for (const auto& [u, v] : list) out.emplace_back(row_of(u), row_of(v));
    return out;
  };
  return embed::LinkPrediction(table.input, as_rows(pairs.train_edges), as_rows(pairs.train_non_edges),
                               as_rows(pairs.test_edges), as_rows(pairs.test_non_edges));
}

}  // namespace gr::dist
