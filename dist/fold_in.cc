#include "dist/fold_in.h"

#include <algorithm>
#include <cmath>

#include "core/alias_table.h"
#include "core/error.h"
#include "dist/mpi_session.h"
#include "dist/walks.h"
#include "graph/edge_split.h"

namespace gr::dist {
namespace {

// What rank 0 knows of the whole graph for the fold-in.
struct RootView {
  std::vector<ExternalId> ids;        // every account, ascending: the table's rows
  std::vector<double> negative_weights;  // per account: (degree along the walk's direction + 1)^0.75
  std::vector<graph::VertexPair> held_out;  // dense ids
};

RootView GatherOnRootView(const PartitionedFollows& full, std::span<const std::pair<ExternalId, ExternalId>> held_out,
                          bool both_directions, MPI_Comm comm, uint64_t& bytes_sent) {
  std::vector<uint64_t> accounts;
  accounts.reserve(2 * full.accounts.size());
  for (size_t a = 0; a < full.accounts.size(); ++a) {
    const uint64_t out = full.following_offsets[a + 1] - full.following_offsets[a];
    const uint64_t in = both_directions ? full.followers_offsets[a + 1] - full.followers_offsets[a] : 0;
    accounts.insert(accounts.end(), {full.accounts[a], out + in});
  }
  std::vector<uint64_t> follows;
  follows.reserve(2 * held_out.size());
  for (const auto& [follower, followee] : held_out) follows.insert(follows.end(), {follower, followee});
  if (Rank(comm) != 0) bytes_sent += (accounts.size() + follows.size()) * sizeof(uint64_t);
  const std::vector<uint64_t> all_accounts = GatherOnRoot(accounts, comm);
  const std::vector<uint64_t> all_follows = GatherOnRoot(follows, comm);
  RootView view;
  if (Rank(comm) != 0) return view;
  std::vector<std::pair<ExternalId, uint64_t>> degrees;
  degrees.reserve(all_accounts.size() / 2);
  for (size_t i = 0; i < all_accounts.size(); i += 2) degrees.emplace_back(all_accounts[i], all_accounts[i + 1]);
  std::sort(degrees.begin(), degrees.end());
  for (const auto& [id, degree] : degrees) {
    view.ids.push_back(id);
    view.negative_weights.push_back(std::pow(static_cast<double>(degree) + 1.0, 0.75));
  }
  const auto dense = [&](ExternalId id) {
    const auto at = std::lower_bound(view.ids.begin(), view.ids.end(), id);
    GR_CHECK_CODE(at != view.ids.end() && *at == id, ErrorCode::kInvalidArgument, "a held-out follow of account ", id,
                  ", which the graph does not have");
    return static_cast<VertexId>(at - view.ids.begin());
  };
  for (size_t i = 0; i < all_follows.size(); i += 2)
    view.held_out.emplace_back(dense(all_follows[i]), dense(all_follows[i + 1]));
  return view;
}

// Rank 0's walks of one round of rows: walk `round` of row i (its place in
// the round) has key i x walks_per_row + round.
struct RoundWalks {
  std::vector<VertexId> tokens;
  std::vector<uint64_t> begin, length;  // per key
};

RoundWalks GatherWalks(const DistributedWalks& walks, uint64_t keys, MPI_Comm comm, uint64_t& bytes_sent) {
  std::vector<uint64_t> mine;
  mine.reserve(2 * walks.keys.size() + walks.tokens.size());
  for (size_t i = 0; i < walks.keys.size(); ++i) {
    mine.insert(mine.end(), {walks.keys[i], walks.offsets[i + 1] - walks.offsets[i]});
    mine.insert(mine.end(), walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i]),
                walks.tokens.begin() + static_cast<int64_t>(walks.offsets[i + 1]));
  }
  if (Rank(comm) != 0) bytes_sent += mine.size() * sizeof(uint64_t);
  const std::vector<uint64_t> all = GatherOnRoot(mine, comm);
  RoundWalks out;
  if (Rank(comm) != 0) return out;
  out.begin.assign(keys, 0);
  out.length.assign(keys, 0);
  out.tokens.reserve(all.size());
  for (size_t at = 0; at < all.size(); at += 2 + all[at + 1]) {
    out.begin[all[at]] = out.tokens.size();
    out.length[all[at]] = all[at + 1];
    for (uint64_t t = 0; t < all[at + 1]; ++t) out.tokens.push_back(static_cast<VertexId>(all[at + 2 + t]));
  }
  return out;
}

}  // namespace

