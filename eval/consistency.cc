#include "eval/consistency.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace gr::eval {

namespace {

constexpr float kIneligible = -std::numeric_limits<float>::infinity();
constexpr uint32_t kSecondsPerDay = 86400;

// Catalogue positions of `ids` (ignoring unknown ones and repeats), at most k.
std::vector<uint32_t> PositionsOf(std::span<const ExternalId> ids, size_t k,
                                  const std::unordered_map<ExternalId, uint32_t>& position_of) {
  std::vector<uint32_t> positions;
  positions.reserve(std::min(ids.size(), k));
  for (const ExternalId id : ids) {
    if (positions.size() == k) break;
    const auto it = position_of.find(id);
    if (it == position_of.end() || std::find(positions.begin(), positions.end(), it->second) != positions.end())
      continue;
    positions.push_back(it->second);
  }
  return positions;
}

}  // namespace

void ConsistencyConfig::Validate() const {
  GR_CHECK(top >= 1, "consistency: top must be >= 1");
  GR_CHECK(wide >= top, "consistency: wide (", wide, ") must be >= top (", top, ")");
  GR_CHECK(!ks.empty(), "consistency: give at least one recall depth K");
  for (const uint32_t k : ks) GR_CHECK(k >= 1, "consistency: a recall depth K must be >= 1");
}

std::vector<ConsistencyRow> MeasureConsistency(std::span<const ExternalId> accounts,
                                               std::span<const ExternalId> catalogue, const CatalogueScorer& scorer,
                                               std::span<const ConsistencySource> sources,
                                               const ConsistencyConfig& config, uint64_t* skipped) {
  config.Validate();
  GR_CHECK(!catalogue.empty(), "consistency: the catalogue is empty");
  std::unordered_map<ExternalId, uint32_t> position_of;
  position_of.reserve(catalogue.size());
  for (uint32_t i = 0; i < catalogue.size(); ++i)
    GR_CHECK(position_of.emplace(catalogue[i], i).second, "consistency: post ", catalogue[i],
             " is twice in the catalogue");
  const size_t columns = sources.size() * config.ks.size();
  // Per account and row: overlap, wide share, recalled count; NaN marks a skipped account.
  std::vector<double> overlap(accounts.size() * columns), wide(accounts.size() * columns),
      recalled(accounts.size() * columns);
  std::vector<uint8_t> measured(accounts.size(), 0);
  ParallelFor(static_cast<int64_t>(accounts.size()), config.threads, 1, [&](int64_t a) {
    std::vector<float> scores;
    try {
      scores = scorer(accounts[a]);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) return;
      throw;
    }
    GR_CHECK(scores.size() == catalogue.size(), "consistency: the scorer returned ", scores.size(),
             " scores for a catalogue of ", catalogue.size());
    // rank[i]: the post's place in the ranker's order of the eligible catalogue (best 0).
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < catalogue.size(); ++i)
      if (scores[i] != kIneligible) order.push_back(i);
    if (order.empty()) return;
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
      return scores[x] != scores[y] ? scores[x] > scores[y] : catalogue[x] < catalogue[y];
    });
    std::vector<uint32_t> rank(catalogue.size(), UINT32_MAX);
    for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
    const size_t ideal = std::min<size_t>(config.top, order.size());
    const size_t ideal_wide = std::min<size_t>(config.wide, order.size());
    size_t column = 0;
    for (const ConsistencySource& source : sources) {
      for (const uint32_t k : config.ks) {
        std::vector<uint32_t> got = PositionsOf(source.recall(accounts[a], k), k, position_of);
        std::erase_if(got, [&](uint32_t i) { return rank[i] == UINT32_MAX; });
        // The ranker orders the recalled posts: its top `top` of them are the smallest ranks.
        std::vector<uint32_t> ranks;
        for (const uint32_t i : got) ranks.push_back(rank[i]);
        std::sort(ranks.begin(), ranks.end());
        const size_t shown = std::min(ranks.size(), ideal);
        const auto hits_below = [&](size_t limit, size_t among) {
          return static_cast<double>(std::count_if(ranks.begin(), ranks.begin() + among,
                                                   [&](uint32_t r) { return r < limit; }));
        };
        const size_t cell = static_cast<size_t>(a) * columns + column++;
        overlap[cell] = hits_below(ideal, shown) / static_cast<double>(ideal);
        wide[cell] = hits_below(ideal_wide, ranks.size()) / static_cast<double>(ideal_wide);
        recalled[cell] = static_cast<double>(ranks.size());
      }
    }
    measured[a] = 1;
  });
  std::vector<ConsistencyRow> rows;
  const auto counted = static_cast<size_t>(std::count(measured.begin(), measured.end(), 1));
  if (skipped != nullptr) *skipped = accounts.size() - counted;
  size_t column = 0;
  for (const ConsistencySource& source : sources) {
    for (const uint32_t k : config.ks) {
      ConsistencyRow row{.source = source.name, .k = k};
      for (size_t a = 0; a < accounts.size(); ++a) {
        if (!measured[a]) continue;
        row.overlap += overlap[a * columns + column];
        row.wide_recalled += wide[a * columns + column];
        row.recalled += recalled[a * columns + column];
      }
      if (counted > 0) {
        row.overlap /= static_cast<double>(counted);
        row.wide_recalled /= static_cast<double>(counted);
        row.recalled /= static_cast<double>(counted);
      }
      rows.push_back(row);
      ++column;
    }
  }
  return rows;
}

