#include "recall/internal/hnsw_index.h"

#include <hnswlib/hnswlib.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "core/error.h"
#include "core/half.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "recall/internal/hnsw_search.h"
#include "recall/internal/top_k.h"

namespace gr::recall::internal {
namespace {

// float16 distance: 1 - dot, as in hnswlib's InnerProductSpace, accumulated in float32.
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
      const ssize_t got =
          pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      GR_CHECK_CODE(got > 0, ErrorCode::kIo, "reading the in-memory index file failed");
      done += static_cast<size_t>(got);
    }
    return bytes;
  }
  void WriteAll(std::span<const char> bytes) const {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t put =
          pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      GR_CHECK_CODE(put > 0, ErrorCode::kIo, "writing the in-memory index file failed");
      done += static_cast<size_t>(put);
    }
  }

 private:
  int fd_;
};

}  // namespace

HnswIndex::HnswIndex(const IndexConfig& config, size_t dim)
    : VectorIndex(config, dim),
      lifted_(config.metric == Metric::kInnerProduct),
      half_(config.precision == VectorPrecision::kFloat16) {
  const size_t stored_dim = dim + (lifted_ ? 1 : 0);
  if (half_) {
    space_ = std::make_unique<HalfInnerProductSpace>(stored_dim);
  } else {
    space_ = std::make_unique<hnswlib::InnerProductSpace>(stored_dim);
  }
}

HnswIndex::~HnswIndex() = default;

float HnswIndex::MaxNorm(const FloatMatrix& vectors) const {
  double largest = 0;
  for (size_t i = 0; i < vectors.rows(); ++i) {
    double norm = 0;
    for (float x : vectors.Row(i)) norm += static_cast<double>(x) * x;
    largest = std::max(largest, norm);
  }
  return static_cast<float>(std::sqrt(largest));
}

void HnswIndex::Create(size_t capacity) {
  hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      space_.get(), std::max<size_t>(capacity, 1), config_.m, config_.ef_construction,
      config_.seed);
  hnsw_->setEf(config_.ef_search);
}

void HnswIndex::Insert(const FloatMatrix& vectors) {
  if (lifted_) max_norm_ = MaxNorm(vectors);
  const auto n = static_cast<int64_t>(vectors.rows());
  ProgressMeter progress("HNSW index build", "vectors", vectors.rows());
  ParallelFor(n, config_.threads, 64, [&](int64_t i) {
    const std::vector<float> v = Stored(vectors.Row(static_cast<size_t>(i)));
    std::vector<uint16_t> halves;
    hnsw_->addPoint(Encoded(v, &halves), static_cast<hnswlib::labeltype>(i));
    progress.Add(1);  // an insert takes microseconds: a clock read is noise
  });
}

std::vector<float> HnswIndex::Stored(std::span<const float> vector) const {
  std::vector<float> v(dim_ + (lifted_ ? 1 : 0));
  Prepare(vector, v.data());
  if (lifted_) {
    double norm = 0;
    for (size_t x = 0; x < dim_; ++x) norm += static_cast<double>(v[x]) * v[x];
    v[dim_] = static_cast<float>(
        std::sqrt(std::max(0.0, static_cast<double>(max_norm_) * max_norm_ - norm)));
  }
  return v;
}

std::vector<float> HnswIndex::Query(std::span<const float> query) const {
  std::vector<float> q(dim_ + (lifted_ ? 1 : 0), 0.0f);
  Prepare(query, q.data());
  return q;
}

const void* HnswIndex::Encoded(const std::vector<float>& v, std::vector<uint16_t>* halves) const {
  if (!half_) return v.data();
  halves->assign(PaddedHalves(v.size()), 0);
  for (size_t x = 0; x < v.size(); ++x) (*halves)[x] = HalfFromFloat(v[x]);
  return halves->data();
}

std::vector<char> HnswIndex::SerializeGraph() const {
  MemoryFile blob;
  hnsw_->saveIndex(blob.path());
  return blob.ReadAll();
}

void HnswIndex::CheckPayloadLayout(std::span<const char> bytes, const std::string& path) const {
  // hnswlib 0.6.2's saveIndex layout: a header of PODs, every element's
  // level-0 block, then per element a u32 byte count and its upper levels.
  // loadIndex trusts every field, so each is checked against this index
  // (ids, dimension, M) and the byte count before hnswlib sees them.
  size_t at = 0;
  auto fail = [&](const auto&... what) { GR_THROW(ErrorCode::kCorruption, path, ": HNSW payload ", what...); };
  auto read = [&]<typename T>(T* value) {
    if (bytes.size() - at < sizeof(T)) fail("ends early at byte ", at);
    std::memcpy(value, bytes.data() + at, sizeof(T));
    at += sizeof(T);
  };
  size_t offset_level0 = 0, max_elements = 0, count = 0, element_bytes = 0, label_offset = 0, data_offset = 0;
  int max_level = 0;
  hnswlib::tableint entry = 0;
  size_t max_m = 0, max_m0 = 0, m = 0, ef_construction = 0;
  double mult = 0;
  for (size_t* field : {&offset_level0, &max_elements, &count, &element_bytes, &label_offset, &data_offset}) read(field);
  read(&max_level);
  read(&entry);
  for (size_t* field : {&max_m, &max_m0, &m}) read(field);
  read(&mult);
  read(&ef_construction);
  const size_t n = size();
  const size_t level0_links = 2 * size_t{config_.m} * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  const size_t data_bytes = space_->get_data_size();
  if (count != n || max_elements < std::max<size_t>(n, 1) || max_elements > 2 * n + 16)
    fail("holds ", count, " of ", max_elements, " elements; the id list has ", n);
  if (m != config_.m || max_m != m || max_m0 != 2 * m) fail("has M ", m, " (", max_m, ", ", max_m0, "), the header ", config_.m);
  if (offset_level0 != 0 || data_offset != level0_links || label_offset != level0_links + data_bytes ||
      element_bytes != label_offset + sizeof(hnswlib::labeltype))
    fail("element layout does not match the dimension and M");
  if (!(std::isfinite(mult) && mult > 0) || max_level < (n == 0 ? -1 : 0) || max_level > 64 ||
      (n > 0 && entry >= n))
    fail("has a bad level multiplier, top level or entry point");
  if ((bytes.size() - at) / element_bytes < n) fail("ends inside the level-0 blocks");
  at += n * element_bytes;
  const size_t upper_links = max_m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  for (size_t node = 0; node < n; ++node) {
    uint32_t upper_bytes = 0;
    read(&upper_bytes);
    if (upper_bytes % upper_links != 0 || upper_bytes / upper_links > static_cast<size_t>(max_level))
      fail("node ", node, " has ", upper_bytes, " bytes of upper-level links");
    if (bytes.size() - at < upper_bytes) fail("ends inside node ", node, "'s links");
    at += upper_bytes;
  }
  if (at != bytes.size()) fail("has ", bytes.size() - at, " bytes after the last node");
}

