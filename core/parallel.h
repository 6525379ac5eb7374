// ParallelFor: an OpenMP loop whose body may throw. The first exception (by
// time) is captured, the remaining iterations are skipped, and it is rethrown
// on the calling thread after the loop, so no exception escapes an OpenMP region.
#pragma once

#include <omp.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

namespace gr {

// Number of threads to use for `requested` (0 = all available).
inline int ResolveThreads(int requested) {
  return requested > 0 ? requested : omp_get_max_threads();
}

// Calls body(i) for i in [0, n) on `threads` threads (0 = all), dynamic
// schedule with the given chunk. body must be safe to run concurrently.
template <typename Body>
void ParallelFor(int64_t n, int threads, int64_t chunk, Body&& body) {
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(dynamic, chunk)
  for (int64_t i = 0; i < n; ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      body(i);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace gr
