// The ResNet option-A shortcut: y = x[:, :, ::stride, ::stride] with zero channels padded to K
// (floor((K - C) / 2) before, the rest after), and its backward (scatter back, zeros elsewhere).
// Memory-bound; one output plane (forward) or input plane (backward) per parallel task.
#include <cstring>

#include "kernels.h"

namespace lt {
namespace LT_NS {

namespace {
constexpr int64_t kParallelMin = 1 << 16;
}

void shortcut_pad_forward(const float* x, float* y, const ShortcutDims& d) {
  const int P = (d.H + d.stride - 1) / d.stride, Q = (d.W + d.stride - 1) / d.stride;
  const int before = (d.K - d.C) / 2;
  const int64_t planes = static_cast<int64_t>(d.N) * d.K, pq = static_cast<int64_t>(P) * Q;
#pragma omp parallel for schedule(static) if (planes * pq >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t n = pl / d.K;
    const int c = static_cast<int>(pl % d.K) - before;
    float* yp = y + pl * pq;
    if (c < 0 || c >= d.C) {
      std::memset(yp, 0, sizeof(float) * pq);
      continue;
    }
    const float* xp = x + (n * d.C + c) * static_cast<int64_t>(d.H) * d.W;
    for (int p = 0; p < P; p++) {
      const float* xr = xp + static_cast<int64_t>(p) * d.stride * d.W;
      float* yr = yp + static_cast<int64_t>(p) * Q;
      for (int q = 0; q < Q; q++) yr[q] = xr[q * d.stride];
    }
  }
}

void shortcut_pad_backward(const float* dy, float* dx, const ShortcutDims& d) {
  const int P = (d.H + d.stride - 1) / d.stride, Q = (d.W + d.stride - 1) / d.stride;
  const int before = (d.K - d.C) / 2;
  const int64_t planes = static_cast<int64_t>(d.N) * d.C, hw = static_cast<int64_t>(d.H) * d.W;
#pragma omp parallel for schedule(static) if (planes * hw >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t n = pl / d.C;
    const int c = static_cast<int>(pl % d.C);
    float* xp = dx + pl * hw;
    if (d.stride > 1) std::memset(xp, 0, sizeof(float) * hw);
    const float* yp = dy + (n * d.K + c + before) * static_cast<int64_t>(P) * Q;
    for (int p = 0; p < P; p++) {
      float* xr = xp + static_cast<int64_t>(p) * d.stride * d.W;
      const float* yr = yp + static_cast<int64_t>(p) * Q;
      for (int q = 0; q < Q; q++) xr[q * d.stride] = yr[q];
    }
  }
}

}  // namespace LT_NS
}  // namespace lt
