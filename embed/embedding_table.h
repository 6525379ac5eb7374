// EmbeddingTable: one vector per token (account or post) with its external
// id, as trained by SkipGramTrainer: `input` ("source") vectors and, when
// kept, `output` ("context") vectors. Recall of authors for a user uses one
// against the other. Immutable once trained; safe for concurrent reads.
//
// Files (embed/embedding_io.h): the native binary layout (core/binary_io.h,
// magic "GREM"), and the word2vec text and binary formats that gensim's
// KeyedVectors.load_word2vec_format reads. Text keys: an account is its
// decimal id, a post is "p" + its id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/matrix.h"

namespace gr::embed {

enum class TokenKind : uint8_t { kAccount = 0, kPost = 1 };

struct EmbeddingTable {
  std::vector<ExternalId> ids;   // per row
  std::vector<TokenKind> kinds;  // per row
  FloatMatrix input;             // rows x dim
  FloatMatrix output;            // rows x dim, or empty
  // Per row when the keys are strings (an edge list read with string ids, or
  // a word2vec file with such keys): the row's key; ids are then the
  // numbers the strings were given (first appearance order). Empty otherwise.
  std::vector<std::string> names;

  size_t rows() const { return ids.size(); }
  size_t dim() const { return input.cols(); }
  // "123" for an account, "p123" for a post; names[row] when there are names.
  std::string Key(size_t row) const;

  // Throws kCorruption naming the first row with a NaN or infinite value.
  void CheckFinite() const;
  // Throws kCorruption if the shapes disagree.
  void CheckShape() const;

  bool operator==(const EmbeddingTable&) const = default;
};

}  // namespace gr::embed
