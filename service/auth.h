// Bearer-token authorization for graphrec serve: a token file lists tokens
// and what each may do, "read" (the query rpcs) and/or "write"
// (PushEvents). A request names its token in the "authorization" metadata,
// "Bearer TOKEN". Tokens are kept as SHA-256 digests and compared in
// constant time, every entry every time, so timing tells nothing of them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gr::service {

enum Scope : uint8_t { kScopeRead = 1, kScopeWrite = 2 };

class TokenTable {
 public:
  // One token per line: "TOKEN SCOPES", SCOPES read, write or read,write;
  // blank lines and '#' comments skipped; tokens of 16 to 512 printable
  // characters. Throws kInvalidArgument naming path:line, kIo if unreadable.
  static TokenTable Load(const std::string& path);

  // The scopes of the token an "authorization" value carries ("Bearer
  // TOKEN"); 0 for none or an unknown token.
  uint8_t ScopesOf(std::string_view authorization) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;
    uint8_t scopes;
  };
  std::vector<Entry> entries_;
};

}  // namespace gr::service
