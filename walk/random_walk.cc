#include "walk/random_walk.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/huge_pages.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "core/rng.h"

namespace gr::walk {
namespace {

enum class VertexType { kAccount, kPost };

// "Is `key` in list(owner)": one sorted neighbour list to search.
struct Lookup {
  const graph::CsrGraph* list;
  VertexId owner;
  VertexId key;
};

// Summed weight (weighted) or count of the entries equal to the key.
double LookupMass(const Lookup& lookup, bool weighted) {
  const graph::CsrGraph& g = *lookup.list;
  auto neighbors = g.Neighbors(lookup.owner);
  double mass = 0;
  for (auto it = std::lower_bound(neighbors.begin(), neighbors.end(), lookup.key);
       it != neighbors.end() && *it == lookup.key; ++it) {
    mass += weighted ? g.Weight(g.offsets[lookup.owner] + static_cast<uint64_t>(it - neighbors.begin())) : 1.0;
  }
  return mass;
}

// One relation a walk can step along: up to two CSR parts read as one
// concatenated neighbour list (the both-direction view), with optional
// per-vertex alias tables over that list.
struct Hop {
  std::string name;
  const graph::CsrGraph* first = nullptr;
  const graph::CsrGraph* second = nullptr;
  VertexType from = VertexType::kAccount, to = VertexType::kAccount;
  bool weighted = false;
  bool symmetric = false;  // u in N(v) iff v in N(u), with the same edge weight
  std::vector<float> alias_prob;      // at Base(v) + i: keep neighbour i with this probability
  std::vector<uint32_t> alias_index;  // ... else take neighbour alias_index[Base(v) + i]
  std::vector<double> weight_sum;     // per vertex, when weighted
  // Per-vertex records of the account walk's view (any direction; not
  // metapath hops, which read the CSR offsets): where v's entries start in
  // each part and how many there are, as 32-bit words, so that everything a
  // step needs to pick a neighbour lies in one aligned cache line. For
  // node2vec a record also holds a 384-bit filter of v's neighbour ids
  // (bit FilterBit(x) set for each neighbour x): a clear bit proves x is not
  // adjacent, which settles most adjacency tests without reading the lists.
  // 16 bytes per vertex, or 64 with the filter.
  static constexpr uint32_t kRecordWords = 4, kFilteredRecordWords = 16, kFilterBits = 384;
  struct alignas(64) RecordLine {
    uint32_t words[16];
  };
  std::vector<RecordLine> record_lines;
  uint32_t record_words = 0;  // 0: no records

