// How far a new version's account vectors moved from the previous version's.
#pragma once

#include <cstdint>

#include "embed/embedding_table.h"
#include "recall/vector_index.h"

namespace gr::eval {

struct Drift {
  double mean_cosine = 0;        // cosine of an account's old and new input vector
  double neighbour_overlap = 0;  // share of its old top-10 similar accounts still in the new top-10
  size_t compared = 0;  // accounts compared (0: no common account, or the dimensions differ)
};

// Over `sample` accounts common to both tables (chosen with `seed`); each
// index answers similar-account queries for its own table.
Drift MeasureDrift(const embed::EmbeddingTable& previous, const recall::VectorIndex& previous_index,
                   const embed::EmbeddingTable& current, const recall::VectorIndex& current_index,
                   uint32_t sample, uint64_t seed);

}  // namespace gr::eval
