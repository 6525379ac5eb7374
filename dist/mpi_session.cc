#include "dist/mpi_session.h"

#include <algorithm>
#include <climits>

#include "core/error.h"

namespace gr::dist {

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  GR_CHECK_CODE(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS, ErrorCode::kInternal,
                "MPI_Init_thread failed");
  GR_CHECK_CODE(provided >= MPI_THREAD_FUNNELED, ErrorCode::kInternal,
                "this MPI does not support MPI_THREAD_FUNNELED");
  rank_ = Rank(MPI_COMM_WORLD);
  size_ = Size(MPI_COMM_WORLD);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

int WorldSizeIfStarted() {
  int started = 0;
  MPI_Initialized(&started);
  return started ? Size(MPI_COMM_WORLD) : 1;
}

int Rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

int Size(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return size;
}

std::vector<uint64_t> ExchangeValues(const std::vector<uint64_t>& values, const std::vector<uint64_t>& counts,
                                     MPI_Comm comm, std::vector<uint64_t>* received, uint64_t max_values_per_round) {
  const int ranks = Size(comm);
  GR_CHECK(static_cast<int>(counts.size()) == ranks, "ExchangeValues: ", counts.size(), " counts for ", ranks,
           " ranks");
  GR_CHECK(max_values_per_round > 0 && max_values_per_round < INT_MAX, "ExchangeValues: ", max_values_per_round,
           " values a round");
  uint64_t sent = 0;
  for (const uint64_t c : counts) sent += c;
  GR_CHECK(sent == values.size(), "ExchangeValues: counts add up to ", sent, ", ", values.size(), " values");
  std::vector<uint64_t> receive_counts(ranks);
  MPI_Alltoall(counts.data(), 1, MPI_UINT64_T, receive_counts.data(), 1, MPI_UINT64_T, comm);
  // A round sends at most `per_peer` values to each rank, so that no rank
  // sends or receives more than max_values_per_round (MPI's counts and
  // offsets are ints); as many rounds as the largest count needs anywhere.
  const uint64_t per_peer = std::max<uint64_t>(1, max_values_per_round / static_cast<uint64_t>(ranks));
  uint64_t rounds = 0;
  for (const uint64_t c : counts) rounds = std::max(rounds, (c + per_peer - 1) / per_peer);
  MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_UINT64_T, MPI_MAX, comm);
  std::vector<uint64_t> send_at(ranks), receive_at(ranks);  // next value to send to / place from each rank
  uint64_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    send_at[r] = r == 0 ? 0 : send_at[r - 1] + counts[r - 1];
    receive_at[r] = total;
    total += receive_counts[r];
  }
  std::vector<uint64_t> out(total);
  std::vector<int> send_counts(ranks), receive_sizes(ranks), send_offsets(ranks), receive_offsets(ranks);
  if (rounds <= 1) {  // everything fits one round: no copies
    for (int r = 0; r < ranks; ++r) {
      send_counts[r] = static_cast<int>(counts[r]);
      receive_sizes[r] = static_cast<int>(receive_counts[r]);
      send_offsets[r] = static_cast<int>(send_at[r]);
      receive_offsets[r] = static_cast<int>(receive_at[r]);
    }
    MPI_Alltoallv(values.data(), send_counts.data(), send_offsets.data(), MPI_UINT64_T, out.data(),
                  receive_sizes.data(), receive_offsets.data(), MPI_UINT64_T, comm);
    if (received != nullptr) *received = receive_counts;
    return out;
  }
  std::vector<uint64_t> send_buffer, receive_buffer;
  std::vector<uint64_t> sent_to(ranks, 0), received_from(ranks, 0);
  for (uint64_t round = 0; round < rounds; ++round) {
    int send_total = 0, receive_total = 0;
    for (int r = 0; r < ranks; ++r) {
      send_counts[r] = static_cast<int>(std::min(per_peer, counts[r] - sent_to[r]));
      receive_sizes[r] = static_cast<int>(std::min(per_peer, receive_counts[r] - received_from[r]));
      send_offsets[r] = send_total;
      receive_offsets[r] = receive_total;
      send_total += send_counts[r];
      receive_total += receive_sizes[r];
    }
    send_buffer.resize(static_cast<size_t>(send_total));
    receive_buffer.resize(static_cast<size_t>(receive_total));
    for (int r = 0; r < ranks; ++r)
      std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(send_at[r] + sent_to[r]), send_counts[r],
                  send_buffer.begin() + send_offsets[r]);
    MPI_Alltoallv(send_buffer.data(), send_counts.data(), send_offsets.data(), MPI_UINT64_T, receive_buffer.data(),
                  receive_sizes.data(), receive_offsets.data(), MPI_UINT64_T, comm);
    for (int r = 0; r < ranks; ++r) {
      std::copy_n(receive_buffer.begin() + receive_offsets[r], receive_sizes[r],
                  out.begin() + static_cast<std::ptrdiff_t>(receive_at[r] + received_from[r]));
      sent_to[r] += static_cast<uint64_t>(send_counts[r]);
      received_from[r] += static_cast<uint64_t>(receive_sizes[r]);
    }
  }
  if (received != nullptr) *received = receive_counts;
  return out;
}

