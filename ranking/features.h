// Ranking features of an (account, post) impression, computed by one code
// path for training, evaluation and serving (FeatureSource::Extract).
//
// Groups (each can be switched off; the counters-only baseline keeps only
// kCounters):
//   counters   log(1 + author followers), log(1 + post age in hours),
//              log(1 + interactions with the post before the impression)
//   social     the account follows the author (0/1), log(1 + followees of the
//              account who interacted with the post before the impression)
//   similarity cosine(account, author) and cosine(account, post) of input
//              vectors, and account input . author output (skip-gram's score)
//   embeddings the account's input vector, the post's vector (the post-vector
//              rule: trained row or cold-start mean) and the author's vector
//   clusters   k-means cluster ids of the account, the post and the author
//              (k-means over account input vectors, cosine); the model turns
//              them into learned id embeddings. Id k = "no vector".
//   matching   the account's history with this author and this cluster:
//              log(1 + the account's interactions with the author's posts)
//              and their share of all its interactions; the same for posts
//              of the post's cluster; and the cluster's log(1 + interactions)
//              in the day and in the week before the impression.
//
// Counters and matching features are point-in-time: only interactions with a
// timestamp before the impression count, so training rows never see their
// own future (interactions without a time count always, but not in the
// cluster's day and week).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/matrix.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "embed/graph_vectors.h"

namespace gr::ranking {

enum FeatureGroup : uint32_t {
  kCounters = 1u << 0,
  kSocial = 1u << 1,
  kSimilarity = 1u << 2,
  kEmbeddings = 1u << 3,
  kClusters = 1u << 4,
  kMatching = 1u << 5,
};
inline constexpr uint32_t kAllFeatureGroups = kCounters | kSocial | kSimilarity | kEmbeddings | kClusters | kMatching;

// "all", or a comma-separated list of counters, social, similarity,
// embeddings, clusters, matching. Throws kInvalidArgument naming a bad entry.
uint32_t ParseFeatureGroups(std::string_view list);
std::string FeatureGroupNames(uint32_t groups);

struct FeatureConfig {
  uint32_t groups = kAllFeatureGroups;
  uint32_t clusters = 32;           // k of k-means; >= 1 when kClusters or kMatching is on
  uint32_t kmeans_iterations = 15;  // Lloyd iterations
  uint32_t kmeans_sample = 100000;  // accounts sampled to fit the centroids
  uint64_t seed = 1;
  embed::PostVectorRule post_rule;

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // every field, feature groups by name
};

// Cluster slots per example when kClusters is on: account, post, author.
inline constexpr int kClusterSlots = 3;

// A candidate post the graph does not hold (it arrived after the version,
// through the live graph): who wrote it and when.
struct NewPost {
  ExternalId id = 0;
  std::optional<ExternalId> author;  // none: no author features
  uint32_t time = 0;                 // Unix seconds; 0 = unknown
};

// Everything features need from one model version: the graph, account input
// (and output) vectors, post vectors, cluster centroids and assignments.
// Holds references to the graph and the embedding table (both must outlive
// the source; account vectors are read from the table, not copied: 1 GB at
// 1M accounts). Immutable after construction; Extract is safe to call
// concurrently.
class FeatureSource {
 public:
  // `centroids` empty: fitted here by k-means (training); otherwise used as
  // given (a loaded ranker: serving and evaluation), and must match the
  // table's dimension. Throws kInvalidArgument on mismatches.
  FeatureSource(const graph::SocialGraph& g, const embed::EmbeddingTable& table, const FeatureConfig& config,
                FloatMatrix centroids = {}, int threads = 0);
  // Both are held by reference: temporaries would dangle.
  FeatureSource(graph::SocialGraph&&, const embed::EmbeddingTable&, const FeatureConfig&, FloatMatrix = {}, int = 0) = delete;
  FeatureSource(const graph::SocialGraph&, embed::EmbeddingTable&&, const FeatureConfig&, FloatMatrix = {}, int = 0) = delete;

  const FeatureConfig& config() const { return config_; }
  const FloatMatrix& centroids() const { return centroids_; }
  const graph::SocialGraph& graph() const { return g_; }
  size_t dense_dim() const { return dense_names_.size(); }
  int cluster_slots() const { return (config_.groups & kClusters) ? kClusterSlots : 0; }
  // Rows of the cluster id embedding: k clusters + "no vector".
  uint32_t cluster_rows() const { return static_cast<uint32_t>(centroids_.rows()) + 1; }
  const std::vector<std::string>& dense_names() const { return dense_names_; }

  // Writes dense_dim() floats to `dense` and cluster_slots() ids to
  // `clusters` for `account` seeing `post` at `time` (Unix seconds). Throws
  // kNotFound naming an unknown account or post.
  void Extract(ExternalId account, ExternalId post, uint32_t time, float* dense, uint32_t* clusters) const;
  // The same for a post the graph does not know (cold start): no
  // interactions yet, its vector by the post-vector rule with no engagers
  // (its author's vector), its cluster that vector's; the author's features
  // as for any post when the graph knows the author, zeros and "no cluster"
  // otherwise. Throws kNotFound naming an unknown account.
  void ExtractNewPost(ExternalId account, const NewPost& post, uint32_t time, float* dense, uint32_t* clusters) const;

 private:
  // What Extract reads about the post, for graph posts and new ones alike.
  struct PostView {
    VertexId author = kNoVertex;
    uint32_t time = 0;
    std::span<const VertexId> engagers;     // sorted
    const uint32_t* engager_times = nullptr;  // parallel to engagers; null = unknown
    const float* vector = nullptr;          // dim_ floats
    float norm = 0;
    uint32_t cluster = 0;
  };
  void ExtractView(VertexId a, const PostView& post, uint32_t time, float* dense, uint32_t* clusters) const;
  bool UsesVectors() const { return (config_.groups & (kSimilarity | kEmbeddings | kClusters | kMatching)) != 0; }
  bool UsesClusters() const { return (config_.groups & (kClusters | kMatching)) != 0; }
  void BuildClusterActivity();
  // Interactions with posts of `cluster` in [from, to) (Unix seconds).
  uint64_t ClusterInteractions(uint32_t cluster, uint32_t from, uint32_t to) const;
  void FitCentroids(int threads);
  uint32_t NearestCentroid(std::span<const float> vector) const;
  // Account a's input (or output) vector in the table; zeros when it has none.
  const float* AccountInput(VertexId a) const;
  const float* AccountOutput(VertexId a) const;
  const float* PostVector(VertexId p) const;  // zeros when the post has none

  static constexpr uint32_t kNoRow = UINT32_MAX;
  const graph::SocialGraph& g_;
  const embed::EmbeddingTable& table_;
  FeatureConfig config_;
  size_t dim_ = 0;
  bool has_output_ = false;            // the table keeps output vectors
  std::vector<uint32_t> account_row_;  // per account of g: its table row, or kNoRow
  std::vector<float> zeros_;           // dim_ zeros: the vector of an account without one
  embed::PostVectors posts_;           // as built by the post-vector rule
  std::vector<uint32_t> post_row_;     // per post of g: its row in posts_.vectors, or kNoRow
  std::vector<float> account_norm_, post_norm_;
  FloatMatrix centroids_;              // k x dim, unit length
  std::vector<uint32_t> account_cluster_, post_cluster_;
  // kMatching: per cluster, the sorted times of interactions with its posts.
  std::vector<uint64_t> cluster_activity_begin_;
  std::vector<uint32_t> cluster_activity_times_;
  std::vector<std::string> dense_names_;
};

}  // namespace gr::ranking
