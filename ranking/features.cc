#include "ranking/features.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace gr::ranking {
namespace {

constexpr std::pair<FeatureGroup, const char*> kGroupNames[] = {
    {kCounters, "counters"}, {kSocial, "social"}, {kSimilarity, "similarity"},
    {kEmbeddings, "embeddings"}, {kClusters, "clusters"}, {kMatching, "matching"}};
constexpr uint32_t kDay = 86400;

float Cosine(const float* a, float norm_a, const float* b, float norm_b, size_t n) {
  if (norm_a <= 0 || norm_b <= 0) return 0;
  return Dot(a, b, n) / (norm_a * norm_b);
}

}  // namespace

uint32_t ParseFeatureGroups(std::string_view list) {
  if (list == "all") return kAllFeatureGroups;
  uint32_t groups = 0;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    const auto* it = std::find_if(std::begin(kGroupNames), std::end(kGroupNames),
                                  [&](const auto& entry) { return name == entry.second; });
    GR_CHECK(it != std::end(kGroupNames), "unknown feature group '", Excerpt(name),
             "' (expected all, or a list of counters, social, similarity, embeddings, clusters, matching)");
    groups |= it->first;
  }
  GR_CHECK(groups != 0, "no feature group given");
  return groups;
}

std::string FeatureGroupNames(uint32_t groups) {
  std::string names;
  for (const auto& [group, name] : kGroupNames) {
    if (!(groups & group)) continue;
    if (!names.empty()) names += ',';
    names += name;
  }
  return names;
}

void FeatureConfig::Validate() const {
  GR_CHECK(groups != 0 && (groups & ~kAllFeatureGroups) == 0, "feature groups: bad mask ", groups);
  if (groups & (kClusters | kMatching)) {
    GR_CHECK(clusters >= 1 && clusters <= 65536, "clusters must be in [1, 65536], got ", clusters);
    GR_CHECK(kmeans_iterations >= 1, "kmeans_iterations must be >= 1");
    GR_CHECK(kmeans_sample >= clusters, "kmeans_sample (", kmeans_sample, ") must be >= clusters (", clusters, ")");
  }
}

FeatureSource::FeatureSource(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                             const FeatureConfig& config, FloatMatrix centroids, int threads)
    : g_(g), table_(table), config_(config), dim_(table.dim()), centroids_(std::move(centroids)) {
  config_.Validate();
  const bool vectors_needed = UsesVectors();
  account_row_.assign(g.num_accounts(), kNoRow);
  post_row_.assign(g.num_posts(), kNoRow);
  zeros_.assign(dim_, 0.0f);
  if (vectors_needed) {
    size_t matched = 0;
    for (size_t r = 0; r < table.rows(); ++r) {
      if (table.kinds[r] != embed::TokenKind::kAccount) continue;
      const VertexId v = g.accounts.Find(table.ids[r]);
      if (v == kNoVertex) continue;
      account_row_[v] = static_cast<uint32_t>(r);
      ++matched;
    }
    GR_CHECK(2 * matched >= g.num_accounts(), "the embedding covers only ", matched, " of the graph's ",
             g.num_accounts(), " accounts: is it from another graph?");
    has_output_ = table.output.rows() == table.rows();
    posts_ = embed::BuildPostVectors(g, table, config_.post_rule);
    for (size_t i = 0; i < posts_.ids.size(); ++i) post_row_[g.posts.Find(posts_.ids[i])] = static_cast<uint32_t>(i);
    account_norm_.resize(g.num_accounts());
    for (VertexId a = 0; a < g.num_accounts(); ++a) account_norm_[a] = std::sqrt(Dot(AccountInput(a), AccountInput(a), dim_));
    post_norm_.resize(g.num_posts());
    for (VertexId p = 0; p < g.num_posts(); ++p) post_norm_[p] = std::sqrt(Dot(PostVector(p), PostVector(p), dim_));
  }
  if (UsesClusters()) {
    if (centroids_.empty()) {
      FitCentroids(threads);
    } else {
      GR_CHECK(centroids_.cols() == dim_, "the ranker's cluster centroids have dimension ", centroids_.cols(),
               " but the embeddings have ", dim_, ": train the ranker on this embedding");
    }
    account_cluster_.assign(g.num_accounts(), static_cast<uint32_t>(centroids_.rows()));
    post_cluster_.assign(g.num_posts(), static_cast<uint32_t>(centroids_.rows()));
    ParallelFor(static_cast<int64_t>(g.num_accounts()), threads, 1024, [&](int64_t a) {
      if (account_row_[a] != kNoRow) account_cluster_[a] = NearestCentroid({AccountInput(static_cast<VertexId>(a)), dim_});
    });
    ParallelFor(static_cast<int64_t>(g.num_posts()), threads, 1024, [&](int64_t p) {
      if (post_row_[p] != kNoRow) post_cluster_[p] = NearestCentroid({PostVector(static_cast<VertexId>(p)), dim_});
    });
  }
  if (config_.groups & kMatching) BuildClusterActivity();

  if (config_.groups & kCounters)
    dense_names_.insert(dense_names_.end(), {"log_author_followers", "log_post_age_hours", "log_post_interactions"});
  if (config_.groups & kSocial) dense_names_.insert(dense_names_.end(), {"follows_author", "log_followees_interacted"});
  if (config_.groups & kSimilarity)
    dense_names_.insert(dense_names_.end(), {"cos_account_author", "cos_account_post", "dot_account_author_context"});
  if (config_.groups & kEmbeddings) {
    for (const char* who : {"account", "post", "author"})
      for (size_t i = 0; i < dim_; ++i) dense_names_.push_back(StrCat(who, "_vec_", i));
  }
  if (config_.groups & kMatching)
    dense_names_.insert(dense_names_.end(),
                        {"log_account_author_interactions", "account_author_share", "log_account_cluster_interactions",
                         "account_cluster_share", "log_cluster_interactions_day", "log_cluster_interactions_week"});
}

