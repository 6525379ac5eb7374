#include "recall/vector_index.h"

#include <Eigen/Core>
#include <hnswlib/hnswlib.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/binary_io.h"
#include "core/error.h"
#include "core/half.h"
#include "core/parallel.h"

namespace gr::recall {
namespace {

constexpr uint32_t kIndexMagic = 0x58495247;  // "GRIX"
constexpr uint32_t kIndexVersion = 2;  // 2 added the vector precision

struct FileHeaderV1 {
  uint32_t kind, metric, m, ef_construction, ef_search;
  float max_norm;  // HNSW inner product: the norm every stored vector is lifted to
  uint64_t dim, count, seed;
};
struct FileHeader : FileHeaderV1 {
  uint32_t precision = 0;  // VectorPrecision
  uint32_t reserved = 0;
};

void WriteHeaderAndIds(SectionWriter& writer, const IndexConfig& config, size_t dim, float max_norm,
                       const std::vector<ExternalId>& ids) {
  FileHeader header;
  static_cast<FileHeaderV1&>(header) = {static_cast<uint32_t>(config.kind), static_cast<uint32_t>(config.metric),
                                        config.m, config.ef_construction, config.ef_search, max_norm, dim,
                                        ids.size(), config.seed};
  header.precision = static_cast<uint32_t>(config.precision);
  writer.Add("header", std::span<const FileHeader>(&header, 1));
  writer.Add("ids", ids);
}

// float16 vectors for hnswlib: stored and queried as IEEE halves, zero-padded
// to a multiple of 16; the distance is 1 - dot, as in hnswlib's
// InnerProductSpace, accumulated in float32.
size_t PaddedHalves(size_t dim) { return (dim + 15) / 16 * 16; }

float HalfInnerProductDistance(const void* a, const void* b, const void* param) {
  const size_t n = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const uint16_t*>(a);
  const auto* y = static_cast<const uint16_t*>(b);
#if defined(__AVX512F__)
  __m512 sum = _mm512_setzero_ps();
  for (size_t i = 0; i < n; i += 16) {
    const __m512 xs = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    const __m512 ys = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + i)));
    sum = _mm512_fmadd_ps(xs, ys, sum);
  }
  return 1.0f - _mm512_reduce_add_ps(sum);
#elif defined(__F16C__) && defined(__FMA__)
  __m256 sum = _mm256_setzero_ps();
  for (size_t i = 0; i < n; i += 8) {
    const __m256 xs = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 ys = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    sum = _mm256_fmadd_ps(xs, ys, sum);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float lane : lanes) total += lane;
  return 1.0f - total;
#else
  float total = 0;
  for (size_t i = 0; i < n; ++i) total += FloatFromHalf(x[i]) * FloatFromHalf(y[i]);
  return 1.0f - total;
#endif
}

class HalfInnerProductSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit HalfInnerProductSpace(size_t dim) : halves_(PaddedHalves(dim)) {}
  size_t get_data_size() override { return halves_ * sizeof(uint16_t); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return HalfInnerProductDistance; }
  // hnswlib reads this as the element count (getDataByLabel).
  void* get_dist_func_param() override { return &halves_; }

 private:
  size_t halves_;
};

using HnswGraph = hnswlib::HierarchicalNSW<float>;
// hnswlib's working heap: (distance, internal id), farthest on top.
using HnswHeap = std::priority_queue<std::pair<float, hnswlib::tableint>,
                                     std::vector<std::pair<float, hnswlib::tableint>>, HnswGraph::CompareByFirst>;
// What searchKnn returns: (distance, label), farthest on top.
using HnswResult = std::priority_queue<std::pair<float, hnswlib::labeltype>>;

void PrefetchLines(const char* p, size_t bytes) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  for (uintptr_t line = first; line < reinterpret_cast<uintptr_t>(p) + bytes; line += 64)
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
}

// (count, first link) of a node's list on one level.
std::pair<size_t, const hnswlib::tableint*> Links(const HnswGraph& h, hnswlib::tableint node, int level) {
  hnswlib::linklistsizeint* list = h.get_linklist_at_level(node, level);
  return {h.getListCount(list), reinterpret_cast<const hnswlib::tableint*>(list + 1)};
}

