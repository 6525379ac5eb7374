#include "embed/embedding_io.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/binary_io.h"
#include "core/error.h"

namespace gr::embed {
namespace {

// Widest vector a reader accepts (a guard against a corrupt size, not a
// limit anyone trains near).
constexpr size_t kMaxDim = 65536;

// The "rows dim" first line of both word2vec formats, checked.
void ParseWord2VecHeader(const std::string& path, const std::string& line, size_t* rows, size_t* dim) {
  GR_CHECK(std::istringstream(line) >> *rows >> *dim && *dim > 0 && *dim <= kMaxDim, path,
           ":1: expected a 'rows dim' header with 1 <= dim <= ", kMaxDim, ", got '", Excerpt(line), "'");
}

// The header is not trusted with the allocation: every row takes at least
// `min_row_bytes` of the file.
void CheckRowsFitTheFile(const std::string& path, size_t rows, size_t dim, size_t min_row_bytes) {
  std::error_code size_error;
  const uintmax_t file_bytes = std::filesystem::file_size(path, size_error);
  GR_CHECK(size_error || rows <= file_bytes / min_row_bytes, path, ":1: the header declares ", rows, " rows of ",
           dim, " values, more than the file's ", file_bytes, " bytes can hold");
}

// A key as written by EmbeddingTable::Key: an account id, p and a post id,
// or (string ids) anything without blanks. The first key that is not an id
// turns the whole table into named rows (ids = row numbers).
void AppendKey(std::string_view key, EmbeddingTable* table) {
  const size_t row = table->ids.size();
  if (table->names.empty()) {
    const bool post = !key.empty() && key[0] == 'p';
    uint64_t id = 0;
    const std::string_view digits = key.substr(post ? 1 : 0);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
      table->ids.push_back(id);
      table->kinds.push_back(post ? TokenKind::kPost : TokenKind::kAccount);
      return;
    }
    std::vector<std::string> names;
    for (size_t r = 0; r < row; ++r) {
      names.push_back(table->Key(r));
      table->ids[r] = r;
      table->kinds[r] = TokenKind::kAccount;
    }
    table->names = std::move(names);
  }
  table->names.emplace_back(key);
  table->ids.push_back(row);
  table->kinds.push_back(TokenKind::kAccount);
}

// Keys are printable text without blanks.
void CheckKey(const std::string& path, const std::string& where, std::string_view key) {
  bool printable = !key.empty();
  for (const char c : key) printable &= static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
  GR_CHECK(printable, path, where, ": bad key '", Excerpt(key), "' (expected an id or a name without blanks)");
}

// True unless the first row after the header reads as a text row (a key
// and `dim` numbers): raw floats do not (keys may hold any bytes but blanks).
bool LooksBinary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  size_t rows = 0, dim = 0;
  if (!std::getline(in, line) || !(std::istringstream(line) >> rows >> dim) || rows == 0) return false;
  if (!std::getline(in, line)) return false;
  std::istringstream fields(line);
  std::string key, rest;
  float value = 0;
  if (!(fields >> key)) return true;
  for (size_t d = 0; d < dim; ++d)
    if (!(fields >> value)) return true;
  return static_cast<bool>(fields >> rest);
}

}  // namespace

void SaveEmbeddings(const EmbeddingTable& table, const std::string& path, const std::string& meta_json) {
  GR_CHECK(table.names.empty(), "graphrec's native vectors file keeps integer ids; write vectors with string keys ",
           "as word2vec text or binary");
  table.CheckShape();
  SectionWriter out(path, kEmbeddingMagic, kEmbeddingVersion);
  out.AddString("meta", meta_json);
  const uint64_t shape[3] = {table.rows(), table.dim(), table.output.empty() ? 0u : 1u};
  out.Add("shape", std::span<const uint64_t>(shape));
  out.Add("ids", table.ids);
  out.Add("kinds", table.kinds);
  out.Add("input", table.input.Data());
  out.Add("output", table.output.Data());
  out.Commit();
}

EmbeddingTable LoadEmbeddings(const std::string& path, std::string* meta_json) {
  SectionReader in(path, kEmbeddingMagic, "graphrec embedding");
  if (in.version() != kEmbeddingVersion)
    in.Fail(StrCat("unsupported embedding format version ", in.version(), " (this build reads ",
                   kEmbeddingVersion, ")"));
  std::string meta = in.ReadString("meta");
  const auto shape = in.Read<uint64_t>("shape");
  if (shape.size() != 3 || shape[2] > 1 || shape[1] == 0 || shape[1] > kMaxDim)
    in.Fail("bad shape section");
  EmbeddingTable table;
  table.ids = in.Read<ExternalId>("ids");
  table.kinds = in.Read<TokenKind>("kinds");
  if (table.ids.size() != shape[0]) in.Fail(StrCat(table.ids.size(), " ids for ", shape[0], " rows"));
  for (size_t i = 0; i < table.kinds.size(); ++i) {
    if (table.kinds[i] != TokenKind::kAccount && table.kinds[i] != TokenKind::kPost)
      in.Fail(StrCat("row ", i, " has an unknown kind"));
  }
  auto read_matrix = [&](const char* name, size_t rows) {
    const auto values = in.Read<float>(name);
    if (values.size() != rows * shape[1])
      in.Fail(StrCat("section '", name, "' holds ", values.size(), " values, expected ", rows * shape[1]));
    FloatMatrix m(rows, rows == 0 ? 0 : shape[1]);
    std::copy(values.begin(), values.end(), m.Data().begin());
    return m;
  };
  table.input = read_matrix("input", shape[0]);
  table.output = read_matrix("output", shape[2] ? shape[0] : 0);
  in.ExpectEnd();
  try {
    table.CheckShape();
    table.CheckFinite();
  } catch (const Error& e) {
    in.Fail(e.what());
  }
  if (meta_json != nullptr) *meta_json = std::move(meta);
  return table;
}

