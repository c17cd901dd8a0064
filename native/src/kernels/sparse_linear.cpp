// Sparse backward of a fully connected layer (x[N,IN], w[OUT,IN], dy[N,OUT]) for a pruned dy:
// work proportional to the non-zeros of dy. Both products are a sparse matrix A times a dense B:
//   dX:  dx[n][:] = sum over non-zeros dy[n][o] of dy[n][o] * w[o][:]     (A = dy,   B = w)
//   dW:  dw[o][:] = sum over non-zeros dy[n][o] of dy[n][o] * x[n][:]     (A = dy^T, B = x)
// Output rows are taken in blocks of RB rows and IB columns (independent tasks, each output
// element computed by one task in a fixed order: results do not depend on the thread count). In
// a task the contraction index k runs outermost, so each B row segment is read once per block
// and added, scaled, into every output row of the block whose A entry is non-zero.
#include <cstring>

#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {
constexpr int RB = 16;     // output rows per task
constexpr int IB = 1024;   // output columns per task (4 KB per row segment)
constexpr double kParallelFlops = 1 << 20;

/** c[0..len) += a * b[0..len). */
inline void axpy(float* c, float a, const float* b, int len) {
  const vf av = set1(a);
  int i = 0;
  for (; i + VL <= len; i += VL) store(c + i, fmadd(av, load(b + i), load(c + i)));
  for (; i < len; i++) c[i] += a * b[i];
}

/**
 * c[r][0..cols) = sum_k A(r, k) * b[k][0..cols) for r < rows, A(r, k) = a[r * ars + k * aks],
 * skipping zero entries of A. c has row stride ldc, b row stride ldb.
 */
void spmm(const float* a, int64_t ars, int64_t aks, int rows, int K, const float* b, int64_t ldb, float* c, int64_t ldc, int cols,
          double nnz_flops) {
  const int rblocks = (rows + RB - 1) / RB, cblocks = (cols + IB - 1) / IB;
#pragma omp parallel for schedule(static) collapse(2) if (nnz_flops >= kParallelFlops)
  for (int rb = 0; rb < rblocks; rb++) {
    for (int cb = 0; cb < cblocks; cb++) {
      const int r0 = rb * RB, r1 = r0 + RB < rows ? r0 + RB : rows;
      const int c0 = cb * IB, len = c0 + IB < cols ? IB : cols - c0;
      for (int r = r0; r < r1; r++) std::memset(c + r * ldc + c0, 0, sizeof(float) * len);
      for (int k = 0; k < K; k++) {
        const float* bk = b + k * ldb + c0;
        for (int r = r0; r < r1; r++) {
          const float v = a[r * ars + k * aks];
          if (v != 0.0f) axpy(c + r * ldc + c0, v, bk, len);
        }
      }
    }
  }
}

int64_t count_nonzero(const float* a, int64_t n) {
  int64_t z = 0;
  for (int64_t i = 0; i < n; i++) z += a[i] != 0.0f ? 1 : 0;
  return z;
}
}  // namespace

void linear_backward_input_sparse(const float* dy, const float* w, float* dx, const LinearDims& d) {
  if (d.N == 0 || d.IN == 0) return;
  const double flops = 2.0 * static_cast<double>(count_nonzero(dy, static_cast<int64_t>(d.N) * d.OUT)) * d.IN;
  spmm(dy, d.OUT, 1, d.N, d.OUT, w, d.IN, dx, d.IN, d.IN, flops);
}

void linear_backward_weight_sparse(const float* x, const float* dy, float* dw, float* dbias, const LinearDims& d) {
  if (d.OUT == 0) return;
  if (d.IN > 0) {
    const double flops = 2.0 * static_cast<double>(count_nonzero(dy, static_cast<int64_t>(d.N) * d.OUT)) * d.IN;
    spmm(dy, 1, d.OUT, d.OUT, d.N, x, d.IN, dw, d.IN, d.IN, flops);
  }
  if (dbias) {
    for (int o = 0; o < d.OUT; o++) dbias[o] = 0.0f;
    for (int n = 0; n < d.N; n++)
      for (int o = 0; o < d.OUT; o++) dbias[o] += dy[static_cast<int64_t>(n) * d.OUT + o];
  }
}

}  // namespace LT_NS
}  // namespace lt