namespace {

constexpr size_t kReducePiece = size_t{1} << 28;

template <typename T>
void AllReduceInPieces(std::span<T> values, MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
  for (size_t at = 0; at < values.size(); at += kReducePiece) {
    const size_t n = std::min(kReducePiece, values.size() - at);
    MPI_Allreduce(MPI_IN_PLACE, values.data() + at, static_cast<int>(n), type, op, comm);
  }
}

}  // namespace

void AllReduceSum(std::span<uint64_t> values, MPI_Comm comm) { AllReduceInPieces(values, MPI_UINT64_T, MPI_SUM, comm); }
void AllReduceSum(std::span<uint16_t> values, MPI_Comm comm) { AllReduceInPieces(values, MPI_UINT16_T, MPI_SUM, comm); }
void AllReduceSum(std::span<float> values, MPI_Comm comm) { AllReduceInPieces(values, MPI_FLOAT, MPI_SUM, comm); }
void AllReduceOr(std::span<uint64_t> values, MPI_Comm comm) { AllReduceInPieces(values, MPI_UINT64_T, MPI_BOR, comm); }

namespace {

template <typename T>
void BroadcastInPieces(std::span<T> values, MPI_Datatype type, MPI_Comm comm) {
  for (size_t at = 0; at < values.size(); at += kReducePiece)
    MPI_Bcast(values.data() + at, static_cast<int>(std::min(kReducePiece, values.size() - at)), type, 0, comm);
}

}  // namespace

void BroadcastFromRoot(std::span<float> values, MPI_Comm comm) { BroadcastInPieces(values, MPI_FLOAT, comm); }
void BroadcastFromRoot(std::span<uint64_t> values, MPI_Comm comm) { BroadcastInPieces(values, MPI_UINT64_T, comm); }
void BroadcastFromRoot(std::span<uint8_t> values, MPI_Comm comm) { BroadcastInPieces(values, MPI_UINT8_T, comm); }

void BroadcastFromRoot(std::string& text, MPI_Comm comm) {
  uint64_t length = text.size();
  BroadcastFromRoot(std::span(&length, 1), comm);
  text.resize(length);
  BroadcastFromRoot(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size()), comm);
}

std::vector<uint64_t> GatherOnRoot(const std::vector<uint64_t>& values, MPI_Comm comm) {
  std::vector<uint64_t> counts(Size(comm), 0);
  counts[0] = values.size();
  return ExchangeValues(values, counts, comm);
}

void OnEveryRankIfAnyFails(MPI_Comm comm, const std::string& what, const std::function<void()>& body) {
  std::string error;
  ErrorCode code = ErrorCode::kInvalidArgument;
  try {
    body();
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  int failed = error.empty() ? 0 : 1, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, comm);
  if (!any_failed) return;
  if (!error.empty()) throw Error(code, error);
  throw Error(ErrorCode::kInvalidArgument, "another rank failed: " + what);
}

}  // namespace gr::dist