  bool has_records() const { return record_words != 0; }
  bool has_filter() const { return record_words == kFilteredRecordWords; }
  const uint32_t* Record(VertexId v) const {
    return reinterpret_cast<const uint32_t*>(record_lines.data()) + size_t{v} * record_words;
  }
  static uint32_t FilterBit(VertexId x) {  // a multiplicative hash of x onto [0, kFilterBits)
    return static_cast<uint32_t>((uint64_t{x * 0x9E3779B1u} * kFilterBits) >> 32);
  }
  // False if x is surely not among u's neighbours.
  bool MayBeAdjacent(VertexId u, VertexId x) const {
    const uint32_t bit = FilterBit(x);
    return (Record(u)[kRecordWords + bit / 32] >> (bit % 32)) & 1u;
  }
  void BuildRecords(size_t num_vertices, bool with_filter, int threads) {
    for (const graph::CsrGraph* part : {first, second}) {
      GR_CHECK(part == nullptr || part->num_edges() <= UINT32_MAX,
               "the walk engine addresses at most 2^32 - 1 follow edges per direction, the graph has ",
               part->num_edges());
    }
    record_words = with_filter ? kFilteredRecordWords : kRecordWords;
    record_lines.assign((num_vertices * record_words + 15) / 16, RecordLine{});
    auto* words = reinterpret_cast<uint32_t*>(record_lines.data());
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(dynamic, 4096)
    for (size_t vi = 0; vi < num_vertices; ++vi) {
      const auto v = static_cast<VertexId>(vi);
      uint32_t* record = words + vi * record_words;
      record[0] = static_cast<uint32_t>(first->Begin(v));
      record[2] = static_cast<uint32_t>(first->Degree(v));
      if (second != nullptr) {
        record[1] = static_cast<uint32_t>(second->Begin(v));
        record[3] = static_cast<uint32_t>(second->Degree(v));
      }
      if (!with_filter) continue;
      for (const graph::CsrGraph* part : {first, second}) {
        if (part == nullptr) continue;
        for (const VertexId x : part->Neighbors(v)) {
          const uint32_t bit = FilterBit(x);
          record[kRecordWords + bit / 32] |= 1u << (bit % 32);
        }
      }
    }
  }
  const graph::CsrGraph& Part(VertexId v, uint64_t i, uint64_t* position) const {
    if (!has_records()) {
      *position = first->offsets[v] + i;
      return *first;
    }
    const uint32_t* r = Record(v);
    if (i < r[2]) {
      *position = r[0] + i;
      return *first;
    }
    *position = r[1] + (i - r[2]);
    return *second;
  }
  // Fetches what Degree and Part will read for v.
  void PrefetchVertex(VertexId v) const {
    if (has_records()) {
      Prefetch(Record(v));
    } else {
      Prefetch(&first->offsets[v]);
      Prefetch(&first->offsets[v + 1]);  // may be the next line
    }
  }
  // Address of neighbour i of v (to prefetch before reading).
  const VertexId* Locate(VertexId v, uint64_t i) const {
    uint64_t position;
    return &Part(v, i, &position).targets[position];
  }
  // Index of a neighbour of v (degree > 0), uniformly or by weight.
  [[gnu::always_inline]] uint64_t PickIndex(VertexId v, uint64_t degree, FastRng& rng) const {
    uint64_t i = rng.Uniform(degree);
    if (weighted) {
      const uint64_t slot = Base(v) + i;
      if (rng.UniformFloat() >= alias_prob[slot]) i = alias_index[slot];
    }
    return i;
  }
  // Position of v's first entry in a per-edge array over the concatenated
  // lists (the alias tables).
  uint64_t Base(VertexId v) const {
    if (!has_records()) return first->offsets[v];
    const uint32_t* r = Record(v);
    return uint64_t{r[0]} + r[1];
  }
  uint64_t Degree(VertexId v) const {
    if (!has_records()) return first->Degree(v);
    const uint32_t* r = Record(v);
    return uint64_t{r[2]} + r[3];
  }
  float WeightAt(VertexId v, uint64_t i) const {
    const uint64_t d1 = first->Degree(v);
    return i < d1 ? first->Weight(first->offsets[v] + i) : second->Weight(second->offsets[v] + i - d1);
  }
  // The lookups whose matches are exactly the edges v->u of this view. In
  // the both-direction view, "u in out(v)" is "v in in(u)" and "u in in(v)"
  // is "v in out(u)": each is looked up in the shorter of its two lists, so
  // a celebrity's long follower list is almost never searched. An
  // undirected graph's one list is symmetric: the shorter of v's and u's.
  // Both sides of a follow edge carry the same weight.
  int EdgeLookups(VertexId v, VertexId u, Lookup out[2]) const {
    if (second != nullptr) {
      out[0] = first->Degree(v) <= second->Degree(u) ? Lookup{first, v, u} : Lookup{second, u, v};
      out[1] = second->Degree(v) <= first->Degree(u) ? Lookup{second, v, u} : Lookup{first, u, v};
      return 2;
    }
    out[0] = symmetric && first->Degree(u) < first->Degree(v) ? Lookup{first, u, v} : Lookup{first, v, u};
    return 1;
  }
  // u's neighbour list in part 0 (the only list, or following) or 1 (followers).
  std::span<const VertexId> List(VertexId u, int part) const {
    if (!has_records()) return first->Neighbors(u);
    const uint32_t* r = Record(u);
    return {(part == 0 ? first : second)->targets.data() + r[part], r[2 + part]};
  }
  // True if x is among u's neighbours. u (the previous vertex) was just
  // visited, so its lists are searched: they are warmer in cache than x's
  // (measured faster than searching the shorter list).
  bool Contains(VertexId u, VertexId x) const {
    return graph::SortedContains(List(u, 0), x) || (second != nullptr && graph::SortedContains(List(u, 1), x));
  }
  // Where x would sit in u's list `part`: list entries are account ids
  // spread over [0, number of accounts) (node2vec's hop is account ->
  // account), so about at size * x / accounts.
  uint64_t GuessPosition(std::span<const VertexId> list, VertexId x) const {
    return graph::GuessPosition(list.size(), x, first->num_vertices());
  }
  // Fetches the lines around where x would sit in u's lists, for
  // ContainsFrom a round of the engine later.
  void PrefetchAround(VertexId u, VertexId x) const {
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      if (list.empty()) continue;
      const uint64_t guess = GuessPosition(list, x);
      Prefetch(list.data() + (guess >= 8 ? guess - 8 : 0));
      Prefetch(list.data() + std::min<uint64_t>(guess + 8, list.size() - 1));
    }
  }
  // The number of u's lists that hold x (the edges u->x of this view, with
  // no repeated entries), each searched outwards from where x would sit.
  uint64_t CountFrom(VertexId u, VertexId x) const {
    uint64_t count = 0;
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      count += graph::SortedContainsFrom(list, x, GuessPosition(list, x));
    }
    return count;
  }
  // Contains, each list searched outwards from where x would sit: with
  // PrefetchAround done before, it usually reads only cached lines.
  bool ContainsFrom(VertexId u, VertexId x) const {
    for (int part = 0; part < (second ? 2 : 1); ++part) {
      const auto list = List(u, part);
      if (graph::SortedContainsFrom(list, x, GuessPosition(list, x))) return true;
    }
    return false;
  }
  // First-order probability of stepping from v to u (0 if no such edge).
  double StepProbability(VertexId v, VertexId u, uint64_t degree) const {
    Lookup lookups[2];
    const int n = EdgeLookups(v, u, lookups);
    double mass = 0;
    for (int i = 0; i < n; ++i) mass += LookupMass(lookups[i], weighted);
    return mass / StepDenominator(v, degree);
  }
  // Unweighted: the number of edges v->u of this view, by the same lookups
  // as StepProbability. The engine counts with CountFrom instead; the
  // reference walk keeps this independent path so that the equivalence test
  // compares two searches.
  uint64_t BackEdges(VertexId v, VertexId u) const {
    Lookup lookups[2];
    const int n = EdgeLookups(v, u, lookups);
    double count = 0;
    for (int i = 0; i < n; ++i) count += LookupMass(lookups[i], false);
    return static_cast<uint64_t>(count);
  }
  double StepDenominator(VertexId v, uint64_t degree) const {
    return weighted ? weight_sum[v] : static_cast<double>(degree);
  }

