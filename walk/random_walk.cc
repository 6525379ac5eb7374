#include "walk/random_walk.h"

#include <algorithm>

#include "core/error.h"
#include "walk/internal/walker_impl.h"

namespace gr::walk {

using internal::Hop;

RandomWalker::RandomWalker(const graph::SocialGraph& g, const WalkConfig& config)
    : config_(config), impl_(std::make_unique<Impl>()) {
  config_.Validate();
  Impl& im = *impl_;
  im.graph = &g;
  const bool weighted = config_.StepsByWeight();
  if (config_.kind == WalkKind::kMetapath) {
    im.metapath = true;
    im.authored_by = graph::AuthoredByGraph(g);
    for (const Relation relation : ParseMetapath(config_.metapath)) {
      const graph::CsrGraph* list = nullptr;
      switch (relation) {
        case Relation::kFollows: list = &g.following; break;
        case Relation::kFollowedBy: list = &g.followers; break;
        case Relation::kInteracts: list = &g.engagements; break;
        case Relation::kAuthored: list = &g.authored; break;
        case Relation::kEngagedBy: list = &g.engagers; break;
        case Relation::kAuthoredBy: list = &im.authored_by; break;
      }
      const std::string name = RelationName(relation);
      GR_CHECK(list->num_edges() > 0, "metapath relation '", name,
               "' has no edges in this graph (were the interactions/posts files ingested?)");
      im.hops.push_back({name, list, nullptr, RelationFrom(relation), RelationTo(relation)});
    }
    im.start_type = im.hops.front().from;
  } else {
    Hop hop;
    hop.name = "follow";
    const bool undirected = g.undirected;
    switch (undirected ? Direction::kOut : config_.direction) {
      case Direction::kOut:
        hop.first = &g.following;
        break;
      case Direction::kIn:
        hop.first = &g.followers;
        break;
      case Direction::kBoth:
        hop.first = &g.following;
        hop.second = &g.followers;
        break;
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
  FastRng unused(0);
  return WalkFrom(impl_->StartOf(index, config_.seed, &unused), index / impl_->num_starts, out, stats);
}

size_t RandomWalker::WalkFrom(VertexId start, uint64_t round, std::span<VertexId> out, WalkStats* stats) const {
  const Impl& im = *impl_;
  GR_CHECK(start < im.num_starts, "walk start ", start, " is not a start vertex (", im.num_starts, " of them)");
  FastRng rng = FastRng::ForItem(config_.seed, start, round);  // as StartOf seeds walk `round` of `start`
  VertexId cur = start;
  const size_t length = std::min<size_t>(config_.walk_length, out.size());
  ++stats->walks;
  out[0] = im.TokenOf(cur, im.start_type);
  size_t k = 1;
  for (; k < length; ++k) {
    const Hop& hop = im.HopOfStep(k);
    const uint64_t degree = hop.Degree(cur);
    if (degree == 0) {
      if (k == 1)
        ++stats->isolated_starts;
      else
        ++stats->ended_early;
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

}  // namespace gr::walk
