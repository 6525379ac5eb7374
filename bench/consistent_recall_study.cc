// Does ranker-consistent recall (ranking/consistent_recall.h) agree more
// with the ranker, and does it find the posts users click next?
//   consistent_recall_study --graph G --embeddings E --ranker R --impressions I --cutoff T
//                           [--causal-weights 1,3] [--k 50] [--window-days 7] [--eval-accounts 2000]
//                           [--consistency-accounts 200] [--seed 1] [--threads 0]
// The graph, vectors and ranker must hold nothing from `cutoff` on (the
// script builds them from inputs cut there). Trains the towers at the
// cutoff without and with causal pairs (impressions before the cutoff), then
// prints JSON lines:
//   {"table":"consistency", ...}  eval::MeasureVersionConsistency at the
//       cutoff per variant (graph sources and the variant's towers);
//   {"table":"heldout", ...}      per source: recall@k of the clicks from the
//       cutoff on (impressions clicked at time >= cutoff on catalogue posts
//       the account had not interacted with or clicked before), overall and
//       by the clicked post's popularity decile (10 x the share of the
//       catalogue's posts with fewer interactions before the cutoff, so ties
//       share a decile; decile 1 = least popular; "tail" = deciles 1-5, the
//       less popular half), coverage (distinct posts recommended
//       / catalogue) and the mean popularity of the recommended posts.
// The catalogue: posts with a vector created in the `window-days` before the
// cutoff (0 = every post before it); scoring is exact over it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/matrix.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "embed/embedding_io.h"
#include "embed/graph_vectors.h"
#include "eval/consistency.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/recall.h"
#include "recall/vector_index.h"

namespace {

using namespace gr;

struct Args {
  std::string graph, embeddings, ranker, impressions;
  uint32_t cutoff = 0, k = 50, window_days = 7, eval_accounts = 2000, consistency_accounts = 200;
  std::vector<float> causal_weights{1.0f};
  uint64_t seed = 1;
  int threads = 0;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--graph") a.graph = value;
    else if (flag == "--embeddings") a.embeddings = value;
    else if (flag == "--ranker") a.ranker = value;
    else if (flag == "--impressions") a.impressions = value;
    else if (flag == "--cutoff") a.cutoff = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--k") a.k = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--window-days") a.window_days = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--eval-accounts") a.eval_accounts = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--consistency-accounts") a.consistency_accounts = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--seed") a.seed = std::stoull(value);
    else if (flag == "--threads") a.threads = std::stoi(value);
    else if (flag == "--causal-weights") {
      a.causal_weights.clear();
      for (size_t at = 0; at <= value.size();) {
        const size_t comma = std::min(value.find(',', at), value.size());
        a.causal_weights.push_back(std::stof(value.substr(at, comma - at)));
        at = comma + 1;
      }
    } else {
      GR_CHECK(false, "unknown flag ", flag);
    }
  }
  GR_CHECK(!a.graph.empty() && !a.embeddings.empty() && !a.ranker.empty() && !a.impressions.empty() && a.cutoff > 0,
           "usage: consistent_recall_study --graph G --embeddings E --ranker R --impressions I --cutoff T [...]");
  return a;
}

// One recall source over the catalogue: a score per catalogue post for an account.
using Scorer = std::function<void(VertexId account, std::vector<float>& scores)>;

