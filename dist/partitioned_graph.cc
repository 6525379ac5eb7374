#include "dist/partitioned_graph.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "dist/mpi_session.h"
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

// The bytes of the lines that start in [begin, end) of the file.
// `*first` is set to the file offset of the first of them.
std::string ReadOwnedLines(const std::string& path, int fd, uint64_t size, uint64_t begin, uint64_t end,
                           uint64_t* first) {
  const auto read_at = [&](uint64_t offset, uint64_t bytes) {
    std::string out(bytes, '\0');
    uint64_t done = 0;
    while (done < bytes) {
      const ssize_t n = pread(fd, out.data() + done, bytes - done, static_cast<off_t>(offset + done));
      GR_CHECK_CODE(n >= 0, ErrorCode::kIo, path, ": read failed: ", std::strerror(errno));
      if (n == 0) break;
      done += static_cast<uint64_t>(n);
    }
    out.resize(done);
    return out;
  };
  // A line starts at `begin` only if the byte before it ends a line.
  uint64_t start = begin;
  if (begin > 0) {
    start = begin - 1;
    for (;;) {
      const std::string chunk = read_at(start, std::min<uint64_t>(1 << 16, size - start));
      const size_t newline = chunk.find('\n');
      if (newline != std::string::npos) {
        start += newline + 1;
        break;
      }
      start += chunk.size();
      if (chunk.empty() || start >= size) break;
    }
  }
  *first = start;
  if (start >= end) return {};
  // ... and runs to the end of the line that holds byte end - 1.
  std::string text = read_at(start, end - start);
  while (!text.empty() && text.back() != '\n' && start + text.size() < size) {
    const std::string more = read_at(start + text.size(), std::min<uint64_t>(1 << 16, size - start - text.size()));
    const size_t newline = more.find('\n');
    text.append(more, 0, newline == std::string::npos ? more.size() : newline + 1);
    if (more.empty() || newline != std::string::npos) break;
  }
  return text;
}

bool ParseId(std::string_view field, ExternalId* out) {
  if (field.empty() || field.front() == '-' || field.front() == '+') return false;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), *out);
  return error == std::errc() && end == field.data() + field.size();
}

// The first two fields of a line and the third if any (else empty): tab-
// or comma-separated, else space-separated.
bool FirstFields(std::string_view line, std::string_view* a, std::string_view* b, std::string_view* c) {
  constexpr auto npos = std::string_view::npos;
  *c = {};
  if (const size_t i = line.find_first_of("\t,"); i != npos) {
    const size_t j = line.find_first_of("\t,", i + 1);
    *a = line.substr(0, i);
    *b = line.substr(i + 1, j == npos ? npos : j - i - 1);
    if (j != npos) *c = line.substr(j + 1, line.find_first_of("\t,", j + 1) - j - 1);
    return true;
  }
  const size_t i = line.find_first_not_of(' ');
  const size_t j = i == npos ? npos : line.find(' ', i);
  const size_t k = j == npos ? npos : line.find_first_not_of(' ', j);
  if (k == npos) return false;
  const size_t l = line.find(' ', k);
  *a = line.substr(i, j - i);
  *b = line.substr(k, l == npos ? npos : l - k);
  if (const size_t m = l == npos ? npos : line.find_first_not_of(' ', l); m != npos)
    *c = line.substr(m, line.find(' ', m) - m);
  return true;
}

// An edge list's weight field (graph::LoadEdgeList's rule): absent = 1, else
// finite and > 0.
bool ParseWeight(std::string_view field, float* out) {
  *out = 1;
  if (field.empty()) return true;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), *out);
  return error == std::errc() && end == field.data() + field.size() && std::isfinite(*out) && *out > 0;
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

// Reads and parses this rank's lines of `path` into records by owner; every
// rank learns whether any failed before the collective exchange (a rank that
// threw alone would hang the rest).
template <typename E>
void ReadOwnLines(const std::string& path, MPI_Comm comm, std::vector<std::vector<E>>& following,
                  std::vector<std::vector<E>>& followers, PartitionedFollows& out) {
  const int ranks = Size(comm), me = Rank(comm);
  OnEveryRankIfAnyFails(comm, "reading " + path, [&] {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    GR_CHECK_CODE(fd >= 0, ErrorCode::kIo, path, ": cannot open: ", std::strerror(errno));
    struct stat st {};
    fstat(fd, &st);
    const auto size = static_cast<uint64_t>(st.st_size);
    unsigned char magic[2] = {0, 0};
    const bool gzip = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (gzip) close(fd);
    GR_CHECK(!gzip, path, ": a gzip file cannot be split between ranks; decompress it first");
    const uint64_t begin = size * static_cast<uint64_t>(me) / static_cast<uint64_t>(ranks);
    const uint64_t end = size * static_cast<uint64_t>(me + 1) / static_cast<uint64_t>(ranks);
    std::string text;
    uint64_t first = 0;
    try {
      text = ReadOwnedLines(path, fd, size, begin, end, &first);
    } catch (...) {
      close(fd);
      throw;
    }
    close(fd);
    for (size_t at = 0; at < text.size();) {
      size_t next = text.find('\n', at);
      if (next == std::string::npos) next = text.size();
      std::string_view line(text.data() + at, next - at);
      const uint64_t line_offset = first + at;
      at = next + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == '#') continue;
      std::string_view a, b, c;
      ExternalId follower = 0, followee = 0;
      const bool two = FirstFields(line, &a, &b, &c);
      const bool parsed = two && ParseId(a, &follower) && ParseId(b, &followee);
      // Line 1 whose first field is not a number is a header (graph::Ingest's "auto").
      if (!parsed && line_offset == 0 && !(two && ParseId(a, &follower))) continue;
      GR_CHECK(parsed, path, ": line at byte ", line_offset, ": expected follower_id, followee_id[, ",
               E::kWeighted ? "weight" : "timestamp", "], got '", std::string(line.substr(0, 80)), "'");
      float weight = 1;
      GR_CHECK(!E::kWeighted || ParseWeight(c, &weight), path, ": line at byte ", line_offset, ": the weight '",
               std::string(c.substr(0, 40)), "' is not a finite number > 0");
      ++out.lines_read;
      if (follower == followee) {  // dropped as graph::Ingest does, but the account exists
        following[OwnerOf(follower, ranks)].push_back(MakeEdge<E>(follower, follower, weight));
        continue;
      }
      following[OwnerOf(follower, ranks)].push_back(MakeEdge<E>(follower, followee, weight));
      followers[OwnerOf(followee, ranks)].push_back(MakeEdge<E>(followee, follower, weight));
    }
  });
}

template <typename E>
PartitionedFollows Load(const std::string& path, MPI_Comm comm) {
  PartitionedFollows out;
  std::vector<std::vector<E>> following(Size(comm)), followers(Size(comm));
  ReadOwnLines(path, comm, following, followers, out);
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
         (followee_weights.size() + follower_weights.size()) * sizeof(float);
}

PartitionedFollows LoadPartitionedFollows(const std::string& path, MPI_Comm comm, ThirdField third) {
  return third == ThirdField::kWeight ? Load<WeightedEdge>(path, comm) : Load<Edge>(path, comm);
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
