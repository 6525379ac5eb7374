// Embeds an edge list with graphrec's libraries and prints each given
// vertex's nearest neighbours by cosine similarity, from an HNSW index.
// Usage: karate_neighbours EDGE_LIST [ID ...]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "embed/skip_gram.h"
#include "graph/ingest.h"
#include "recall/vector_index.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s EDGE_LIST [ID ...]\n", argv[0]);
    return 2;
  }
  try {
    const gr::graph::SocialGraph g = gr::graph::LoadEdgeList(argv[1], /*directed=*/false, {});
    gr::walk::WalkConfig walks;
    walks.threads = 1;  // one thread: the same vectors every run
    gr::embed::SkipGramConfig training;
    training.dim = 16;
    training.epochs = 5;
    training.threads = 1;
    const gr::embed::EmbeddingTable table = gr::embed::EmbedWalks(g, walks, training);
    const auto index = gr::recall::VectorIndex::Build(table.ids, table.input, {.threads = 1});
    std::printf("%zu vectors of %zu\n", table.rows(), table.dim());
    for (int a = 2; a < argc; ++a) {
      const gr::ExternalId id = std::strtoull(argv[a], nullptr, 10);
      const uint32_t position = index->Find(id);
      if (position == gr::kNoVertex) {
        std::printf("%s: not in the graph\n", argv[a]);
        continue;
      }
      std::printf("nearest to %s:", argv[a]);
      for (const auto& hit : index->Search(index->Vector(position), 6, {}))
        if (index->ids()[hit.item] != id) std::printf(" %llu", static_cast<unsigned long long>(index->ids()[hit.item]));
      std::printf("\n");
    }
  } catch (const gr::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
