#include "graph/stats.h"

#include <boost/pending/disjoint_sets.hpp>
#include <parallel/algorithm>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gr::graph {
namespace {

DegreeSummary Summarize(const std::string& name, const std::string& key, const CsrGraph& g) {
  DegreeSummary s;
  s.name = name;
  s.key = key;
  const size_t n = g.num_vertices();
  if (n == 0) return s;
  std::vector<uint64_t> degrees(n);
  for (size_t v = 0; v < n; ++v) degrees[v] = g.Degree(static_cast<VertexId>(v));
  __gnu_parallel::sort(degrees.begin(), degrees.end());
  auto at = [&](double q) { return degrees[std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n)))]; };
  s.mean = static_cast<double>(g.num_edges()) / static_cast<double>(n);
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = degrees.back();
  s.zero = static_cast<uint64_t>(std::upper_bound(degrees.begin(), degrees.end(), 0) - degrees.begin());
  return s;
}

}  // namespace

GraphStats ComputeStats(const SocialGraph& g) {
  GraphStats s;
  s.accounts = g.num_accounts();
  s.posts = g.num_posts();
  s.follow_edges = g.following.num_edges();
  s.interaction_edges = g.engagements.num_edges();
  s.undirected = g.undirected;
  for (uint8_t mask : g.engagements.type_masks) {
    for (int t = 0; t < kNumInteractionTypes; ++t) s.interactions_by_type[t] += (mask >> t) & 1u;
  }
  s.authored_posts = g.authored.num_edges();

  uint64_t reciprocal = 0, isolated = 0;
#pragma omp parallel for schedule(dynamic, 4096) reduction(+ : reciprocal, isolated)
  for (size_t u = 0; u < s.accounts; ++u) {
    const auto v_id = static_cast<VertexId>(u);
    if (g.following.Degree(v_id) == 0 && g.followers.Degree(v_id) == 0) ++isolated;
    for (VertexId v : g.following.Neighbors(v_id)) reciprocal += g.following.HasEdge(v, v_id);
  }
  s.reciprocal_follow_edges = reciprocal;
  s.isolated_accounts = isolated;

  // Weak components with Boost's union-find over the follow edges.
  boost::disjoint_sets_with_storage<> sets(s.accounts);
  for (size_t u = 0; u < s.accounts; ++u) sets.make_set(u);
  for (size_t u = 0; u < s.accounts; ++u) {
    for (VertexId v : g.following.Neighbors(static_cast<VertexId>(u))) sets.union_set(u, static_cast<size_t>(v));
  }
  std::vector<uint64_t> component_size(s.accounts, 0);
  for (size_t u = 0; u < s.accounts; ++u) {
    const size_t root = sets.find_set(u);
    if (component_size[root]++ == 0) ++s.follow_components;
  }
  s.largest_component =
      s.accounts == 0 ? 0 : *std::max_element(component_size.begin(), component_size.end());

  s.degrees.push_back(Summarize("follow out-degree (following)", "follow_out_degree", g.following));
  if (!g.undirected) s.degrees.push_back(Summarize("follow in-degree (followers)", "follow_in_degree", g.followers));
  if (s.interaction_edges > 0) {
    s.degrees.push_back(Summarize("interactions per account", "interactions_per_account", g.engagements));
    s.degrees.push_back(Summarize("interactions per post", "interactions_per_post", g.engagers));
  }
  if (s.authored_posts > 0) s.degrees.push_back(Summarize("posts per account", "posts_per_account", g.authored));
  return s;
}

std::string GraphStats::ToText() const {
  std::string out = StrCat("accounts: ", accounts, "\nposts: ", posts, "\nfollow edges: ",
                           follow_edges, undirected ? " (undirected graph: each edge both ways)" : "",
                           "\nreciprocal follow edges: ", reciprocal_follow_edges,
                           "\ninteraction edges: ", interaction_edges);
  if (interaction_edges > 0) {
    out += " (";
    for (int t = 0; t < kNumInteractionTypes; ++t) {
      out += StrCat(t ? ", " : "", InteractionTypeName(static_cast<InteractionType>(t)), " ",
                    interactions_by_type[t]);
    }
    out += ")";
  }
  out += StrCat("\nposts with author: ", authored_posts, "\nisolated accounts: ", isolated_accounts,
                "\nfollow components (weak): ", follow_components, "; largest: ", largest_component,
                " accounts (",
                accounts ? 100.0 * static_cast<double>(largest_component) / static_cast<double>(accounts) : 0.0,
                "%)\n");
  out += "degree                               mean     p50     p90     p99   p99.9     max    zero\n";
  for (const DegreeSummary& d : degrees) {
    char line[200];
    std::snprintf(line, sizeof(line), "%-32s %8.2f %7llu %7llu %7llu %7llu %7llu %7llu\n",
                  d.name.c_str(), d.mean, static_cast<unsigned long long>(d.p50),
                  static_cast<unsigned long long>(d.p90), static_cast<unsigned long long>(d.p99),
                  static_cast<unsigned long long>(d.p999), static_cast<unsigned long long>(d.max),
                  static_cast<unsigned long long>(d.zero));
    out += line;
  }
  return out;
}

std::string GraphStats::ToJson() const {
  nlohmann::json j = {{"accounts", accounts},
                      {"posts", posts},
                      {"follow_edges", follow_edges},
                      {"reciprocal_follow_edges", reciprocal_follow_edges},
                      {"interaction_edges", interaction_edges},
                      {"authored_posts", authored_posts},
                      {"isolated_accounts", isolated_accounts},
                      {"follow_components", follow_components},
                      {"largest_component", largest_component},
                      {"undirected", undirected}};
  for (int t = 0; t < kNumInteractionTypes; ++t)
    j["interactions_by_type"][std::string(InteractionTypeName(static_cast<InteractionType>(t)))] =
        interactions_by_type[t];
  for (const DegreeSummary& d : degrees) {
    j["degrees"][d.key] = {{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99},
                            {"p999", d.p999}, {"max", d.max}, {"zero", d.zero}};
  }
  return j.dump();
}

}  // namespace gr::graph
