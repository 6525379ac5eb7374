#include "ranking/consistent_recall.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/binary_io.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "embed/graph_vectors.h"
#include "ranking/ranker.h"

namespace gr::ranking {

namespace {

constexpr uint32_t kMagic = 0x52435247;  // "GRCR" little-endian
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kSecondsPerDay = 86400;
// Hard candidates are mined from at most this many catalogue posts (sampled):
// a 1M-account world posts millions a week.
constexpr size_t kMaxMiningCatalogue = 20000;

// Interactions with post p before `time` (those without a time count; time 0 = all).
uint32_t InteractionsBefore(const graph::SocialGraph& g, VertexId p, uint32_t time) {
  if (time == 0 || g.engagers.times.empty()) return static_cast<uint32_t>(g.engagers.Degree(p));
  uint32_t n = 0;
  for (EdgeIndex e = g.engagers.Begin(p); e < g.engagers.End(p); ++e)
    n += g.engagers.times[e] < time;  // 0 = unknown time: counts
  return n;
}

// What the towers read: per account its input vector, per post z = [unit post vector ; author output].
class TowerInputs {
 public:
  TowerInputs(const graph::SocialGraph& g, const embed::EmbeddingTable& table, const embed::PostVectorRule& rule)
      : g_(g), table_(table), dim_(table.dim()), account_row_(g.num_accounts(), kNone),
        post_row_(g.num_posts(), kNone) {
    for (uint32_t r = 0; r < table.rows(); ++r)
      if (table.kinds[r] == embed::TokenKind::kAccount)
        if (const VertexId v = g.accounts.Find(table.ids[r]); v != kNoVertex) account_row_[v] = r;
    embed::PostVectors posts = embed::BuildPostVectors(g, table, rule);
    post_vectors_ = std::move(posts.vectors);
    for (uint32_t r = 0; r < posts.ids.size(); ++r) {
      post_row_[g.posts.Find(posts.ids[r])] = r;
      auto row = post_vectors_.Row(r);
      float norm = std::sqrt(Dot(row.data(), row.data(), dim_));
      if (norm > 0)
        for (float& x : row) x /= norm;
    }
  }

  size_t dim() const { return dim_; }
  bool HasAccount(VertexId a) const { return account_row_[a] != kNone; }
  bool HasPost(VertexId p) const { return post_row_[p] != kNone; }
  std::span<const float> Account(VertexId a) const { return table_.input.Row(account_row_[a]); }
  std::span<const float> PostVector(VertexId p) const { return post_vectors_.Row(post_row_[p]); }
  // The author's output vector, or null (no author, no vector, or no output vectors).
  const float* AuthorOutput(VertexId p) const {
    const VertexId author = g_.post_author[p];
    if (author == kNoVertex || account_row_[author] == kNone || table_.output.rows() != table_.rows()) return nullptr;
    return table_.output.Row(account_row_[author]).data();
  }
  // z_p into out[0 .. 2 dim).
  void PostInput(VertexId p, float* out) const {
    const auto v = PostVector(p);
    std::copy(v.begin(), v.end(), out);
    const float* o = AuthorOutput(p);
    if (o == nullptr) {
      std::fill(out + dim_, out + 2 * dim_, 0.0f);
    } else {
      std::copy(o, o + dim_, out + dim_);
    }
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const graph::SocialGraph& g_;
  const embed::EmbeddingTable& table_;
  size_t dim_;
  std::vector<uint32_t> account_row_, post_row_;
  FloatMatrix post_vectors_;  // unit length
};

// One account's training pairs over its candidate posts.
struct AccountPairs {
  VertexId account = kNoVertex;
  std::vector<VertexId> posts;        // candidates that appear in a pair
  std::vector<float> log_popularity;  // log(1 + interactions) per candidate, at the scoring time
  struct Pair {
    uint32_t better, worse;  // indices into posts
    float weight;
  };
  std::vector<Pair> pairs;
  uint32_t distillation_pairs = 0;  // the first ones; the rest are causal
};

// Parameters, flat: U (d x d) | W (d x 2d) | beta.
struct Towers {
  size_t d = 0;
  std::vector<float> p;
  float* u() { return p.data(); }
  float* w() { return p.data() + d * d; }
  const float* u() const { return p.data(); }
  const float* w() const { return p.data() + d * d; }
  float& beta() { return p.back(); }
  float beta() const { return p.back(); }

