#include "dist/partitioned_graph.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "dist/mpi_session.h"
#include "dist/partitioned_ingest.h"
#include "graph/social_graph.h"

namespace gr::dist {
namespace {

// (owned account, neighbour): 16 bytes a record, as most loads need.
struct Edge {
  ExternalId account = 0, neighbour = 0;
  static constexpr bool kWeighted = false;
  static constexpr size_t kValues = 2;  // uint64 values a record takes on the wire
  auto operator<=>(const Edge&) const = default;
};
// ... and its weight; ordered so that merging duplicates sums their weights
// in one order whatever the rank count.
struct WeightedEdge {
  ExternalId account = 0, neighbour = 0;
  float weight = 1;
  static constexpr bool kWeighted = true;
  static constexpr size_t kValues = 3;
  auto operator<=>(const WeightedEdge&) const = default;
};

template <typename E>
E MakeEdge(ExternalId account, ExternalId neighbour, float weight) {
  if constexpr (E::kWeighted) return {account, neighbour, weight};
  else return {account, neighbour};
}

// Sorts the records and merges duplicates (summing their weights, for
// weighted records).
template <typename E>
void SortAndMerge(std::vector<E>& edges) {
  std::sort(edges.begin(), edges.end());
  size_t kept = 0;
  for (size_t e = 0; e < edges.size(); ++e) {
    if (kept > 0 && edges[kept - 1].account == edges[e].account && edges[kept - 1].neighbour == edges[e].neighbour) {
      if constexpr (E::kWeighted) edges[kept - 1].weight += edges[e].weight;
      continue;
    }
    edges[kept++] = edges[e];
  }
  edges.resize(kept);
}

// One CSR over `accounts` from sorted, merged records, which it releases.
template <typename E>
void BuildCsr(std::vector<E>& edges, const std::vector<ExternalId>& accounts, std::vector<uint64_t>& offsets,
              std::vector<ExternalId>& neighbours, std::vector<float>& weights) {
  offsets.assign(accounts.size() + 1, 0);
  neighbours.resize(edges.size());
  if constexpr (E::kWeighted) weights.resize(edges.size());
  size_t a = 0;
  for (size_t e = 0; e < edges.size(); ++e) {
    while (accounts[a] != edges[e].account) offsets[++a] = e;
    neighbours[e] = edges[e].neighbour;
    if constexpr (E::kWeighted) weights[e] = edges[e].weight;
  }
  while (a < accounts.size()) offsets[++a] = edges.size();
  std::vector<E>().swap(edges);
}

// Sends each rank its records and appends the ones received to `received`.
template <typename E>
void Exchange(std::vector<std::vector<E>>& outgoing, MPI_Comm comm, uint64_t* bytes_sent, std::vector<E>& received) {
  const int me = Rank(comm);
  std::vector<uint64_t> flat, counts;
  for (size_t r = 0; r < outgoing.size(); ++r) {
    counts.push_back(outgoing[r].size() * E::kValues);
    for (const E& e : outgoing[r]) {
      flat.push_back(e.account);
      flat.push_back(e.neighbour);
      if constexpr (E::kWeighted) flat.push_back(std::bit_cast<uint32_t>(e.weight));
    }
    if (static_cast<int>(r) != me) *bytes_sent += outgoing[r].size() * E::kValues * sizeof(uint64_t);
    std::vector<E>().swap(outgoing[r]);
  }
  const std::vector<uint64_t> values = ExchangeValues(flat, counts, comm);
  std::vector<uint64_t>().swap(flat);
  if (received.capacity() < received.size() + values.size() / E::kValues)
    received.reserve(received.size() + values.size() / E::kValues);
  for (size_t i = 0; i + E::kValues <= values.size(); i += E::kValues) {
    const float weight = E::kWeighted ? std::bit_cast<float>(static_cast<uint32_t>(values[i + 2])) : 1.0f;
    received.push_back(MakeEdge<E>(values[i], values[i + 1], weight));
  }
}

// This rank's part from the records that arrived ((a, a) among `out_edges`
// marks an account that has no edges of its own). Both lists are sorted
// first, so the accounts are one merge of their distinct accounts; each list
// is released once its CSR is built.
template <typename E>
void Build(std::vector<E>& out_edges, std::vector<E>& in_edges, PartitionedFollows& out) {
  SortAndMerge(out_edges);
  SortAndMerge(in_edges);
  auto out_it = out_edges.begin(), in_it = in_edges.begin();
  while (out_it != out_edges.end() || in_it != in_edges.end()) {
    const bool from_out = in_it == in_edges.end() || (out_it != out_edges.end() && out_it->account <= in_it->account);
    const ExternalId account = from_out ? out_it->account : in_it->account;
    if (out.accounts.empty() || out.accounts.back() != account) out.accounts.push_back(account);
    (from_out ? out_it : in_it)++;
  }
  std::erase_if(out_edges, [](const E& e) { return e.account == e.neighbour; });
  BuildCsr(out_edges, out.accounts, out.following_offsets, out.followees, out.followee_weights);
  BuildCsr(in_edges, out.accounts, out.followers_offsets, out.followers, out.follower_weights);
}

// Reads and parses this rank's lines of `path` (graph::ReadEdgeList, a
// byte range, in blocks) into records by owner; every rank learns whether
// any failed before the collective exchange (a rank that threw alone would
// hang the rest).
template <typename E>
void ReadOwnLines(const std::string& path, MPI_Comm comm, int threads, std::vector<std::vector<E>>& following,
                  std::vector<std::vector<E>>& followers, PartitionedFollows& out) {
  const int ranks = Size(comm);
  const graph::ByteRange range = RangeOf(path, comm);
  OnEveryRankIfAnyFails(comm, "reading " + path, [&] {
    // Every line its own record: repeated lines are merged below, as edges.
    const graph::IngestConfig config{.duplicates = graph::DuplicatePolicy::kKeep, .threads = threads};
    const BulkVector<graph::EdgeRecord> records =
        graph::ReadEdgeList(path, config, nullptr, range, E::kWeighted);
    out.lines_read = records.size();
    for (const graph::EdgeRecord& r : records) {
      if (r.src == r.dst) {  // dropped as graph::Ingest does, but the account exists
        following[OwnerOf(r.src, ranks)].push_back(MakeEdge<E>(r.src, r.src, r.weight));
        continue;
      }
      following[OwnerOf(r.src, ranks)].push_back(MakeEdge<E>(r.src, r.dst, r.weight));
      followers[OwnerOf(r.dst, ranks)].push_back(MakeEdge<E>(r.dst, r.src, r.weight));
    }
  });
}

template <typename E>
PartitionedFollows Load(const std::string& path, MPI_Comm comm, int threads) {
  PartitionedFollows out;
  std::vector<std::vector<E>> following(Size(comm)), followers(Size(comm));
  ReadOwnLines(path, comm, threads, following, followers, out);
  std::vector<E> out_edges, in_edges;
  Exchange(following, comm, &out.bytes_sent, out_edges);
  Exchange(followers, comm, &out.bytes_sent, in_edges);
  Build(out_edges, in_edges, out);
  return out;
}

// Rank 0 sends the records of a slice of its accounts at a time (about
// kScatterSliceEdges follows), so that it never holds every rank's records
// at once: beside the graph it holds one slice's.
constexpr uint64_t kScatterSliceEdges = uint64_t{1} << 22;

template <typename E>
PartitionedFollows Scatter(const graph::SocialGraph* g, MPI_Comm comm) {
  const int ranks = Size(comm);
  const bool root = Rank(comm) == 0;
  PartitionedFollows out;
  uint64_t shape[2] = {0, 0};  // accounts, slices
  if (root) {
    shape[0] = g->num_accounts();
    shape[1] = std::max<uint64_t>(1, (g->following.num_edges() + shape[0]) / kScatterSliceEdges);
  }
  BroadcastFromRoot(std::span(shape), comm);
  // Each rank's record counts first, so that it holds its records in
  // vectors of their exact size (grown, they took up to twice that).
  std::vector<uint64_t> counts(2 * static_cast<size_t>(ranks), 0);  // rank r: following, followers
  if (root) {
    const std::span<const ExternalId> ids = g->accounts.external_ids();
    for (VertexId v = 0; v < shape[0]; ++v) {
      counts[2 * OwnerOf(ids[v], ranks)] += 1 + g->following.Degree(v);
      for (EdgeIndex e = g->following.Begin(v); e < g->following.End(v); ++e)
        ++counts[2 * OwnerOf(ids[g->following.targets[e]], ranks) + 1];
    }
  }
  uint64_t my_counts[2] = {0, 0};
  MPI_Scatter(counts.data(), 2, MPI_UINT64_T, my_counts, 2, MPI_UINT64_T, 0, comm);
  std::vector<E> out_edges, in_edges;
  out_edges.reserve(my_counts[0]);
  in_edges.reserve(my_counts[1]);
  for (uint64_t slice = 0; slice < shape[1]; ++slice) {
    std::vector<std::vector<E>> following(ranks), followers(ranks);
    if (root) {
      const std::span<const ExternalId> ids = g->accounts.external_ids();
      const auto begin = static_cast<VertexId>(shape[0] * slice / shape[1]);
      const auto end = static_cast<VertexId>(shape[0] * (slice + 1) / shape[1]);
      for (VertexId v = begin; v < end; ++v) {
        std::vector<E>& mine = following[OwnerOf(ids[v], ranks)];
        mine.push_back(MakeEdge<E>(ids[v], ids[v], 1.0f));  // the account exists, with or without edges
        out.lines_read += g->following.Degree(v);
        for (EdgeIndex e = g->following.Begin(v); e < g->following.End(v); ++e) {
          const VertexId u = g->following.targets[e];
          const float weight = g->following.Weight(e);
          mine.push_back(MakeEdge<E>(ids[v], ids[u], weight));
          followers[OwnerOf(ids[u], ranks)].push_back(MakeEdge<E>(ids[u], ids[v], weight));
        }
      }
    }
    Exchange(following, comm, &out.bytes_sent, out_edges);
    Exchange(followers, comm, &out.bytes_sent, in_edges);
  }
  Build(out_edges, in_edges, out);
  return out;
}

}  // namespace

size_t PartitionedFollows::MemoryBytes() const {
  return (accounts.size() + followees.size() + followers.size()) * sizeof(ExternalId) +
         (following_offsets.size() + followers_offsets.size()) * sizeof(uint64_t) +
         (followee_weights.size() + follower_weights.size()) * sizeof(float) + followee_times.size() * sizeof(uint32_t);
}

PartitionedFollows LoadPartitionedFollows(const std::string& path, MPI_Comm comm, ThirdField third, int threads) {
  return third == ThirdField::kWeight ? Load<WeightedEdge>(path, comm, threads) : Load<Edge>(path, comm, threads);
}

PartitionedFollows ScatterFollowsFromRoot(const graph::SocialGraph* g, MPI_Comm comm) {
  uint8_t weighted = 0;  // rank 0's graph decides; every rank must know
  if (Rank(comm) == 0) {
    GR_CHECK(g != nullptr, "ScatterFollowsFromRoot: rank 0 needs the graph");
    weighted = g->following.has_weights() ? 1 : 0;
  }
  BroadcastFromRoot(std::span(&weighted, 1), comm);
  return weighted != 0 ? Scatter<WeightedEdge>(g, comm) : Scatter<Edge>(g, comm);
}

}  // namespace gr::dist
