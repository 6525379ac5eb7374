// Reading and writing one VectorIndex file (Faiss's index_io idea: the file
// format apart from the index classes).
//
// Layout: core/binary_io.h sections under magic "GRIX", format version 2
// (version 1 files, float32 only, still load): "header" (kind, metric, M,
// ef values, max norm, dimension, count, seed, precision), "ids" (external
// ids in position order), then the payload: "hnsw" (hnswlib's own
// serialisation) or "vectors" (exact index, prepared float32 rows). Every
// section is checksummed, so a damaged file is rejected before hnswlib reads
// it (hnswlib's own format has no checksum and trusts every link).
#pragma once

#include <memory>
#include <string>

#include "recall/vector_index.h"

namespace gr::recall {

// Writes atomically (temp file, fsync, rename). Throws kIo.
void SaveIndex(const VectorIndex& index, const std::string& path);

// Reads a file written by SaveIndex. Throws kIo / kCorruption naming the
// file, and kInvalidArgument if expected_dim > 0 and the dimension differs.
std::unique_ptr<VectorIndex> LoadIndex(const std::string& path, size_t expected_dim = 0);

}  // namespace gr::recall
