// Reading and writing EmbeddingTables. All writers write a temporary file and
// rename it into place, so a crash never leaves a half-written file.
#pragma once

#include <cstdint>
#include <string>

#include "embed/embedding_table.h"

namespace gr::embed {

inline constexpr uint32_t kEmbeddingMagic = 0x4D455247;  // "GREM"
inline constexpr uint32_t kEmbeddingVersion = 1;

// Native binary file: ids, kinds, input and output vectors, each section
// checksummed; `meta_json` (training settings) is stored alongside. Throws kIo.
void SaveEmbeddings(const EmbeddingTable& table, const std::string& path,
                    const std::string& meta_json = "{}");
// Throws kIo, or kCorruption for a damaged or inconsistent file (wrong
// sizes, NaN values). *meta_json receives the stored settings if given.
EmbeddingTable LoadEmbeddings(const std::string& path, std::string* meta_json = nullptr);

// A native file (recognised by its magic), word2vec binary (raw floats
// after the header) or word2vec text.
EmbeddingTable LoadAnyEmbeddings(const std::string& path);

// word2vec formats: a "rows dim" header line, then per row the key and the
// input vector, as text ("%.6g" values) or as raw little-endian float32
// after the key and a space. Throws kIo.
void SaveWord2VecText(const EmbeddingTable& table, const std::string& path);
void SaveWord2VecBinary(const EmbeddingTable& table, const std::string& path);
// Reads the text format back (keys as written by SaveWord2VecText). Throws
// kInvalidArgument naming the line for a malformed file.
EmbeddingTable LoadWord2VecText(const std::string& path);
// Reads the binary format, as written by SaveWord2VecBinary, word2vec's C
// tool (a newline after each row) or gensim (none). Throws kInvalidArgument
// naming the row for a malformed file.
EmbeddingTable LoadWord2VecBinary(const std::string& path);

}  // namespace gr::embed