  // v = W^T U x (2d floats): score(z, pop) = v . z + beta * pop.
  void ScoreVector(std::span<const float> x, std::vector<float>& q, std::vector<float>& v) const {
    q.assign(d, 0.0f);
    for (size_t i = 0; i < d; ++i) q[i] = Dot(u() + i * d, x.data(), d);
    v.assign(2 * d, 0.0f);
    for (size_t i = 0; i < d; ++i) {
      const float* row = w() + i * 2 * d;
      for (size_t j = 0; j < 2 * d; ++j) v[j] += q[i] * row[j];
    }
  }
};

// The pairs' loss of one account, and its gradient added to *grad (the
// towers' layout) unless null. Returns the summed weighted loss; *ordered
// counts the distillation pairs scored in the right order.
double AccountGradient(const Towers& t, const TowerInputs& in, const AccountPairs& a, std::vector<float>* grad,
                       uint32_t* ordered) {
  const size_t d = t.d;
  std::vector<float> q, v;
  const auto x = in.Account(a.account);
  t.ScoreVector(x, q, v);
  std::vector<float> z(a.posts.size() * 2 * d), score(a.posts.size());
  for (size_t i = 0; i < a.posts.size(); ++i) {
    in.PostInput(a.posts[i], z.data() + i * 2 * d);
    score[i] = Dot(v.data(), z.data() + i * 2 * d, 2 * d) + t.beta() * a.log_popularity[i];
  }
  std::vector<float> g(a.posts.size(), 0.0f);  // dLoss / dscore per candidate
  double loss = 0;
  uint32_t right = 0;
  for (size_t k = 0; k < a.pairs.size(); ++k) {
    const auto& pair = a.pairs[k];
    const double margin = score[pair.better] - score[pair.worse];
    if (k < a.distillation_pairs) right += margin > 0;
    loss += pair.weight * (margin > 0 ? std::log1p(std::exp(-margin)) : -margin + std::log1p(std::exp(margin)));
    const auto slope = static_cast<float>(-pair.weight / (1 + std::exp(margin)));  // d softplus(-m) / dm
    g[pair.better] += slope;
    g[pair.worse] -= slope;
  }
  if (ordered != nullptr) *ordered = right;
  if (grad == nullptr) return loss;
  // h = sum g_i z_i; dW = q h^T; dU = (W h) x^T; dbeta = sum g_i pop_i.
  std::vector<float> h(2 * d, 0.0f);
  float dbeta = 0;
  for (size_t i = 0; i < a.posts.size(); ++i) {
    if (g[i] == 0) continue;
    const float* zi = z.data() + i * 2 * d;
    for (size_t j = 0; j < 2 * d; ++j) h[j] += g[i] * zi[j];
    dbeta += g[i] * a.log_popularity[i];
  }
  float* dw = grad->data() + d * d;
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < 2 * d; ++j) dw[i * 2 * d + j] += q[i] * h[j];
  for (size_t i = 0; i < d; ++i) {
    const float wh = Dot(t.w() + i * 2 * d, h.data(), 2 * d);
    for (size_t j = 0; j < d; ++j) (*grad)[i * d + j] += wh * x[j];
  }
  grad->back() += dbeta;
  return loss;
}

}  // namespace

void ConsistentRecallConfig::Validate() const {
  GR_CHECK(accounts >= 1, "consistent recall: accounts must be >= 1");
  GR_CHECK(hard + easy > positives, "consistent recall: hard + easy candidates (", hard + easy,
           ") must exceed positives (", positives, ")");
  GR_CHECK(positives >= 1 && negatives_per_positive >= 1, "consistent recall: positives and negatives_per_positive must be >= 1");
  GR_CHECK(epochs >= 1 && batch_accounts >= 1, "consistent recall: epochs and batch_accounts must be >= 1");
  GR_CHECK(learning_rate > 0 && std::isfinite(learning_rate), "consistent recall: learning_rate must be > 0");
  GR_CHECK(l2 >= 0 && causal_weight >= 0, "consistent recall: l2 and causal_weight must be >= 0");
}

std::string ConsistentRecallConfig::ToJson() const {
  return nlohmann::json{{"accounts", accounts},         {"hard", hard},
                        {"easy", easy},                 {"positives", positives},
                        {"negatives_per_positive", negatives_per_positive},
                        {"window_days", window_days},   {"epochs", epochs},
                        {"batch_accounts", batch_accounts}, {"learning_rate", learning_rate},
                        {"l2", l2},                     {"causal_weight", causal_weight},
                        {"causal_pairs_per_click", causal_pairs_per_click}, {"seed", seed}}
      .dump();
}

std::string ConsistentRecallReport::ToText() const {
  return StrCat("consistent recall: ", accounts, " accounts, ", pairs, " ranker pairs, ", causal_pairs,
                " causal pairs; pair order agreement ", pair_accuracy_before, " -> ", pair_accuracy_after, " in ",
                seconds, " s");
}

std::string ConsistentRecallReport::ToJson() const {
  return nlohmann::json{{"accounts", accounts},
                        {"pairs", pairs},
                        {"causal_pairs", causal_pairs},
                        {"epoch_loss", epoch_loss},
                        {"pair_accuracy_before", pair_accuracy_before},
                        {"pair_accuracy_after", pair_accuracy_after},
                        {"seconds", seconds}}
      .dump();
}

ConsistentRecall ConsistentRecall::Train(const graph::SocialGraph& g, const embed::EmbeddingTable& table,
                                         const Ranker& ranker, const FeatureSource& features, uint32_t time,
                                         std::span<const graph::Impression> impressions,
                                         const ConsistentRecallConfig& config, ConsistentRecallReport* report) {
  config.Validate();
  const auto start = std::chrono::steady_clock::now();
  const TowerInputs in(g, table, features.config().post_rule);
  const size_t d = in.dim();

  // The catalogue: posts with a vector from the window before `time`.
  std::vector<VertexId> catalogue;
  const uint64_t window = uint64_t{config.window_days} * kSecondsPerDay;
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (in.HasPost(p) && g.post_time[p] < time && (window == 0 || uint64_t{time} - g.post_time[p] <= window))
      catalogue.push_back(p);
  GR_CHECK(!catalogue.empty(), "consistent recall: no post with a vector in the ", config.window_days, " days before ",
           time);
  std::vector<VertexId> mining = catalogue;  // hard candidates come from a bounded sample
  if (mining.size() > kMaxMiningCatalogue) {
    Rng rng(MixSeed(config.seed, 1));
    mining.resize(ShuffleFront(mining, kMaxMiningCatalogue, rng));
    std::sort(mining.begin(), mining.end());
  }

  std::vector<VertexId> accounts;
  for (VertexId a = 0; a < g.num_accounts(); ++a)
    if (in.HasAccount(a) && g.engagements.Degree(a) > 0) accounts.push_back(a);
  GR_CHECK(!accounts.empty(), "consistent recall: no account has both a vector and an interaction");
  {
    Rng rng(MixSeed(config.seed, 2));
    accounts.resize(ShuffleFront(accounts, config.accounts, rng));
    std::sort(accounts.begin(), accounts.end());
  }
  // Impressions of the training accounts before `time`, for the causal pairs.
  std::unordered_map<VertexId, std::vector<const graph::Impression*>> impressions_of;
  if (config.causal_weight > 0) {
    std::vector<uint8_t> training(g.num_accounts(), 0);
    for (const VertexId a : accounts) training[a] = 1;
    for (const graph::Impression& i : impressions) {
      const VertexId a = g.accounts.Find(i.account);
      if (i.time < time && a != kNoVertex && training[a]) impressions_of[a].push_back(&i);
    }
  }

  // Candidates, the ranker's order of them, and the pairs, per account.
  std::vector<AccountPairs> data(accounts.size());
  ParallelFor(static_cast<int64_t>(accounts.size()), config.threads, 4, [&](int64_t index) {
    const VertexId a = accounts[index];
    AccountPairs& out = data[index];
    out.account = a;
    Rng rng(MixSeed(config.seed, 3, a));
    std::vector<VertexId> seen(g.engagements.Neighbors(a).begin(), g.engagements.Neighbors(a).end());  // sorted
    const auto eligible = [&](VertexId p) {
      return g.post_author[p] != a && !std::binary_search(seen.begin(), seen.end(), p);
    };
    std::vector<VertexId> candidates;
    // Hard: the graph recall's best by the post vector and by the author's output vector.
    const auto x = in.Account(a);
    for (const bool by_author : {false, true}) {
      std::vector<std::pair<float, VertexId>> scored;
      for (const VertexId p : mining) {
        if (!eligible(p)) continue;
        const float* y = by_author ? in.AuthorOutput(p) : in.PostVector(p).data();
        if (y != nullptr) scored.emplace_back(-Dot(x.data(), y, d), p);
      }
      const size_t k = std::min<size_t>(by_author ? config.hard - config.hard / 2 : config.hard / 2, scored.size());
      std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(k), scored.end());
      for (size_t i = 0; i < k; ++i) candidates.push_back(scored[i].second);
    }
    for (uint32_t i = 0; i < config.easy; ++i) {
      const VertexId p = catalogue[rng.Uniform(catalogue.size())];
      if (eligible(p)) candidates.push_back(p);
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    if (candidates.size() <= config.positives) return;
    std::vector<ExternalId> ids;
    for (const VertexId p : candidates) ids.push_back(g.posts.ToExternal(p));
    const std::vector<Ranker::Scored> ranked = ranker.Rank(features, g.accounts.ToExternal(a), ids, time);
    // Ranked best first (ties: the candidates' order, by vertex).
    std::vector<VertexId> order;
    for (const auto& s : ranked) order.push_back(g.posts.Find(s.post));
    std::unordered_map<VertexId, uint32_t> slot;
    const auto slot_of = [&](VertexId p) {
      const auto [it, added] = slot.emplace(p, static_cast<uint32_t>(out.posts.size()));
      if (added) {
        out.posts.push_back(p);
        out.log_popularity.push_back(std::log1p(static_cast<float>(InteractionsBefore(g, p, time))));
      }
      return it->second;
    };
    const size_t rest = order.size() - config.positives;
    for (uint32_t i = 0; i < config.positives; ++i) {
      const uint32_t better = slot_of(order[i]);
      for (uint32_t n = 0; n < config.negatives_per_positive; ++n)
        out.pairs.push_back({better, slot_of(order[config.positives + rng.Uniform(rest)]), 1.0f});
    }
    out.distillation_pairs = static_cast<uint32_t>(out.pairs.size());
    // Causal: a clicked post against an unclicked, more popular impression.
    const auto it = impressions_of.find(a);
    if (it == impressions_of.end()) return;
    std::vector<std::pair<VertexId, uint32_t>> clicked, unclicked;  // post, interactions before the impression
    for (const graph::Impression* i : it->second) {
      const VertexId p = g.posts.Find(i->post);
      if (p == kNoVertex || !in.HasPost(p)) continue;
      (i->clicked ? clicked : unclicked).emplace_back(p, InteractionsBefore(g, p, i->time));
    }
    for (const auto& [p, popularity] : clicked) {
      std::vector<VertexId> more_popular;
      for (const auto& [q, q_popularity] : unclicked)
        if (q_popularity > popularity) more_popular.push_back(q);
      for (uint32_t n = 0; n < config.causal_pairs_per_click && !more_popular.empty(); ++n)
        out.pairs.push_back(
            {slot_of(p), slot_of(more_popular[rng.Uniform(more_popular.size())]), config.causal_weight});
    }
  });
  std::erase_if(data, [](const AccountPairs& a) { return a.pairs.empty(); });
  GR_CHECK(!data.empty(), "consistent recall: no account has enough candidates");

  Towers t{.d = d, .p = std::vector<float>(d * d + 2 * d * d + 1, 0.0f)};
  for (size_t i = 0; i < d; ++i) {
    t.u()[i * d + i] = 1.0f;
    t.p[d * d + i * 2 * d + i] = 0.5f;
    t.p[d * d + i * 2 * d + d + i] = 0.5f;
  }
  const std::vector<float> start_params = t.p;
  ConsistentRecallReport r;
  r.accounts = data.size();
  for (const auto& a : data) {
    r.pairs += a.distillation_pairs;
    r.causal_pairs += a.pairs.size() - a.distillation_pairs;
  }
  const auto agreement = [&] {
    std::vector<uint32_t> ordered(data.size());
    ParallelFor(static_cast<int64_t>(data.size()), config.threads, 16,
                [&](int64_t i) { AccountGradient(t, in, data[i], nullptr, &ordered[i]); });
    uint64_t right = 0;
    for (const uint32_t o : ordered) right += o;
    return static_cast<double>(right) / static_cast<double>(std::max<uint64_t>(r.pairs, 1));
  };
  r.pair_accuracy_before = agreement();

  // Adam over mini-batches of accounts; per-account gradients summed in order.
  std::vector<float> m(t.p.size(), 0.0f), v(t.p.size(), 0.0f);
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEpsilon = 1e-8f;
  uint64_t step = 0;
  std::vector<uint32_t> order(data.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t batch = config.batch_accounts;
  std::vector<std::vector<float>> grads(batch, std::vector<float>(t.p.size()));
  std::vector<double> losses(batch);
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    Rng shuffle(MixSeed(config.seed, 4, epoch));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle.Uniform(i)]);
    double epoch_loss = 0;
    uint64_t epoch_pairs = 0;
    for (size_t lo = 0; lo < order.size(); lo += batch) {
      const size_t n = std::min(batch, order.size() - lo);
      ParallelFor(static_cast<int64_t>(n), config.threads, 1, [&](int64_t i) {
        std::fill(grads[i].begin(), grads[i].end(), 0.0f);
        losses[i] = AccountGradient(t, in, data[order[lo + i]], &grads[i], nullptr);
      });
      uint64_t pairs = 0;
      for (size_t i = 0; i < n; ++i) {
        pairs += data[order[lo + i]].pairs.size();
        epoch_loss += losses[i];
      }
      epoch_pairs += pairs;
      ++step;
      const float correction1 = 1.0f - std::pow(kBeta1, static_cast<float>(step));
      const float correction2 = 1.0f - std::pow(kBeta2, static_cast<float>(step));
      const float rate = config.learning_rate * std::sqrt(correction2) / correction1;
      for (size_t j = 0; j < t.p.size(); ++j) {
        float gj = 0;
        for (size_t i = 0; i < n; ++i) gj += grads[i][j];
        gj = gj / static_cast<float>(pairs) + config.l2 * (t.p[j] - start_params[j]);
        m[j] = kBeta1 * m[j] + (1 - kBeta1) * gj;
        v[j] = kBeta2 * v[j] + (1 - kBeta2) * gj * gj;
        t.p[j] -= rate * m[j] / (std::sqrt(v[j]) + kEpsilon);
      }
    }
    r.epoch_loss.push_back(epoch_loss / static_cast<double>(std::max<uint64_t>(epoch_pairs, 1)));
  }
  r.pair_accuracy_after = agreement();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report != nullptr) *report = r;

  ConsistentRecall model;
  model.user_ = FloatMatrix(d, d);
  model.post_ = FloatMatrix(d, 2 * d);
  std::copy_n(t.u(), d * d, model.user_.Data().begin());
  std::copy_n(t.w(), 2 * d * d, model.post_.Data().begin());
  model.popularity_ = t.beta();
  return model;
}