// hnswlib's searchKnn for an index without deleted items (greedy descent
// through the upper layers, then best-first on layer 0 keeping max(ef, k)
// candidates), returning the k nearest as searchKnn does. hnswlib fetches one
// neighbour ahead and only the first cache line of its vector, so a query
// waits on about one memory miss per neighbour; here each expanded node
// first requests the visited marks of all its neighbours, then every line of
// every unvisited neighbour's vector, and only then computes the distances,
// so the misses overlap. Distances are offered to the same heaps in the same
// order as in hnswlib, so the answer is hnswlib's, item for item (tested
// against ReferenceHnswSearch). Safe to call concurrently (as searchKnn).
HnswResult SearchHnswPrefetched(const HnswGraph& h, const void* query, size_t k) {
  if (h.cur_element_count == 0) return {};
  const size_t ef = std::max(h.ef_, k);
  const auto distance = [&](hnswlib::tableint node) {
    return h.fstdistfunc_(query, h.getDataByInternalId(node), h.dist_func_param_);
  };
  hnswlib::tableint current = h.enterpoint_node_;
  float current_distance = distance(current);
  for (int level = h.maxlevel_; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      const auto [count, links] = Links(h, current, level);
      for (size_t j = 0; j < count; ++j) PrefetchLines(h.getDataByInternalId(links[j]), h.data_size_);
      for (size_t j = 0; j < count; ++j) {
        const float d = distance(links[j]);
        if (d < current_distance) {
          current_distance = d;
          current = links[j];
          changed = true;
        }
      }
    }
  }

  hnswlib::VisitedList* visited_list = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  HnswHeap top, candidates;  // candidates hold negated distances: nearest on top
  float lower_bound = current_distance;
  top.emplace(current_distance, current);
  candidates.emplace(-current_distance, current);
  visited[current] = tag;
  std::vector<hnswlib::tableint> fresh(h.maxM0_);
  while (!candidates.empty()) {
    const auto [negated, node] = candidates.top();
    if (-negated > lower_bound) break;
    candidates.pop();
    const auto [count, links] = Links(h, node, 0);
    for (size_t j = 0; j < count; ++j) _mm_prefetch(reinterpret_cast<const char*>(visited + links[j]), _MM_HINT_T0);
    size_t num_fresh = 0;
    for (size_t j = 0; j < count; ++j) {
      const hnswlib::tableint neighbour = links[j];
      if (visited[neighbour] == tag) continue;
      visited[neighbour] = tag;
      fresh[num_fresh++] = neighbour;
      PrefetchLines(h.getDataByInternalId(neighbour), h.data_size_);
    }
    for (size_t j = 0; j < num_fresh; ++j) {
      const float d = distance(fresh[j]);
      if (top.size() < ef || lower_bound > d) {
        candidates.emplace(-d, fresh[j]);
        top.emplace(d, fresh[j]);
        if (top.size() > ef) top.pop();
        lower_bound = top.top().first;
      }
    }
    if (!candidates.empty())
      _mm_prefetch(reinterpret_cast<const char*>(h.get_linklist0(candidates.top().second)), _MM_HINT_T0);
  }
  h.visited_list_pool_->releaseVisitedList(visited_list);
  while (top.size() > k) top.pop();
  HnswResult result;
  for (; !top.empty(); top.pop()) result.emplace(top.top().first, h.getExternalLabel(top.top().second));
  return result;
}

// Higher score first, then lower item: the one order every index returns.
bool BetterScored(const ScoredItem& a, const ScoredItem& b) {
  return a.score != b.score ? a.score > b.score : a.item < b.item;
}

// The best k items offered so far (a heap with the least good on top).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(ScoredItem candidate) {
    if (heap_.size() < k_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), BetterScored);
    } else if (k_ > 0 && BetterScored(candidate, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), BetterScored);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), BetterScored);
    }
  }
  // Best first; leaves the TopK empty.
  std::vector<ScoredItem> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), BetterScored);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<ScoredItem> heap_;
};

