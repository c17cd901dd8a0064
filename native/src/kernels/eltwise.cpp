// Elementwise kernels over n elements: relu, add, dropout. Memory-bound: one pass, vectorised,
// split across threads only when large enough to pay for the fork.
#include "counter_rng.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {
constexpr int64_t kParallelMin = 1 << 16;
}

void relu_forward(const float* x, float* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t b = 0; b < n; b += 4096) {
    const int64_t e = b + 4096 < n ? b + 4096 : n;
    int64_t i = b;
    const vf z = zero();
    for (; i + VL <= e; i += VL) store(y + i, max(load(x + i), z));
    for (; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }
}

void relu_backward(const float* dy, const float* y, float* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t b = 0; b < n; b += 4096) {
    const int64_t e = b + 4096 < n ? b + 4096 : n;
    int64_t i = b;
    for (; i + VL <= e; i += VL) store(dx + i, select_pos(load(y + i), load(dy + i)));
    for (; i < e; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}

void add(const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t s = 0; s < n; s += 4096) {
    const int64_t e = s + 4096 < n ? s + 4096 : n;
    int64_t i = s;
    for (; i + VL <= e; i += VL) store(out + i, simd::add(load(a + i), load(b + i)));
    for (; i < e; i++) out[i] = a[i] + b[i];
  }
}

void dropout_forward(const float* x, float* y, uint8_t* mask, float p, uint32_t key, uint64_t offset, int64_t n) {
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t s = 0; s < n; s += 4096) {
    for_counter_uniform(key, offset, s, s + 4096 < n ? s + 4096 : n, [&](int64_t i, float u) {
      const uint8_t keep = u >= p ? 1 : 0;
      mask[i] = keep;
      y[i] = keep ? x[i] * scale : 0.0f;
    });
  }
}

void dropout_backward(const float* dy, const uint8_t* mask, float p, float* dx, int64_t n) {
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

}  // namespace LT_NS
}  // namespace lt
