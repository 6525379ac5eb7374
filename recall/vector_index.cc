#include "recall/vector_index.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/parallel.h"
#include "recall/internal/exact_index.h"
#include "recall/internal/hnsw_index.h"

namespace gr::recall {

const char* MetricName(Metric metric) {
  return metric == Metric::kCosine ? "cosine" : "inner_product";
}

void IndexConfig::Validate() const {
  GR_CHECK(m >= 2 && m <= 100, "HNSW M must be in [2, 100], got ", m);
  GR_CHECK(ef_construction >= m, "ef_construction must be >= M (", m, "), got ", ef_construction);
  GR_CHECK(ef_search >= 1, "ef_search must be >= 1, got ", ef_search);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
  GR_CHECK(kind == IndexKind::kHnsw || kind == IndexKind::kExact, "unknown index kind");
  GR_CHECK(metric == Metric::kCosine || metric == Metric::kInnerProduct, "unknown metric");
  GR_CHECK(precision == VectorPrecision::kFloat32 || precision == VectorPrecision::kFloat16,
           "unknown vector precision ", static_cast<uint32_t>(precision));
}

const char* IndexKindName(IndexKind kind) { return kind == IndexKind::kExact ? "exact" : "hnsw"; }

std::string IndexConfig::ToJson() const {
  return nlohmann::json{{"kind", IndexKindName(kind)}, {"metric", MetricName(metric)},
                        {"m", m},
                        {"ef_construction", ef_construction},
                        {"ef_search", ef_search},
                        {"seed", seed},
                        {"precision", PrecisionName(precision)}}
      .dump();
}

const char* PrecisionName(VectorPrecision precision) {
  return precision == VectorPrecision::kFloat16 ? "float16" : "float32";
}

VectorPrecision ParsePrecision(const std::string& name) {
  if (name == "float32") return VectorPrecision::kFloat32;
  if (name == "float16") return VectorPrecision::kFloat16;
  GR_THROW(ErrorCode::kInvalidArgument, "unknown vector precision '", Excerpt(name),
           "' (known: float32, float16)");
}

uint32_t VectorIndex::Find(ExternalId id) const {
  const auto it = positions_.find(id);
  return it == positions_.end() ? kNoVertex : it->second;
}

uint32_t VectorIndex::AppendId(ExternalId id) {
  GR_CHECK(ids_.size() < kNoVertex, "index full");
  const auto position = static_cast<uint32_t>(ids_.size());
  GR_CHECK(positions_.emplace(id, position).second, "id ", id, " is listed twice");
  ids_.push_back(id);
  return position;
}

void VectorIndex::Prepare(std::span<const float> vector, float* out) const {
  GR_CHECK(vector.size() == dim_, "vector has dimension ", vector.size(), ", the index ", dim_);
  double norm = 0;
  for (float x : vector) {
    GR_CHECK(std::isfinite(x), "vector has a NaN or infinite component");
    norm += static_cast<double>(x) * x;
  }
  if (config_.metric == Metric::kCosine) {
    GR_CHECK(norm > 0, "a zero vector has no direction (cosine metric)");
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t x = 0; x < dim_; ++x) out[x] = vector[x] * scale;
  } else {
    std::copy(vector.begin(), vector.end(), out);
  }
}

std::unique_ptr<VectorIndex> VectorIndex::Build(std::vector<ExternalId> ids,
                                                const FloatMatrix& vectors,
                                                const IndexConfig& config) {
  config.Validate();
  GR_CHECK(ids.size() == vectors.rows(), ids.size(), " ids for ", vectors.rows(), " vectors");
  GR_CHECK(vectors.cols() > 0, "vectors have no columns");
  const size_t dim = vectors.cols();
  if (config.kind == IndexKind::kExact) {
    auto index = std::make_unique<internal::ExactIndex>(config, dim);
    for (ExternalId id : ids) index->AppendId(id);
    FloatMatrix prepared(vectors.rows(), dim);
    ParallelFor(static_cast<int64_t>(vectors.rows()), config.threads, 1024, [&](int64_t i) {
      index->Prepare(vectors.Row(static_cast<size_t>(i)),
                     prepared.Row(static_cast<size_t>(i)).data());
    });
    index->SetVectors(std::move(prepared));
    return index;
  }
  auto index = std::make_unique<internal::HnswIndex>(config, dim);
  for (ExternalId id : ids) index->AppendId(id);
  index->Create(ids.size());
  index->Insert(vectors);
  return index;
}

std::vector<std::vector<ScoredItem>> VectorIndex::SearchMany(const FloatMatrix& queries,
                                                             size_t k) const {
  std::vector<std::vector<ScoredItem>> results(queries.rows());
  ParallelFor(static_cast<int64_t>(queries.rows()), config_.threads, 16, [&](int64_t i) {
    results[static_cast<size_t>(i)] = Search(queries.Row(static_cast<size_t>(i)), k);
  });
  return results;
}

}  // namespace gr::recall