void Normalise(std::span<float> row) {
  const float norm = std::sqrt(Dot(row.data(), row.data(), row.size()));
  if (norm > 0)
    for (float& x : row) x /= norm;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = Parse(argc, argv);
  const graph::SocialGraph g = graph::LoadSnapshot(args.graph);
  const embed::EmbeddingTable table = embed::LoadEmbeddings(args.embeddings);
  const ranking::Ranker ranker = ranking::Ranker::Load(args.ranker);
  const ranking::FeatureSource features(g, table, ranker.feature_config(), ranker.centroids(), args.threads);
  const std::vector<graph::Impression> impressions = graph::ReadImpressions(args.impressions, {});
  std::vector<graph::Impression> before;
  for (const auto& i : impressions)
    if (i.time < args.cutoff) before.push_back(i);
  GR_CHECK(g.reference_time < args.cutoff, "the graph holds data from ", g.reference_time, ", after the cutoff ",
           args.cutoff);

  // Variants: the towers without and with causal pairs.
  struct Variant {
    std::string name;
    ranking::ConsistentRecall towers;
    ranking::ConsistentRecallReport report;
  };
  std::vector<Variant> variants;
  std::vector<float> weights{0.0f};
  weights.insert(weights.end(), args.causal_weights.begin(), args.causal_weights.end());
  for (const float w : weights) {
    ranking::ConsistentRecallConfig config;
    config.causal_weight = w;
    config.window_days = args.window_days;
    config.seed = args.seed;
    config.threads = args.threads;
    Variant v;
    char weight[32];
    std::snprintf(weight, sizeof weight, "%g", static_cast<double>(w));
    v.name = w == 0 ? "consistent" : std::string("consistent+causal ") + weight;
    v.towers = ranking::ConsistentRecall::Train(g, table, ranker, features, args.cutoff, before, config, &v.report);
    std::fprintf(stderr, "%s: %s\n", v.name.c_str(), v.report.ToText().c_str());
    variants.push_back(std::move(v));
  }

  // Consistency with the ranker at the cutoff, per variant.
  recall::RecallIndexes indexes = recall::BuildRecallIndexes(g, table, {.kind = recall::IndexKind::kExact});
  const embed::PostVectorRule& rule = ranker.feature_config().post_rule;
  for (const Variant& v : variants) {
    const auto rows = v.towers.PostVectors(g, table, rule, args.cutoff);
    indexes.consistent_posts = recall::VectorIndex::Build(
        rows.ids, rows.vectors, {.kind = recall::IndexKind::kExact, .metric = recall::Metric::kInnerProduct});
    eval::VersionConsistencyConfig config;
    config.accounts = args.consistency_accounts;
    config.window_days = args.window_days;
    config.time = args.cutoff;
    config.seed = args.seed;
    config.metric.threads = args.threads;
    const eval::ConsistencyReport r = eval::MeasureVersionConsistency(g, indexes, table, ranker, features, config,
                                                                      &v.towers);
    nlohmann::json out = nlohmann::json::parse(r.ToJson());
    out["table"] = "consistency";
    out["variant"] = v.name;
    out["towers"] = nlohmann::json::parse(v.report.ToJson());
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
  }

  // The held-out clicks' catalogue and popularity.
  const uint64_t window = uint64_t{args.window_days} * 86400;
  std::vector<uint32_t> account_row(g.num_accounts(), UINT32_MAX);
  for (uint32_t r = 0; r < table.rows(); ++r)
    if (table.kinds[r] == embed::TokenKind::kAccount)
      if (const VertexId a = g.accounts.Find(table.ids[r]); a != kNoVertex) account_row[a] = r;
  embed::PostVectors post_vectors = embed::BuildPostVectors(g, table, rule);
  std::vector<uint32_t> post_row(g.num_posts(), UINT32_MAX);
  for (uint32_t r = 0; r < post_vectors.ids.size(); ++r) {
    post_row[g.posts.Find(post_vectors.ids[r])] = r;
    Normalise(post_vectors.vectors.Row(r));
  }
  std::vector<VertexId> catalogue;
  for (VertexId p = 0; p < g.num_posts(); ++p)
    if (post_row[p] != UINT32_MAX && g.post_time[p] < args.cutoff &&
        (window == 0 || uint64_t{args.cutoff} - g.post_time[p] <= window))
      catalogue.push_back(p);
  GR_CHECK(!catalogue.empty(), "no catalogue post");
  std::unordered_map<VertexId, uint32_t> position;
  for (uint32_t i = 0; i < catalogue.size(); ++i) position[catalogue[i]] = i;
  std::vector<float> popularity(catalogue.size());
  for (size_t i = 0; i < catalogue.size(); ++i) popularity[i] = static_cast<float>(g.engagers.Degree(catalogue[i]));
  // A post's decile: 10 x the share of catalogue posts strictly less popular
  // (equal popularity, equal decile: where most posts tie, deciles are empty).
  std::vector<uint8_t> decile(catalogue.size());
  {
    std::vector<float> sorted = popularity;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < catalogue.size(); ++i) {
      const size_t less = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), popularity[i]) - sorted.begin());
      decile[i] = static_cast<uint8_t>(less * 10 / sorted.size());
    }
  }

  // Per account: what it had seen before the cutoff, what it clicked after.
  std::unordered_map<VertexId, std::unordered_set<uint32_t>> seen, clicked_after;
  for (const auto& i : impressions) {
    const VertexId a = g.accounts.Find(i.account), p = g.posts.Find(i.post);
    if (a == kNoVertex || p == kNoVertex || !i.clicked) continue;
    const auto at = position.find(p);
    if (at == position.end()) continue;
    (i.time < args.cutoff ? seen : clicked_after)[a].insert(at->second);
  }
  std::vector<VertexId> accounts;
  for (auto& [a, posts] : clicked_after) {
    if (account_row[a] == UINT32_MAX) continue;
    for (const VertexId p : g.engagements.Neighbors(a))
      if (const auto at = position.find(p); at != position.end()) seen[a].insert(at->second);
    std::erase_if(posts, [&](uint32_t i) { return seen[a].contains(i) || g.post_author[catalogue[i]] == a; });
    if (!posts.empty()) accounts.push_back(a);
  }
  std::sort(accounts.begin(), accounts.end());
  if (accounts.size() > args.eval_accounts) {
    Rng rng(MixSeed(args.seed, 77));
    accounts.resize(ShuffleFront(accounts, args.eval_accounts, rng));
    std::sort(accounts.begin(), accounts.end());
  }

  // Sources.
  const size_t d = table.dim();
  std::vector<std::pair<std::string, Scorer>> sources;
  sources.emplace_back("graph (post vectors)", [&](VertexId a, std::vector<float>& s) {
    const auto x = table.input.Row(account_row[a]);
    for (size_t i = 0; i < catalogue.size(); ++i)
      s[i] = Dot(x.data(), post_vectors.vectors.Row(post_row[catalogue[i]]).data(), d);
  });
  const bool authored = std::any_of(catalogue.begin(), catalogue.end(),
                                    [&](VertexId p) { return g.post_author[p] != kNoVertex; });
  if (table.output.rows() == table.rows() && authored)
    sources.emplace_back("graph (authors)", [&](VertexId a, std::vector<float>& s) {
      const auto x = table.input.Row(account_row[a]);
      for (size_t i = 0; i < catalogue.size(); ++i) {
        const VertexId author = g.post_author[catalogue[i]];
        s[i] = author == kNoVertex || account_row[author] == UINT32_MAX
                   ? -1e30f
                   : Dot(x.data(), table.output.Row(account_row[author]).data(), d);
      }
    });
  std::vector<FloatMatrix> tower_rows;  // per variant, in catalogue order
  for (const Variant& v : variants) {
    const auto rows = v.towers.PostVectors(g, table, rule, args.cutoff);
    std::unordered_map<ExternalId, uint32_t> row_of;
    for (uint32_t r = 0; r < rows.ids.size(); ++r) row_of[rows.ids[r]] = r;
    FloatMatrix m(catalogue.size(), v.towers.output_dim());
    for (size_t i = 0; i < catalogue.size(); ++i) {
      const auto it = row_of.find(g.posts.ToExternal(catalogue[i]));
      if (it != row_of.end()) std::copy_n(rows.vectors.Row(it->second).data(), m.cols(), m.Row(i).data());
    }
    tower_rows.push_back(std::move(m));
  }
  for (size_t vi = 0; vi < variants.size(); ++vi)
    sources.emplace_back(variants[vi].name, [&, vi](VertexId a, std::vector<float>& s) {
      const std::vector<float> q = variants[vi].towers.UserVector(table.input.Row(account_row[a]));
      for (size_t i = 0; i < catalogue.size(); ++i) s[i] = Dot(q.data(), tower_rows[vi].Row(i).data(), q.size());
    });
  sources.emplace_back("popular", [&](VertexId, std::vector<float>& s) { s = popularity; });

  for (const auto& [name, score] : sources) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<uint32_t>> lists(accounts.size());
    ParallelFor(static_cast<int64_t>(accounts.size()), args.threads, 8, [&](int64_t ai) {
      const VertexId a = accounts[ai];
      std::vector<float> s(catalogue.size());
      score(a, s);
      std::vector<uint32_t> order;
      const auto& excluded = seen[a];
      for (uint32_t i = 0; i < catalogue.size(); ++i)
        if (!excluded.contains(i) && g.post_author[catalogue[i]] != a) order.push_back(i);
      const size_t k = std::min<size_t>(args.k, order.size());
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](uint32_t x, uint32_t y) { return s[x] > s[y] || (s[x] == s[y] && x < y); });
      order.resize(k);
      lists[ai] = std::move(order);
    });
    uint64_t hits = 0, clicks = 0;
    std::vector<uint64_t> decile_hits(10), decile_clicks(10);
    std::unordered_set<uint32_t> recommended;
    double popularity_sum = 0;
    uint64_t recommended_total = 0;
    for (size_t ai = 0; ai < accounts.size(); ++ai) {
      const std::unordered_set<uint32_t> top(lists[ai].begin(), lists[ai].end());
      for (const uint32_t i : lists[ai]) {
        recommended.insert(i);
        popularity_sum += popularity[i];
      }
      recommended_total += lists[ai].size();
      for (const uint32_t i : clicked_after.at(accounts[ai])) {
        const bool hit = top.contains(i);
        hits += hit;
        ++clicks;
        decile_hits[decile[i]] += hit;
        ++decile_clicks[decile[i]];
      }
    }
    const auto share = [](double part, uint64_t whole) { return whole ? part / static_cast<double>(whole) : 0.0; };
    nlohmann::json by_decile = nlohmann::json::array(), clicks_by_decile = nlohmann::json::array();
    uint64_t tail_hits = 0, tail_clicks = 0;
    for (int q = 0; q < 10; ++q) {
      by_decile.push_back(share(static_cast<double>(decile_hits[q]), decile_clicks[q]));
      clicks_by_decile.push_back(decile_clicks[q]);
      if (q < 5) {
        tail_hits += decile_hits[q];
        tail_clicks += decile_clicks[q];
      }
    }
    std::printf("%s\n",
                nlohmann::json{{"table", "heldout"},
                               {"source", name},
                               {"k", args.k},
                               {"accounts", accounts.size()},
                               {"catalogue", catalogue.size()},
                               {"clicks", clicks},
                               {"recall", share(static_cast<double>(hits), clicks)},
                               {"recall_tail", share(static_cast<double>(tail_hits), tail_clicks)},
                               {"recall_by_decile", by_decile},
                               {"clicks_by_decile", clicks_by_decile},
                               {"coverage", share(static_cast<double>(recommended.size()), catalogue.size())},
                               {"mean_popularity", share(popularity_sum, recommended_total)},
                               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}}
                    .dump()
                    .c_str());
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consistent_recall_study: %s\n", e.what());
  return 1;
}
