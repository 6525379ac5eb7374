#include "recall/vector_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/binary_io.h"
#include "eval/index_recall.h"
#include "recall/index_io.h"
#include "core/error.h"
#include "core/rng.h"
#include "tests/test_util.h"

namespace gr::recall {
namespace {

FloatMatrix RandomVectors(size_t n, size_t dim, uint64_t seed) {
  FloatMatrix m(n, dim);
  Rng rng(seed);
  for (size_t i = 0; i < n; ++i)
    for (size_t x = 0; x < dim; ++x) m.At(i, x) = static_cast<float>(rng.UniformDouble() * 2 - 1);
  return m;
}

std::vector<ExternalId> Ids(size_t n) {
  std::vector<ExternalId> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 1000 + 7 * i;  // not positions
  return ids;
}

using ::gr::testing::ErrorOf;

class IndexTest : public ::testing::TestWithParam<Metric> {};

TEST_P(IndexTest, HnswMatchesExactOnRandomVectors) {
  const FloatMatrix vectors = RandomVectors(3000, 32, 1);
  // One build thread: the same graph every run (parallel insertion order
  // races). Measured: cosine 0.989, inner product 0.974 (with 5,000 vectors
  // the inner-product case sat at 0.949-0.951 and flaked).
  IndexConfig config{.metric = GetParam(), .threads = 1};
  const auto hnsw = VectorIndex::Build(Ids(3000), vectors, config);
  config.kind = IndexKind::kExact;
  const auto exact = VectorIndex::Build(Ids(3000), vectors, config);
  const FloatMatrix queries = RandomVectors(200, 32, 2);
  const double recall = eval::RecallAtK(*hnsw, *exact, queries, 10);
  EXPECT_GE(recall, 0.95);
  RecordProperty("recall_at_10", std::to_string(recall));
  // Exact results are sorted and their scores are the metric's.
  const auto top = exact->Search(queries.Row(0), 10);
  ASSERT_EQ(top.size(), 10u);
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].score, top[i].score);
  double dot = 0, nq = 0, nv = 0;
  for (size_t x = 0; x < 32; ++x) {
    dot += queries.At(0, x) * vectors.At(top[0].item, x);
    nq += queries.At(0, x) * queries.At(0, x);
    nv += vectors.At(top[0].item, x) * vectors.At(top[0].item, x);
  }
  EXPECT_NEAR(top[0].score, GetParam() == Metric::kCosine ? dot / std::sqrt(nq * nv) : dot, 1e-4);
  const auto approx = hnsw->Search(queries.Row(0), 10);
  for (size_t i = 1; i < approx.size(); ++i) EXPECT_GE(approx[i - 1].score, approx[i].score);
}

// graphrec's HNSW query is a copy of hnswlib's searchKnn that requests
// memory earlier; it must answer exactly as hnswlib does (items, scores,
// order) for every precision, ef and k, including k above ef.
TEST_P(IndexTest, HnswSearchAnswersAsHnswlibDoes) {
  const FloatMatrix vectors = RandomVectors(4000, 24, 3);
  const FloatMatrix queries = RandomVectors(40, 24, 4);
  size_t compared = 0;
  for (const VectorPrecision precision : {VectorPrecision::kFloat32, VectorPrecision::kFloat16}) {
    auto hnsw = VectorIndex::Build(Ids(4000), vectors,
                                   {.metric = GetParam(), .m = 8, .ef_construction = 64, .threads = 1,
                                    .precision = precision});
    for (const uint32_t ef : {1u, 16u, 64u}) {
      hnsw->SetEfSearch(ef);
      for (const size_t k : {1u, 10u, 50u}) {
        for (size_t q = 0; q < queries.rows(); ++q) {
          const auto got = hnsw->Search(queries.Row(q), k);
          const auto expected = ReferenceHnswSearch(*hnsw, queries.Row(q), k);
          ASSERT_EQ(got.size(), expected.size()) << "ef " << ef << " k " << k << " query " << q;
          for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_EQ(got[i].item, expected[i].item) << "ef " << ef << " k " << k << " query " << q << " rank " << i;
            ASSERT_EQ(got[i].score, expected[i].score);
          }
          compared += got.size();
        }
      }
    }
  }
  EXPECT_GE(compared, 2u * 3 * 40 * (1 + 10 + 50) * 9 / 10);
  const auto exact = VectorIndex::Build(Ids(10), RandomVectors(10, 24, 5), {.kind = IndexKind::kExact});
  EXPECT_NE(ErrorOf([&] { ReferenceHnswSearch(*exact, queries.Row(0), 1); }).find("needs an HNSW index"), std::string::npos);
}