// Merge-walks the ascending exclusion list alongside ascending items.
bool IsExcluded(std::span<const uint32_t> excluded, uint32_t item) {
  return std::binary_search(excluded.begin(), excluded.end(), item);
}

// An anonymous in-memory file reachable by path: hnswlib reads and writes
// its format only through file names.
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("graphrec-hnsw", MFD_CLOEXEC)) {
    GR_CHECK_CODE(fd_ >= 0, ErrorCode::kIo, "memfd_create failed");
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  std::vector<char> ReadAll() const {
    struct stat st {};
    GR_CHECK_CODE(fstat(fd_, &st) == 0, ErrorCode::kIo, "fstat of the in-memory index file failed");
    std::vector<char> bytes(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t got = pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      GR_CHECK_CODE(got > 0, ErrorCode::kIo, "reading the in-memory index file failed");
      done += static_cast<size_t>(got);
    }
    return bytes;
  }
  void WriteAll(std::span<const char> bytes) const {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t put = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      GR_CHECK_CODE(put > 0, ErrorCode::kIo, "writing the in-memory index file failed");
      done += static_cast<size_t>(put);
    }
  }

 private:
  int fd_;
};

class ExactIndex final : public VectorIndex {
 public:
  // Always float32: the exact index is the reference the others are measured against.
  ExactIndex(const IndexConfig& config, size_t dim) : VectorIndex(config, dim) {
    config_.precision = VectorPrecision::kFloat32;
  }

  void SetVectors(FloatMatrix vectors) { vectors_ = std::move(vectors); }

  void Save(const std::string& path) const override {
    SectionWriter writer(path, kIndexMagic, kIndexVersion);
    WriteHeaderAndIds(writer, config_, dim_, 0.0f, ids_);
    writer.Add("vectors", vectors_.Data());
    writer.Commit();
  }

  std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                 std::span<const uint32_t> excluded) const override {
    std::vector<float> q(dim_);
    Prepare(query, q.data());
    TopK best(k);
    size_t next_excluded = 0;
    for (uint32_t item = 0; item < size(); ++item) {
      while (next_excluded < excluded.size() && excluded[next_excluded] < item) ++next_excluded;
      if (next_excluded < excluded.size() && excluded[next_excluded] == item) continue;
      best.Offer({item, Dot(q.data(), vectors_.Row(item).data(), dim_)});
    }
    return best.TakeSorted();
  }

  std::vector<std::vector<ScoredItem>> SearchMany(const FloatMatrix& queries, size_t k) const override {
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const size_t nq = queries.rows();
    FloatMatrix prepared(nq, dim_);
    for (size_t q = 0; q < nq; ++q) Prepare(queries.Row(q), prepared.Row(q).data());
    std::vector<std::vector<ScoredItem>> results(nq);
    if (k == 0 || size() == 0) return results;
    // Query slices run in parallel; each streams the vectors once, a block
    // small enough for the cache at a time, scoring the block against the
    // whole slice with one matrix product.
    constexpr size_t kSliceQueries = 256, kBlockItems = 1024;
    const size_t slices = (nq + kSliceQueries - 1) / kSliceQueries;
    ParallelFor(static_cast<int64_t>(slices), config_.threads, 1, [&](int64_t slice) {
      const size_t first = static_cast<size_t>(slice) * kSliceQueries, count = std::min(kSliceQueries, nq - first);
      const Eigen::Map<const RowMajor> q(prepared.Row(first).data(), static_cast<Eigen::Index>(count),
                                         static_cast<Eigen::Index>(dim_));
      std::vector<TopK> best(count, TopK(k));
      Eigen::MatrixXf scores;  // block items x slice queries
      for (size_t begin = 0; begin < size(); begin += kBlockItems) {
        const size_t items = std::min(kBlockItems, size() - begin);
        const Eigen::Map<const RowMajor> block(vectors_.Row(begin).data(), static_cast<Eigen::Index>(items),
                                               static_cast<Eigen::Index>(dim_));
        scores.noalias() = block * q.transpose();
        for (size_t j = 0; j < count; ++j) {
          const float* column = scores.col(static_cast<Eigen::Index>(j)).data();
          for (size_t i = 0; i < items; ++i) best[j].Offer({static_cast<uint32_t>(begin + i), column[i]});
        }
      }
      for (size_t j = 0; j < count; ++j) results[first + j] = best[j].TakeSorted();
    });
    return results;
  }

  uint32_t AddOrUpdate(ExternalId id, std::span<const float> vector) override {
    uint32_t item = Find(id);
    if (item == kNoVertex) {
      FloatMatrix grown(size() + 1, dim_);
      std::copy_n(vectors_.Data().data(), size() * dim_, grown.Data().data());
      vectors_ = std::move(grown);
      item = AppendId(id);
    }
    Prepare(vector, vectors_.Row(item).data());
    return item;
  }

  std::vector<float> Vector(uint32_t item) const override {
    const auto row = vectors_.Row(item);
    return {row.begin(), row.end()};
  }

  void SetEfSearch(uint32_t ef) override { config_.ef_search = ef; }
  size_t MemoryBytes() const override {
    return vectors_.rows() * dim_ * sizeof(float) + ids_.size() * (sizeof(ExternalId) + 32);
  }

 private:
  FloatMatrix vectors_;
};