void VersionConsistencyConfig::Validate() const {
  metric.Validate();
  GR_CHECK(accounts >= 1, "consistency: accounts must be >= 1");
  GR_CHECK(time < (int64_t{1} << 32), "consistency: time ", time, " is not a Unix second");
}

std::string VersionConsistencyConfig::ToJson() const {
  return nlohmann::json{{"accounts", accounts}, {"window_days", window_days}, {"max_catalogue", max_catalogue},
                        {"top", metric.top}, {"wide", metric.wide}, {"ks", metric.ks}, {"seed", seed}}
      .dump();
}

std::string ConsistencyReport::ToText() const {
  std::ostringstream out;
  out << "consistency at " << time << ": " << accounts << " accounts (" << skipped_accounts << " skipped), catalogue "
      << catalogue << " of " << window_posts << " posts in the window\n";
  out << "source\tK\toverlap@top\twide recalled\tmean recalled\n";
  char line[160];
  for (const ConsistencyRow& r : rows) {
    std::snprintf(line, sizeof line, "%s\t%u\t%.4f\t%.4f\t%.1f\n", r.source.c_str(), r.k, r.overlap,
                  r.wide_recalled, r.recalled);
    out << line;
  }
  return out.str();
}

std::string ConsistencyReport::ToJson() const {
  nlohmann::json out = {{"time", time},         {"top", top}, {"window_posts", window_posts},
                        {"catalogue", catalogue}, {"accounts", accounts},
                        {"skipped_accounts", skipped_accounts}, {"rows", nlohmann::json::array()}};
  for (const ConsistencyRow& r : rows)
    out["rows"].push_back({{"source", r.source}, {"k", r.k}, {"overlap", r.overlap},
                           {"wide_recalled", r.wide_recalled}, {"recalled", r.recalled}});
  return out.dump();
}

namespace {

// The catalogue and what every source needs to know about it.
class VersionCatalogue {
 public:
  VersionCatalogue(const graph::SocialGraph& g, const VersionConsistencyConfig& config, uint32_t time) : g_(g) {
    const uint64_t window = uint64_t{config.window_days} * kSecondsPerDay;
    for (VertexId p = 0; p < g.num_posts(); ++p) {
      const uint32_t t = g.post_time[p];
      if (config.window_days == 0 || (t < time && uint64_t{time} - t <= window)) posts_.push_back(p);
    }
    window_posts_ = posts_.size();
    if (config.max_catalogue > 0 && posts_.size() > config.max_catalogue) {
      Rng rng(MixSeed(config.seed, 1));
      posts_.resize(ShuffleFront(posts_, config.max_catalogue, rng));
      std::sort(posts_.begin(), posts_.end());
    }
    for (const VertexId p : posts_) ids_.push_back(g.posts.ToExternal(p));
    position_of_.reserve(posts_.size());
    for (uint32_t i = 0; i < posts_.size(); ++i) position_of_.emplace(posts_[i], i);
  }

