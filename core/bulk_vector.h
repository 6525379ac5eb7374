// BulkVector: a std::vector for large arrays that are sized and then filled,
// usually by a parallel loop (an ingest's records and edge rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace gr {

// Memory for BulkAllocator (core/huge_pages.cc); FreeBulk needs the size
// that was allocated.
void* AllocateBulk(size_t bytes);
void FreeBulk(void* data, size_t bytes) noexcept;

// Allocator for BulkVector: elements that resize() or the size constructor
// default-initialise (trivial types are left unwritten) instead of zeroing,
// so that the first write, usually by the parallel loop that fills the array,
// also takes the page faults, on every thread, instead of one thread zeroing
// it all first. Arrays of 8 MiB and more are placed on 2 MiB boundaries and
// advised onto transparent huge pages before that first touch: one fault per
// 2 MiB instead of 512 (bench/README.md, "Huge pages for bulk arrays").
template <typename T>
struct BulkAllocator {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  using value_type = T;
  BulkAllocator() = default;
  template <typename U>
  BulkAllocator(const BulkAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(AllocateBulk(n * sizeof(T)));
  }
  void deallocate(T* data, size_t n) noexcept { FreeBulk(data, n * sizeof(T)); }
  template <typename U>
  void construct(U* at) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(at)) U;
  }
  template <typename U, typename... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const BulkAllocator&, const BulkAllocator&) { return true; }
};

// A large array that is sized, then filled (elements start unwritten).
template <typename T>
using BulkVector = std::vector<T, BulkAllocator<T>>;

}  // namespace gr
