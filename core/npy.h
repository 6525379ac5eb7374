// NumPy's .npy file format (version 1.0), written so numpy.load opens the
// arrays without pickle: little-endian float32 matrices and uint64 / uint8
// vectors. Written atomically (core/atomic_file.h). Throws kIo.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/matrix.h"

namespace gr {

void SaveNpy(const std::string& path, const FloatMatrix& matrix);  // shape (rows, cols), '<f4'
void SaveNpy(const std::string& path, std::span<const uint64_t> values);  // shape (n,), '<u8'
void SaveNpy(const std::string& path, std::span<const uint8_t> values);   // shape (n,), '|u1'

// The header SaveNpy writes before the data: magic, version 1.0, and the
// array's description padded so the data starts at a multiple of 64 bytes.
std::string NpyHeader(const std::string& descr, std::span<const size_t> shape);

}  // namespace gr
