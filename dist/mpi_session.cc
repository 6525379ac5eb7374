#include "dist/mpi_session.h"

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

}  // namespace gr::dist
