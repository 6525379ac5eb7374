// ca-grqc's fixed GraphGAN link-prediction split (../shared/data/ca-grqc/
// graphgan-split), scored by the plain dot product of input vectors: the
// real-data quality check shared by the embed and dist tests.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/matrix.h"
#include "embed/evaluation.h"
#include "graph/id_map.h"

namespace gr::testing {

struct CaGrQcScore {
  double dot_auc = 0;
  size_t pairs = 0;  // scored: pairs with a vertex that has no train edge are skipped
};

// The AUC of dot(input[u], input[v]) for the test edges against the test
// non-edges; rows of `input` are `accounts`' dense ids.
inline CaGrQcScore CaGrQcDotAuc(const std::string& split_dir, const graph::IdMap& accounts, const FloatMatrix& input) {
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  for (const auto& [file, label] : {std::pair{"/CA-GrQc_test.txt", 1}, std::pair{"/CA-GrQc_test_neg.txt", 0}}) {
    std::ifstream in(split_dir + file);
    uint64_t u = 0, v = 0;
    while (in >> u >> v) {
      const VertexId a = accounts.Find(u), b = accounts.Find(v);
      if (a == kNoVertex || b == kNoVertex) continue;
      scores.push_back(Dot(input.Row(a).data(), input.Row(b).data(), input.cols()));
      labels.push_back(static_cast<uint8_t>(label));
    }
  }
  return {embed::RocAuc(scores, labels), scores.size()};
}

}  // namespace gr::testing
