#include <nlohmann/json.hpp>

#include "core/error.h"
#include "embed/skip_gram.h"

namespace gr::embed {

void SkipGramConfig::Validate() const {
  GR_CHECK(dim >= 1 && dim <= 4096, "dim must be in [1, 4096], got ", dim);
  GR_CHECK(window >= 1 && window <= kMaxSkipGramContexts / 2, "window must be in [1, ", kMaxSkipGramContexts / 2, "], got ", window);
  GR_CHECK(negatives >= 1 && negatives <= 64, "negatives must be in [1, 64], got ", negatives);
  GR_CHECK(epochs >= 1, "epochs must be >= 1, got ", epochs);
  // Word2vec rates are 0.001-0.1; above 1 vectors only grow until every pair saturates.
  GR_CHECK(learning_rate > 0 && learning_rate <= 1, "learning_rate must be in (0, 1], got ", learning_rate);
  GR_CHECK(subsample >= 0, "subsample must be >= 0, got ", subsample);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
}

std::string SkipGramConfig::ToJson() const {
  return nlohmann::json{{"dim", dim},           {"window", window},   {"negatives", negatives},
                        {"epochs", epochs},     {"learning_rate", learning_rate},
                        {"subsample", subsample}, {"seed", seed}}
      .dump();
}

}  // namespace gr::embed
