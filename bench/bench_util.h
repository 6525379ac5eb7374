// Helpers for the whole-pipeline benchmarks: the generated data set they
// share, and resident memory readings.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "synth/world.h"

namespace gr::bench {

// Resident set size of this process, bytes (VmRSS).
inline uint64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  uint64_t kb = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// Directory of a generated world of `accounts` accounts (seed 1), made on
// first use under $GR_BENCH_DIR (default /tmp/graphrec-bench) and reused.
inline std::string BenchWorld(uint64_t accounts) {
  const char* root = std::getenv("GR_BENCH_DIR");
  const std::filesystem::path dir =
      std::filesystem::path(root ? root : "/tmp/graphrec-bench") / ("world-" + std::to_string(accounts));
  if (!std::filesystem::exists(dir / synth::kImpressionsFile)) {
    synth::WorldConfig config;
    config.accounts = accounts;
    synth::GenerateWorld(config, dir.string());
  }
  return dir.string();
}

}  // namespace gr::bench
