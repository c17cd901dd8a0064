// Activation-gradient pruning (src/sparse/): meanAbs and pruneGradient over n elements.
// Both are memory-bound single passes, split into fixed blocks of kBlock elements so that results
// never depend on the thread count: meanAbs sums each block in 8 float64 lanes in a fixed order and
// combines block partials sequentially (the ref twin in src/backends/ref/prune.ts does exactly the
// same); pruneGradient draws with the counter-based RNG, a pure function of (key, offset + i), and
// can sum its statistics (zeros of g, sum g^2, sum (out - g)^2) per block in the same pass.
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
// Statistics of block [s, e) after pruning it: zeros of g, and sum g^2, sum (out - g)^2 in 8
// float64 lanes (lane j takes elements s + j, s + j + 8, ...), combined like block_abs_sum.
void block_stats(const float* g, const float* out, int64_t s, int64_t e, double* zeros, double* gg, double* dd) {
  double ag[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t z = 0;
  int64_t i = s;
#if defined(LT_SIMD_AVX512)
  {
    __m512d vg = _mm512_setzero_pd(), vd = _mm512_setzero_pd();
    for (; i + 8 <= e; i += 8) {
      const __m256 xf = _mm256_loadu_ps(g + i);
      const __m512d x = _mm512_cvtps_pd(xf), dl = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(out + i)), x);
      z += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(xf, _mm256_setzero_ps(), _CMP_EQ_OQ))));
      vg = _mm512_fmadd_pd(x, x, vg);
      vd = _mm512_fmadd_pd(dl, dl, vd);
    }
    _mm512_storeu_pd(ag, vg);
    _mm512_storeu_pd(ad, vd);
  }
#elif defined(LT_SIMD_AVX2)
  {
    __m256d g0 = _mm256_setzero_pd(), g1 = _mm256_setzero_pd(), d0 = _mm256_setzero_pd(), d1 = _mm256_setzero_pd();
    for (; i + 8 <= e; i += 8) {
      const __m256 xf = _mm256_loadu_ps(g + i), of = _mm256_loadu_ps(out + i);
      const __m256d x0 = _mm256_cvtps_pd(_mm256_castps256_ps128(xf)), x1 = _mm256_cvtps_pd(_mm256_extractf128_ps(xf, 1));
      const __m256d l0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(of)), x0);
      const __m256d l1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(of, 1)), x1);
      z += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(xf, _mm256_setzero_ps(), _CMP_EQ_OQ))));
      g0 = _mm256_fmadd_pd(x0, x0, g0);
      g1 = _mm256_fmadd_pd(x1, x1, g1);
      d0 = _mm256_fmadd_pd(l0, l0, d0);
      d1 = _mm256_fmadd_pd(l1, l1, d1);
    }
    _mm256_storeu_pd(ag, g0);
    _mm256_storeu_pd(ag + 4, g1);
    _mm256_storeu_pd(ad, d0);
    _mm256_storeu_pd(ad + 4, d1);
  }
#endif
  for (; i + 8 <= e; i += 8) {
    for (int j = 0; j < 8; j++) {
      const double x = static_cast<double>(g[i + j]);
      const double dl = static_cast<double>(out[i + j]) - x;
      z += x == 0.0 ? 1 : 0;
      ag[j] += x * x;
      ad[j] += dl * dl;
    }
  }
  for (int j = 0; i < e; i++, j++) {
    const double x = static_cast<double>(g[i]);
    const double dl = static_cast<double>(out[i]) - x;
    z += x == 0.0 ? 1 : 0;
    ag[j] += x * x;
    ad[j] += dl * dl;
  }
  *zeros = static_cast<double>(z);
  *gg = ((ag[0] + ag[1]) + (ag[2] + ag[3])) + ((ag[4] + ag[5]) + (ag[6] + ag[7]));
  *dd = ((ad[0] + ad[1]) + (ad[2] + ad[3])) + ((ad[4] + ad[5]) + (ad[6] + ad[7]));
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
