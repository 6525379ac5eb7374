// How much of the exact top-k an approximate (HNSW) index finds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "recall/vector_index.h"

namespace gr::eval {

// recall@k of `approximate` against `exact` over the given queries: the mean
// share of the exact top-k found in the approximate top-k.
double RecallAtK(const recall::VectorIndex& approximate, const recall::VectorIndex& exact,
                 const FloatMatrix& queries, size_t k);

// recall@k of `index` against an exact index over the same items, queried
// with `sample` of its own vectors chosen with `seed`. `table` avoids a copy
// of the vectors when the index holds exactly its rows in order. An exact
// index scores 1.
double IndexRecallAtK(const recall::VectorIndex& index, const embed::EmbeddingTable& table,
                      size_t sample, size_t k, uint64_t seed);

}  // namespace gr::eval
