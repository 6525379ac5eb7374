#include "dist/warm_start.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"

namespace gr::dist {

namespace {

// The previous table's rows of one kind, on every rank.
struct PreviousRows {
  std::vector<ExternalId> ids;
  FloatMatrix input, output;  // output empty when the table has none
  std::unordered_map<ExternalId, size_t> row_of;
};

PreviousRows ShareRows(const embed::EmbeddingTable* previous, embed::TokenKind kind, MPI_Comm comm) {
  PreviousRows rows;
  uint64_t shape[3] = {0, 0, 0};  // rows, dim, has output
  if (Rank(comm) == 0) {
    for (size_t r = 0; r < previous->rows(); ++r)
      if (previous->kinds[r] == kind) rows.ids.push_back(previous->ids[r]);
    shape[0] = rows.ids.size();
    shape[1] = previous->dim();
    shape[2] = previous->output.empty() ? 0 : 1;
  }
  BroadcastFromRoot(std::span(shape), comm);
  const size_t n = shape[0], d = shape[1];
  rows.ids.resize(n);
  rows.input = FloatMatrix(n, d);
  rows.output = FloatMatrix(shape[2] != 0 ? n : 0, d);
  if (Rank(comm) == 0) {
    for (size_t r = 0, row = 0; r < previous->rows(); ++r) {
      if (previous->kinds[r] != kind) continue;
      std::ranges::copy(previous->input.Row(r), rows.input.Row(row).begin());
      if (!rows.output.empty()) std::ranges::copy(previous->output.Row(r), rows.output.Row(row).begin());
      ++row;
    }
  }
  BroadcastFromRoot(std::span(rows.ids), comm);
  BroadcastFromRoot(rows.input.Data(), comm);
  BroadcastFromRoot(rows.output.Data(), comm);
  rows.row_of.reserve(n);
  for (size_t r = 0; r < n; ++r) rows.row_of.emplace(rows.ids[r], r);
  return rows;
}

}  // namespace

embed::WarmStart DistributedWarmStart(const embed::EmbeddingTable* previous, const PartitionedFollows& graph,
                                      MPI_Comm comm, const PartitionedPosts* posts) {
  if (Rank(comm) == 0) GR_CHECK(previous != nullptr, "DistributedWarmStart: rank 0 needs the previous table");
  const PreviousRows previous_accounts = ShareRows(previous, embed::TokenKind::kAccount, comm);
  GR_CHECK(!previous_accounts.ids.empty() && previous_accounts.input.cols() > 0,
           "the previous embedding table is empty");
  const size_t d = previous_accounts.input.cols();
  const bool has_output = !previous_accounts.output.empty();
  const FloatMatrix& input = previous_accounts.input;
  const FloatMatrix& output = previous_accounts.output;
  const std::unordered_map<ExternalId, size_t>& row_of = previous_accounts.row_of;

  // This rank's accounts' rows (and posts' after all accounts); every other
  // row stays zero for the sum.
  uint64_t accounts = 0, posts_in_all = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts);
  const std::vector<VertexId> post_dense =
      posts != nullptr ? GlobalDenseIds(posts->posts, comm, &posts_in_all) : std::vector<VertexId>();
  const uint64_t rows = accounts + posts_in_all;
  embed::WarmStart warm;
  warm.input = FloatMatrix(rows, d);
  warm.output = FloatMatrix(rows, d);
  std::vector<uint16_t> known(rows, 0);
  uint64_t counts[3] = {0, 0, 0};  // copied, averaged, copied posts
  for (size_t a = 0; a < graph.accounts.size(); ++a) {
    float* in = warm.input.Row(dense[a]).data();
    float* out = warm.output.Row(dense[a]).data();
    if (const auto found = row_of.find(graph.accounts[a]); found != row_of.end()) {
      std::copy_n(input.Row(found->second).data(), d, in);
      if (has_output) std::copy_n(output.Row(found->second).data(), d, out);
      known[dense[a]] = 1;
      ++counts[0];
      continue;
    }
    size_t neighbours = 0;
    const auto add = [&](std::span<const ExternalId> list) {
      for (const ExternalId u : list) {
        const auto found = row_of.find(u);
        if (found == row_of.end()) continue;
        ++neighbours;
        for (size_t x = 0; x < d; ++x) {
          in[x] += input.At(found->second, x);
          if (has_output) out[x] += output.At(found->second, x);
        }
      }
    };
    add({graph.followees.data() + graph.following_offsets[a], graph.following_offsets[a + 1] - graph.following_offsets[a]});
    add({graph.followers.data() + graph.followers_offsets[a], graph.followers_offsets[a + 1] - graph.followers_offsets[a]});
    if (neighbours == 0) continue;
    const float scale = 1.0f / static_cast<float>(neighbours);
    for (size_t x = 0; x < d; ++x) {
      in[x] *= scale;
      out[x] *= scale;
    }
    known[dense[a]] = 1;
    ++counts[1];
  }
  if (posts != nullptr) {
    const PreviousRows previous_posts = ShareRows(previous, embed::TokenKind::kPost, comm);
    for (size_t p = 0; p < posts->posts.size(); ++p) {
      const auto found = previous_posts.row_of.find(posts->posts[p]);
      if (found == previous_posts.row_of.end()) continue;  // a new post starts random
      const size_t row = accounts + post_dense[p];
      std::ranges::copy(previous_posts.input.Row(found->second), warm.input.Row(row).begin());
      if (has_output) std::ranges::copy(previous_posts.output.Row(found->second), warm.output.Row(row).begin());
      known[row] = 1;
      ++counts[2];
    }
  }
  // Each row is one rank's (the others add zeros): the sum is that row.
  AllReduceSum(warm.input.Data(), comm);
  AllReduceSum(warm.output.Data(), comm);
  AllReduceSum(std::span(known), comm);
  AllReduceSum(std::span(counts), comm);
  warm.known.assign(known.begin(), known.end());
  warm.copied = counts[0];
  warm.averaged = counts[1];
  warm.copied_posts = counts[2];
  return warm;
}

}  // namespace gr::dist
