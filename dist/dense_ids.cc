#include "dist/dense_ids.h"

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "dist/mpi_session.h"

namespace gr::dist {

std::vector<VertexId> GlobalDenseIds(std::span<const ExternalId> accounts, MPI_Comm comm, uint64_t* total) {
  GR_CHECK(std::adjacent_find(accounts.begin(), accounts.end(), std::greater_equal<>()) == accounts.end(),
           "GlobalDenseIds: this rank's accounts are not strictly ascending");
  const int ranks = Size(comm);
  constexpr size_t kSamplePerRank = 64;
  // Splitters: quantiles of an evenly spaced sample of every rank's ids.
  std::vector<uint64_t> sample;
  const size_t n = std::min(kSamplePerRank, accounts.size());
  for (size_t i = 0; i < n; ++i) sample.push_back(accounts[i * accounts.size() / n]);
  int sample_count = static_cast<int>(sample.size());
  std::vector<int> sample_counts(ranks), sample_offsets(ranks);
  MPI_Allgather(&sample_count, 1, MPI_INT, sample_counts.data(), 1, MPI_INT, comm);
  int all_samples = 0;
  for (int r = 0; r < ranks; ++r) {
    sample_offsets[r] = all_samples;
    all_samples += sample_counts[r];
  }
  std::vector<uint64_t> samples(static_cast<size_t>(all_samples));
  MPI_Allgatherv(sample.data(), sample_count, MPI_UINT64_T, samples.data(), sample_counts.data(),
                 sample_offsets.data(), MPI_UINT64_T, comm);
  std::sort(samples.begin(), samples.end());
  std::vector<uint64_t> splitters;  // range r holds ids in [splitters[r-1], splitters[r])
  for (int r = 1; r < ranks; ++r)
    splitters.push_back(samples.empty() ? 0 : samples[static_cast<size_t>(r) * samples.size() / ranks]);

  // Each id to its range's owner; ascending ids make each destination's part contiguous.
  std::vector<uint64_t> counts(ranks, 0);
  for (const ExternalId id : accounts)
    ++counts[std::upper_bound(splitters.begin(), splitters.end(), id) - splitters.begin()];
  std::vector<uint64_t> from_counts;
  const std::vector<uint64_t> ids(accounts.begin(), accounts.end());
  const std::vector<uint64_t> received = ExchangeValues(ids, counts, comm, &from_counts);

  // Number this range after the ranges before it.
  std::vector<uint64_t> sorted = received;
  std::sort(sorted.begin(), sorted.end());
  uint64_t here = sorted.size(), before = 0, all = 0;
  MPI_Exscan(&here, &before, 1, MPI_UINT64_T, MPI_SUM, comm);
  if (Rank(comm) == 0) before = 0;  // MPI_Exscan leaves rank 0's result undefined
  MPI_Allreduce(&here, &all, 1, MPI_UINT64_T, MPI_SUM, comm);
  GR_CHECK(all <= kMaxVertices, "GlobalDenseIds: ", all, " accounts, more than VertexId can number");
  std::vector<uint64_t> numbers(received.size());
  for (size_t i = 0; i < received.size(); ++i)
    numbers[i] = before + static_cast<uint64_t>(std::lower_bound(sorted.begin(), sorted.end(), received[i]) -
                                                sorted.begin());
  // Back to where each id came from, in the order it was sent.
  const std::vector<uint64_t> back = ExchangeValues(numbers, from_counts, comm);
  if (total != nullptr) *total = all;
  return std::vector<VertexId>(back.begin(), back.end());
}

std::vector<ExternalId> GatherAccountsOnRoot(std::span<const ExternalId> accounts, MPI_Comm comm) {
  const int ranks = Size(comm);
  GR_CHECK(accounts.size() < INT_MAX, "dist: ", accounts.size(), " accounts on one rank (at most 2^31 - 1)");
  int count = static_cast<int>(accounts.size());
  std::vector<int> counts(ranks), displacements(ranks);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);  // so every rank checks the total
  int64_t all = 0;
  for (int r = 0; r < ranks; ++r) {
    displacements[r] = static_cast<int>(all);
    all += counts[r];
  }
  GR_CHECK(all < INT_MAX, "dist: ", all, " accounts to gather (at most 2^31 - 1)");
  std::vector<ExternalId> out(Rank(comm) == 0 ? static_cast<size_t>(all) : 0);
  MPI_Gatherv(accounts.data(), count, MPI_UINT64_T, out.data(), counts.data(), displacements.data(), MPI_UINT64_T, 0,
              comm);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gr::dist