  size_t window_posts() const { return window_posts_; }
  std::span<const ExternalId> ids() const { return ids_; }
  std::span<const VertexId> posts() const { return posts_; }

  // Per catalogue post: 1 when `account` may be shown it (not its own, not one it interacted with).
  std::vector<uint8_t> Eligible(VertexId account) const {
    std::vector<uint8_t> eligible(posts_.size(), 1);
    for (uint32_t i = 0; i < posts_.size(); ++i)
      if (g_.post_author[posts_[i]] == account) eligible[i] = 0;
    for (const VertexId p : g_.engagements.Neighbors(account))
      if (const auto it = position_of_.find(p); it != position_of_.end()) eligible[it->second] = 0;
    return eligible;
  }

  // The k eligible catalogue posts of highest `score` (ties: smaller id), as ids.
  std::vector<ExternalId> Best(std::vector<float> score, const std::vector<uint8_t>& eligible, size_t k) const {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < posts_.size(); ++i)
      if (eligible[i] && score[i] != kIneligible) order.push_back(i);
    const auto better = [&](uint32_t x, uint32_t y) { return score[x] != score[y] ? score[x] > score[y] : x < y; };
    k = std::min(k, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), better);
    std::vector<ExternalId> best;
    for (size_t i = 0; i < k; ++i) best.push_back(ids_[order[i]]);
    return best;
  }

 private:
  const graph::SocialGraph& g_;
  std::vector<VertexId> posts_;  // sorted
  std::vector<ExternalId> ids_;
  std::unordered_map<VertexId, uint32_t> position_of_;
  size_t window_posts_ = 0;
};

// The index's vector of each catalogue post (`key`: the id the index holds for a post, if any), or none.
std::vector<std::vector<float>> IndexVectorsOf(const recall::VectorIndex& index, std::span<const VertexId> posts,
                                               const std::function<std::optional<ExternalId>(VertexId)>& key) {
  std::vector<std::vector<float>> vectors(posts.size());
  for (size_t i = 0; i < posts.size(); ++i) {
    const std::optional<ExternalId> id = key(posts[i]);
    if (!id) continue;
    if (const uint32_t item = index.Find(*id); item != kNoVertex) vectors[i] = index.Vector(item);
  }
  return vectors;
}

}  // namespace