// Inner product is searched as cosine after lifting (Bachrach et al. 2014,
// "XBOX" transform): a stored vector x becomes [x, sqrt(N^2 - |x|^2)], N the
// largest norm, and a query q becomes [q, 0]. All stored vectors then have
// norm N, so the largest q.x is the nearest by angle, which HNSW's graph
// handles far better than raw inner products of uneven norms (lastfm
// user -> artist recall@10 of held-out listens: 0.063 unlifted, 0.087
// lifted, 0.083 exact; lifted top-10 overlaps exact's by 0.91 at the default
// ef); the score q.x is unchanged. A vector added later with a norm above N is stored with 0
// in the extra coordinate: still scored exactly, reached less reliably.
class HnswIndex final : public VectorIndex {
 public:
  HnswIndex(const IndexConfig& config, size_t dim)
      : VectorIndex(config, dim), lifted_(config.metric == Metric::kInnerProduct), half_(config.precision == VectorPrecision::kFloat16) {
    const size_t stored_dim = dim + (lifted_ ? 1 : 0);
    if (half_) space_ = std::make_unique<HalfInnerProductSpace>(stored_dim);
    else space_ = std::make_unique<hnswlib::InnerProductSpace>(stored_dim);
  }

  void SetMaxNorm(float max_norm) { max_norm_ = max_norm; }
  float MaxNorm(const FloatMatrix& vectors) const {
    double largest = 0;
    for (size_t i = 0; i < vectors.rows(); ++i) {
      double norm = 0;
      for (float x : vectors.Row(i)) norm += static_cast<double>(x) * x;
      largest = std::max(largest, norm);
    }
    return static_cast<float>(std::sqrt(largest));
  }

