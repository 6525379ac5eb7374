// Rng: a small, fast, seedable generator (xoshiro256**, seeded by splitmix64).
// For results that do not depend on the thread count, derive one generator
// per unit of work with Rng::ForItem(seed, item, index) instead of sharing one.
// An Rng is not thread-safe; give each thread or work item its own.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace gr {

__extension__ typedef unsigned __int128 Uint128;

// One step of splitmix64: a strong 64-bit mixer, also usable as a hash.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Mixes several 64-bit values into one well-distributed 64-bit value.
inline uint64_t MixSeed(uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = a;
  uint64_t h = SplitMix64(s);
  s = h ^ b;
  h = SplitMix64(s);
  s = h ^ c;
  return SplitMix64(s);
}

// The uniform draws both generators offer, on NextU64.
template <typename Generator>
class UniformDraws {
 public:
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, unbiased).
  uint64_t Uniform(uint64_t n) {
    uint64_t x = self().NextU64();
    Uint128 m = static_cast<Uint128>(x) * n;
    auto low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        x = self().NextU64();
        m = static_cast<Uint128>(x) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble() { return static_cast<double>(self().NextU64() >> 11) * 0x1.0p-53; }
  // Uniform float in [0, 1) with 24 random bits.
  float UniformFloat() { return static_cast<float>(self().NextU64() >> 40) * 0x1.0p-24f; }

 private:
  Generator& self() { return static_cast<Generator&>(*this); }
};

class Rng : public UniformDraws<Rng> {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (auto& word : state_) word = SplitMix64(s);
  }

  // A generator for work item `item` (e.g. a start vertex) and repetition
  // `index` (e.g. walk number): independent of which thread runs it.
  static Rng ForItem(uint64_t seed, uint64_t item, uint64_t index) {
    return Rng(MixSeed(seed, item, index));
  }

  uint64_t NextU64() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// wyrand (Wang Yi): one 64-bit state word and one 64x64->128 multiply per
// number, an eighth of xoshiro256**'s state and fewer instructions (its
// author reports BigCrush and PractRand passes). For hot loops that draw a
// few numbers per memory access: the random walks.
class FastRng : public UniformDraws<FastRng> {
 public:
  explicit FastRng(uint64_t seed) : state_(seed) {}
  static FastRng ForItem(uint64_t seed, uint64_t item, uint64_t index) {
    return FastRng(MixSeed(seed, item, index));
  }
  // The whole state: FastRng(state()) continues the same sequence (a walker
  // moving between MPI ranks carries it).
  uint64_t state() const { return state_; }
  uint64_t NextU64() {
    state_ += 0xA0761D6478BD642FULL;
    const Uint128 m = static_cast<Uint128>(state_) * (state_ ^ 0xE7037ED1A0B428DBULL);
    return static_cast<uint64_t>(m >> 64) ^ static_cast<uint64_t>(m);
  }

 private:
  uint64_t state_;
};

// Moves a uniform sample of min(n, items.size()) of `items` to the front
// (a partial Fisher-Yates shuffle drawing from `rng`); returns that count.
template <typename Container>
size_t ShuffleFront(Container& items, size_t n, Rng& rng) {
  n = std::min(n, items.size());
  for (size_t i = 0; i < n; ++i) std::swap(items[i], items[i + rng.Uniform(items.size() - i)]);
  return n;
}

}  // namespace gr
