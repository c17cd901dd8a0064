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

// Two rounds with the key in both, so streams of different keys are not shifted copies of one
// sequence (as a single mix32(key + i * c) would be). For a fixed (key, hi) the map lo -> hash is a
// bijection of the 32-bit words: exact uniform marginals over a full range of lo.

/** The per-(key, high word) constant of the second round. */
inline uint32_t counter_round2(uint32_t key, uint32_t hi) { return mix32(mix32(hi ^ 0x5bd1e995u) + key); }

/** The hash of low word `lo` given counter_round2(key, hi). */
inline uint32_t counter_hash_lo(uint32_t key, uint32_t round2, uint32_t lo) { return mix32(mix32(lo ^ key) + round2); }

inline uint32_t counter_hash(uint32_t key, uint64_t index) {
  return counter_hash_lo(key, counter_round2(key, static_cast<uint32_t>(index >> 32)), static_cast<uint32_t>(index));
}

inline float counter_to_uniform(uint32_t h) { return static_cast<float>(h >> 8) * (1.0f / 16777216.0f); }

/** Uniform in [0, 1) with 24 bits. */
inline float counter_uniform(uint32_t key, uint64_t index) { return counter_to_uniform(counter_hash(key, index)); }

/**
 * Calls body(i, u) for i in [s, e) with u = counter_uniform(key, offset + i), hoisting the
 * second-round constant out of runs where the high word of the index is constant.
 */
template <class Body>
inline void for_counter_uniform(uint32_t key, uint64_t offset, int64_t s, int64_t e, Body&& body) {
  int64_t i = s;
  while (i < e) {
    const uint64_t idx = offset + static_cast<uint64_t>(i);
    const uint32_t hi = static_cast<uint32_t>(idx >> 32), lo0 = static_cast<uint32_t>(idx);
    const int64_t left = static_cast<int64_t>((uint64_t{1} << 32) - lo0);
    const int64_t end = e - i < left ? e : i + left;
    const uint32_t r2 = counter_round2(key, hi);
    for (int64_t j = i; j < end; j++) body(j, counter_to_uniform(counter_hash_lo(key, r2, lo0 + static_cast<uint32_t>(j - i))));
    i = end;
  }
}

}  // namespace lt
