#include "embed/embedding_table.h"

#include <cmath>

#include "core/error.h"

namespace gr::embed {

std::string EmbeddingTable::Key(size_t row) const {
  if (!names.empty()) return names[row];
  return kinds[row] == TokenKind::kPost ? "p" + std::to_string(ids[row]) : std::to_string(ids[row]);
}

void EmbeddingTable::CheckShape() const {
  GR_CHECK_CODE(names.empty() || names.size() == ids.size(), ErrorCode::kCorruption, "embedding table shape: ",
                ids.size(), " ids, ", names.size(), " names");
  GR_CHECK_CODE(kinds.size() == ids.size() && input.rows() == ids.size(), ErrorCode::kCorruption,
                "embedding table shape: ", ids.size(), " ids, ", kinds.size(), " kinds, ",
                input.rows(), " input rows");
  GR_CHECK_CODE(output.empty() || (output.rows() == input.rows() && output.cols() == input.cols()),
                ErrorCode::kCorruption, "output vectors ", output.rows(), "x", output.cols(),
                " do not match input ", input.rows(), "x", input.cols());
}

void EmbeddingTable::CheckFinite() const {
  for (const FloatMatrix* m : {&input, &output}) {
    const auto data = m->Data();
    for (size_t i = 0; i < data.size(); ++i) {
      GR_CHECK_CODE(std::isfinite(data[i]), ErrorCode::kCorruption, m == &input ? "input" : "output",
                    " vector of row ", i / m->cols(), " (key ", Key(i / m->cols()), ") holds ",
                    data[i]);
    }
  }
}

}  // namespace gr::embed
