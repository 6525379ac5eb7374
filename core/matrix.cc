#include "core/matrix.h"

#include "core/error.h"

namespace gr {

FloatMatrix::FloatMatrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols) {
  GR_CHECK(cols == 0 || rows <= (std::size_t{1} << 40) / cols, "matrix too large: rows=", rows,
           " cols=", cols);
  data_.assign(rows * cols, 0.0f);
}

}  // namespace gr