ConsistencyReport MeasureVersionConsistency(const graph::SocialGraph& g, const recall::RecallIndexes& indexes,
                                            const embed::EmbeddingTable& table, const ranking::Ranker& ranker,
                                            const ranking::FeatureSource& features,
                                            const VersionConsistencyConfig& config,
                                            const ranking::ConsistentRecall* towers) {
  config.Validate();
  ConsistencyReport report;
  report.time = static_cast<uint32_t>(config.time >= 0 ? config.time : g.reference_time + 1);
  report.top = config.metric.top;
  const VersionCatalogue catalogue(g, config, report.time);
  report.window_posts = catalogue.window_posts();
  report.catalogue = catalogue.ids().size();
  GR_CHECK(report.catalogue > 0, "consistency: no post in the ", config.window_days, " days before ", report.time,
           " (give --window-days 0 for every post)");

  // Accounts with an input vector and at least one interaction, sampled uniformly.
  std::vector<uint32_t> row_of(g.num_accounts(), UINT32_MAX);
  for (uint32_t r = 0; r < table.rows(); ++r)
    if (table.kinds[r] == embed::TokenKind::kAccount)
      if (const VertexId v = g.accounts.Find(table.ids[r]); v != kNoVertex) row_of[v] = r;
  std::vector<VertexId> active;
  for (VertexId v = 0; v < g.num_accounts(); ++v)
    if (row_of[v] != UINT32_MAX && g.engagements.Degree(v) > 0) active.push_back(v);
  GR_CHECK(!active.empty(), "consistency: no account has both a vector and an interaction");
  {
    Rng rng(MixSeed(config.seed, 2));
    active.resize(ShuffleFront(active, config.accounts, rng));
    std::sort(active.begin(), active.end());
  }
  std::vector<ExternalId> accounts;
  for (const VertexId v : active) accounts.push_back(g.accounts.ToExternal(v));
  report.accounts = accounts.size();
  const auto vertex = [&](ExternalId account) { return g.accounts.Find(account); };

  std::unordered_map<ExternalId, uint32_t> position_of;
  for (uint32_t i = 0; i < catalogue.ids().size(); ++i) position_of.emplace(catalogue.ids()[i], i);
  const CatalogueScorer scorer = [&](ExternalId account) {
    std::vector<float> scores(catalogue.ids().size(), kIneligible);
    const std::vector<uint8_t> eligible = catalogue.Eligible(vertex(account));
    for (const auto& s : ranker.Rank(features, account, catalogue.ids(), report.time)) {
      const uint32_t i = position_of.at(s.post);
      if (eligible[i]) scores[i] = s.fused;
    }
    return scores;
  };

  std::vector<ConsistencySource> sources;
  const auto user_vector = [&](ExternalId account) { return table.input.Row(row_of[vertex(account)]); };
  // `query` turns the account's input vector into the source's query (none: itself).
  using Query = std::function<std::vector<float>(std::span<const float>)>;
  const auto personal = [&](std::string name, std::vector<std::vector<float>> item_vectors, Query query = {}) {
    sources.push_back({std::move(name), [&, vectors = std::move(item_vectors), query](ExternalId account, size_t k) {
                         const auto x = user_vector(account);
                         const std::vector<float> u = query ? query(x) : std::vector<float>(x.begin(), x.end());
                         std::vector<float> score(vectors.size(), kIneligible);
                         for (size_t i = 0; i < vectors.size(); ++i)
                           if (vectors[i].size() == u.size()) score[i] = Dot(u.data(), vectors[i].data(), u.size());
                         return catalogue.Best(std::move(score), catalogue.Eligible(vertex(account)), k);
                       }});
  };
  // Cosine ranks like the dot product with the index's normalised post vectors (the user's norm is constant).
  if (indexes.posts != nullptr)
    personal("embedding", IndexVectorsOf(*indexes.posts, catalogue.posts(),
                                         [&](VertexId p) { return std::optional(g.posts.ToExternal(p)); }));
  // A post scores its author's user -> author score (one author's posts tie; catalogue order breaks it).
  if (indexes.authors != nullptr)
    personal("authors", IndexVectorsOf(*indexes.authors, catalogue.posts(), [&](VertexId p) {
               return g.post_author[p] == kNoVertex ? std::nullopt
                                                    : std::optional(g.accounts.ToExternal(g.post_author[p]));
             }));
  if (towers != nullptr && indexes.consistent_posts != nullptr)
    personal(
        "consistent",
        IndexVectorsOf(*indexes.consistent_posts, catalogue.posts(),
                       [&](VertexId p) { return std::optional(g.posts.ToExternal(p)); }),
        [towers](std::span<const float> x) { return towers->UserVector(x); });
  {
    std::vector<float> popularity(catalogue.posts().size());
    for (size_t i = 0; i < popularity.size(); ++i)
      popularity[i] = static_cast<float>(g.engagers.Degree(catalogue.posts()[i]));
    sources.push_back({"popular", [&, popularity](ExternalId account, size_t k) {
                         return catalogue.Best(popularity, catalogue.Eligible(vertex(account)), k);
                       }});
  }
  sources.push_back({"random", [&](ExternalId account, size_t k) {
                       Rng rng(MixSeed(config.seed, account));  // one order per account: K's lists nest
                       std::vector<float> draw(catalogue.ids().size());
                       for (float& d : draw) d = static_cast<float>(rng.UniformDouble());
                       return catalogue.Best(std::move(draw), catalogue.Eligible(vertex(account)), k);
                     }});
  report.rows = MeasureConsistency(accounts, catalogue.ids(), scorer, sources, config.metric, &report.skipped_accounts);
  return report;
}

}  // namespace gr::eval