  void Create(size_t capacity) {
    hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), std::max<size_t>(capacity, 1), config_.m,
                                                              config_.ef_construction, config_.seed);
    hnsw_->setEf(config_.ef_search);
  }

  // Inserts rows [0, n) of `vectors` as items 0..n-1 (ids already set).
  void Insert(const FloatMatrix& vectors) {
    if (lifted_) max_norm_ = MaxNorm(vectors);
    const auto n = static_cast<int64_t>(vectors.rows());
    ParallelFor(n, config_.threads, 64, [&](int64_t i) {
      const std::vector<float> v = Stored(vectors.Row(static_cast<size_t>(i)));
      std::vector<uint16_t> halves;
      hnsw_->addPoint(Encoded(v, &halves), static_cast<hnswlib::labeltype>(i));
    });
  }

  // A vector as stored: prepared, lifted for inner product.
  std::vector<float> Stored(std::span<const float> vector) const {
    std::vector<float> v(dim_ + (lifted_ ? 1 : 0));
    Prepare(vector, v.data());
    if (lifted_) {
      double norm = 0;
      for (size_t x = 0; x < dim_; ++x) norm += static_cast<double>(v[x]) * v[x];
      v[dim_] = static_cast<float>(std::sqrt(std::max(0.0, static_cast<double>(max_norm_) * max_norm_ - norm)));
    }
    return v;
  }
  std::vector<float> Query(std::span<const float> query) const {
    std::vector<float> q(dim_ + (lifted_ ? 1 : 0), 0.0f);
    Prepare(query, q.data());
    return q;
  }
  // What hnswlib stores or is queried with: v itself, or its halves
  // (written to *halves, which must outlive the use).
  const void* Encoded(const std::vector<float>& v, std::vector<uint16_t>* halves) const {
    if (!half_) return v.data();
    halves->assign(PaddedHalves(v.size()), 0);
    for (size_t x = 0; x < v.size(); ++x) (*halves)[x] = HalfFromFloat(v[x]);
    return halves->data();
  }

  void Save(const std::string& path) const override {
    MemoryFile blob;
    hnsw_->saveIndex(blob.path());
    const std::vector<char> bytes = blob.ReadAll();
    SectionWriter writer(path, kIndexMagic, kIndexVersion);
    WriteHeaderAndIds(writer, config_, dim_, max_norm_, ids_);
    writer.Add("hnsw", bytes);
    writer.Commit();
  }

  // Reads hnswlib's serialisation (checksummed by the caller) and checks
  // what hnswlib trusts: labels are the positions 0..count-1, each once, and
  // every link points at a node.
  void LoadBlob(const std::vector<char>& bytes, const std::string& path) {
    MemoryFile blob;
    blob.WriteAll(bytes);
    hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get());
    try {
      hnsw_->loadIndex(blob.path(), space_.get(), 0);
    } catch (const std::exception& e) {
      GR_THROW(ErrorCode::kCorruption, path, ": HNSW payload rejected by hnswlib: ", e.what());
    }
    // hnswlib 0.6.2's loading constructor leaves num_deleted_ uninitialised
    // and loadIndex only adds to it: garbage sends every search down the slower
    // "has deletions" path. Count the marked nodes ourselves.
    hnsw_->num_deleted_ = 0;
    for (hnswlib::tableint node = 0; node < hnsw_->cur_element_count; ++node)
      hnsw_->num_deleted_ += hnsw_->isMarkedDeleted(node) ? 1 : 0;
    hnsw_->metric_distance_computations = 0;
    hnsw_->metric_hops = 0;
    const size_t n = hnsw_->cur_element_count;
    GR_CHECK_CODE(n == size(), ErrorCode::kCorruption, path, ": HNSW payload holds ", n, " nodes, the id list ",
                  size());
    GR_CHECK_CODE(hnsw_->data_size_ == space_->get_data_size(), ErrorCode::kCorruption, path,
                  ": HNSW payload dimension does not match the header");
    std::vector<uint8_t> seen(n, 0);
    for (hnswlib::tableint node = 0; node < n; ++node) {
      const hnswlib::labeltype label = hnsw_->getExternalLabel(node);
      GR_CHECK_CODE(label < n && !seen[label], ErrorCode::kCorruption, path, ": HNSW node ", node,
                    " has a bad or repeated label ", label);
      seen[label] = 1;
      for (int level = 0; level <= hnsw_->element_levels_[node]; ++level) {
        hnswlib::linklistsizeint* list = hnsw_->get_linklist_at_level(node, level);
        const size_t count = hnsw_->getListCount(list);
        const size_t limit = level == 0 ? hnsw_->maxM0_ : hnsw_->maxM_;
        GR_CHECK_CODE(count <= limit, ErrorCode::kCorruption, path, ": HNSW node ", node, " has ", count,
                      " links on level ", level);
        const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
        for (size_t j = 0; j < count; ++j)
          GR_CHECK_CODE(links[j] < n, ErrorCode::kCorruption, path, ": HNSW node ", node, " links to ", links[j]);
      }
    }
    GR_CHECK_CODE(n == 0 || (hnsw_->enterpoint_node_ < n && hnsw_->maxlevel_ == hnsw_->element_levels_[hnsw_->enterpoint_node_]),
                  ErrorCode::kCorruption, path, ": HNSW entry point is invalid");
    hnsw_->setEf(config_.ef_search);
  }

  std::vector<ScoredItem> Search(std::span<const float> query, size_t k,
                                 std::span<const uint32_t> excluded) const override {
    return Search(query, k, excluded, /*hnswlib_search=*/false);
  }
  // With hnswlib_search, hnswlib's own searchKnn answers (the reference the
  // prefetching search is tested against).
  std::vector<ScoredItem> Search(std::span<const float> query, size_t k, std::span<const uint32_t> excluded,
                                 bool hnswlib_search) const {
    const std::vector<float> q = Query(query);
    std::vector<uint16_t> halves;
    const void* encoded = Encoded(q, &halves);
    std::vector<ScoredItem> result;
    if (k == 0 || size() == 0) return result;
    const size_t n = size();
    // Ask for k plus some of the exclusions, and deeper until k survive.
    size_t fetch = std::min(n, k + std::min(excluded.size(), k));
    while (true) {
      // (Nothing marks items deleted; the prefetching copy does not handle them.)
      HnswResult heap = hnsw_->num_deleted_ == 0 && !hnswlib_search ? SearchHnswPrefetched(*hnsw_, encoded, fetch)
                                                                      : hnsw_->searchKnn(encoded, fetch);
      const size_t returned = heap.size();
      std::vector<ScoredItem> found(returned);
      for (size_t i = returned; i-- > 0; heap.pop())
        found[i] = {static_cast<uint32_t>(heap.top().second), 1.0f - heap.top().first};
      result.clear();
      for (const ScoredItem& s : found) {
        if (IsExcluded(excluded, s.item)) continue;
        result.push_back(s);
        if (result.size() == k) break;
      }
      // Done when k survived, or the search returned everything it could reach.
      if (result.size() == k || fetch >= n || returned < fetch) break;
      fetch = std::min(n, 2 * fetch + (k - result.size()));
    }
    // hnswlib's order is by distance; make ties deterministic.
    std::stable_sort(result.begin(), result.end(), BetterScored);
    return result;
  }

  uint32_t AddOrUpdate(ExternalId id, std::span<const float> vector) override {
    const std::vector<float> v = Stored(vector);
    std::vector<uint16_t> halves;
    const void* encoded = Encoded(v, &halves);
    uint32_t item = Find(id);
    if (item == kNoVertex) {
      if (hnsw_->cur_element_count >= hnsw_->max_elements_) hnsw_->resizeIndex(2 * hnsw_->max_elements_ + 16);
      item = AppendId(id);
    }
    hnsw_->addPoint(encoded, item);
    return item;
  }

  std::vector<float> Vector(uint32_t item) const override {
    std::vector<float> v;
    if (half_) {
      for (const uint16_t h : hnsw_->getDataByLabel<uint16_t>(item)) v.push_back(FloatFromHalf(h));
    } else {
      v = hnsw_->getDataByLabel<float>(item);
    }
    v.resize(dim_);  // drop the lifting coordinate (and the halves' padding)
    return v;
  }

  void SetEfSearch(uint32_t ef) override {
    config_.ef_search = ef;
    hnsw_->setEf(ef);
  }

  size_t MemoryBytes() const override {
    size_t bytes = hnsw_->max_elements_ * (hnsw_->size_data_per_element_ + sizeof(void*) + sizeof(int) + 64);
    for (size_t i = 0; i < hnsw_->cur_element_count; ++i)
      if (hnsw_->element_levels_[i] > 0) bytes += hnsw_->size_links_per_element_ * hnsw_->element_levels_[i];
    return bytes + ids_.size() * (sizeof(ExternalId) + 32);
  }

 private:
  bool lifted_;
  bool half_;
  float max_norm_ = 0;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
};

}  // namespace

