// Softmax cross-entropy with integer labels over N rows of `classes` logits.
// Forward writes the softmax into probs and returns the mean of -log softmax[label]; it is
// max-shifted for stability, and the loss uses log(sum) - (z_label - max) rather than log(prob),
// so a tiny probability does not underflow to log(0). Rows are independent: split across threads
// when there are enough of them; the per-row losses are summed in row order in float64, so the
// result does not depend on the thread count.
#include <cmath>
#include <vector>

#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {
constexpr int64_t kParallelMin = 1 << 15;
}

float softmax_xent_forward(const float* logits, const int32_t* labels, float* probs, const SoftmaxDims& d) {
  const int N = d.N, K = d.classes;
  if (N == 0) return NAN;  // mean over no rows, as the reference (0 / 0)
  std::vector<double> row_loss(static_cast<size_t>(N));
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(N) * K >= kParallelMin)
  for (int n = 0; n < N; n++) {
    const float* z = logits + static_cast<int64_t>(n) * K;
    float* pr = probs + static_cast<int64_t>(n) * K;
    float mx = -INFINITY;
    for (int c = 0; c < K; c++) mx = z[c] > mx ? z[c] : mx;
    double sum = 0.0;
    for (int c = 0; c < K; c++) {
      const float e = std::exp(z[c] - mx);
      pr[c] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    const vf vinv = set1(inv);
    int c = 0;
    for (; c + VL <= K; c += VL) store(pr + c, mul(load(pr + c), vinv));
    for (; c < K; c++) pr[c] *= inv;
    const int32_t lab = labels[n];
    // Out-of-range labels (the op rejects them) give NaN instead of reading outside the row.
    row_loss[static_cast<size_t>(n)] =
        (lab >= 0 && lab < K) ? std::log(sum) - (static_cast<double>(z[lab]) - mx) : NAN;
  }
  double total = 0.0;
  for (int n = 0; n < N; n++) total += row_loss[static_cast<size_t>(n)];
  return static_cast<float>(total / N);
}

void softmax_xent_backward(const float* probs, const int32_t* labels, float scale, float* dlogits,
                           const SoftmaxDims& d) {
  const int N = d.N, K = d.classes;
  const vf vs = set1(scale);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(N) * K >= kParallelMin)
  for (int n = 0; n < N; n++) {
    const float* pr = probs + static_cast<int64_t>(n) * K;
    float* g = dlogits + static_cast<int64_t>(n) * K;
    int c = 0;
    for (; c + VL <= K; c += VL) store(g + c, mul(load(pr + c), vs));
    for (; c < K; c++) g[c] = pr[c] * scale;
    const int32_t lab = labels[n];
    if (lab >= 0 && lab < K) g[lab] -= scale;  // the op guarantees the range; never write outside the row
  }
}

}  // namespace LT_NS
}  // namespace lt