EmbeddingTable LoadAnyEmbeddings(const std::string& path) {
  uint32_t magic = 0;
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&magic), sizeof(magic));
  if (magic == kEmbeddingMagic) return LoadEmbeddings(path);
  return LooksBinary(path) ? LoadWord2VecBinary(path) : LoadWord2VecText(path);
}

void SaveWord2VecText(const EmbeddingTable& table, const std::string& path) {
  table.CheckShape();
  WriteFileAtomically(path, [&](std::FILE* out) {
    std::fprintf(out, "%zu %zu\n", table.rows(), table.dim());
    for (size_t r = 0; r < table.rows(); ++r) {
      std::fputs(table.Key(r).c_str(), out);
      for (float v : table.input.Row(r)) std::fprintf(out, " %.6g", static_cast<double>(v));
      std::fputc('\n', out);
    }
  });
}

void SaveWord2VecBinary(const EmbeddingTable& table, const std::string& path) {
  table.CheckShape();
  WriteFileAtomically(path, [&](std::FILE* out) {
    std::fprintf(out, "%zu %zu\n", table.rows(), table.dim());
    for (size_t r = 0; r < table.rows(); ++r) {
      std::fputs(table.Key(r).c_str(), out);
      std::fputc(' ', out);
      const auto row = table.input.Row(r);
      std::fwrite(row.data(), sizeof(float), row.size(), out);
      std::fputc('\n', out);
    }
  });
}

EmbeddingTable LoadWord2VecText(const std::string& path) {
  std::ifstream in(path);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open ", path);
  std::string line;
  size_t rows = 0, dim = 0;
  std::getline(in, line);
  ParseWord2VecHeader(path, line, &rows, &dim);
  CheckRowsFitTheFile(path, rows, dim, 2 * dim + 2);  // a one-byte key, dim " v" pairs, a newline
  EmbeddingTable table;
  table.input = FloatMatrix(rows, dim);
  for (size_t r = 0; r < rows; ++r) {
    GR_CHECK(static_cast<bool>(std::getline(in, line)), path, ":", r + 2, ": missing row (header says ", rows, ")");
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    CheckKey(path, StrCat(":", r + 2), key);
    AppendKey(key, &table);
    for (float& v : table.input.Row(r))
      GR_CHECK(static_cast<bool>(fields >> v) && std::isfinite(v), path, ":", r + 2, ": expected ", dim,
               " finite values");
  }
  return table;
}

EmbeddingTable LoadWord2VecBinary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open ", path);
  std::string line;
  size_t rows = 0, dim = 0;
  std::getline(in, line);
  ParseWord2VecHeader(path, line, &rows, &dim);
  CheckRowsFitTheFile(path, rows, dim, 4 * dim + 2);  // a one-byte key, a space, the floats
  EmbeddingTable table;
  table.input = FloatMatrix(rows, dim);
  std::string key;
  for (size_t r = 0; r < rows; ++r) {
    // word2vec's C tool ends each row with a newline, gensim does not.
    key.clear();
    int c = in.get();
    while (c == '\n' || c == '\r') c = in.get();
    for (; c != EOF && c != ' ' && key.size() <= 1024; c = in.get()) key += static_cast<char>(c);
    GR_CHECK(c == ' ', path, ": row ", r + 1, " of ", rows, ": ",
             c == EOF ? "the file ends early" : "a key longer than 1024 bytes");
    CheckKey(path, StrCat(": row ", r + 1), key);
    AppendKey(key, &table);
    const auto row = table.input.Row(r);
    in.read(reinterpret_cast<char*>(row.data()), static_cast<std::streamsize>(row.size_bytes()));
    GR_CHECK(in.gcount() == static_cast<std::streamsize>(row.size_bytes()), path, ": row ", r + 1, " of ", rows,
             ": the file ends inside its ", dim, " float32 values");
    for (const float v : row) GR_CHECK(std::isfinite(v), path, ": row ", r + 1, ": a value is not finite");
  }
  return table;
}

}  // namespace gr::embed
