#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "walk/random_walk.h"

namespace gr::walk {

void AppendWalksText(const RandomWalker& walker, const WalkCorpus& corpus, std::FILE* out) {
  std::string line;
  for (size_t i = 0; i < corpus.num_walks(); ++i) {
    line.clear();
    for (VertexId token : corpus.Walk(i)) {
      if (!line.empty()) line.push_back(' ');
      line += walker.TokenText(token);
    }
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size())
      GR_THROW(ErrorCode::kIo, "cannot write walks: ", std::strerror(errno));
  }
}

}  // namespace gr::walk