std::vector<ScoredItem> ReferenceHnswSearch(const VectorIndex& index, std::span<const float> query, size_t k) {
  const auto* hnsw = dynamic_cast<const HnswIndex*>(&index);
  GR_CHECK(hnsw != nullptr, "ReferenceHnswSearch needs an HNSW index");
  return hnsw->Search(query, k, {}, /*hnswlib_search=*/true);
}

const char* MetricName(Metric metric) { return metric == Metric::kCosine ? "cosine" : "inner_product"; }

void IndexConfig::Validate() const {
  GR_CHECK(m >= 2 && m <= 100, "HNSW M must be in [2, 100], got ", m);
  GR_CHECK(ef_construction >= m, "ef_construction must be >= M (", m, "), got ", ef_construction);
  GR_CHECK(ef_search >= 1, "ef_search must be >= 1, got ", ef_search);
  GR_CHECK(threads >= 0, "threads must be >= 0, got ", threads);
  GR_CHECK(kind == IndexKind::kHnsw || kind == IndexKind::kExact, "unknown index kind");
  GR_CHECK(metric == Metric::kCosine || metric == Metric::kInnerProduct, "unknown metric");
  GR_CHECK(precision == VectorPrecision::kFloat32 || precision == VectorPrecision::kFloat16,
           "unknown vector precision ", static_cast<uint32_t>(precision));
}