std::vector<float> ConsistentRecall::UserVector(std::span<const float> account_input) const {
  const size_t d = user_.cols();
  GR_CHECK(account_input.size() == d, "consistent recall: an input vector of dimension ", account_input.size(),
           ", the towers take ", d);
  std::vector<float> q(d + 1, 1.0f);
  for (size_t i = 0; i < d; ++i) q[i] = Dot(user_.Row(i).data(), account_input.data(), d);
  return q;
}

ConsistentRecall::PostRows ConsistentRecall::PostVectors(const graph::SocialGraph& g,
                                                         const embed::EmbeddingTable& table,
                                                         const embed::PostVectorRule& rule, uint32_t time) const {
  const size_t d = user_.cols();
  GR_CHECK(table.dim() == d, "consistent recall: the embedding's dimension ", table.dim(), " is not the towers' ", d);
  const TowerInputs in(g, table, rule);
  PostRows rows;
  std::vector<VertexId> posts;
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (in.HasPost(p)) posts.push_back(p);
  rows.vectors = FloatMatrix(posts.size(), d + 1);
  ParallelFor(static_cast<int64_t>(posts.size()), 0, 256, [&](int64_t i) {
    std::vector<float> z(2 * d);
    in.PostInput(posts[i], z.data());
    auto out = rows.vectors.Row(static_cast<size_t>(i));
    for (size_t j = 0; j < d; ++j) out[j] = Dot(post_.Row(j).data(), z.data(), 2 * d);
    out[d] = popularity_ * std::log1p(static_cast<float>(InteractionsBefore(g, posts[i], time)));
  });
  for (const VertexId p : posts) rows.ids.push_back(g.posts.ToExternal(p));
  return rows;
}