// float16 storage: recall and scores stay close to float32's, vectors
// read back within half precision, half the vector memory, and the
// precision survives a save and load. Dimension 33 exercises the padding
// to 16 halves (and 34 stored coordinates once inner product is lifted).
TEST_P(IndexTest, Float16HnswStaysCloseToExactInLessMemory) {
  for (const size_t dim : {32u, 33u}) {
    const FloatMatrix vectors = RandomVectors(3000, dim, 11);
    IndexConfig config{.metric = GetParam(), .threads = 1};
    const auto full = VectorIndex::Build(Ids(3000), vectors, config);
    config.precision = VectorPrecision::kFloat16;
    const auto half = VectorIndex::Build(Ids(3000), vectors, config);
    EXPECT_EQ(half->config().precision, VectorPrecision::kFloat16);
    config.kind = IndexKind::kExact;
    const auto exact = VectorIndex::Build(Ids(3000), vectors, config);
    EXPECT_EQ(exact->config().precision, VectorPrecision::kFloat32);  // exact is the reference
    const FloatMatrix queries = RandomVectors(200, dim, 12);
    const double half_recall = eval::RecallAtK(*half, *exact, queries, 10);
    const double full_recall = eval::RecallAtK(*full, *exact, queries, 10);
    EXPECT_GE(half_recall, 0.95) << dim;
    EXPECT_GE(half_recall, full_recall - 0.02) << dim;
    RecordProperty("float16_recall_at_10_dim" + std::to_string(dim), std::to_string(half_recall));
    for (size_t q = 0; q < 20; ++q) {
      const auto best = exact->Search(queries.Row(q), 1);
      const auto found = half->Search(queries.Row(q), 10);
      for (const ScoredItem& s : found) {
        if (s.item == best[0].item) {
          EXPECT_NEAR(s.score, best[0].score, 2e-3 * std::max(1.0f, std::fabs(best[0].score)));
        }
      }
    }
    for (uint32_t item : {0u, 17u, 2999u}) {
      const std::vector<float> h = half->Vector(item), f = full->Vector(item);
      ASSERT_EQ(h.size(), dim);
      for (size_t x = 0; x < dim; ++x) EXPECT_NEAR(h[x], f[x], 1e-3 * std::max(1.0f, std::fabs(f[x])));
    }
    EXPECT_LT(half->MemoryBytes(), full->MemoryBytes());
    const std::string path = ::gr::testing::TempPath("half.grix");
    SaveIndex(*half, path);
    const auto loaded = LoadIndex(path, dim);
    EXPECT_EQ(loaded->config().precision, VectorPrecision::kFloat16);
    for (size_t q = 0; q < 20; ++q) EXPECT_EQ(loaded->Search(queries.Row(q), 10), half->Search(queries.Row(q), 10));
  }
}

