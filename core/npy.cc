#include "core/npy.h"

#include <bit>
#include <cstdio>

#include "core/atomic_file.h"
#include "core/error.h"

namespace gr {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy writer writes native little-endian data");

void Write(const std::string& path, const std::string& descr, std::span<const size_t> shape, const void* data,
           size_t bytes) {
  const std::string header = NpyHeader(descr, shape);
  WriteFileAtomically(path, [&](std::FILE* out) {
    std::fwrite(header.data(), 1, header.size(), out);
    if (bytes > 0) std::fwrite(data, 1, bytes, out);
  });
}

}  // namespace

std::string NpyHeader(const std::string& descr, std::span<const size_t> shape) {
  std::string dims;
  for (const size_t d : shape) dims += StrCat(dims.empty() ? "" : ", ", d);
  if (shape.size() == 1) dims += ",";  // Python's 1-tuple
  std::string dict = StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", dims, "), }");
  // magic (6) + version (2) + length (2) + dict + padding + '\n' = a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  GR_CHECK(dict.size() < 65536, "npy header too long");
  return header + dict;
}

void SaveNpy(const std::string& path, const FloatMatrix& matrix) {
  const size_t shape[] = {matrix.rows(), matrix.cols()};
  Write(path, "<f4", shape, matrix.Data().data(), matrix.Data().size_bytes());
}

void SaveNpy(const std::string& path, std::span<const uint64_t> values) {
  const size_t shape[] = {values.size()};
  Write(path, "<u8", shape, values.data(), values.size_bytes());
}

void SaveNpy(const std::string& path, std::span<const uint8_t> values) {
  const size_t shape[] = {values.size()};
  Write(path, "|u1", shape, values.data(), values.size_bytes());
}

}  // namespace gr
