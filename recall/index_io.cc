#include "recall/index_io.h"

#include <cmath>

#include "core/atomic_file.h"
#include "core/binary_io.h"
#include "core/error.h"
#include "recall/internal/exact_index.h"
#include "recall/internal/hnsw_index.h"

namespace gr::recall {
namespace {

constexpr uint32_t kIndexMagic = 0x58495247;  // "GRIX"
constexpr uint32_t kIndexVersion = 2;         // 2 added the vector precision

struct FileHeaderV1 {
  uint32_t kind, metric, m, ef_construction, ef_search;
  float max_norm;  // HNSW inner product: the norm every stored vector is lifted to
  uint64_t dim, count, seed;
};
struct FileHeader : FileHeaderV1 {
  uint32_t precision = 0;  // VectorPrecision
  uint32_t reserved = 0;
};

void WriteHeaderAndIds(SectionWriter& writer, const IndexConfig& config, size_t dim, float max_norm,
                       std::span<const ExternalId> ids) {
  FileHeader header;
  static_cast<FileHeaderV1&>(header) = {static_cast<uint32_t>(config.kind),
                                        static_cast<uint32_t>(config.metric),
                                        config.m,
                                        config.ef_construction,
                                        config.ef_search,
                                        max_norm,
                                        dim,
                                        ids.size(),
                                        config.seed};
  header.precision = static_cast<uint32_t>(config.precision);
  writer.Add("header", std::span<const FileHeader>(&header, 1));
  writer.Add("ids", ids);
}

}  // namespace

void SaveIndex(const VectorIndex& index, const std::string& path) {
  SectionWriter writer(path, kIndexMagic, kIndexVersion);
  if (const auto* exact = dynamic_cast<const internal::ExactIndex*>(&index)) {
    WriteHeaderAndIds(writer, index.config(), index.dim(), 0.0f, index.ids());
    writer.Add("vectors", exact->vectors().Data());
  } else {
    const auto& hnsw = dynamic_cast<const internal::HnswIndex&>(index);
    WriteHeaderAndIds(writer, index.config(), index.dim(), hnsw.max_norm(), index.ids());
    writer.Add("hnsw", hnsw.SerializeGraph());
  }
  writer.Commit();
}

HnswlibFile SaveHnswlibIndex(const VectorIndex& index, const std::string& path) {
  const auto* hnsw = dynamic_cast<const internal::HnswIndex*>(&index);
  GR_CHECK(hnsw != nullptr, "an exact index has no hnswlib form; export its vectors instead");
  GR_CHECK(index.config().precision == VectorPrecision::kFloat32, "a float16 index has no hnswlib form (hnswlib ",
           "stores float32); rebuild it with --precision float32, or export the vectors");
  const std::vector<char> bytes = hnsw->SerializeGraph();
  WriteFileAtomically(path, [&](std::FILE* out) { std::fwrite(bytes.data(), 1, bytes.size(), out); });
  const bool lifted = index.config().metric == Metric::kInnerProduct;
  return {.space = lifted ? "ip" : "cosine", .dim = index.dim() + (lifted ? 1 : 0)};
}

std::unique_ptr<VectorIndex> LoadIndex(const std::string& path, size_t expected_dim) {
  SectionReader reader(path, kIndexMagic, "graphrec index");
  if (reader.version() != 1 && reader.version() != kIndexVersion)
    reader.Fail("unsupported index version " + std::to_string(reader.version()));
  FileHeader h;
  if (reader.version() == 1) {  // float32 only
    const auto headers = reader.Read<FileHeaderV1>("header");
    if (headers.size() != 1) reader.Fail("header section must hold one record");
    static_cast<FileHeaderV1&>(h) = headers[0];
  } else {
    const auto headers = reader.Read<FileHeader>("header");
    if (headers.size() != 1) reader.Fail("header section must hold one record");
    h = headers[0];
  }
  IndexConfig config;
  config.precision = static_cast<VectorPrecision>(h.precision);
  config.kind = static_cast<IndexKind>(h.kind);
  config.metric = static_cast<Metric>(h.metric);
  config.m = h.m;
  config.ef_construction = h.ef_construction;
  config.ef_search = h.ef_search;
  config.seed = h.seed;
  try {
    config.Validate();
  } catch (const Error& e) {
    reader.Fail(std::string("bad index configuration: ") + e.what());
  }
  if (h.dim == 0 || h.dim > 65536) reader.Fail("bad dimension " + std::to_string(h.dim));
  GR_CHECK(expected_dim == 0 || expected_dim == h.dim, path, ": index dimension ", h.dim,
           " does not match the ", expected_dim, "-dimensional vectors it is queried with");
  auto ids = reader.Read<ExternalId>("ids");
  if (ids.size() != h.count) reader.Fail("id list does not match the header count");
  auto fill_ids = [&](auto& index) {
    try {
      for (ExternalId id : ids) index.AppendId(id);
    } catch (const Error& e) {
      reader.Fail(e.what());
    }
  };
  if (config.kind == IndexKind::kExact) {
    auto index = std::make_unique<internal::ExactIndex>(config, h.dim);
    fill_ids(*index);
    const auto values = reader.Read<float>("vectors");
    if (values.size() != h.count * h.dim)
      reader.Fail("vector section does not match count x dimension");
    FloatMatrix vectors(h.count, h.dim);
    std::copy(values.begin(), values.end(), vectors.Data().begin());
    index->SetVectors(std::move(vectors));
    reader.ExpectEnd();
    return index;
  }
  auto index = std::make_unique<internal::HnswIndex>(config, h.dim);
  fill_ids(*index);
  if (!(h.max_norm >= 0 && std::isfinite(h.max_norm))) reader.Fail("bad max_norm in the header");
  index->SetMaxNorm(h.max_norm);
  const auto bytes = reader.Read<char>("hnsw");
  reader.ExpectEnd();
  index->LoadGraph(bytes, path);
  return index;
}

}  // namespace gr::recall