  // Puts the arrays a step reads at random on huge pages (core/huge_pages.h).
  void AdviseHugePages() const {
    for (const graph::CsrGraph* part : {first, second}) {
      if (part == nullptr) continue;
      gr::AdviseHugePages(std::span<const VertexId>(part->targets));
      if (!has_records()) gr::AdviseHugePages(std::span<const EdgeIndex>(part->offsets));
    }
    gr::AdviseHugePages(std::span<const RecordLine>(record_lines));
    gr::AdviseHugePages(std::span<const float>(alias_prob));
    gr::AdviseHugePages(std::span<const uint32_t>(alias_index));
  }

  void BuildAliasTables(size_t num_vertices, int threads) {
    weighted = true;
    const uint64_t total = first->num_edges() + (second ? second->num_edges() : 0);
    alias_prob.assign(total, 1.0f);
    alias_index.assign(total, 0);
    weight_sum.assign(num_vertices, 0.0);
#pragma omp parallel num_threads(ResolveThreads(threads))
    {
      std::vector<double> scaled;
      std::vector<uint32_t> small, large;
#pragma omp for schedule(dynamic, 1024)
      for (size_t vi = 0; vi < num_vertices; ++vi) {
        const auto v = static_cast<VertexId>(vi);
        const uint64_t d = Degree(v), base = Base(v);
        if (d == 0) continue;
        double sum = 0;
        scaled.resize(d);
        for (uint64_t i = 0; i < d; ++i) sum += scaled[i] = WeightAt(v, i);
        weight_sum[v] = sum;
        small.clear();
        large.clear();
        for (uint64_t i = 0; i < d; ++i) {
          scaled[i] *= static_cast<double>(d) / sum;
          (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
          alias_index[base + i] = static_cast<uint32_t>(i);
        }
        while (!small.empty() && !large.empty()) {
          const uint32_t s = small.back(), l = large.back();
          small.pop_back();
          alias_prob[base + s] = static_cast<float>(scaled[s]);
          alias_index[base + s] = l;
          scaled[l] -= 1.0 - scaled[s];
          if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
          }
        }
      }
    }
  }
};

// A bijection of [0, n) keyed by `key` (4-round Feistel network with cycle
// walking): the start order of one round, with O(1) memory.
uint64_t Permute(uint64_t x, uint64_t n, uint64_t key) {
  if (n <= 1) return 0;
  int bits = 1;
  while ((uint64_t{1} << bits) < n) ++bits;
  const int half = (bits + 1) / 2;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  do {
    uint64_t left = x >> half, right = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = MixSeed(key, round, right) & mask;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= n);
  return x;
}