void FeatureSource::BuildClusterActivity() {
  const size_t k = static_cast<size_t>(centroids_.rows()) + 1;  // + "no vector"
  cluster_activity_begin_.assign(k + 1, 0);
  for (VertexId p = 0; p < g_.num_posts(); ++p) cluster_activity_begin_[post_cluster_[p] + 1] += g_.engagers.Degree(p);
  std::partial_sum(cluster_activity_begin_.begin(), cluster_activity_begin_.end(), cluster_activity_begin_.begin());
  cluster_activity_times_.resize(cluster_activity_begin_.back());
  std::vector<uint64_t> fill(cluster_activity_begin_.begin(), cluster_activity_begin_.end() - 1);
  for (VertexId p = 0; p < g_.num_posts(); ++p) {
    for (EdgeIndex e = g_.engagers.Begin(p); e < g_.engagers.Begin(p) + g_.engagers.Degree(p); ++e)
      cluster_activity_times_[fill[post_cluster_[p]]++] = g_.engagers.times.empty() ? 0 : g_.engagers.times[e];
  }
  for (size_t c = 0; c < k; ++c)
    std::sort(cluster_activity_times_.begin() + static_cast<int64_t>(cluster_activity_begin_[c]),
              cluster_activity_times_.begin() + static_cast<int64_t>(cluster_activity_begin_[c + 1]));
}

uint64_t FeatureSource::ClusterInteractions(uint32_t cluster, uint32_t from, uint32_t to) const {
  const auto begin = cluster_activity_times_.begin() + static_cast<int64_t>(cluster_activity_begin_[cluster]);
  const auto end = cluster_activity_times_.begin() + static_cast<int64_t>(cluster_activity_begin_[cluster + 1]);
  return static_cast<uint64_t>(std::lower_bound(begin, end, to) - std::lower_bound(begin, end, from));
}

const float* FeatureSource::AccountInput(VertexId a) const {
  const uint32_t row = account_row_[a];
  return row == kNoRow ? zeros_.data() : table_.input.Row(row).data();
}

const float* FeatureSource::AccountOutput(VertexId a) const {
  const uint32_t row = account_row_[a];
  return row == kNoRow || !has_output_ ? zeros_.data() : table_.output.Row(row).data();
}

const float* FeatureSource::PostVector(VertexId p) const {
  const uint32_t row = post_row_[p];
  return row == kNoRow ? zeros_.data() : posts_.vectors.Row(row).data();
}

uint32_t FeatureSource::NearestCentroid(std::span<const float> vector) const {
  uint32_t best = 0;
  float best_score = -std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < centroids_.rows(); ++c) {
    const float score = Dot(vector.data(), centroids_.Row(c).data(), dim_);
    if (score > best_score) {
      best_score = score;
      best = static_cast<uint32_t>(c);
    }
  }
  return best;
}

