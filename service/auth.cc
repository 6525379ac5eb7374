#include "service/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace gr::service {
namespace {

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

TokenTable TokenTable::Load(const std::string& path) {
  std::ifstream in(path);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot open the token file ", path);
  TokenTable table;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string token, scopes, extra;
    fields >> token;
    if (token.empty() || token[0] == '#') continue;
    fields >> scopes >> extra;
    GR_CHECK(extra.empty() && !scopes.empty(), path, ":", number, ": expected 'TOKEN SCOPES' (scopes read, write or read,write)");
    GR_CHECK(token.size() >= 16 && token.size() <= 512 &&
                 std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 127; }),
             path, ":", number, ": a token must be 16 to 512 printable characters without spaces");
    uint8_t mask = 0;
    std::istringstream parts(scopes);
    for (std::string scope; std::getline(parts, scope, ',');) {
      GR_CHECK(scope == "read" || scope == "write", path, ":", number, ": unknown scope '", Excerpt(scope),
               "' (read or write)");
      mask |= scope == "read" ? kScopeRead : kScopeWrite;
    }
    table.entries_.push_back({Digest(token), mask});
  }
  GR_CHECK(!table.entries_.empty(), path, ": no tokens (every request would be refused)");
  return table;
}

uint8_t TokenTable::ScopesOf(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return 0;
  const auto presented = Digest(authorization.substr(kBearer.size()));
  uint8_t scopes = 0;
  for (const Entry& e : entries_) {  // no early exit: the time does not depend on which entry matches
    const bool match = CRYPTO_memcmp(e.digest.data(), presented.data(), presented.size()) == 0;
    scopes |= static_cast<uint8_t>(e.scopes & static_cast<uint8_t>(-static_cast<int>(match)));
  }
  return scopes;
}

}  // namespace gr::service