void Accumulate(WalkStats& total, const WalkStats& part) {
  total.walks += part.walks;
  total.steps += part.steps;
  total.ended_early += part.ended_early;
  total.isolated_starts += part.isolated_starts;
  total.rejected_proposals += part.rejected_proposals;
}

}  // namespace

struct RandomWalker::Impl {
  const graph::SocialGraph* graph = nullptr;
  std::vector<Hop> hops;  // one for account walks; the cycle for metapaths
  graph::CsrGraph authored_by;  // post -> author, built for metapaths that need it
  VertexType start_type = VertexType::kAccount;
  uint64_t num_starts = 0;
  bool node2vec = false;
  bool metapath = false;
  // node2vec acceptance: a candidate x != prev has bias 1 (x adjacent to
  // prev) or 1/q; the envelope is max(1, 1/q). When 1/p exceeds it, the
  // return step is an outlier (KnightKing): its excess mass
  // (1/p - envelope) x P(step to prev) is drawn first, so the envelope stays
  // tight. Candidates with bias >= `lower` (draw below it) skip the
  // adjacency test.
  double inv_p = 1, inv_q = 1, envelope = 1, lower = 1, return_excess = 0;

  // The hop that step k (>= 1) of a walk takes.
  const Hop& HopOfStep(uint64_t k) const { return hops.size() == 1 ? hops.front() : hops[(k - 1) % hops.size()]; }

  VertexId TokenOf(VertexId v, VertexType type) const {
    return type == VertexType::kPost ? static_cast<VertexId>(graph->num_accounts() + v) : v;
  }

  VertexId StartOf(uint64_t index, uint64_t seed, FastRng* rng) const {
    const uint64_t round = index / num_starts;
    const auto start = static_cast<VertexId>(
        Permute(index % num_starts, num_starts, MixSeed(seed, 0x5747, round)));
    *rng = FastRng::ForItem(seed, start, round);
    return start;
  }

  // The return step as an outlier (KnightKing): its excess mass X =
  // return_excess x (edges from cur back to prev) / degree is drawn first.
  // Unweighted, with no repeated list entries, that edge count lies in
  // [back_min, back_max] (both view: 1 or 2, as the follow is reciprocated
  // or not), so the draw is made against X's upper bound and the count is
  // looked up only when the draw falls between the bounds (about once per
  // degree draws); a draw there that the exact X rejects is drawn again,
  // which leaves every step's probability as with the exact X. Weighted, or
  // with repeats, X is looked up every step (low == high).
  bool bounded_return = false;
  uint32_t back_min = 0, back_max = 0;
  struct ReturnBounds {
    double low = 0, high = 0;
  };
  double BackExcess(uint64_t back_edges, uint64_t degree) const {
    return static_cast<double>(back_edges) * (return_excess / static_cast<double>(degree));
  }
  ReturnBounds ReturnExcessBounds(const Hop& hop, VertexId cur, VertexId prev, uint64_t degree) const {
    if (return_excess <= 0) return {};
    if (bounded_return) return {BackExcess(back_min, degree), BackExcess(back_max, degree)};
    const double exact = return_excess * hop.StepProbability(cur, prev, degree);
    return {exact, exact};
  }
  // In parts, so that the interleaved engine can let the count wait for
  // its memory: the draw (kNeedsCount: between the bounds, *u kept); the
  // verdict with the count.
  enum class ReturnDraw { kPropose, kReturn, kRedraw, kNeedsCount };
  ReturnDraw DrawReturnWithoutCount(ReturnBounds bounds, FastRng& rng, double* u) const {
    if (bounds.high <= 0) return ReturnDraw::kPropose;
    *u = rng.UniformDouble() * (envelope + bounds.high);
    if (*u < bounds.low) return ReturnDraw::kReturn;
    return *u < bounds.high ? ReturnDraw::kNeedsCount : ReturnDraw::kPropose;
  }
  ReturnDraw ReturnWithCount(double u, uint64_t back_edges, uint64_t degree) const {
    return u < BackExcess(back_edges, degree) ? ReturnDraw::kReturn : ReturnDraw::kRedraw;
  }
  ReturnDraw DrawReturn(const Hop& hop, VertexId cur, VertexId prev, uint64_t degree, ReturnBounds bounds,
                        FastRng& rng) const {
    double u = 0;
    const ReturnDraw draw = DrawReturnWithoutCount(bounds, rng, &u);
    return draw == ReturnDraw::kNeedsCount ? ReturnWithCount(u, hop.BackEdges(cur, prev), degree) : draw;
  }
  // node2vec acceptance of candidate x proposed from cur after prev, in
  // parts so that the interleaved engine can let the adjacency test wait
  // for its memory: the draw; the verdict without the test; the verdict
  // with it.
  double AcceptanceDraw(FastRng& rng) const { return rng.UniformDouble() * envelope; }
  enum class Verdict { kReject, kAccept, kNeedsTest };
  Verdict VerdictWithoutTest(VertexId prev, VertexId x, double draw) const {
    if (x == prev) return draw < std::min(inv_p, envelope) ? Verdict::kAccept : Verdict::kReject;
    return draw < lower ? Verdict::kAccept : Verdict::kNeedsTest;
  }
  bool VerdictWithTest(bool adjacent_to_prev, double draw) const { return draw < (adjacent_to_prev ? 1.0 : inv_q); }
  bool Accept(const Hop& hop, VertexId prev, VertexId x, FastRng& rng) const {
    const double draw = AcceptanceDraw(rng);
    const Verdict verdict = VerdictWithoutTest(prev, x, draw);
    return verdict == Verdict::kNeedsTest ? VerdictWithTest(hop.Contains(prev, x), draw) : verdict == Verdict::kAccept;
  }
};

