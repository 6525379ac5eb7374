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
                                     MPI_Comm comm, std::vector<uint64_t>* received) {
  const int ranks = Size(comm);
  GR_CHECK(static_cast<int>(counts.size()) == ranks, "ExchangeValues: ", counts.size(), " counts for ", ranks,
           " ranks");
  GR_CHECK(values.size() < INT_MAX, "dist: ", values.size(), " values for one exchange (at most 2^31 - 1; not chunked yet)");
  std::vector<int> send_counts(ranks), receive_counts(ranks), send_offsets(ranks), receive_offsets(ranks);
  uint64_t sent = 0;
  for (int r = 0; r < ranks; ++r) {
    send_offsets[r] = static_cast<int>(sent);
    send_counts[r] = static_cast<int>(counts[r]);
    sent += counts[r];
  }
  GR_CHECK(sent == values.size(), "ExchangeValues: counts add up to ", sent, ", ", values.size(), " values");
  MPI_Alltoall(send_counts.data(), 1, MPI_INT, receive_counts.data(), 1, MPI_INT, comm);
  int64_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    receive_offsets[r] = static_cast<int>(total);
    total += receive_counts[r];
  }
  GR_CHECK(total < INT_MAX, "dist: ", total, " values received in one exchange (at most 2^31 - 1; not chunked yet)");
  std::vector<uint64_t> out(static_cast<size_t>(total));
  MPI_Alltoallv(values.data(), send_counts.data(), send_offsets.data(), MPI_UINT64_T, out.data(),
                receive_counts.data(), receive_offsets.data(), MPI_UINT64_T, comm);
  if (received != nullptr) received->assign(receive_counts.begin(), receive_counts.end());
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
