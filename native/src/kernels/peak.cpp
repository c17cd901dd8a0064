// The machine's measured float32 FMA peak (issue 5: kernels are reported as a fraction of it): a
// register-only loop of independent fused multiply-adds in the variant's widest vectors, on every
// thread of the pool at once. 16 accumulator chains cover FMA latency x throughput on current x64
// cores (4 cycles x 2 per cycle = 8 in flight); the chains never touch memory, so the loop is
// bound by the FMA units alone. Returns GFLOP/s (2 flops per lane per FMA) over all threads.
#include <chrono>

#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {
constexpr int kChains = 16;

// iters x kChains dependent-chain FMAs; returns a value that depends on all chains (so nothing is
// optimised away).
float fma_chains(int64_t iters) {
  vf a[kChains];
#pragma GCC unroll 16
  for (int j = 0; j < kChains; j++) a[j] = set1(1e-3f * static_cast<float>(j));
  const vf m = set1(0.999f), c = set1(1e-4f);
  for (int64_t i = 0; i < iters; i++) {
#pragma GCC unroll 16
    for (int j = 0; j < kChains; j++) a[j] = fmadd(a[j], m, c);
  }
  vf s = a[0];
#pragma GCC unroll 16
  for (int j = 1; j < kChains; j++) s = add(s, a[j]);
  float out[VL];
  store(out, s);
  float r = 0.0f;
  for (int l = 0; l < VL; l++) r += out[l];
  return r;
}
}  // namespace

double fma_peak_gflops(int64_t iters, float* sink) {
  if (iters <= 0) return 0.0;
  int used = 1;
  float total = 0.0f;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : total)
  {
#if defined(_OPENMP)
    if (omp_get_thread_num() == 0) used = omp_get_num_threads();
#endif
    total += fma_chains(iters);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sink) *sink = total;
  return static_cast<double>(iters) * kChains * VL * 2.0 * used / s / 1e9;
}

}  // namespace LT_NS
}  // namespace lt