void WalkConfig::Validate() const {
  GR_CHECK(walk_length >= 1, "walk_length must be >= 1, got ", walk_length);
  GR_CHECK(walks_per_vertex >= 1, "walks_per_vertex (num-walks) must be >= 1, got ", walks_per_vertex);
  GR_CHECK(p > 0 && std::isfinite(p), "p must be > 0, got ", p);
  GR_CHECK(q > 0 && std::isfinite(q), "q must be > 0, got ", q);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
  GR_CHECK(kind != WalkKind::kMetapath || !metapath.empty(), "a metapath walk needs --metapath");
}

RandomWalker::RandomWalker(const graph::SocialGraph& g, const WalkConfig& config)
    : config_(config), impl_(std::make_unique<Impl>()) {
  config_.Validate();
  Impl& im = *impl_;
  im.graph = &g;
  const bool weighted = config_.kind == WalkKind::kWeighted ||
                        (config_.weighted && config_.kind != WalkKind::kUniform);
  if (config_.kind == WalkKind::kMetapath) {
    im.metapath = true;
    // authored_by as a CSR over posts: one edge per post with a known author.
    im.authored_by.offsets.assign(g.num_posts() + 1, 0);
    for (size_t p = 0; p < g.num_posts(); ++p) {
      if (g.post_author[p] != kNoVertex) im.authored_by.targets.push_back(g.post_author[p]);
      im.authored_by.offsets[p + 1] = im.authored_by.targets.size();
    }
    std::stringstream names(config_.metapath);
    std::string name;
    while (std::getline(names, name, ',')) {
      Hop hop;
      hop.name = name;
      using VT = VertexType;
      if (name == "follows") hop = {name, &g.following, nullptr, VT::kAccount, VT::kAccount};
      else if (name == "followed_by") hop = {name, &g.followers, nullptr, VT::kAccount, VT::kAccount};
      else if (name == "interacts") hop = {name, &g.engagements, nullptr, VT::kAccount, VT::kPost};
      else if (name == "authored") hop = {name, &g.authored, nullptr, VT::kAccount, VT::kPost};
      else if (name == "engaged_by") hop = {name, &g.engagers, nullptr, VT::kPost, VT::kAccount};
      else if (name == "authored_by") hop = {name, &im.authored_by, nullptr, VT::kPost, VT::kAccount};
      else
        GR_THROW(ErrorCode::kInvalidArgument, "unknown metapath relation '", name,
                 "' (known: follows, followed_by, interacts, authored, engaged_by, authored_by)");
      GR_CHECK(hop.first->num_edges() > 0, "metapath relation '", name,
               "' has no edges in this graph (were the interactions/posts files ingested?)");
      if (!im.hops.empty())
        GR_CHECK(im.hops.back().to == hop.from, "metapath '", config_.metapath, "': relation '", name,
                 "' does not start where '", im.hops.back().name, "' ends");
      im.hops.push_back(std::move(hop));
    }
    GR_CHECK(!im.hops.empty(), "empty metapath");
    GR_CHECK(im.hops.back().to == im.hops.front().from, "metapath '", config_.metapath,
             "' must end on the vertex type it starts from, so it can repeat");
    im.start_type = im.hops.front().from;
  } else {
    Hop hop;
    hop.name = "follow";
    const bool undirected = g.undirected;
    switch (undirected ? Direction::kOut : config_.direction) {
      case Direction::kOut: hop.first = &g.following; break;
      case Direction::kIn: hop.first = &g.followers; break;
      case Direction::kBoth: hop.first = &g.following; hop.second = &g.followers; break;
    }
    // Out+in lists form a symmetric view; an undirected graph's one list is symmetric.
    hop.symmetric = hop.second != nullptr || undirected;
    im.hops.push_back(std::move(hop));
    im.node2vec = config_.kind == WalkKind::kNode2vec;
    im.hops.front().BuildRecords(g.num_accounts(), im.node2vec, config_.threads);
    im.inv_p = 1.0 / config_.p;
    im.inv_q = 1.0 / config_.q;
    im.envelope = std::max(1.0, im.inv_q);
    im.lower = std::min(1.0, im.inv_q);
    im.return_excess = std::max(0.0, im.inv_p - im.envelope);
  }
  im.num_starts = im.start_type == VertexType::kPost ? g.num_posts() : g.num_accounts();
  if (weighted) {
    for (Hop& hop : im.hops) {
      const size_t rows = hop.from == VertexType::kPost ? g.num_posts() : g.num_accounts();
      hop.BuildAliasTables(rows, config_.threads);
    }
  }
  for (const Hop& hop : im.hops) hop.AdviseHugePages();
  const Hop& first_hop = im.hops.front();
  if (im.node2vec && !weighted && !first_hop.first->HasRepeatedNeighbors() &&
      (first_hop.second == nullptr || !first_hop.second->HasRepeatedNeighbors())) {
    // cur was reached from prev along an edge of the view, so in a
    // symmetric view at least one edge leads back; at most one per list.
    im.bounded_return = true;
    im.back_max = first_hop.second != nullptr ? 2 : 1;
    im.back_min = first_hop.symmetric ? 1 : 0;
  }
}

