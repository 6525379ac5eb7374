// graph snapshot (graph/snapshot.h).
#include "fuzz/fuzz_file.h"
#include "graph/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gr::fuzz::FuzzFile file(data, size);
  gr::fuzz::ExpectOnlyGrErrors([&] { gr::graph::LoadSnapshot(file.path()); });
  return 0;
}
