// HNSW recall index next to Faiss's IndexHNSWFlat on the same vectors
// (bench/run_index_bench.sh drives both).
//   index_bench export EMB DIR [QUERIES]  writes DIR/vectors.f32 (rows x dim,
//       the input vectors of EMB), DIR/queries.u32 (seeded sample of rows)
//   index_bench run DIR [M EF_CONSTRUCTION [PRECISION]]  reads those and
//       DIR/truth.u32 (exact top-10 per query, from the peer script), builds
//       the cosine HNSW index (float32 or float16 vectors) with 2 threads,
//       then per ef_search and thread count
//       prints one JSON line: QPS and recall@10; and the filtered-query
//       overhead (50 excluded items per query) at ef 64.
//   index_bench search INDEX [EF [QUERIES]]  loads a saved index and times
//       k-10 queries of its own vectors at ef_search EF (default 16).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "bench/bench_util.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "embed/embedding_io.h"
#include "recall/index_io.h"
#include "recall/vector_index.h"

namespace {

using gr::FloatMatrix;
using Clock = std::chrono::steady_clock;

template <typename T>
std::vector<T> ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  GR_CHECK(in.good(), "cannot open ", path);
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<T> values(bytes / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
  return values;
}

template <typename T>
void WriteRaw(const std::string& path, const T* data, size_t count) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

int Export(const std::string& emb, const std::string& dir, size_t num_queries) {
  const gr::embed::EmbeddingTable table = gr::embed::LoadEmbeddings(emb);
  WriteRaw(dir + "/vectors.f32", table.input.Data().data(), table.input.Data().size());
  std::vector<uint32_t> rows(table.rows());
  std::iota(rows.begin(), rows.end(), 0u);
  gr::Rng rng(7);
  num_queries = gr::ShuffleFront(rows, num_queries, rng);
  WriteRaw(dir + "/queries.u32", rows.data(), num_queries);
  std::printf("{\"exported\": %zu, \"dim\": %zu, \"queries\": %zu}\n", table.rows(), table.dim(), num_queries);
  return 0;
}

int Run(const std::string& dir, uint32_t m, uint32_t ef_construction, const std::string& precision_name) {
  const gr::recall::VectorPrecision precision = gr::recall::ParsePrecision(precision_name);
  const auto queries = ReadRaw<uint32_t>(dir + "/queries.u32");
  const auto truth = ReadRaw<uint32_t>(dir + "/truth.u32");
  const auto flat = ReadRaw<float>(dir + "/vectors.f32");
  const size_t dim = 128, n = flat.size() / dim, nq = queries.size(), k = 10;
  GR_CHECK(truth.size() == nq * k, "truth.u32 does not hold 10 ids per query");
  FloatMatrix vectors(n, dim);
  std::copy(flat.begin(), flat.end(), vectors.Data().begin());
  std::vector<gr::ExternalId> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  const uint64_t rss_before = gr::bench::ResidentBytes();
  auto start = Clock::now();
  auto index = gr::recall::VectorIndex::Build(ids, vectors,
                                              {.metric = gr::recall::Metric::kCosine, .m = m,
                                               .ef_construction = ef_construction, .threads = 2,
                                               .precision = precision});
  const double build = Seconds(start);
  std::printf("%s\n", nlohmann::json({{"engine", "graphrec"}, {"precision", precision_name}, {"n", n}, {"M", m},
                                      {"ef_construction", ef_construction},
                                      {"build_seconds", build}, {"build_threads", 2},
                                      {"index_rss_mb", static_cast<double>(gr::bench::ResidentBytes() - rss_before) / 1e6}})
                          .dump().c_str());
  auto run = [&](uint32_t ef, int threads, size_t excluded_per_query) {
    index->SetEfSearch(ef);
    std::vector<size_t> hits(nq, 0);
    start = Clock::now();
    gr::ParallelFor(static_cast<int64_t>(nq), threads, 64, [&](int64_t qi) {
      const size_t q = static_cast<size_t>(qi);
      std::vector<uint32_t> excluded;
      if (excluded_per_query > 0) {  // items far down the list, as a "followed" filter would be
        gr::Rng rng = gr::Rng::ForItem(3, q, 0);
        for (size_t e = 0; e < excluded_per_query; ++e) excluded.push_back(static_cast<uint32_t>(rng.Uniform(n)));
        std::sort(excluded.begin(), excluded.end());
        excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
      }
      const auto found = index->Search(vectors.Row(queries[q]), k, excluded);
      for (const auto& s : found)
        for (size_t t = 0; t < k; ++t) hits[q] += truth[q * k + t] == s.item;
    });
    const double seconds = Seconds(start);
    const double recall = static_cast<double>(std::accumulate(hits.begin(), hits.end(), size_t{0})) /
                          static_cast<double>(nq * k);
    std::printf("%s\n", nlohmann::json({{"engine", "graphrec"}, {"precision", precision_name}, {"ef_search", ef},
                                        {"threads", threads},
                                        {"excluded_per_query", excluded_per_query}, {"qps", static_cast<double>(nq) / seconds},
                                        {"recall_at_10", recall}})
                            .dump().c_str());
    std::fflush(stdout);
  };
  for (uint32_t ef : {16u, 32u, 64u, 128u, 256u})
    for (int threads : {1, 2}) run(ef, threads, 0);
  run(64, 2, 50);
  return 0;
}

// Query speed of a saved index (e.g. a published version's accounts.hnsw):
// QUERIES of its own stored vectors (a seeded sample), k 10, at ef_search EF,
// 1 and 2 threads; prints QPS and a checksum of the answers (equal answers
// give equal checksums, to compare two search implementations).
int Search(const std::string& path, uint32_t ef, size_t num_queries) {
  auto index = gr::recall::LoadIndex(path);
  index->SetEfSearch(ef);
  const size_t n = index->size(), k = 10;
  gr::Rng rng(11);
  std::vector<std::vector<float>> queries;
  for (size_t i = 0; i < std::min(num_queries, n); ++i)
    queries.push_back(index->Vector(static_cast<uint32_t>(rng.Uniform(n))));
  for (int threads : {1, 2, 1, 2}) {
    std::vector<uint64_t> sums(queries.size(), 0);
    const auto start = Clock::now();
    gr::ParallelFor(static_cast<int64_t>(queries.size()), threads, 64, [&](int64_t q) {
      for (const auto& s : index->Search(queries[static_cast<size_t>(q)], k, {}))
        sums[static_cast<size_t>(q)] = sums[static_cast<size_t>(q)] * 1000003 + s.item;
    });
    const double seconds = Seconds(start);
    uint64_t checksum = 0;
    for (uint64_t s : sums) checksum = checksum * 31 + s;
    std::printf("%s\n", nlohmann::json({{"index", path}, {"ef_search", ef}, {"threads", threads},
                                        {"queries", queries.size()}, {"qps", static_cast<double>(queries.size()) / seconds},
                                        {"us_per_query_per_thread", 1e6 * seconds * threads / static_cast<double>(queries.size())},
                                        {"checksum", checksum}})
                            .dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "export" && argc >= 4) return Export(argv[2], argv[3], argc > 4 ? std::stoul(argv[4]) : 10000);
    if (mode == "search" && argc >= 3)
      return Search(argv[2], argc > 3 ? static_cast<uint32_t>(std::stoul(argv[3])) : 16,
                    argc > 4 ? std::stoul(argv[4]) : 20000);
    if (mode == "run" && argc >= 3)
      return Run(argv[2], argc > 3 ? static_cast<uint32_t>(std::stoul(argv[3])) : 16,
                 argc > 4 ? static_cast<uint32_t>(std::stoul(argv[4])) : 200, argc > 5 ? argv[5] : "float32");
    std::fprintf(stderr,
                 "usage: index_bench export EMB DIR [QUERIES] | index_bench run DIR [M EF_CONSTRUCTION [PRECISION]] | "
                 "index_bench search INDEX [EF [QUERIES]]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_bench: %s\n", e.what());
    return 1;
  }
}
