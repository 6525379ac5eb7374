// Ranker-consistent recall: two linear towers over the graph embedding,
// trained so that their inner product orders posts as the ranker does
// (distillation of the ranker into a recall model an HNSW index can serve).
//
//   user  q(a) = [U x_a ; 1]                   x_a: the account's input vector
//   post  k(p) = [W z_p ; beta * log(1 + n_p)]  z_p = [unit post vector ; author's output vector]
//   score(a, p) = q(a) . k(p)
//
// where the post vector is the post-vector rule's (embed/graph_vectors.h)
// and n_p the post's interactions (at the scoring time). U starts as the
// identity and W as [I/2, I/2], so the untrained score is the mean of the
// user -> post and user -> author scores; beta starts at 0.
//
// Training pairs, per sampled account, at one scoring time over a catalogue
// (the posts of the last `window_days`): the ranker's fused score orders the
// candidates: the graph recall's top `hard` (half by the post vector, half
// by the author's) and `easy` uniform posts. The ranker's best `positives`
// of them are positives; each is paired with `negatives_per_positive`
// others drawn from the rest, whose ranker-low hard candidates are the
// funnel's hard negatives and the uniform ones the easy. Loss: Bayesian
// personalised ranking, -log sigmoid(score(pos) - score(neg)).
//
// Causal pairs (optional, `causal_weight` > 0): from the impressions, a
// clicked post against an unclicked impression of the same account whose
// post had more interactions before the impression (point-in-time): a
// niche click beats a popular non-click, the debiasing pair of the source
// talk. Same loss, weighted.
//
// Mini-batches of accounts; each account's gradient is computed in
// parallel and summed in account order, so the same seed gives the same
// towers whatever the thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "graph/ingest.h"
#include "graph/social_graph.h"
#include "ranking/features.h"

namespace gr::ranking {

class Ranker;

struct ConsistentRecallConfig {
  uint32_t accounts = 4000;             // training accounts, sampled among those with a vector and an interaction
  uint32_t hard = 200;                  // graph-recalled candidates per account
  uint32_t easy = 300;                  // uniform catalogue candidates per account
  uint32_t positives = 15;              // the ranker's best candidates: positives
  uint32_t negatives_per_positive = 8;  // pairs per positive
  uint32_t window_days = 7;             // catalogue: posts of the last days before the scoring time; 0 = all
  uint32_t epochs = 10;
  uint32_t batch_accounts = 32;         // accounts per Adam step
  float learning_rate = 0.005f;         // Adam
  float l2 = 1e-4f;                     // decay towards the starting towers (not towards 0)
  float causal_weight = 0;              // weight of the causal pairs; 0 = none
  uint32_t causal_pairs_per_click = 4;
  uint64_t seed = 1;
  int threads = 0;

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // every field but threads
};

struct ConsistentRecallReport {
  uint64_t accounts = 0, pairs = 0, causal_pairs = 0;
  std::vector<double> epoch_loss;  // mean pair loss per epoch
  double pair_accuracy_before = 0, pair_accuracy_after = 0;  // share of distillation pairs ordered right
  double seconds = 0;
  std::string ToText() const;
  std::string ToJson() const;
};

class ConsistentRecall {
 public:
  ConsistentRecall() = default;

  // Trains at `time` (Unix seconds; the catalogue is the posts of the
  // `window_days` before it). `features` must be built for `ranker` on `g`
  // and `table`; `impressions` (causal pairs only) must be before `time`.
  // Throws kInvalidArgument when no account or no catalogue post qualifies.
  static ConsistentRecall Train(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                const Ranker& ranker, const FeatureSource& features, uint32_t time,
                                std::span<const graph::Impression> impressions, const ConsistentRecallConfig& config,
                                ConsistentRecallReport* report = nullptr);

  size_t input_dim() const { return user_.cols(); }
  size_t output_dim() const { return user_.rows() + 1; }

  // q(a) for an input vector of input_dim() floats.
  std::vector<float> UserVector(std::span<const float> account_input) const;
  // k(p) of every post of `g` that has a post vector, at `time`'s counts
  // (interactions before it; 0 = all): the rows of the consistent posts index.
  struct PostRows {
    std::vector<ExternalId> ids;
    FloatMatrix vectors;
  };
  PostRows PostVectors(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                       const embed::PostVectorRule& rule, uint32_t time = 0) const;

  // Writes atomically (magic "GRCR"). Load throws kIo / kCorruption naming the file.
  void Save(const std::string& path) const;
  static ConsistentRecall Load(const std::string& path);

  bool operator==(const ConsistentRecall&) const = default;

 private:
  FloatMatrix user_;   // U: d x d
  FloatMatrix post_;   // W: d x 2d
  float popularity_ = 0;  // beta
};

}  // namespace gr::ranking