RandomWalker::~RandomWalker() = default;

uint64_t RandomWalker::num_walks() const { return impl_->num_starts * config_.walks_per_vertex; }

size_t RandomWalker::vocabulary_size() const {
  return impl_->metapath ? impl_->graph->num_accounts() + impl_->graph->num_posts()
                         : impl_->graph->num_accounts();
}

std::string RandomWalker::TokenText(VertexId token) const {
  const graph::SocialGraph& g = *impl_->graph;
  if (!impl_->metapath) return std::to_string(g.accounts.ToExternal(token));
  if (token < g.num_accounts()) return std::to_string(g.accounts.ToExternal(token));
  return "p" + std::to_string(g.posts.ToExternal(static_cast<VertexId>(token - g.num_accounts())));
}

size_t RandomWalker::Walk(uint64_t index, std::span<VertexId> out, WalkStats* stats) const {
  const Impl& im = *impl_;
  FastRng rng(0);
  VertexId cur = im.StartOf(index, config_.seed, &rng);
  const size_t length = std::min<size_t>(config_.walk_length, out.size());
  ++stats->walks;
  out[0] = im.TokenOf(cur, im.start_type);
  size_t k = 1;
  for (; k < length; ++k) {
    const Hop& hop = im.HopOfStep(k);
    const uint64_t degree = hop.Degree(cur);
    if (degree == 0) {
      if (k == 1) ++stats->isolated_starts;
      else ++stats->ended_early;
      break;
    }
    VertexId next;
    if (im.node2vec && k >= 2) {
      const VertexId prev = out[k - 2];
      const Impl::ReturnBounds bounds = im.ReturnExcessBounds(hop, cur, prev, degree);
      while (true) {
        const Impl::ReturnDraw draw = im.DrawReturn(hop, cur, prev, degree, bounds, rng);
        if (draw == Impl::ReturnDraw::kReturn) {
          next = prev;
          break;
        }
        if (draw == Impl::ReturnDraw::kRedraw) continue;
        next = *hop.Locate(cur, hop.PickIndex(cur, degree, rng));
        if (im.Accept(hop, prev, next, rng)) break;
        ++stats->rejected_proposals;
      }
    } else {
      next = *hop.Locate(cur, hop.PickIndex(cur, degree, rng));
    }
    cur = next;
    out[k] = im.TokenOf(cur, hop.to);
  }
  stats->steps += k;
  return k;
}