// Spherical k-means (cosine) over a seeded sample of account vectors. The
// sums run in sample order, so the centroids do not depend on the thread count.
void FeatureSource::FitCentroids(int threads) {
  std::vector<uint32_t> candidates;
  for (uint32_t a = 0; a < account_row_.size(); ++a)
    if (account_row_[a] != kNoRow && account_norm_[a] > 0) candidates.push_back(a);
  GR_CHECK(candidates.size() >= config_.clusters, "k-means needs at least ", config_.clusters,
           " accounts with vectors, found ", candidates.size());
  Rng rng(MixSeed(config_.seed, 0x6b6d65616e73ULL));  // "kmeans"
  candidates.resize(ShuffleFront(candidates, config_.kmeans_sample, rng));
  const size_t n = candidates.size(), k = config_.clusters;
  FloatMatrix sample(n, dim_);
  for (size_t i = 0; i < n; ++i) {
    const float* from = AccountInput(candidates[i]);
    const float inv = 1.0f / account_norm_[candidates[i]];
    for (size_t j = 0; j < dim_; ++j) sample.At(i, j) = from[j] * inv;
  }
  centroids_ = FloatMatrix(k, dim_);
  for (size_t c = 0; c < k; ++c) std::copy_n(sample.Row(c).data(), dim_, centroids_.Row(c).data());  // sample is shuffled
  std::vector<uint32_t> assignment(n);
  for (uint32_t iteration = 0; iteration < config_.kmeans_iterations; ++iteration) {
    ParallelFor(static_cast<int64_t>(n), threads, 1024, [&](int64_t i) { assignment[i] = NearestCentroid(sample.Row(i)); });
    FloatMatrix sums(k, dim_);
    std::vector<uint64_t> counts(k, 0);
    for (size_t i = 0; i < n; ++i) {
      float* sum = sums.Row(assignment[i]).data();
      const float* x = sample.Row(i).data();
      for (size_t j = 0; j < dim_; ++j) sum[j] += x[j];
      ++counts[assignment[i]];
    }
    for (size_t c = 0; c < k; ++c) {
      float* centroid = centroids_.Row(c).data();
      if (counts[c] == 0) {  // empty cluster: restart it on a random sample point
        std::copy_n(sample.Row(rng.Uniform(n)).data(), dim_, centroid);
        continue;
      }
      const float* sum = sums.Row(c).data();
      const float norm = std::sqrt(Dot(sum, sum, dim_));
      for (size_t j = 0; j < dim_; ++j) centroid[j] = norm > 0 ? sum[j] / norm : 0.0f;
    }
  }
}

void FeatureSource::Extract(ExternalId account, ExternalId post, uint32_t time, float* dense,
                            uint32_t* clusters) const {
  const VertexId a = g_.accounts.Find(account);
  GR_CHECK_CODE(a != kNoVertex, ErrorCode::kNotFound, "unknown account ", account);
  const VertexId p = g_.posts.Find(post);
  GR_CHECK_CODE(p != kNoVertex, ErrorCode::kNotFound, "unknown post ", post);
  PostView view{.author = g_.post_author[p],
                .time = g_.post_time[p],
                .engagers = g_.engagers.Neighbors(p),
                .engager_times = g_.engagers.times.empty() ? nullptr : g_.engagers.times.data() + g_.engagers.Begin(p)};
  if (UsesVectors()) {  // the vector tables are empty otherwise
    view.vector = PostVector(p);
    view.norm = post_norm_[p];
    view.cluster = UsesClusters() ? post_cluster_[p] : 0;
  }
  ExtractView(a, view, time, dense, clusters);
}

void FeatureSource::ExtractNewPost(ExternalId account, const NewPost& post, uint32_t time, float* dense,
                                   uint32_t* clusters) const {
  const VertexId a = g_.accounts.Find(account);
  GR_CHECK_CODE(a != kNoVertex, ErrorCode::kNotFound, "unknown account ", account);
  const VertexId author = post.author ? g_.accounts.Find(*post.author) : kNoVertex;
  // The post-vector rule without engagers: the author's input vector (none
  // when the rule gives the author no weight).
  PostView view{.author = author, .time = post.time};
  if (UsesVectors()) {
    const bool author_vector = author != kNoVertex && config_.post_rule.author_weight > 0;
    view.vector = author_vector ? AccountInput(author) : zeros_.data();
    view.norm = author_vector ? account_norm_[author] : 0.0f;
    if (UsesClusters())
      view.cluster = author_vector ? account_cluster_[author] : static_cast<uint32_t>(centroids_.rows());
  }
  ExtractView(a, view, time, dense, clusters);
}

