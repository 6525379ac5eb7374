// Helpers of the MPI tests (dist_test runs under mpirun with 1, 2 and 4 ranks).
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dist/mpi_session.h"
#include "synth/world.h"

namespace gr::dist {

// A directory all ranks share: rank 0 names it.
inline std::string SharedDir(const std::string& name) {
  char buffer[512] = {};
  if (Rank(MPI_COMM_WORLD) == 0) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             (name + "_" + std::to_string(getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::snprintf(buffer, sizeof buffer, "%s", dir.c_str());
  }
  MPI_Bcast(buffer, sizeof buffer, MPI_CHAR, 0, MPI_COMM_WORLD);
  return buffer;
}

// The follows file of a generated world (rank 0 writes it, all ranks wait).
inline std::string SharedWorldFollows(const std::string& name, uint32_t accounts) {
  const std::string dir = SharedDir(name);
  if (Rank(MPI_COMM_WORLD) == 0) {
    synth::WorldConfig config;
    config.accounts = accounts;
    config.days = 2;
    synth::GenerateWorld(config, dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return dir + "/follows.tsv";
}

// Where a bad line's error says it is: by line number when one rank read
// the whole file, else by byte offset (graph::ByteRange).
inline std::string BadLinePlace(const std::string& path, uint64_t line, uint64_t byte) {
  return Size(MPI_COMM_WORLD) == 1 ? path + ":" + std::to_string(line) + ": "
                                   : path + ": line at byte " + std::to_string(byte) + ": ";
}

// Every rank's values, concatenated in rank order on rank 0 (empty elsewhere).
inline std::vector<uint64_t> GatherOnRoot(const std::vector<uint64_t>& mine) {
  const int ranks = Size(MPI_COMM_WORLD);
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(ranks), displacements(ranks);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < ranks; ++r) {
    displacements[r] = total;
    total += counts[r];
  }
  std::vector<uint64_t> all(static_cast<size_t>(total));
  MPI_Gatherv(mine.data(), count, MPI_UINT64_T, all.data(), counts.data(), displacements.data(), MPI_UINT64_T, 0,
              MPI_COMM_WORLD);
  return all;
}

}  // namespace gr::dist
