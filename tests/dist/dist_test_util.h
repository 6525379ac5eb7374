// Helpers of the MPI tests (dist_test runs under mpirun with 1, 2 and 4 ranks).
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dist/mpi_session.h"
#include "graph/ingest.h"
#include "synth/world.h"
#include "tests/test_util.h"

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

// A generated world with what real files carry besides rows: header lines,
// repeated lines (the same follow far apart, so that different ranks read
// its copies), a self-follow, comments, a post listed twice, and the
// newest time at the end.
inline graph::InputFiles MessyWorld(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(SharedWorldFollows(name, 1500)).parent_path();
  graph::InputFiles files = graph::InputFilesIn(dir.string());
  if (Rank(MPI_COMM_WORLD) == 0) {  // the generator writes a header line in each file
    const auto second_line = [](const std::string& text) {
      const size_t start = text.find('\n') + 1;
      return text.substr(start, text.find('\n', start) + 1 - start);
    };
    const std::string follows = ::gr::testing::ReadBytes(files.follows), first = second_line(follows);
    std::ofstream(files.follows) << follows << "# a comment\n\n7\t7\t1700000000\n" << first << first;
    const std::string interactions = ::gr::testing::ReadBytes(files.interactions), one = second_line(interactions);
    // The newest time last, read by the last rank only: every rank's
    // weights must decay to it.
    const std::string ids = one.substr(0, one.find('\t', one.find('\t') + 1));
    std::ofstream(files.interactions) << interactions << one << one << ids << "\tlike\t1800000000\n";
    const std::string posts = ::gr::testing::ReadBytes(files.posts);
    std::ofstream(files.posts) << posts << second_line(posts);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return files;
}

// Where a bad line's error says it is: by line number when one rank read
// the whole file, else by byte offset (graph::ByteRange).
inline std::string BadLinePlace(const std::string& path, uint64_t line, uint64_t byte) {
  return Size(MPI_COMM_WORLD) == 1 ? path + ":" + std::to_string(line) + ": "
                                   : path + ": line at byte " + std::to_string(byte) + ": ";
}

// Every rank's values, concatenated in rank order on rank 0 (empty elsewhere).
inline std::vector<uint64_t> GatherOnRoot(const std::vector<uint64_t>& mine) {
  return GatherOnRoot(mine, MPI_COMM_WORLD);
}

}  // namespace gr::dist
