// FloatMatrix: a dense row-major float32 matrix with 64-byte aligned storage,
// so rows can be handed to SIMD kernels and hnswlib without copying. Not
// thread-safe for concurrent resize; concurrent writes to distinct rows are fine.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

namespace gr {

template <typename T, std::size_t kAlign>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  explicit AlignedAllocator(const AlignedAllocator<U, kAlign>&) {}
  template <typename U>
  struct rebind { using other = AlignedAllocator<U, kAlign>; };
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kAlign)));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(kAlign)); }
  bool operator==(const AlignedAllocator&) const { return true; }
};

// Dot product of n floats, vectorised: the compiler keeps one partial sum per
// SIMD lane and adds them at the end (a serial sum would wait on each
// multiply-add in turn). Every embedding score in the project goes through it.
inline float Dot(const float* a, const float* b, std::size_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Cosine of two vectors of the same length, summed in double precision; 0
// when either is zero.
inline double Cosine(std::span<const float> a, std::span<const float> b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
}

class FloatMatrix {
 public:
  FloatMatrix() = default;
  // rows x cols, zero-filled. Throws gr::Error(kInvalidArgument) if too large.
  FloatMatrix(std::size_t rows, std::size_t cols);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }

  std::span<float> Row(std::size_t i) { return {data_.data() + i * cols_, cols_}; }
  std::span<const float> Row(std::size_t i) const { return {data_.data() + i * cols_, cols_}; }
  float& At(std::size_t i, std::size_t j) { return data_[i * cols_ + j]; }
  float At(std::size_t i, std::size_t j) const { return data_[i * cols_ + j]; }

  // All values, rows x cols row-major.
  std::span<float> Data() { return data_; }
  std::span<const float> Data() const { return data_; }

  bool operator==(const FloatMatrix& other) const = default;

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<float, AlignedAllocator<float, 64>> data_;
};

}  // namespace gr
