// Counter-based random numbers, bit-identical to src/core/rng.ts (mix32, counterHash,
// counterUniform): the draw for element i is a pure function of (key, i), so results do not
// depend on thread count or order.
#pragma once
#include <cstdint>

namespace lt {

inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

inline uint32_t counter_hash(uint32_t key, uint64_t index) {
  uint32_t lo = static_cast<uint32_t>(index), hi = static_cast<uint32_t>(index >> 32);
  return mix32((key + lo * 0x9e3779b9u) ^ hi);
}

/** Uniform in [0, 1) with 24 bits. */
inline float counter_uniform(uint32_t key, uint64_t index) {
  return static_cast<float>(counter_hash(key, index) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace lt
