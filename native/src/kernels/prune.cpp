// Activation-gradient pruning (src/sparse/): meanAbs and pruneGradient over n elements.
// Both are memory-bound single passes, split into fixed blocks of kBlock elements so that results
// never depend on the thread count: meanAbs sums each block in 32 float64 lanes in a fixed order and
// combines block partials sequentially (the ref twin in src/backends/ref/prune.ts does exactly the
// same); pruneGradient draws with the counter-based RNG, a pure function of (key, offset + i), and
// can sum its statistics (zeros of g, sum g^2, sum (out - g)^2) per block in the same pass
// (float32 lanes within a block, float64 across blocks).
#pragma GCC optimize("fp-contract=off")
#include <cmath>
#include <cstring>
#include <vector>

#include "counter_rng.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {
constexpr int64_t kBlock = 4096;          // must match BLOCK in src/backends/ref/prune.ts
constexpr int64_t kParallelMin = 1 << 15;  // below this, one thread (the fork costs more)

// L lanes (a power of two) summed in float64 in a fixed tree: lane j += lane j + w for w = L/2,
// L/4, ..., 1 (the ref twin's laneTreeSum).
template <int L, typename T>
double lane_tree_sum(const T* a) {
  double l[L];
  for (int j = 0; j < L; j++) l[j] = static_cast<double>(a[j]);
  for (int w = L / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; j++) l[j] += l[j + w];
  return l[0];
}

// Sum of |g| over [s, e) in kAbsLanes float64 lanes: lane j takes elements s + j, s + j + kAbsLanes,
// ...; the lanes are combined in a fixed tree. Each lane is its own sum, so the compiler's vectors
// (4 zmm or 8 ymm accumulators, or 32 scalars) all add in the same order: identical on every ISA.
// 32 lanes rather than 8 keep four independent add chains per zmm register file pass, so the sum
// runs at memory speed instead of one float64 add latency per 8 elements.
constexpr int kAbsLanes = 32;  // must match ABS_LANES in src/backends/ref/prune.ts
double block_abs_sum(const float* g, int64_t s, int64_t e) {
  double acc[kAbsLanes] = {};
  int64_t i = s;
  for (; i + kAbsLanes <= e; i += kAbsLanes) {
    for (int j = 0; j < kAbsLanes; j++) acc[j] += static_cast<double>(std::fabs(g[i + j]));
  }
  for (int j = 0; i < e; i++, j++) acc[j] += static_cast<double>(std::fabs(g[i]));
  return lane_tree_sum<kAbsLanes>(acc);
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
// Statistics of block [s, e) after pruning it: zeros of g, and sum g^2, sum (out - g)^2 summed in
// kStatLanes float32 lanes (lane j takes elements s + j, s + j + kStatLanes, ...; each term
// squared, then added, two roundings, never fused: this file is built without contraction), the
// lanes then combined in float64 in a fixed tree. The same on every ISA and in the ref twin; at
// most kBlock / kStatLanes = 128 float32 additions per lane, so a relative error of ~1e-5 at worst,
// ample for statistics, at a third of the float64 pass's cost.
constexpr int kStatLanes = 32;  // must match STAT_LANES in src/backends/ref/prune.ts
static_assert(kStatLanes % VL == 0, "stat lanes must be whole vectors");


void block_stats(const float* g, const float* out, int64_t s, int64_t e, double* zeros, double* gg, double* dd) {
  constexpr int NA = kStatLanes / VL;
  vf ag[NA], ad[NA];
  for (int a = 0; a < NA; a++) ag[a] = ad[a] = zero();
  int64_t z = 0;
  int64_t i = s;
  for (; i + kStatLanes <= e; i += kStatLanes) {
#pragma GCC unroll 32
    for (int a = 0; a < NA; a++) {
      const vf x = load(g + i + a * VL), dl = sub(load(out + i + a * VL), x);
      z += VL - __builtin_popcount(nonzero_mask(x));
      ag[a] = add(ag[a], mul(x, x));
      ad[a] = add(ad[a], mul(dl, dl));
    }
  }
  alignas(64) float lg[kStatLanes], ld[kStatLanes];
  for (int a = 0; a < NA; a++) {
    store(lg + a * VL, ag[a]);
    store(ld + a * VL, ad[a]);
  }
  for (int j = 0; i < e; i++, j++) {
    const float x = g[i], dl = out[i] - x;
    z += x == 0.0f ? 1 : 0;
    const float x2 = x * x, d2 = dl * dl;
    lg[j] += x2;
    ld[j] += d2;
  }
  *zeros = static_cast<double>(z);
  *gg = lane_tree_sum<kStatLanes>(lg);
  *dd = lane_tree_sum<kStatLanes>(ld);
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
                       uint64_t offset, double* stats) {
  if (stats) stats[0] = stats[1] = stats[2] = 0.0;
  if (n <= 0) return 0;
  if (!(tau > 0.0f)) {
    // tau = 0: exactly dense (a copy); count non-zeros only.
    if (out != g) std::memcpy(out, g, static_cast<size_t>(n) * sizeof(float));
    tau = 0.0f;
  }
  const int64_t nb = (n + kBlock - 1) / kBlock;
  int64_t nnz = 0;
  std::vector<double> part(stats ? static_cast<size_t>(nb) * 3 : 0);
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
    // The block is still in L1: its statistics cost no extra memory traffic.
    if (stats) block_stats(g, out, s, e, &part[3 * b], &part[3 * b + 1], &part[3 * b + 2]);
  }
  for (int64_t b = 0; stats && b < nb; b++) {
    stats[0] += part[3 * b];
    stats[1] += part[3 * b + 1];
    stats[2] += part[3 * b + 2];
  }
  return nnz;
}

}  // namespace LT_NS
}  // namespace lt
