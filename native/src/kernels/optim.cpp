// Optimizer kernels. sgd_update: one torch.optim.SGD step over n float32 parameters, bit for bit
// the rule of src/backend/sgd_update.ts (the reference twin): every value computed in float64
// from the stored floats and rounded once when stored. That is why this file is built without
// contraction: a fused multiply-add would round differently from the reference's mul then add.
// Elementwise, so any split across threads gives the same result.
#pragma GCC optimize("fp-contract=off")
#include "kernels.h"

namespace lt {
namespace LT_NS {

namespace {
constexpr int64_t kParallelMin = 1 << 16;  // below this, one thread (the fork costs more)
}

void sgd_update(float* p, const float* g, float* buf, int64_t n, const SgdScalars& s) {
  const double lr = s.lr, wd = s.wd, bm = s.bm, bd = s.bd, m = s.m;
  if (s.mode == 0 || buf == nullptr) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t k = 0; k < n; k++) {
      const double pk = p[k];
      p[k] = static_cast<float>(pk - lr * (static_cast<double>(g[k]) + wd * pk));
    }
  } else if (s.mode == 2) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t k = 0; k < n; k++) {
      const double pk = p[k];
      const double d = static_cast<double>(g[k]) + wd * pk;
      const float b = static_cast<float>(bm * static_cast<double>(buf[k]) + bd * d);
      buf[k] = b;
      p[k] = static_cast<float>(pk - lr * (d + m * static_cast<double>(b)));
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t k = 0; k < n; k++) {
      const double pk = p[k];
      const float b = static_cast<float>(bm * static_cast<double>(buf[k]) + bd * (static_cast<double>(g[k]) + wd * pk));
      buf[k] = b;
      p[k] = static_cast<float>(pk - lr * static_cast<double>(b));
    }
  }
}

}  // namespace LT_NS
}  // namespace lt
