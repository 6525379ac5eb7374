// The ranker file (ranking/ranker.h).
#include "fuzz/fuzz_file.h"
#include "ranking/ranker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gr::fuzz::FuzzFile file(data, size);
  gr::fuzz::ExpectOnlyGrErrors([&] { gr::ranking::Ranker::Load(file.path()); });
  return 0;
}