const char* PrecisionName(VectorPrecision precision) {
  return precision == VectorPrecision::kFloat16 ? "float16" : "float32";
}

VectorPrecision ParsePrecision(const std::string& name) {
  if (name == "float32") return VectorPrecision::kFloat32;
  if (name == "float16") return VectorPrecision::kFloat16;
  GR_THROW(ErrorCode::kInvalidArgument, "unknown vector precision '", name, "' (known: float32, float16)");
}

uint32_t VectorIndex::Find(ExternalId id) const {
  const auto it = positions_.find(id);
  return it == positions_.end() ? kNoVertex : it->second;
}

uint32_t VectorIndex::AppendId(ExternalId id) {
  GR_CHECK(ids_.size() < kNoVertex, "index full");
  const auto position = static_cast<uint32_t>(ids_.size());
  GR_CHECK(positions_.emplace(id, position).second, "id ", id, " is listed twice");
  ids_.push_back(id);
  return position;
}

void VectorIndex::Prepare(std::span<const float> vector, float* out) const {
  GR_CHECK(vector.size() == dim_, "vector has dimension ", vector.size(), ", the index ", dim_);
  double norm = 0;
  for (float x : vector) {
    GR_CHECK(std::isfinite(x), "vector has a NaN or infinite component");
    norm += static_cast<double>(x) * x;
  }
  if (config_.metric == Metric::kCosine) {
    GR_CHECK(norm > 0, "a zero vector has no direction (cosine metric)");
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t x = 0; x < dim_; ++x) out[x] = vector[x] * scale;
  } else {
    std::copy(vector.begin(), vector.end(), out);
  }
}

std::unique_ptr<VectorIndex> VectorIndex::Build(std::vector<ExternalId> ids, const FloatMatrix& vectors,
                                                const IndexConfig& config) {
  config.Validate();
  GR_CHECK(ids.size() == vectors.rows(), ids.size(), " ids for ", vectors.rows(), " vectors");
  GR_CHECK(vectors.cols() > 0, "vectors have no columns");
  const size_t dim = vectors.cols();
  if (config.kind == IndexKind::kExact) {
    auto index = std::make_unique<ExactIndex>(config, dim);
    for (ExternalId id : ids) index->AppendId(id);
    FloatMatrix prepared(vectors.rows(), dim);
    ParallelFor(static_cast<int64_t>(vectors.rows()), config.threads, 1024, [&](int64_t i) {
      index->Prepare(vectors.Row(static_cast<size_t>(i)), prepared.Row(static_cast<size_t>(i)).data());
    });
    index->SetVectors(std::move(prepared));
    return index;
  }
  auto index = std::make_unique<HnswIndex>(config, dim);
  for (ExternalId id : ids) index->AppendId(id);
  index->Create(ids.size());
  index->Insert(vectors);
  return index;
}

