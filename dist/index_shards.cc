#include "dist/index_shards.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/shard.h"
#include "dist/mpi_session.h"
#include "version/version_store.h"

namespace gr::dist {
namespace {

namespace fs = std::filesystem;

constexpr int kItemsTag = 0x1d5;
constexpr int kFilesTag = 0x1d6;
constexpr size_t kMaxPiece = size_t{1} << 30;  // bytes per MPI message (counts are ints)

// A byte message of any size: its length, then pieces of at most kMaxPiece.
void SendBytes(std::span<const uint8_t> bytes, int to, int tag, MPI_Comm comm) {
  uint64_t size = bytes.size();
  MPI_Send(&size, 1, MPI_UINT64_T, to, tag, comm);
  for (size_t at = 0; at < bytes.size(); at += kMaxPiece) {
    const size_t n = std::min(kMaxPiece, bytes.size() - at);
    MPI_Send(bytes.data() + at, static_cast<int>(n), MPI_BYTE, to, tag, comm);
  }
}

std::vector<uint8_t> ReceiveBytes(int from, int tag, MPI_Comm comm) {
  uint64_t size = 0;
  MPI_Recv(&size, 1, MPI_UINT64_T, from, tag, comm, MPI_STATUS_IGNORE);
  std::vector<uint8_t> bytes(size);
  for (size_t at = 0; at < bytes.size(); at += kMaxPiece) {
    const size_t n = std::min(kMaxPiece, bytes.size() - at);
    MPI_Recv(bytes.data() + at, static_cast<int>(n), MPI_BYTE, from, tag, comm, MPI_STATUS_IGNORE);
  }
  return bytes;
}

class Writer {
 public:
  void U64(uint64_t x) { Raw(&x, sizeof x); }
  void Raw(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  void Text(const std::string& s) {
    U64(s.size());
    Raw(s.data(), s.size());
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t U64() {
    uint64_t x = 0;
    Raw(&x, sizeof x);
    return x;
  }
  void Raw(void* out, size_t n) {
    GR_CHECK_CODE(n <= bytes_.size() - at_, ErrorCode::kInternal, "index shard message ends early");
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
  }
  std::string Text() {
    std::string s(U64(), '\0');
    Raw(s.data(), s.size());
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

void WriteItems(Writer& w, const std::optional<recall::IndexItems>& items) {
  w.U64(items.has_value());
  if (!items) return;
  w.U64(items->ids.size());
  w.U64(items->vectors.cols());
  w.Raw(items->ids.data(), items->ids.size() * sizeof(ExternalId));
  w.Raw(items->vectors.Data().data(), items->vectors.Data().size() * sizeof(float));
}

std::optional<recall::IndexItems> ReadItems(Reader& r) {
  if (r.U64() == 0) return std::nullopt;
  const uint64_t rows = r.U64(), cols = r.U64();
  recall::IndexItems items{.ids = std::vector<ExternalId>(rows), .vectors = FloatMatrix(rows, cols)};
  r.Raw(items.ids.data(), rows * sizeof(ExternalId));
  r.Raw(items.vectors.Data().data(), rows * cols * sizeof(float));
  return items;
}

std::vector<uint8_t> SerialiseItems(const recall::RecallIndexItems& items) {
  Writer w;
  WriteItems(w, items.accounts);
  WriteItems(w, items.authors);
  WriteItems(w, items.posts);
  return std::move(w.bytes());
}

recall::RecallIndexItems ParseItems(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  recall::RecallIndexItems items;
  items.accounts = ReadItems(r).value();
  items.authors = ReadItems(r);
  items.posts = ReadItems(r);
  return items;
}

// A built shard as rank 0 receives it: ok, then each file's name and
// bytes; or not ok and why.
std::vector<uint8_t> PackShard(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  Writer w;
  w.U64(1);
  w.U64(files.size());
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    GR_CHECK_CODE(in.good() || in.eof(), ErrorCode::kIo, "cannot read ", file.string());
    w.Text(file.filename().string());
    w.U64(bytes.size());
    w.Raw(bytes.data(), bytes.size());
  }
  return std::move(w.bytes());
}

std::vector<uint8_t> PackFailure(const std::string& why) {
  Writer w;
  w.U64(0);
  w.Text(why);
  return std::move(w.bytes());
}

// Writes a packed shard's files into `dir`; returns the failure's text if
// the rank failed ("" if written).
std::string UnpackShard(std::span<const uint8_t> bytes, const std::string& dir) {
  Reader r(bytes);
  if (r.U64() == 0) return r.Text();
  fs::create_directories(dir);
  const uint64_t files = r.U64();
  for (uint64_t i = 0; i < files; ++i) {
    const std::string name = r.Text();
    GR_CHECK_CODE(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
                  ErrorCode::kInternal, "index shard file name '", name, "'");
    std::vector<char> content(r.U64());
    r.Raw(content.data(), content.size());
    WriteFileAtomically((fs::path(dir) / name).string(), [&](std::FILE* out) {
      GR_CHECK_CODE(std::fwrite(content.data(), 1, content.size(), out) == content.size(), ErrorCode::kIo,
                    "cannot write ", name, " in ", dir);
    });
  }
  return "";
}

std::vector<uint32_t> ShardsOf(int rank, int ranks, uint32_t count) {
  std::vector<uint32_t> shards;
  for (uint32_t k = 0; k < count; ++k)
    if (RankOfIndexShard(k, ranks) == rank) shards.push_back(k);
  return shards;
}

}  // namespace

int RankOfIndexShard(uint32_t shard, int ranks) {
  if (ranks <= 1) return 0;
  return 1 + static_cast<int>(shard % static_cast<uint32_t>(ranks - 1));
}

void SaveIndexShardsFromRoot(const recall::RecallIndexItems& items, const recall::IndexConfig& config,
                             uint32_t count, const std::string& dir, MPI_Comm comm,
                             const std::function<void()>& meanwhile) {
  const int ranks = Size(comm);
  // Every other rank's items first (they wait for all of theirs before
  // building), so they build while rank 0 builds its own.
  for (int rank = 1; rank < ranks; ++rank)
    for (const uint32_t k : ShardsOf(rank, ranks, count))
      SendBytes(SerialiseItems(items.Shard({.index = k, .count = count})), rank, kItemsTag, comm);
  std::vector<std::string> failures;
  if (meanwhile) {
    try {
      meanwhile();
    } catch (const std::exception& e) {  // whatever it was, the other ranks still answer
      failures.push_back(StrCat("rank 0: ", e.what()));
    }
  }
  for (const uint32_t k : ShardsOf(0, ranks, count)) {
    const Shard shard{.index = k, .count = count};
    try {
      version::SaveIndexes(recall::BuildRecallIndexes(items.Shard(shard), config),
                           (fs::path(dir) / shard.Name()).string());
    } catch (const std::exception& e) {
      failures.push_back(StrCat(shard.Name(), " on rank 0: ", e.what()));
    }
  }
  for (int rank = 1; rank < ranks; ++rank)
    for (const uint32_t k : ShardsOf(rank, ranks, count)) {
      const Shard shard{.index = k, .count = count};
      const std::vector<uint8_t> packed = ReceiveBytes(rank, kFilesTag, comm);
      try {
        if (const std::string why = UnpackShard(packed, (fs::path(dir) / shard.Name()).string()); !why.empty())
          failures.push_back(StrCat(shard.Name(), " on rank ", rank, ": ", why));
      } catch (const std::exception& e) {
        failures.push_back(StrCat(shard.Name(), " from rank ", rank, ": ", e.what()));
      }
    }
  GR_CHECK_CODE(failures.empty(), ErrorCode::kInternal, "building the indices failed: ", failures.front(),
                failures.size() > 1 ? StrCat(" (and ", failures.size() - 1, " more)") : "");
}

void BuildIndexShardsForRoot(const recall::IndexConfig& config, uint32_t count, MPI_Comm comm) {
  const int rank = Rank(comm);
  const std::vector<uint32_t> shards = ShardsOf(rank, Size(comm), count);
  std::vector<std::vector<uint8_t>> received;
  for (size_t i = 0; i < shards.size(); ++i) received.push_back(ReceiveBytes(0, kItemsTag, comm));
  for (size_t i = 0; i < shards.size(); ++i) {
    const Shard shard{.index = shards[i], .count = count};
    const fs::path scratch =
        fs::temp_directory_path() / StrCat("graphrec-", shard.Name(), "-", ::getpid());
    std::vector<uint8_t> answer;
    try {
      const recall::RecallIndexItems items = ParseItems(received[i]);
      received[i] = {};
      fs::remove_all(scratch);
      version::SaveIndexes(recall::BuildRecallIndexes(items, config), scratch.string());
      answer = PackShard(scratch.string());
      spdlog::info("rank {}: built {} ({} accounts, {:.1f} MB of index files)", rank, shard.Name(),
                   items.accounts.ids.size(), static_cast<double>(answer.size()) / 1e6);
    } catch (const std::exception& e) {
      spdlog::warn("rank {}: building {} failed: {}", rank, shard.Name(), e.what());
      answer = PackFailure(e.what());
    }
    std::error_code ignored;
    fs::remove_all(scratch, ignored);
    SendBytes(answer, 0, kFilesTag, comm);
  }
}

}  // namespace gr::dist
