#include "dist/warm_start.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "dist/dense_ids.h"
#include "dist/mpi_session.h"

namespace gr::dist {

embed::WarmStart DistributedWarmStart(const embed::EmbeddingTable* previous, const PartitionedFollows& graph,
                                      MPI_Comm comm) {
  // The previous table's account rows, on every rank.
  uint64_t shape[3] = {0, 0, 0};  // rows, dim, has output
  std::vector<ExternalId> ids;
  if (Rank(comm) == 0) {
    GR_CHECK(previous != nullptr, "DistributedWarmStart: rank 0 needs the previous table");
    for (size_t r = 0; r < previous->rows(); ++r)
      if (previous->kinds[r] == embed::TokenKind::kAccount) ids.push_back(previous->ids[r]);
    shape[0] = ids.size();
    shape[1] = previous->dim();
    shape[2] = previous->output.empty() ? 0 : 1;
  }
  BroadcastFromRoot(std::span(shape), comm);
  GR_CHECK(shape[0] > 0 && shape[1] > 0, "the previous embedding table is empty");
  const size_t rows = shape[0], d = shape[1];
  const bool has_output = shape[2] != 0;
  ids.resize(rows);
  FloatMatrix input(rows, d), output(has_output ? rows : 0, d);
  if (Rank(comm) == 0) {
    for (size_t r = 0, row = 0; r < previous->rows(); ++r) {
      if (previous->kinds[r] != embed::TokenKind::kAccount) continue;
      std::ranges::copy(previous->input.Row(r), input.Row(row).begin());
      if (has_output) std::ranges::copy(previous->output.Row(r), output.Row(row).begin());
      ++row;
    }
  }
  BroadcastFromRoot(std::span(ids), comm);
  BroadcastFromRoot(input.Data(), comm);
  BroadcastFromRoot(output.Data(), comm);
  std::unordered_map<ExternalId, size_t> row_of;
  row_of.reserve(rows);
  for (size_t r = 0; r < rows; ++r) row_of.emplace(ids[r], r);

  // This rank's accounts' rows; every other row stays zero for the sum.
  uint64_t accounts = 0;
  const std::vector<VertexId> dense = GlobalDenseIds(graph.accounts, comm, &accounts);
  embed::WarmStart warm;
  warm.input = FloatMatrix(accounts, d);
  warm.output = FloatMatrix(accounts, d);
  std::vector<uint16_t> known(accounts, 0);
  uint64_t counts[2] = {0, 0};  // copied, averaged
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
  // Each row is one rank's (the others add zeros): the sum is that row.
  AllReduceSum(warm.input.Data(), comm);
  AllReduceSum(warm.output.Data(), comm);
  AllReduceSum(std::span(known), comm);
  AllReduceSum(std::span(counts), comm);
  warm.known.assign(known.begin(), known.end());
  warm.copied = counts[0];
  warm.averaged = counts[1];
  return warm;
}

}  // namespace gr::dist
