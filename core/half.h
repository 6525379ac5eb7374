// IEEE 754 half precision (binary16) conversions in portable code, for
// vectors stored at half precision (recall/'s float16 HNSW indices). Only
// the hot inner loops use the CPU's conversion instructions; encoding runs
// once per stored vector or query, so one portable definition is enough.
#pragma once

#include <bit>
#include <cstdint>

namespace gr {

// Rounds to the nearest half, ties to even; overflow gives infinity, NaN
// stays NaN. (The bit-level method of F. Giesen's float_to_half_fast3_rtne.)
inline uint16_t HalfFromFloat(float value) {
  constexpr uint32_t kFloatInfinity = 255u << 23;
  constexpr uint32_t kHalfOverflow = (127u + 16) << 23;  // 65536: rounds to infinity or beyond
  constexpr uint32_t kSmallestNormal = 113u << 23;        // 2^-14
  constexpr uint32_t kDenormMagic = ((127u - 15) + (23 - 10) + 1) << 23;
  uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint32_t out;
  if (x >= kHalfOverflow) {
    out = x > kFloatInfinity ? 0x7e00u : 0x7c00u;
  } else if (x < kSmallestNormal) {
    // The float unit's own rounding does the subnormal case: adding the
    // magic number lines the half's mantissa up with the float's low bits.
    const float sum = std::bit_cast<float>(x) + std::bit_cast<float>(kDenormMagic);
    out = std::bit_cast<uint32_t>(sum) - kDenormMagic;
  } else {
    const uint32_t mantissa_odd = (x >> 13) & 1u;
    x += ((15u - 127u) << 23) + 0xfffu;  // rebias the exponent, round half up ...
    x += mantissa_odd;                   // ... or to even on a tie
    out = x >> 13;
  }
  return static_cast<uint16_t>(out | (sign >> 16));
}

// Exact (every half is a float).
inline float FloatFromHalf(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

}  // namespace gr