namespace {

// The interleaved engine: one thread advances kSlots walks round-robin, one
// memory-bound stage at a time, prefetching what the next stage of each walk
// will read, so that many cache misses are in flight at once instead of one
// (the idea of ThunderRW). Each walk draws the same random numbers in the
// same order as RandomWalker::Walk, so the corpus is identical. 32, 64 and
// 128 slots measured alike on the 100k world (not compared at 1M).
constexpr int kSlots = 64;

struct Slot {
  enum Stage : uint8_t {
    kIdle,
    kOffsets,  // cur's record (or offsets) prefetched: read the degree, pick a neighbour
    kTarget,   // the picked neighbour's id prefetched
    kTest,     // node2vec: the spots of prev's lists where the candidate would sit prefetched
    kCount,    // node2vec: the spots of cur's lists where prev would sit prefetched
  };
  Stage stage = kIdle;
  uint32_t k = 0;
  VertexId cur = 0;
  VertexId prev = 0;  // from the second step on
  uint64_t index = 0;
  uint64_t degree = 0;
  double return_low = 0, return_high = 0;  // node2vec: bounds of the return's excess mass, per step
  const VertexId* target = nullptr;
  VertexId candidate = 0;  // kTest: the proposed neighbour
  double draw = 0;         // kTest: its acceptance draw; kCount: the return draw
  VertexId* out = nullptr;
  FastRng rng{0};
};

// Moves slot's walk one stage on, drawing the same random numbers in the
// same order as RandomWalker::Walk. finish(slot) ends a walk. When node2vec's
// "is x adjacent to prev" decides a proposal, the lines of prev's lists
// where x would sit are prefetched and the test waits a round (kTest); it
// then searches outwards from there. (A binary search from the top with
// its top levels prefetched, and one pipelined probe by probe through the
// slots, were measured slower, but while the compiler was dropping the
// helpers' prefetches, core/prefetch.h; not re-measured since.) The
// node2vec filter in prev's record settles most tests without the wait. A
// return draw that falls between its bounds (Impl::DrawReturn) waits a
// round likewise (kCount) for the count of edges back to prev.
template <typename Impl, typename Finish>
void Advance(const Impl& im, Slot& slot, size_t length, WalkStats& stats, Finish&& finish) {
  const Hop& hop = im.HopOfStep(slot.k);
  const bool second_order = im.node2vec && slot.k >= 2;
  const VertexId prev = slot.prev;
  auto step_to = [&](VertexId next) __attribute__((always_inline)) {
    slot.prev = slot.cur;
    slot.cur = next;
    slot.out[slot.k++] = im.TokenOf(next, hop.to);
    if (slot.k >= length) return finish(slot);
    slot.stage = Slot::kOffsets;
    im.HopOfStep(slot.k).PrefetchVertex(next);
  };
  // Steps back to prev (node2vec return outlier) or proposes a neighbour.
  auto return_or_propose = [&]() __attribute__((always_inline)) {
    if (second_order) {
      const auto draw = im.DrawReturnWithoutCount({slot.return_low, slot.return_high}, slot.rng, &slot.draw);
      if (draw == Impl::ReturnDraw::kReturn) return step_to(prev);
      if (draw == Impl::ReturnDraw::kNeedsCount) {
        hop.PrefetchAround(slot.cur, prev);
        slot.stage = Slot::kCount;
        return;
      }
    }
    slot.target = hop.Locate(slot.cur, hop.PickIndex(slot.cur, slot.degree, slot.rng));
    Prefetch(slot.target);
    slot.stage = Slot::kTarget;
  };
  if (slot.stage == Slot::kOffsets) {
    if (slot.k >= length) return finish(slot);
    slot.degree = hop.Degree(slot.cur);
    if (slot.degree == 0) {
      if (slot.k == 1) ++stats.isolated_starts;
      else ++stats.ended_early;
      return finish(slot);
    }
    if (second_order) {
      const auto bounds = im.ReturnExcessBounds(hop, slot.cur, prev, slot.degree);
      slot.return_low = bounds.low;
      slot.return_high = bounds.high;
    }
    return return_or_propose();
  }
  if (slot.stage == Slot::kCount) {
    const auto draw = im.ReturnWithCount(slot.draw, hop.CountFrom(slot.cur, prev), slot.degree);
    return draw == Impl::ReturnDraw::kReturn ? step_to(prev) : return_or_propose();
  }
  bool accepted = true;
  VertexId x;
  if (slot.stage == Slot::kTest) {
    x = slot.candidate;
    accepted = im.VerdictWithTest(hop.ContainsFrom(prev, x), slot.draw);
  } else {  // kTarget
    x = *slot.target;
    if (second_order) {
      const double draw = im.AcceptanceDraw(slot.rng);
      const auto verdict = im.VerdictWithoutTest(prev, x, draw);
      if (verdict != Impl::Verdict::kNeedsTest) {
        accepted = verdict == Impl::Verdict::kAccept;
      } else if (hop.has_filter() && !hop.MayBeAdjacent(prev, x)) {
        accepted = im.VerdictWithTest(false, draw);
      } else {
        slot.candidate = x;
        slot.draw = draw;
        hop.PrefetchAround(prev, x);
        slot.stage = Slot::kTest;
        return;
      }
    }
  }
  if (accepted) return step_to(x);
  ++stats.rejected_proposals;
  return_or_propose();
}

}  // namespace

