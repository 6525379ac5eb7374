// The post relations scattered from rank 0 (dist/partitioned_graph.h).
#include <algorithm>
#include <bit>
#include <span>

#include "core/error.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_graph.h"
#include "graph/social_graph.h"

namespace gr::dist {
namespace {

constexpr uint64_t kScatterSliceValues = uint64_t{1} << 22;

// One kind of vertex on rank 0 and the relations over it.
struct Side {
  const graph::IdMap* vertices = nullptr;
  std::vector<const graph::CsrGraph*> relations;  // each over `vertices`
  std::vector<const graph::IdMap*> targets;       // the kind each relation leads to
};

// Collective: rank 0 sends each rank, for every vertex of `side` the rank
// owns, in dense order: its id, then for each relation its degree, its
// targets' ids and (with_weights) their weights' bits. Each rank appends the
// ids it receives to `ids` and the lists to `lists` (one per relation).
void ScatterSide(const Side* side, bool with_weights, MPI_Comm comm, uint64_t* bytes_sent,
                 std::vector<ExternalId>& ids, const std::vector<PartitionedLists*>& lists) {
  const int ranks = Size(comm);
  const bool root = Rank(comm) == 0;
  uint64_t shape[2] = {0, 0};  // vertices, slices
  if (root) {
    uint64_t values = side->vertices->size();
    for (const graph::CsrGraph* relation : side->relations) values += relation->num_edges() * (with_weights ? 2 : 1);
    shape[0] = side->vertices->size();
    shape[1] = std::max<uint64_t>(1, values / kScatterSliceValues);
  }
  BroadcastFromRoot(std::span(shape), comm);
  for (uint64_t slice = 0; slice < shape[1]; ++slice) {
    std::vector<uint64_t> flat, counts(ranks, 0);
    if (root) {
      std::vector<std::vector<uint64_t>> outgoing(ranks);
      const std::span<const ExternalId> vertex_ids = side->vertices->external_ids();
      const auto begin = static_cast<VertexId>(shape[0] * slice / shape[1]);
      const auto end = static_cast<VertexId>(shape[0] * (slice + 1) / shape[1]);
      for (VertexId v = begin; v < end; ++v) {
        std::vector<uint64_t>& to = outgoing[OwnerOf(vertex_ids[v], ranks)];
        to.push_back(vertex_ids[v]);
        for (size_t r = 0; r < side->relations.size(); ++r) {
          const graph::CsrGraph& relation = *side->relations[r];
          const std::span<const ExternalId> target_ids = side->targets[r]->external_ids();
          // A graph without the relation (an edge list has no posts) holds no lists for it.
          const bool listed = v < relation.num_vertices();
          to.push_back(listed ? relation.Degree(v) : 0);
          if (!listed) continue;
          for (EdgeIndex e = relation.Begin(v); e < relation.End(v); ++e) to.push_back(target_ids[relation.targets[e]]);
          if (with_weights)
            for (EdgeIndex e = relation.Begin(v); e < relation.End(v); ++e)
              to.push_back(std::bit_cast<uint32_t>(relation.Weight(e)));
        }
      }
      for (int r = 0; r < ranks; ++r) {
        counts[r] = outgoing[r].size();
        if (r != 0) *bytes_sent += counts[r] * sizeof(uint64_t);
        flat.insert(flat.end(), outgoing[r].begin(), outgoing[r].end());
      }
    }
    const std::vector<uint64_t> mine = ExchangeValues(flat, counts, comm);
    for (size_t at = 0; at < mine.size();) {
      ids.push_back(mine[at++]);
      for (PartitionedLists* list : lists) {
        const uint64_t degree = mine[at++];
        list->targets.insert(list->targets.end(), mine.begin() + static_cast<int64_t>(at),
                             mine.begin() + static_cast<int64_t>(at + degree));
        at += degree;
        if (with_weights) {
          for (uint64_t i = 0; i < degree; ++i)
            list->weights.push_back(std::bit_cast<float>(static_cast<uint32_t>(mine[at + i])));
          at += degree;
        }
        list->offsets.push_back(list->targets.size());
      }
    }
  }
}

}  // namespace

size_t PartitionedLists::MemoryBytes() const {
  return offsets.size() * sizeof(uint64_t) + targets.size() * sizeof(ExternalId) + weights.size() * sizeof(float) +
         times.size() * sizeof(uint32_t);
}

size_t PartitionedPosts::MemoryBytes() const {
  return interacts.MemoryBytes() + authored.MemoryBytes() + posts.size() * sizeof(ExternalId) +
         engaged_by.MemoryBytes() + authored_by.MemoryBytes();
}

PartitionedPosts ScatterPostsFromRoot(const graph::SocialGraph* g, const PartitionedFollows& follows,
                                      bool with_weights, MPI_Comm comm) {
  const bool root = Rank(comm) == 0;
  uint8_t weights = 0;  // rank 0's setting; every rank must know it
  graph::CsrGraph authored_by;
  Side accounts, posts;
  if (root) {
    GR_CHECK(g != nullptr, "ScatterPostsFromRoot: rank 0 needs the graph");
    weights = with_weights ? 1 : 0;
    authored_by = graph::AuthoredByGraph(*g);
    accounts = {&g->accounts, {&g->engagements, &g->authored}, {&g->posts, &g->posts}};
    posts = {&g->posts, {&g->engagers, &authored_by}, {&g->accounts, &g->accounts}};
  }
  BroadcastFromRoot(std::span(&weights, 1), comm);
  PartitionedPosts out;
  std::vector<ExternalId> accounts_received;
  ScatterSide(root ? &accounts : nullptr, weights != 0, comm, &out.bytes_sent, accounts_received,
              {&out.interacts, &out.authored});
  GR_CHECK_CODE(accounts_received == follows.accounts, ErrorCode::kInternal, "rank ", Rank(comm), " received ",
                accounts_received.size(), " accounts' post lists for ", follows.accounts.size(),
                " accounts of its follows (not scattered from the same graph?)");
  ScatterSide(root ? &posts : nullptr, weights != 0, comm, &out.bytes_sent, out.posts,
              {&out.engaged_by, &out.authored_by});
  return out;
}

}  // namespace gr::dist
