#include "dist/partitioned_graph.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "dist/mpi_session.h"
#include "graph/social_graph.h"

namespace gr::dist {
namespace {

using Edge = std::pair<ExternalId, ExternalId>;  // (owned account, neighbour)

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

// The first two fields of a line: tab- or comma-separated, else space-separated.
bool FirstTwoFields(std::string_view line, std::string_view* a, std::string_view* b) {
  constexpr auto npos = std::string_view::npos;
  if (const size_t i = line.find_first_of("\t,"); i != npos) {
    const size_t j = line.find_first_of("\t,", i + 1);
    *a = line.substr(0, i);
    *b = line.substr(i + 1, j == npos ? npos : j - i - 1);
    return true;
  }
  const size_t i = line.find_first_not_of(' ');
  const size_t j = i == npos ? npos : line.find(' ', i);
  const size_t k = j == npos ? npos : line.find_first_not_of(' ', j);
  if (k == npos) return false;
  const size_t l = line.find(' ', k);
  *a = line.substr(i, j - i);
  *b = line.substr(k, l == npos ? npos : l - k);
  return true;
}

// Sorts, merges duplicates and builds one CSR over `accounts`.
void BuildCsr(std::vector<Edge>& edges, const std::vector<ExternalId>& accounts, std::vector<uint64_t>& offsets,
              std::vector<ExternalId>& neighbours) {
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  offsets.assign(accounts.size() + 1, 0);
  neighbours.resize(edges.size());
  size_t a = 0;
  for (size_t e = 0; e < edges.size(); ++e) {
    while (accounts[a] != edges[e].first) offsets[++a] = e;
    neighbours[e] = edges[e].second;
  }
  while (a < accounts.size()) offsets[++a] = edges.size();
}

// Sends each rank its records; returns the ones received.
std::vector<Edge> Exchange(std::vector<std::vector<Edge>>& outgoing, MPI_Comm comm, uint64_t* bytes_sent) {
  const int me = Rank(comm);
  std::vector<uint64_t> flat, counts;
  for (size_t r = 0; r < outgoing.size(); ++r) {
    counts.push_back(outgoing[r].size() * 2);
    for (const Edge& e : outgoing[r]) {
      flat.push_back(e.first);
      flat.push_back(e.second);
    }
    if (static_cast<int>(r) != me) *bytes_sent += outgoing[r].size() * 2 * sizeof(uint64_t);
    std::vector<Edge>().swap(outgoing[r]);
  }
  const std::vector<uint64_t> received = ExchangeValues(flat, counts, comm);
  std::vector<Edge> edges(received.size() / 2);
  for (size_t i = 0; i < edges.size(); ++i) edges[i] = {received[2 * i], received[2 * i + 1]};
  return edges;
}

// Sends every rank its (account, neighbour) records, (a, a) for an account
// with no edges of its own, and builds its part from what arrives.
void ExchangeAndBuild(std::vector<std::vector<Edge>>& following, std::vector<std::vector<Edge>>& followers,
                      MPI_Comm comm, PartitionedFollows& out) {
  std::vector<Edge> out_edges = Exchange(following, comm, &out.bytes_sent);
  std::vector<Edge> in_edges = Exchange(followers, comm, &out.bytes_sent);
  for (const Edge& e : out_edges) out.accounts.push_back(e.first);
  for (const Edge& e : in_edges) out.accounts.push_back(e.first);
  std::sort(out.accounts.begin(), out.accounts.end());
  out.accounts.erase(std::unique(out.accounts.begin(), out.accounts.end()), out.accounts.end());
  std::erase_if(out_edges, [](const Edge& e) { return e.first == e.second; });
  BuildCsr(out_edges, out.accounts, out.following_offsets, out.followees);
  BuildCsr(in_edges, out.accounts, out.followers_offsets, out.followers);
}

}  // namespace

size_t PartitionedFollows::MemoryBytes() const {
  return (accounts.size() + followees.size() + followers.size()) * sizeof(ExternalId) +
         (following_offsets.size() + followers_offsets.size()) * sizeof(uint64_t);
}

PartitionedFollows LoadPartitionedFollows(const std::string& path, MPI_Comm comm) {
  const int ranks = Size(comm), me = Rank(comm);
  PartitionedFollows out;
  // Read and parse this rank's lines; every rank learns whether any failed
  // before the collective exchange (a rank that threw alone would hang the rest).
  std::vector<std::vector<Edge>> following(ranks), followers(ranks);
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
      std::string_view a, b;
      ExternalId follower = 0, followee = 0;
      const bool two = FirstTwoFields(line, &a, &b);
      const bool parsed = two && ParseId(a, &follower) && ParseId(b, &followee);
      // Line 1 whose first field is not a number is a header (graph::Ingest's "auto").
      if (!parsed && line_offset == 0 && !(two && ParseId(a, &follower))) continue;
      GR_CHECK(parsed, path, ": line at byte ", line_offset, ": expected follower_id, followee_id[, timestamp], got '",
               std::string(line.substr(0, 80)), "'");
      ++out.lines_read;
      if (follower == followee) {  // dropped as graph::Ingest does, but the account exists
        following[OwnerOf(follower, ranks)].emplace_back(follower, follower);
        continue;
      }
      following[OwnerOf(follower, ranks)].emplace_back(follower, followee);
      followers[OwnerOf(followee, ranks)].emplace_back(followee, follower);
    }
  });

  ExchangeAndBuild(following, followers, comm, out);
  return out;
}

PartitionedFollows ScatterFollowsFromRoot(const graph::SocialGraph* g, MPI_Comm comm) {
  const int ranks = Size(comm);
  PartitionedFollows out;
  std::vector<std::vector<Edge>> following(ranks), followers(ranks);
  if (Rank(comm) == 0) {
    GR_CHECK(g != nullptr, "ScatterFollowsFromRoot: rank 0 needs the graph");
    const std::span<const ExternalId> ids = g->accounts.external_ids();
    for (VertexId v = 0; v < ids.size(); ++v) {
      std::vector<Edge>& mine = following[OwnerOf(ids[v], ranks)];
      mine.emplace_back(ids[v], ids[v]);  // the account exists, with or without edges
      out.lines_read += g->following.Degree(v);
      for (const VertexId u : g->following.Neighbors(v)) {
        mine.emplace_back(ids[v], ids[u]);
        followers[OwnerOf(ids[u], ranks)].emplace_back(ids[u], ids[v]);
      }
    }
  }
  ExchangeAndBuild(following, followers, comm, out);
  return out;
}

}  // namespace gr::dist
