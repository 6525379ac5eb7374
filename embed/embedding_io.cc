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

}  // namespace

void SaveEmbeddings(const EmbeddingTable& table, const std::string& path, const std::string& meta_json) {
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
  return magic == kEmbeddingMagic ? LoadEmbeddings(path) : LoadWord2VecText(path);
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
  GR_CHECK(std::getline(in, line) && std::istringstream(line) >> rows >> dim && dim > 0 && dim <= kMaxDim,
           path, ":1: expected a 'rows dim' header with 1 <= dim <= ", kMaxDim, ", got '", Excerpt(line), "'");
  // The header is not trusted with the allocation: every row takes at least
  // a one-byte key, dim " v" pairs and a newline.
  std::error_code size_error;
  const uintmax_t file_bytes = std::filesystem::file_size(path, size_error);
  GR_CHECK(size_error || rows <= file_bytes / (2 * dim + 2), path, ":1: the header declares ", rows, " rows of ", dim,
           " values, more than the file's ", file_bytes, " bytes can hold");
  EmbeddingTable table;
  table.input = FloatMatrix(rows, dim);
  for (size_t r = 0; r < rows; ++r) {
    GR_CHECK(static_cast<bool>(std::getline(in, line)), path, ":", r + 2, ": missing row (header says ", rows, ")");
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    const bool post = !key.empty() && key[0] == 'p';
    uint64_t id = 0;
    const std::string_view digits = std::string_view(key).substr(post ? 1 : 0);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    GR_CHECK(!digits.empty() && ec == std::errc() && end == digits.data() + digits.size(), path, ":", r + 2,
             ": bad key '", Excerpt(key), "' (expected an account id, or p and a post id)");
    table.ids.push_back(id);
    table.kinds.push_back(post ? TokenKind::kPost : TokenKind::kAccount);
    for (float& v : table.input.Row(r))
      GR_CHECK(static_cast<bool>(fields >> v) && std::isfinite(v), path, ":", r + 2, ": expected ", dim,
               " finite values");
  }
  return table;
}

}  // namespace gr::embed