// The blocked exact search gives each query's Search answer (the same
// items in the same order; scores to float rounding), across several item
// blocks and query slices; the HNSW index's SearchMany is its Search.
TEST_P(IndexTest, SearchManyMatchesSearchQueryByQuery) {
  const FloatMatrix vectors = RandomVectors(2500, 24, 21);
  const FloatMatrix queries = RandomVectors(300, 24, 22);
  for (const IndexKind kind : {IndexKind::kExact, IndexKind::kHnsw}) {
    const auto index = VectorIndex::Build(Ids(2500), vectors, {.kind = kind, .metric = GetParam(), .threads = 1});
    const auto many = index->SearchMany(queries, 10);
    ASSERT_EQ(many.size(), 300u);
    for (size_t q = 0; q < 300; ++q) {
      const auto one = index->Search(queries.Row(q), 10);
      ASSERT_EQ(many[q].size(), one.size()) << q;
      for (size_t i = 0; i < one.size(); ++i) {
        EXPECT_EQ(many[q][i].item, one[i].item) << "query " << q << " rank " << i;
        EXPECT_NEAR(many[q][i].score, one[i].score, 1e-5);
      }
    }
  }
  const auto small = VectorIndex::Build(Ids(5), RandomVectors(5, 24, 23), {.kind = IndexKind::kExact});
  const auto all = small->SearchMany(queries, 10);  // k above the item count: every item, best first
  const auto one = small->Search(queries.Row(0), 10);
  ASSERT_EQ(all[0].size(), 5u);
  ASSERT_EQ(one.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(all[0][i].item, one[i].item);
}

INSTANTIATE_TEST_SUITE_P(Metrics, IndexTest, ::testing::Values(Metric::kCosine, Metric::kInnerProduct));

// Files written before the precision field (version 1) still load, as float32.
TEST(VectorIndexTest, VersionOneFilesLoadAsFloat32) {
  const FloatMatrix vectors = RandomVectors(400, 16, 13);
  const auto index = VectorIndex::Build(Ids(400), vectors, {.ef_search = 30});
  const std::string path = ::gr::testing::TempPath("v2.grix"), old_path = ::gr::testing::TempPath("v1.grix");
  SaveIndex(*index, path);
  struct HeaderV2 { char bytes[56]; };
  struct HeaderV1 { char bytes[48]; };  // the same fields without precision
  SectionReader reader(path, 0x58495247, "graphrec index");
  ASSERT_EQ(reader.version(), 2u);
  const auto header = reader.Read<HeaderV2>("header");
  const auto ids = reader.Read<ExternalId>("ids");
  const auto blob = reader.Read<char>("hnsw");
  HeaderV1 old_header;
  std::copy_n(header[0].bytes, sizeof(old_header.bytes), old_header.bytes);
  SectionWriter writer(old_path, 0x58495247, 1);
  writer.Add("header", std::span<const HeaderV1>(&old_header, 1));
  writer.Add("ids", ids);
  writer.Add("hnsw", blob);
  writer.Commit();
  const auto loaded = LoadIndex(old_path, 16);
  EXPECT_EQ(loaded->config().precision, VectorPrecision::kFloat32);
  EXPECT_EQ(loaded->config().ef_search, 30u);
  for (size_t q = 0; q < 20; ++q) EXPECT_EQ(loaded->Search(vectors.Row(q), 10), index->Search(vectors.Row(q), 10));
}

TEST(VectorIndexTest, PrecisionNames) {
  EXPECT_EQ(ParsePrecision("float16"), VectorPrecision::kFloat16);
  EXPECT_EQ(ParsePrecision(PrecisionName(VectorPrecision::kFloat32)), VectorPrecision::kFloat32);
  EXPECT_NE(ErrorOf([] { ParsePrecision("int8"); }).find("known: float32, float16"), std::string::npos);
}

TEST(VectorIndexTest, ExclusionsAreNeverReturnedAndDeeperFetchFillsK) {
  const FloatMatrix vectors = RandomVectors(2000, 16, 3);
  for (IndexKind kind : {IndexKind::kHnsw, IndexKind::kExact}) {
    const auto index = VectorIndex::Build(Ids(2000), vectors, {.kind = kind});
    // Exclude the query itself and its 300 nearest items: far more than k.
    const auto nearest = index->Search(vectors.Row(5), 300);
    std::vector<uint32_t> excluded;
    for (const auto& s : nearest) excluded.push_back(s.item);
    excluded.push_back(5);
    std::sort(excluded.begin(), excluded.end());
    excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
    const auto result = index->Search(vectors.Row(5), 20, excluded);
    EXPECT_EQ(result.size(), 20u);
    for (const auto& s : result) EXPECT_FALSE(std::binary_search(excluded.begin(), excluded.end(), s.item));
    // Excluding all but 3 items returns exactly those 3.
    std::vector<uint32_t> all_but_three;
    for (uint32_t i = 3; i < 2000; ++i) all_but_three.push_back(i);
    const auto rest = index->Search(vectors.Row(5), 10, all_but_three);
    ASSERT_EQ(rest.size(), 3u) << (kind == IndexKind::kHnsw ? "hnsw" : "exact");
    for (const auto& s : rest) EXPECT_LT(s.item, 3u);
  }
}

TEST(VectorIndexTest, SaveLoadRoundTripAnswersIdentically) {
  const FloatMatrix vectors = RandomVectors(1000, 24, 4);
  for (IndexKind kind : {IndexKind::kHnsw, IndexKind::kExact}) {
    const auto index = VectorIndex::Build(Ids(1000), vectors, {.kind = kind, .ef_search = 40});
    const std::string path = ::gr::testing::TempPath("index.grix");
    SaveIndex(*index, path);
    const auto loaded = LoadIndex(path, 24);
    EXPECT_EQ(loaded->size(), 1000u);
    EXPECT_EQ(loaded->config().ef_search, 40u);
    EXPECT_EQ(loaded->config().kind, kind);
    EXPECT_TRUE(std::equal(loaded->ids().begin(), loaded->ids().end(), index->ids().begin()));
    EXPECT_EQ(loaded->Find(1000 + 7 * 10), 10u);
    for (size_t q = 0; q < 20; ++q) EXPECT_EQ(loaded->Search(vectors.Row(q), 10), index->Search(vectors.Row(q), 10));
  }
}

TEST(VectorIndexTest, CorruptTruncatedAndMismatchedFilesAreRejected) {
  const FloatMatrix vectors = RandomVectors(300, 8, 5);
  const std::string path = ::gr::testing::TempPath("index.grix");
  SaveIndex(*VectorIndex::Build(Ids(300), vectors, {}), path);
  const std::string good = ::gr::testing::ReadBytes(path);
  EXPECT_NE(ErrorOf([&] { LoadIndex(path, 16); }).find("dimension 8"), std::string::npos);
  for (size_t at = 0; at < good.size(); at += 97) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    ::gr::testing::WriteBytes(path, bad);
    EXPECT_FALSE(ErrorOf([&] { LoadIndex(path); }).empty()) << "flipped byte " << at;
  }
  ::gr::testing::WriteBytes(path, good.substr(0, good.size() / 2));
  EXPECT_NE(ErrorOf([&] { LoadIndex(path); }).find(path), std::string::npos);
  ::gr::testing::WriteBytes(path, "not an index at all");
  EXPECT_NE(ErrorOf([&] { LoadIndex(path); }).find("not a graphrec index file"), std::string::npos);
}

