// The text input files (graph/ingest.h): the first byte picks the reader
// (edge list, follows, interactions, posts, impressions), the rest is the
// file, read with one and with two threads and with bad lines skipped or not.
#include "fuzz/fuzz_file.h"
#include "graph/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const gr::fuzz::FuzzFile file(data + 1, size - 1);
  static constexpr uint8_t kOneFollow[] = {'1', '\t', '2', '\n'};
  static const gr::fuzz::FuzzFile follows(kOneFollow, sizeof kOneFollow);  // beside interactions and posts, made once
  gr::graph::IngestConfig config;
  config.threads = 1 + (selector >> 7);
  config.skip_bad_lines = (selector >> 6) & 1;
  config.block_bytes = 4096;  // many blocks from small inputs
  gr::fuzz::ExpectOnlyGrErrors([&] {
    switch (selector % 5) {
      case 0: gr::graph::LoadEdgeList(file.path(), (selector >> 5) & 1, config); break;
      case 1: gr::graph::Ingest({.follows = file.path()}, config); break;
      case 2: gr::graph::Ingest({.follows = follows.path(), .interactions = file.path()}, config); break;
      case 3: gr::graph::Ingest({.follows = follows.path(), .posts = file.path()}, config); break;
      default: gr::graph::ReadImpressions(file.path(), config);
    }
  });
  return 0;
}