void ConsistentRecall::Save(const std::string& path) const {
  SectionWriter writer(path, kMagic, kFormatVersion);
  const std::vector<uint64_t> dim{user_.cols()};
  writer.Add("towers.dim", dim);
  writer.Add("towers.user", user_.Data());
  writer.Add("towers.post", post_.Data());
  writer.Add("towers.popularity", std::vector<float>{popularity_});
  writer.Commit();
}

ConsistentRecall ConsistentRecall::Load(const std::string& path) {
  SectionReader reader(path, kMagic, "graphrec consistent recall towers");
  if (reader.version() != kFormatVersion)
    reader.Fail(StrCat("towers format version ", reader.version(), " is not supported (this build reads ",
                       kFormatVersion, ")"));
  const std::vector<uint64_t> dim = reader.Read<uint64_t>("towers.dim");
  if (dim.size() != 1 || dim[0] == 0 || dim[0] > 65536) reader.Fail("bad tower dimension");
  const size_t d = dim[0];
  const std::vector<float> user = reader.Read<float>("towers.user");
  const std::vector<float> post = reader.Read<float>("towers.post");
  const std::vector<float> popularity = reader.Read<float>("towers.popularity");
  reader.ExpectEnd();
  if (user.size() != d * d || post.size() != 2 * d * d || popularity.size() != 1) reader.Fail("bad tower shapes");
  for (const auto* values : {&user, &post, &popularity})
    for (const float x : *values)
      if (!std::isfinite(x)) reader.Fail("a tower weight is not finite");
  ConsistentRecall model;
  model.user_ = FloatMatrix(d, d);
  model.post_ = FloatMatrix(d, 2 * d);
  std::copy(user.begin(), user.end(), model.user_.Data().begin());
  std::copy(post.begin(), post.end(), model.post_.Data().begin());
  model.popularity_ = popularity[0];
  return model;
}

}  // namespace gr::ranking
