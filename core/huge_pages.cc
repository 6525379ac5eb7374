#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

#include "core/bulk_vector.h"

namespace gr {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;
constexpr size_t kBulkHugeMinBytes = 4 * kHugePageBytes;

}  // namespace

void* AllocateBulk(size_t bytes) {
  if (bytes < kBulkHugeMinBytes) return ::operator new(bytes);
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* data = std::aligned_alloc(kHugePageBytes, rounded);
  if (data == nullptr) throw std::bad_alloc();
  madvise(data, rounded, MADV_HUGEPAGE);  // best effort: THP may be off
  return data;
}

void FreeBulk(void* data, size_t bytes) noexcept {
  if (bytes < kBulkHugeMinBytes) {
    ::operator delete(data);
  } else {
    std::free(data);
  }
}

size_t AdviseHugePages(const void* data, size_t bytes) {
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t last = (begin + bytes) & ~(kHugePage - 1);
  if (data == nullptr || last <= first) return 0;
  // Advice changes how the pages are backed, never what they hold, so a
  // const array may be advised.
  void* range = reinterpret_cast<void*>(first);
  const size_t length = last - first;
  if (madvise(range, length, MADV_HUGEPAGE) != 0) return 0;
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
  if (madvise(range, length, MADV_COLLAPSE) != 0) return 0;
  return length;
}

}  // namespace gr