// hnswlib trusts every field of its payload; with valid checksums over bad
// fields its loader threw and its destructor then freed uninitialised
// pointers (SIGSEGV in graphrec recall and in a server's hot reload).
TEST(VectorIndexTest, InconsistentHnswPayloadWithValidChecksumsIsCorruptionNotACrash) {
  const FloatMatrix vectors = RandomVectors(300, 8, 5);
  const std::string good = ::gr::testing::TempPath("good.grix"), path = ::gr::testing::TempPath("bad.grix");
  SaveIndex(*VectorIndex::Build(Ids(300), vectors, {}), good);
  auto set_u64 = [](size_t at, uint64_t value) {
    return [=](std::string& payload) { std::memcpy(payload.data() + at, &value, 8); };
  };
  // Header fields of hnswlib 0.6.2's layout, then the first node's link byte count.
  const std::vector<std::pair<const char*, std::function<void(std::string&)>>> edits = {
      {"max_elements", set_u64(8, uint64_t{1} << 60)},
      {"element count", set_u64(16, 301)},
      {"element size", set_u64(24, 4)},
      {"label offset", set_u64(32, 1u << 30)},
      {"M", set_u64(72, 1000)},
      {"entry point", [](std::string& p) { const uint32_t entry = 300; std::memcpy(p.data() + 52, &entry, 4); }},
      {"upper links", [](std::string& p) {
         uint64_t element_bytes;
         std::memcpy(&element_bytes, p.data() + 24, 8);
         const uint32_t bytes = 7;
         std::memcpy(p.data() + 96 + 300 * element_bytes, &bytes, 4);
       }},
  };
  for (const auto& [what, edit] : edits) {
    std::filesystem::copy_file(good, path, std::filesystem::copy_options::overwrite_existing);
    ::gr::testing::EditSectionPayload(path, "hnsw", edit);
    const std::string message = ErrorOf([&] { LoadIndex(path); });
    EXPECT_NE(message.find(path + ": HNSW payload"), std::string::npos) << what << ": " << message;
  }
}

TEST(VectorIndexTest, AddOrUpdateReplacesInPlaceAndAppends) {
  const FloatMatrix vectors = RandomVectors(500, 16, 6);
  for (IndexKind kind : {IndexKind::kHnsw, IndexKind::kExact}) {
    auto index = VectorIndex::Build(Ids(500), vectors, {.kind = kind});
    // Move item 7 onto item 100's vector: searching that vector finds both.
    EXPECT_EQ(index->AddOrUpdate(1000 + 7 * 7, vectors.Row(100)), 7u);
    const auto top = index->Search(vectors.Row(100), 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_NEAR(top[0].score, 1.0f, 1e-5);
    EXPECT_NEAR(top[1].score, 1.0f, 1e-5);
    // A new id gets the next position and is found.
    const FloatMatrix extra = RandomVectors(1, 16, 77);
    EXPECT_EQ(index->AddOrUpdate(42, extra.Row(0)), 500u);
    EXPECT_EQ(index->size(), 501u);
    const auto found = index->Search(extra.Row(0), 1);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(index->id(found[0].item), 42u);
  }
}

TEST(VectorIndexTest, BadInputIsNamed) {
  const FloatMatrix vectors = RandomVectors(10, 4, 7);
  EXPECT_NE(ErrorOf([&] { VectorIndex::Build(Ids(9), vectors, {}); }).find("9 ids for 10 vectors"), std::string::npos);
  auto ids = Ids(10);
  ids[3] = ids[4];
  EXPECT_NE(ErrorOf([&] { VectorIndex::Build(ids, vectors, {}); }).find("listed twice"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { VectorIndex::Build(Ids(10), vectors, {.m = 1}); }).find("M must be"), std::string::npos);
  const auto index = VectorIndex::Build(Ids(10), vectors, {});
  const std::vector<float> wrong(5, 1.0f), zero(4, 0.0f);
  EXPECT_NE(ErrorOf([&] { index->Search(wrong, 3); }).find("dimension 5"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { index->Search(zero, 3); }).find("zero vector"), std::string::npos);
}

}  // namespace
}  // namespace gr::recall
