// Vector index files, exact and HNSW (recall/index_io.h); a loaded index
// is queried once, so a payload that loads must also search.
#include <vector>

#include "fuzz/fuzz_file.h"
#include "recall/index_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gr::fuzz::FuzzFile file(data, size);
  gr::fuzz::ExpectOnlyGrErrors([&] {
    const auto index = gr::recall::LoadIndex(file.path());
    const std::vector<float> query(index->dim(), 0.5f);
    index->Search(query, 5);
  });
  return 0;
}
