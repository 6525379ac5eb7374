// MPI for graphrec's distributed runs (issue 20): one session per process.
// Without mpirun the session is a world of one rank, so the same code runs
// single-process.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace gr::dist {

class MpiSession {
 public:
  // MPI_Init_thread(FUNNELED): only the main thread calls MPI; OpenMP
  // threads work between the calls. Throws kInternal if MPI fails to start.
  MpiSession(int* argc, char*** argv);
  ~MpiSession();  // MPI_Finalize
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0, size_ = 1;
};

// Ranks in MPI_COMM_WORLD, or 1 when MPI was not started (a plain run of
// a program that starts it only under mpirun).
int WorldSizeIfStarted();

// Rank and size of `comm`.
int Rank(MPI_Comm comm);
int Size(MPI_Comm comm);

// Collective all-to-all of 64-bit values: `values` holds the values for rank
// 0, then rank 1, ... (`counts[r]` of them for rank r). Returns what the
// other ranks sent here, grouped by source rank in rank order; `received`
// (if given) gets the count from each. Any sizes: in rounds of at most
// `max_values_per_round` values sent or received per rank (MPI counts are
// ints; the buffers of a round are copies).
std::vector<uint64_t> ExchangeValues(const std::vector<uint64_t>& values, const std::vector<uint64_t>& counts,
                                     MPI_Comm comm, std::vector<uint64_t>* received = nullptr,
                                     uint64_t max_values_per_round = uint64_t{1} << 27);

// Collective: every rank's `values`, concatenated in rank order on rank 0
// (empty elsewhere); any sizes (ExchangeValues).
std::vector<uint64_t> GatherOnRoot(const std::vector<uint64_t>& values, MPI_Comm comm);

// In-place all-reduces over every rank's `values` (the same length on every
// rank), in pieces of at most 2^28 values, so any length works.
void AllReduceSum(std::span<uint64_t> values, MPI_Comm comm);
void AllReduceSum(std::span<uint16_t> values, MPI_Comm comm);
void AllReduceSum(std::span<float> values, MPI_Comm comm);
void AllReduceOr(std::span<uint64_t> values, MPI_Comm comm);

// Rank 0's `values` on every rank (the same length everywhere), in pieces.
void BroadcastFromRoot(std::span<float> values, MPI_Comm comm);
void BroadcastFromRoot(std::span<uint64_t> values, MPI_Comm comm);
void BroadcastFromRoot(std::span<uint8_t> values, MPI_Comm comm);
// Rank 0's `text` on every rank (any length: the others' is replaced).
void BroadcastFromRoot(std::string& text, MPI_Comm comm);

// Collective: runs `body`; if it throws gr::Error on any rank, every rank
// throws (the failing rank its own error, the others kInvalidArgument
// "another rank failed: `what`"), so no rank is left waiting in a later
// collective for one that gave up.
void OnEveryRankIfAnyFails(MPI_Comm comm, const std::string& what, const std::function<void()>& body);

}  // namespace gr::dist
