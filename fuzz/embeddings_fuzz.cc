// Embedding files: graphrec's .emb and word2vec text (embed/embedding_io.h).
#include "embed/embedding_io.h"
#include "fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gr::fuzz::FuzzFile file(data, size);
  // Dispatches on the magic: .emb files to LoadEmbeddings, the rest to LoadWord2VecText.
  gr::fuzz::ExpectOnlyGrErrors([&] { gr::embed::LoadAnyEmbeddings(file.path()); });
  return 0;
}