void FeatureSource::ExtractView(VertexId a, const PostView& post, uint32_t time, float* dense,
                                uint32_t* clusters) const {
  const VertexId author = post.author;
  const bool has_author = author != kNoVertex;
  const std::span<const VertexId> engagers = post.engagers;
  const uint32_t* engager_times = post.engager_times;
  // An interaction counts if it happened before the impression (unknown times count).
  const auto before = [&](size_t i) { return engager_times == nullptr || engager_times[i] < time; };
  float* out = dense;

  if (config_.groups & kCounters) {
    const double followers = has_author ? static_cast<double>(g_.followers.Degree(author)) : 0.0;
    const double age_hours = post.time > 0 && time > post.time ? (time - post.time) / 3600.0 : 0.0;
    uint64_t interactions = 0;
    for (size_t i = 0; i < engagers.size(); ++i) interactions += before(i);
    *out++ = static_cast<float>(std::log1p(followers));
    *out++ = static_cast<float>(std::log1p(age_hours));
    *out++ = static_cast<float>(std::log1p(static_cast<double>(interactions)));
  }
  if (config_.groups & kSocial) {
    const std::span<const VertexId> followees = g_.following.Neighbors(a);
    uint64_t followees_interacted = 0;
    if (followees.size() < engagers.size()) {
      for (const VertexId f : followees) {
        const auto it = std::lower_bound(engagers.begin(), engagers.end(), f);
        if (it != engagers.end() && *it == f && before(static_cast<size_t>(it - engagers.begin())))
          ++followees_interacted;
      }
    } else {
      for (size_t i = 0; i < engagers.size(); ++i)
        if (before(i) && graph::SortedContains(followees, engagers[i])) ++followees_interacted;
    }
    *out++ = has_author && g_.following.HasEdge(a, author) ? 1.0f : 0.0f;
    *out++ = static_cast<float>(std::log1p(static_cast<double>(followees_interacted)));
  }
  if (!UsesVectors()) return;
  const float* account_vec = AccountInput(a);
  if (config_.groups & kSimilarity) {
    const float account_norm = account_norm_[a];
    *out++ = has_author ? Cosine(account_vec, account_norm, AccountInput(author), account_norm_[author], dim_)
                        : 0.0f;
    *out++ = Cosine(account_vec, account_norm, post.vector, post.norm, dim_);
    *out++ = has_author && has_output_ ? Dot(account_vec, AccountOutput(author), dim_) : 0.0f;
  }
  if (config_.groups & kEmbeddings) {
    out = std::copy_n(account_vec, dim_, out);
    out = std::copy_n(post.vector, dim_, out);
    if (has_author) {
      out = std::copy_n(AccountInput(author), dim_, out);
    } else {
      out = std::fill_n(out, dim_, 0.0f);
    }
  }
  if (config_.groups & kClusters) {
    const auto none = static_cast<uint32_t>(centroids_.rows());
    clusters[0] = account_cluster_[a];
    clusters[1] = post.cluster;
    clusters[2] = has_author ? account_cluster_[author] : none;
  }
  if (config_.groups & kMatching) {
    // The account's interactions before the impression: with this author, with this cluster.
    const std::span<const VertexId> engaged = g_.engagements.Neighbors(a);
    const uint32_t* engaged_times = g_.engagements.times.empty() ? nullptr : g_.engagements.times.data() + g_.engagements.Begin(a);
    uint64_t total = 0, with_author = 0, with_cluster = 0;
    for (size_t i = 0; i < engaged.size(); ++i) {
      if (engaged_times != nullptr && engaged_times[i] >= time) continue;
      ++total;
      with_author += has_author && g_.post_author[engaged[i]] == author;
      with_cluster += post_cluster_[engaged[i]] == post.cluster;
    }
    const double share_denominator = static_cast<double>(std::max<uint64_t>(total, 1));
    *out++ = static_cast<float>(std::log1p(static_cast<double>(with_author)));
    *out++ = static_cast<float>(static_cast<double>(with_author) / share_denominator);
    *out++ = static_cast<float>(std::log1p(static_cast<double>(with_cluster)));
    *out++ = static_cast<float>(static_cast<double>(with_cluster) / share_denominator);
    const uint32_t day_before = time > kDay ? time - kDay : 0, week_before = time > 7 * kDay ? time - 7 * kDay : 0;
    *out++ = static_cast<float>(std::log1p(static_cast<double>(ClusterInteractions(post.cluster, day_before, time))));
    *out++ = static_cast<float>(std::log1p(static_cast<double>(ClusterInteractions(post.cluster, week_before, time))));
  }
}

}  // namespace gr::ranking
