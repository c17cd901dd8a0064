// Activation-gradient pruning (src/sparse/): meanAbs and pruneGradient over n elements.
// Both are memory-bound single passes, split into fixed blocks of kBlock elements so that results
// never depend on the thread count: meanAbs sums each block in 8 float64 lanes in a fixed order and
// combines block partials sequentially (the ref twin in src/backends/ref/prune.ts does exactly the
// same); pruneGradient draws with the counter-based RNG, a pure function of (key, offset + i).
#include <cmath>
#include <cstring>
#include <vector>

#include "counter_rng.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

namespace {
constexpr int64_t kBlock = 4096;          // must match BLOCK in src/backends/ref/prune.ts
constexpr int64_t kParallelMin = 1 << 15;  // below this, one thread (the fork costs more)

// Sum of |g| over [s, e) in 8 float64 lanes: lane j takes elements s + j, s + j + 8, ...
double block_abs_sum(const float* g, int64_t s, int64_t e) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = s;
  for (; i + 8 <= e; i += 8) {
    for (int j = 0; j < 8; j++) acc[j] += static_cast<double>(std::fabs(g[i + j]));
  }
  for (int j = 0; i < e; i++, j++) acc[j] += static_cast<double>(std::fabs(g[i]));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Prunes [s, e); returns the non-zeros written. The branch-free body vectorises (the hash is
// integer multiply/xor/shift; the selects become blends/masked moves).
int64_t prune_block(const float* g, float* out, int64_t s, int64_t e, float t, bool stochastic, uint32_t key,
                    uint64_t offset) {
  int64_t nnz = 0;
  if (stochastic) {
    for_counter_uniform(key, offset, s, e, [&](int64_t i, float u) {
      const float x = g[i];
      const float a = std::fabs(x);
      const float bump = u < a / t ? std::copysign(t, x) : 0.0f;
      const float y = a < t ? bump : x;
      out[i] = y;
      nnz += y != 0.0f ? 1 : 0;
    });
  } else {
    for (int64_t i = s; i < e; i++) {
      const float x = g[i];
      const float y = std::fabs(x) < t ? 0.0f : x;
      out[i] = y;
      nnz += y != 0.0f ? 1 : 0;
    }
  }
  return nnz;
}
}  // namespace

double mean_abs(const float* g, int64_t n) {
  if (n <= 0) return 0.0;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(nb));
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t b = 0; b < nb; b++) {
    const int64_t s = b * kBlock, e = s + kBlock < n ? s + kBlock : n;
    part[static_cast<size_t>(b)] = block_abs_sum(g, s, e);
  }
  double sum = 0.0;
  for (int64_t b = 0; b < nb; b++) sum += part[static_cast<size_t>(b)];
  return sum / static_cast<double>(n);
}

int64_t prune_gradient(const float* g, float* out, int64_t n, float tau, bool stochastic, uint32_t key,
                       uint64_t offset) {
  if (n <= 0) return 0;
  if (!(tau > 0.0f)) {
    // tau = 0: exactly dense (a copy); count non-zeros only.
    if (out != g) std::memcpy(out, g, static_cast<size_t>(n) * sizeof(float));
    tau = 0.0f;
  }
  const int64_t nb = (n + kBlock - 1) / kBlock;
  int64_t nnz = 0;
#pragma omp parallel for schedule(static) reduction(+ : nnz) if (n >= kParallelMin)
  for (int64_t b = 0; b < nb; b++) {
    const int64_t s = b * kBlock, e = s + kBlock < n ? s + kBlock : n;
    if (tau > 0.0f) {
      nnz += prune_block(g, out, s, e, tau, stochastic, key, offset);
    } else {
      int64_t c = 0;
      for (int64_t i = s; i < e; i++) c += out[i] != 0.0f ? 1 : 0;
      nnz += c;
    }
  }
  return nnz;
}

}  // namespace LT_NS
}  // namespace lt