void HnswIndex::LoadGraph(const std::vector<char>& bytes, const std::string& path) {
  CheckPayloadLayout(bytes, path);
  MemoryFile blob;
  blob.WriteAll(bytes);
  hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get());
  try {
    hnsw_->loadIndex(blob.path(), space_.get(), 0);
  } catch (const std::exception& e) {
    // hnswlib's destructor frees members that a failed load may have left
    // uninitialised: leak the half-loaded object rather than crash. (The
    // layout check above leaves only allocation failures to get here.)
    static_cast<void>(hnsw_.release());
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
  CheckLoadedGraph(path);
  hnsw_->setEf(config_.ef_search);
}

void HnswIndex::CheckLoadedGraph(const std::string& path) const {
  const size_t n = hnsw_->cur_element_count;
  GR_CHECK_CODE(n == size(), ErrorCode::kCorruption, path, ": HNSW payload holds ", n,
                " nodes, the id list ", size());
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
      GR_CHECK_CODE(count <= limit, ErrorCode::kCorruption, path, ": HNSW node ", node, " has ",
                    count, " links on level ", level);
      const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
      for (size_t j = 0; j < count; ++j)
        GR_CHECK_CODE(links[j] < n, ErrorCode::kCorruption, path, ": HNSW node ", node,
                      " links to ", links[j]);
    }
  }
  GR_CHECK_CODE(n == 0 || (hnsw_->enterpoint_node_ < n &&
                           hnsw_->maxlevel_ == hnsw_->element_levels_[hnsw_->enterpoint_node_]),
                ErrorCode::kCorruption, path, ": HNSW entry point is invalid");
}

std::vector<ScoredItem> HnswIndex::Search(std::span<const float> query, size_t k,
                                          std::span<const uint32_t> excluded,
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
    HnswResult heap = hnsw_->num_deleted_ == 0 && !hnswlib_search
                          ? SearchHnswPrefetched(*hnsw_, encoded, fetch)
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

uint32_t HnswIndex::AddOrUpdate(ExternalId id, std::span<const float> vector) {
  const std::vector<float> v = Stored(vector);
  std::vector<uint16_t> halves;
  const void* encoded = Encoded(v, &halves);
  uint32_t item = Find(id);
  if (item == kNoVertex) {
    // Grown by an eighth: the server's refresher adds a few ids at a time to
    // indices of millions, where doubling would double their memory.
    if (hnsw_->cur_element_count >= hnsw_->max_elements_)
      hnsw_->resizeIndex(hnsw_->max_elements_ + hnsw_->max_elements_ / 8 + 1024);
    item = AppendId(id);
  }
  hnsw_->addPoint(encoded, item);
  return item;
}

std::vector<float> HnswIndex::Vector(uint32_t item) const {
  std::vector<float> v;
  if (half_) {
    for (const uint16_t h : hnsw_->getDataByLabel<uint16_t>(item)) v.push_back(FloatFromHalf(h));
  } else {
    v = hnsw_->getDataByLabel<float>(item);
  }
  v.resize(dim_);  // drop the lifting coordinate (and the halves' padding)
  return v;
}

void HnswIndex::SetEfSearch(uint32_t ef) {
  config_.ef_search = ef;
  hnsw_->setEf(ef);
}

size_t HnswIndex::MemoryBytes() const {
  size_t bytes =
      hnsw_->max_elements_ * (hnsw_->size_data_per_element_ + sizeof(void*) + sizeof(int) + 64);
  for (size_t i = 0; i < hnsw_->cur_element_count; ++i)
    if (hnsw_->element_levels_[i] > 0)
      bytes += hnsw_->size_links_per_element_ * hnsw_->element_levels_[i];
  return bytes + ids_.size() * (sizeof(ExternalId) + 32);
}

}  // namespace gr::recall::internal

namespace gr::recall {

std::vector<ScoredItem> ReferenceHnswSearch(const VectorIndex& index, std::span<const float> query,
                                            size_t k) {
  const auto* hnsw = dynamic_cast<const internal::HnswIndex*>(&index);
  GR_CHECK(hnsw != nullptr, "ReferenceHnswSearch needs an HNSW index");
  return hnsw->Search(query, k, {}, /*hnswlib_search=*/true);
}

}  // namespace gr::recall