WalkCorpus RandomWalker::Generate(uint64_t begin, uint64_t end, WalkStats* stats) const {
  GR_CHECK(begin <= end && end <= num_walks(), "walk range [", begin, ", ", end, ") outside [0, ",
           num_walks(), ")");
  const uint64_t n = end - begin;
  const size_t length = config_.walk_length;
  std::vector<VertexId> buffer(n * length);  // walk i at buffer[i * length], then compacted
  std::vector<uint32_t> lengths(n);
  WalkStats total;
  const Impl& im = *impl_;
  constexpr uint64_t kChunk = 4096;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel num_threads(ResolveThreads(config_.threads))
  {
    WalkStats local;
    Slot slots[kSlots];
#pragma omp for schedule(dynamic, 1)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      uint64_t next_index = static_cast<uint64_t>(chunk) * kChunk;
      const uint64_t chunk_end = std::min(n, next_index + kChunk);
      int active = 0;
      // Starts walk `i` (relative to begin) in `slot`; false if it is already complete.
      auto start = [&](Slot& slot, uint64_t i) {
        slot.index = i;
        slot.out = buffer.data() + i * length;
        slot.cur = im.StartOf(begin + i, config_.seed, &slot.rng);
        slot.out[0] = im.TokenOf(slot.cur, im.start_type);
        slot.k = 1;
        ++local.walks;
        slot.stage = Slot::kOffsets;
        im.HopOfStep(1).PrefetchVertex(slot.cur);
      };
      auto finish = [&](Slot& slot) {
        lengths[slot.index] = slot.k;
        local.steps += slot.k;
        slot.stage = Slot::kIdle;
        --active;
        if (next_index < chunk_end) {
          start(slot, next_index++);
          ++active;
        }
      };
      for (Slot& slot : slots) {
        if (next_index < chunk_end) {
          start(slot, next_index++);
          ++active;
        }
      }
      while (active > 0) {
        for (Slot& slot : slots) {
          if (slot.stage != Slot::kIdle) Advance(im, slot, length, local, finish);
        }
      }
    }
#pragma omp critical
    Accumulate(total, local);
  }
  WalkCorpus corpus;
  corpus.offsets.resize(n + 1);
  corpus.offsets[0] = 0;
  for (uint64_t i = 0; i < n; ++i) corpus.offsets[i + 1] = corpus.offsets[i] + lengths[i];
  if (corpus.offsets[n] == n * length) {
    corpus.tokens = std::move(buffer);
  } else {
    corpus.tokens.resize(corpus.offsets[n]);
    for (uint64_t i = 0; i < n; ++i)
      std::copy_n(buffer.begin() + static_cast<int64_t>(i * length), lengths[i],
                  corpus.tokens.begin() + static_cast<int64_t>(corpus.offsets[i]));
  }
  if (stats != nullptr) Accumulate(*stats, total);
  return corpus;
}

void RandomWalker::ForEachBatch(uint64_t batch_walks,
                                const std::function<void(const WalkCorpus&)>& sink,
                                WalkStats* stats) const {
  GR_CHECK(batch_walks > 0, "batch size must be > 0");
  const uint64_t total = num_walks();
  for (uint64_t begin = 0; begin < total; begin += batch_walks) {
    const WalkCorpus batch = Generate(begin, std::min(total, begin + batch_walks), stats);
    sink(batch);
  }
}

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
