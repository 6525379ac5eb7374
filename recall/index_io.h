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

// What a program using hnswlib itself needs to open an exported index.
struct HnswlibFile {
  std::string space;  // hnswlib's space name: "cosine" or "ip"
  size_t dim = 0;     // hnswlib's dim: the vectors' own, +1 for "ip" (below)
};

// Writes an HNSW index in hnswlib 0.6.2's own file format (saveIndex), which
// hnswlib's loadIndex and Python's hnswlib.Index.load_index read; its labels
// are positions in index.ids(). A cosine index opens as space "cosine" with
// the vectors' dimension. An inner-product index stores each vector lifted
// by one coordinate (recall/internal/hnsw_index.h): it opens as space "ip"
// with one more dimension, and a query is the vector with a 0 appended.
// Throws kInvalidArgument for an exact or float16 index (hnswlib has no
// such files), kIo when writing fails.
HnswlibFile SaveHnswlibIndex(const VectorIndex& index, const std::string& path);

}  // namespace gr::recall