std::unique_ptr<VectorIndex> VectorIndex::Load(const std::string& path, size_t expected_dim) {
  SectionReader reader(path, kIndexMagic, "graphrec index");
  if (reader.version() != 1 && reader.version() != kIndexVersion)
    reader.Fail("unsupported index version " + std::to_string(reader.version()));
  FileHeader h;
  if (reader.version() == 1) {  // float32 only
    const auto headers = reader.Read<FileHeaderV1>("header");
    if (headers.size() != 1) reader.Fail("header section must hold one record");
    static_cast<FileHeaderV1&>(h) = headers[0];
  } else {
    const auto headers = reader.Read<FileHeader>("header");
    if (headers.size() != 1) reader.Fail("header section must hold one record");
    h = headers[0];
  }
  IndexConfig config;
  config.precision = static_cast<VectorPrecision>(h.precision);
  config.kind = static_cast<IndexKind>(h.kind);
  config.metric = static_cast<Metric>(h.metric);
  config.m = h.m;
  config.ef_construction = h.ef_construction;
  config.ef_search = h.ef_search;
  config.seed = h.seed;
  try {
    config.Validate();
  } catch (const Error& e) {
    reader.Fail(std::string("bad index configuration: ") + e.what());
  }
  if (h.dim == 0 || h.dim > 65536) reader.Fail("bad dimension " + std::to_string(h.dim));
  GR_CHECK(expected_dim == 0 || expected_dim == h.dim, path, ": index dimension ", h.dim, " does not match the ",
           expected_dim, "-dimensional vectors it is queried with");
  auto ids = reader.Read<ExternalId>("ids");
  if (ids.size() != h.count) reader.Fail("id list does not match the header count");
  auto fill_ids = [&](VectorIndex& index) {
    try {
      for (ExternalId id : ids) index.AppendId(id);
    } catch (const Error& e) {
      reader.Fail(e.what());
    }
  };
  if (config.kind == IndexKind::kExact) {
    auto index = std::make_unique<ExactIndex>(config, h.dim);
    fill_ids(*index);
    const auto values = reader.Read<float>("vectors");
    if (values.size() != h.count * h.dim) reader.Fail("vector section does not match count x dimension");
    FloatMatrix vectors(h.count, h.dim);
    std::copy(values.begin(), values.end(), vectors.Data().begin());
    index->SetVectors(std::move(vectors));
    reader.ExpectEnd();
    return index;
  }
  auto index = std::make_unique<HnswIndex>(config, h.dim);
  fill_ids(*index);
  if (!(h.max_norm >= 0 && std::isfinite(h.max_norm))) reader.Fail("bad max_norm in the header");
  index->SetMaxNorm(h.max_norm);
  const auto bytes = reader.Read<char>("hnsw");
  reader.ExpectEnd();
  index->LoadBlob(bytes, path);
  return index;
}

std::vector<std::vector<ScoredItem>> VectorIndex::SearchMany(const FloatMatrix& queries, size_t k) const {
  std::vector<std::vector<ScoredItem>> results(queries.rows());
  ParallelFor(static_cast<int64_t>(queries.rows()), config_.threads, 16, [&](int64_t i) {
    results[static_cast<size_t>(i)] = Search(queries.Row(static_cast<size_t>(i)), k);
  });
  return results;
}

double RecallAtK(const VectorIndex& approximate, const VectorIndex& exact, const FloatMatrix& queries, size_t k) {
  GR_CHECK(queries.rows() > 0 && k > 0, "recall@k needs queries and k > 0");
  const auto truths = exact.SearchMany(queries, k);
  std::vector<double> per_query(queries.rows());
  ParallelFor(static_cast<int64_t>(queries.rows()), 0, 16, [&](int64_t i) {
    const auto row = queries.Row(static_cast<size_t>(i));
    const auto& truth = truths[static_cast<size_t>(i)];
    auto got = approximate.Search(row, k);
    std::vector<ExternalId> got_ids;
    for (const auto& s : got) got_ids.push_back(approximate.id(s.item));
    std::sort(got_ids.begin(), got_ids.end());
    size_t hits = 0;
    for (const auto& s : truth) hits += std::binary_search(got_ids.begin(), got_ids.end(), exact.id(s.item));
    per_query[static_cast<size_t>(i)] = truth.empty() ? 1.0 : static_cast<double>(hits) / static_cast<double>(truth.size());
  });
  double sum = 0;
  for (double r : per_query) sum += r;
  return sum / static_cast<double>(per_query.size());
}

}  // namespace gr::recall