FoldInOnRanks FoldInOnRoot(const PartitionedFollows& full, std::span<const std::pair<ExternalId, ExternalId>> held_out,
                           const walk::WalkConfig& walk, const embed::RowRefreshConfig& config, FloatMatrix* input,
                           const FloatMatrix* output, MPI_Comm comm, size_t rows_per_round,
                           const std::function<void(std::span<const VertexId> rows)>& before) {
  const bool root = Rank(comm) == 0;
  OnEveryRankIfAnyFails(comm, "the fold-in's settings", [&] {
    config.Validate();
    walk.Validate();
    GR_CHECK(walk.kind != walk::WalkKind::kMetapath && walk.direction != walk::Direction::kIn,
             "the fold-in on ranks walks follows out or both ways (uniform, weighted or node2vec)");
    GR_CHECK(rows_per_round >= 1, "rows_per_round must be >= 1");
    if (root)
      GR_CHECK(input != nullptr && output != nullptr && input->rows() == output->rows() &&
                   input->cols() == output->cols(),
               "the fold-in needs rank 0's input and output vectors, of one shape");
  });
  FoldInOnRanks result;
  const bool both = walk.direction == walk::Direction::kBoth;
  RootView view;
  OnEveryRankIfAnyFails(comm, "gathering the held-out follows", [&] {
    view = GatherOnRootView(full, held_out, both, comm, result.bytes_sent);
    if (root)
      GR_CHECK(input->rows() == view.ids.size(), "a table of ", input->rows(), " rows for the ", view.ids.size(),
               " accounts of the graph");
  });
  const DistributedWalkConfig walks_config{.walks_per_vertex = 1,
                                           .walk_length = walk.walk_length,
                                           .both_directions = both,
                                           .seed = walk.seed,
                                           .p = walk.kind == walk::WalkKind::kNode2vec ? walk.p : 1.0,
                                           .q = walk.kind == walk::WalkKind::kNode2vec ? walk.q : 1.0,
                                           .weighted = walk.StepsByWeight(),
                                           .threads = walk.threads};

  const size_t length = walk.walk_length;
  const embed::NewEdgeFirstHops hops(view.held_out, config, length);
  result.rows = embed::EndpointsOf(view.held_out);
  if (root && before) before(result.rows);
  uint64_t rows = result.rows.size();
  BroadcastFromRoot(std::span(&rows, 1), comm);
  const AliasTable negatives = root && !view.negative_weights.empty() ? AliasTable(view.negative_weights) : AliasTable();
  for (uint64_t first = 0; first < rows; first += rows_per_round) {
    const uint64_t count = std::min<uint64_t>(rows_per_round, rows - first);
    const std::span<const VertexId> round_rows =
        root ? std::span<const VertexId>(result.rows).subspan(first, count) : std::span<const VertexId>();
    std::vector<WalkRequest> requests;
    for (const VertexId row : round_rows)
      for (uint32_t round = 0; round < config.walks_per_row; ++round) {
        const VertexId* next = hops.FirstHop(row, round);
        requests.push_back({.start = view.ids[next != nullptr ? *next : row], .round = round});
      }
    const DistributedWalks walks = DistributedWalksFrom(full, requests, walks_config, comm);
    const RoundWalks gathered = GatherWalks(walks, count * config.walks_per_row, comm, result.bytes_sent);
    OnEveryRankIfAnyFails(comm, "refreshing the rows", [&] {
      if (!root) return;
      std::vector<embed::RowToRefresh> targets;
      for (const VertexId row : round_rows) targets.push_back({row, input->Row(row).data()});
      const auto walk_from = [&](VertexId row, uint64_t round, std::span<VertexId> out) -> size_t {
        const auto place = static_cast<uint64_t>(std::lower_bound(round_rows.begin(), round_rows.end(), row) -
                                                 round_rows.begin());
        const uint64_t key = place * config.walks_per_row + round;
        const VertexId* walked = gathered.tokens.data() + gathered.begin[key];
        size_t at = 0;
        if (hops.FirstHop(row, round) != nullptr) out[at++] = row;
        const size_t take = std::min<size_t>(gathered.length[key], out.size() - at);
        std::copy(walked, walked + take, out.begin() + static_cast<int64_t>(at));
        return at + take;
      };
      const embed::RowRefreshStats stats = embed::RefreshRows(
          walk_from, length, targets, negatives, config, input->cols(),
          [&](VertexId token) { return output->Row(token).data(); });
      result.stats.rows += stats.rows;
      result.stats.walks += stats.walks;
      result.stats.pairs += stats.pairs;
      result.stats.seconds += stats.seconds;
    });
  }
  return result;
}

}  // namespace gr::dist
