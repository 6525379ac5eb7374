// The partitioned follow graph's cost per rank (issue 20):
//   mpirun -np N dist_partition_bench FOLLOWS.tsv [WALKS_PER_VERTEX WALK_LENGTH [P Q]]
// Prints one JSON line per rank: accounts and follow edges held, graph bytes
// (dist::PartitionedFollows::MemoryBytes), bytes sent in the edge exchange,
// lines read and seconds; then the time to give every account its global
// dense id (dist/dense_ids.h); then, given a walk count and length, uniform
// walks in both directions (dist/walks.h), node2vec with P and Q: steps
// taken on the rank, walkers sent away (of them, node2vec adjacency tests
// sent to prev's owner), bytes sent (walkers and the tokens going to their
// assembler), supersteps and seconds.
#include <chrono>
#include <cstdio>
#include <string>
#include <nlohmann/json.hpp>

#include "dist/dense_ids.h"
#include "dist/mpi_session.h"
#include "dist/walks.h"
#include "dist/partitioned_graph.h"

int main(int argc, char** argv) {
  gr::dist::MpiSession mpi(&argc, &argv);
  if (argc != 2 && argc != 4 && argc != 6) {
    if (mpi.rank() == 0)
      std::fprintf(stderr,
                   "usage: mpirun -np N dist_partition_bench FOLLOWS.tsv [WALKS_PER_VERTEX WALK_LENGTH [P Q]]\n");
    return 2;
  }
  MPI_Barrier(mpi.comm());
  const auto start = std::chrono::steady_clock::now();
  const gr::dist::PartitionedFollows part = gr::dist::LoadPartitionedFollows(argv[1], mpi.comm());
  MPI_Barrier(mpi.comm());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto numbering = std::chrono::steady_clock::now();
  uint64_t total = 0;
  const std::vector<gr::VertexId> dense = gr::dist::GlobalDenseIds(part.accounts, mpi.comm(), &total);
  MPI_Barrier(mpi.comm());
  const double dense_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - numbering).count();
  nlohmann::json walks_json;
  if (argc >= 4) {
    gr::dist::DistributedWalkConfig config;
    config.walks_per_vertex = static_cast<uint32_t>(std::stoul(argv[2]));
    config.walk_length = static_cast<uint32_t>(std::stoul(argv[3]));
    if (argc == 6) {
      config.p = std::stod(argv[4]);
      config.q = std::stod(argv[5]);
    }
    MPI_Barrier(mpi.comm());
    const auto walking = std::chrono::steady_clock::now();
    const gr::dist::DistributedWalks walks = gr::dist::DistributedRandomWalks(part, config, mpi.comm());
    MPI_Barrier(mpi.comm());
    walks_json = {{"steps", walks.steps},
                  {"walks_assembled", walks.keys.size()},
                  {"walker_moves_sent", walks.walker_moves_sent},
                  {"adjacency_tests_sent", walks.adjacency_tests_sent},
                  {"rejected_proposals", walks.rejected_proposals},
                  {"tests_a_filter_would_settle", walks.tests_a_filter_would_settle},
                  {"bytes_sent", walks.bytes_sent},
                  {"supersteps", walks.supersteps},
                  {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - walking).count()}};
  }
  const std::string line = nlohmann::json{{"rank", mpi.rank()},
                                          {"ranks", mpi.size()},
                                          {"accounts", part.accounts.size()},
                                          {"following_edges", part.followees.size()},
                                          {"graph_bytes", part.MemoryBytes()},
                                          {"bytes_sent", part.bytes_sent},
                                          {"lines_read", part.lines_read},
                                          {"seconds", seconds},
                                          {"accounts_in_all", total},
                                          {"dense_id_seconds", dense_seconds},
                                          {"walks", walks_json}}
                               .dump();
  std::printf("%s\n", line.c_str());
  return 0;
}
