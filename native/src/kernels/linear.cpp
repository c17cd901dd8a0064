// Fully connected layer: x[N,IN], w[OUT,IN] (PyTorch layout), y[N,OUT].
// Shapes legend: N batch rows, IN input features, OUT output features. Sizes are small GEMMs
// (N <= ~512, IN <= ~4096, OUT <= ~1000), so the kernels are register-tiled and cache-blocked
// but pack nothing:
// - forward: y = x w^T contracts along rows of both x and w (both contiguous), so a tile of
//   DR x-rows by DO w-rows keeps DR*DO vector accumulators of dot products, reduced at the end;
// - backward-input (dx = dy w) and backward-weight (dw = dy^T x) are rank-1 updates: a tile of
//   MR output rows by NV vectors of columns, one broadcast A element times one B row per step.
// Work is split into independent (row block, column block) tasks; each output element is computed
// by exactly one task in a fixed order, so results do not depend on the thread count.
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {

#if defined(LT_SIMD_AVX2)
constexpr int DR = 3, DO = 4;  // 12 accumulators + 3 x vectors + 1 w vector = 16 ymm registers
constexpr int MR = 4, NV = 3;  // 12 accumulators + 3 B vectors + 1 broadcast
#else
constexpr int DR = 4, DO = 4;
constexpr int MR = 4, NV = 4;
#endif
constexpr int KC = 2048;                                   // forward: contraction chunk (8 KB of a row)
constexpr int NB = 8 * DR;                                 // forward / backward-input: rows per task
constexpr int OB = 128;                                    // forward: w rows per task
constexpr int IB = NV * VL * ((256 + NV * VL - 1) / (NV * VL));  // rank kernels: columns per task
constexpr double kParallelFlops = 1 << 20;

inline int imin(int a, int b) { return a < b ? a : b; }
inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

/**
 * y[r][o] (+)= dot(x row r, w row o) over klen elements, for r < rows <= DR, o < outs <= DO.
 * Rows beyond `rows`/`outs` repeat the last valid row (harmless work, never stored).
 * first: overwrite with the dot plus bias (bias may be null); else accumulate.
 */
inline void dot_tile(const float* x, int64_t ldx, int rows, const float* w, int64_t ldw, int outs, int klen,
                     float* y, int64_t ldy, const float* bias, bool first) {
  const float* xr[DR];
  const float* wr[DO];
  for (int r = 0; r < DR; r++) xr[r] = x + (r < rows ? r : rows - 1) * ldx;
  for (int o = 0; o < DO; o++) wr[o] = w + (o < outs ? o : outs - 1) * ldw;
  vf acc[DR][DO];
  for (int r = 0; r < DR; r++)
    for (int o = 0; o < DO; o++) acc[r][o] = zero();
  int k = 0;
  for (; k + VL <= klen; k += VL) {
    vf xv[DR];
    for (int r = 0; r < DR; r++) xv[r] = load(xr[r] + k);
    for (int o = 0; o < DO; o++) {
      const vf wv = load(wr[o] + k);
      for (int r = 0; r < DR; r++) acc[r][o] = fmadd(xv[r], wv, acc[r][o]);
    }
  }
  if (k < klen) {  // masked tail: dead lanes load 0 in both operands
    const int t = klen - k;
    vf xv[DR];
    for (int r = 0; r < DR; r++) xv[r] = load_partial(xr[r] + k, t);
    for (int o = 0; o < DO; o++) {
      const vf wv = load_partial(wr[o] + k, t);
      for (int r = 0; r < DR; r++) acc[r][o] = fmadd(xv[r], wv, acc[r][o]);
    }
  }
  for (int r = 0; r < rows; r++) {
    for (int o = 0; o < outs; o++) {
      const float s = reduce_add(acc[r][o]);
      float& dst = y[r * ldy + o];
      dst = first ? s + (bias ? bias[o] : 0.0f) : dst + s;
    }
  }
}

/**
 * c[r][0..cols) = sum_k A(r,k) * b[k][0..cols) for r < rows <= MR, with A(r,k) = a[r*ars + k*aks].
 * NVt vectors of columns; MASK: a single, partial vector of `cols` < VL lanes.
 */
template <int NVt, bool MASK>
inline void rank_tile(const float* a, int64_t ars, int64_t aks, int rows, int klen, const float* b, int64_t ldb,
                      int cols, float* c, int64_t ldc) {
  const float* ar[MR];
  for (int r = 0; r < MR; r++) ar[r] = a + (r < rows ? r : rows - 1) * ars;
  vf acc[MR][NVt];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NVt; v++) acc[r][v] = zero();
  for (int k = 0; k < klen; k++) {
    const float* br = b + k * ldb;
    vf bv[NVt];
    for (int v = 0; v < NVt; v++) bv[v] = MASK ? load_partial(br, cols) : load(br + v * VL);
    for (int r = 0; r < MR; r++) {
      const vf av = set1(ar[r][k * aks]);
      for (int v = 0; v < NVt; v++) acc[r][v] = fmadd(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < rows; r++) {
    for (int v = 0; v < NVt; v++) {
      if (MASK) {
        store_partial(c + r * ldc, acc[r][v], cols);
      } else {
        store(c + r * ldc + v * VL, acc[r][v]);
      }
    }
  }
}

/**
 * C[rows x cols] = A[rows x klen] * B[klen x cols] (row-major B with leading dimension ldb,
 * C with ldc), A(r,k) = a[r*ars + k*aks]. Tasks are (MR-row group block, IB-column block).
 */
void rank_gemm(const float* a, int64_t ars, int64_t aks, int rows, int klen, const float* b, int64_t ldb, int cols,
               float* c, int64_t ldc, int row_block) {
  const int rb = ceil_div(rows, row_block), cb = ceil_div(cols, IB);
  const double flops = 2.0 * rows * cols * klen;
#pragma omp parallel for collapse(2) schedule(dynamic, 1) if (flops >= kParallelFlops)
  for (int bi = 0; bi < rb; bi++) {
    for (int bj = 0; bj < cb; bj++) {
      const int r0 = bi * row_block, r1 = imin(rows, r0 + row_block);
      const int c0 = bj * IB, c1 = imin(cols, c0 + IB);
      // Column tiles outer so one B panel (klen x NV*VL) serves every row tile of the block.
      int j = c0;
      for (; j + NV * VL <= c1; j += NV * VL) {
        for (int r = r0; r < r1; r += MR) {
          rank_tile<NV, false>(a + r * ars, ars, aks, imin(MR, r1 - r), klen, b + j, ldb, NV * VL, c + r * ldc + j, ldc);
        }
      }
      for (; j < c1; j += VL) {
        const int w = imin(VL, c1 - j);
        for (int r = r0; r < r1; r += MR) {
          if (w == VL) {
            rank_tile<1, false>(a + r * ars, ars, aks, imin(MR, r1 - r), klen, b + j, ldb, VL, c + r * ldc + j, ldc);
          } else {
            rank_tile<1, true>(a + r * ars, ars, aks, imin(MR, r1 - r), klen, b + j, ldb, w, c + r * ldc + j, ldc);
          }
        }
      }
    }
  }
}

}  // namespace

void linear_forward(const float* x, const float* w, const float* bias, float* y, const LinearDims& d) {
  const int N = d.N, IN = d.IN, OUT = d.OUT;
  if (N == 0 || OUT == 0) return;
  if (IN == 0) {
    for (int n = 0; n < N; n++)
      for (int o = 0; o < OUT; o++) y[static_cast<int64_t>(n) * OUT + o] = bias ? bias[o] : 0.0f;
    return;
  }
  const int nb = ceil_div(N, NB), ob = ceil_div(OUT, OB);
  const double flops = 2.0 * N * IN * OUT;
#pragma omp parallel for collapse(2) schedule(dynamic, 1) if (flops >= kParallelFlops)
  for (int bi = 0; bi < nb; bi++) {
    for (int bo = 0; bo < ob; bo++) {
      const int n0 = bi * NB, n1 = imin(N, n0 + NB);
      const int o0 = bo * OB, o1 = imin(OUT, o0 + OB);
      for (int k0 = 0; k0 < IN; k0 += KC) {
        const int kl = imin(KC, IN - k0);
        // w tile (DO rows x KC) stays in L1 while it meets every x tile of the block (in L2).
        for (int o = o0; o < o1; o += DO) {
          for (int n = n0; n < n1; n += DR) {
            dot_tile(x + static_cast<int64_t>(n) * IN + k0, IN, imin(DR, n1 - n), w + static_cast<int64_t>(o) * IN + k0,
                     IN, imin(DO, o1 - o), kl, y + static_cast<int64_t>(n) * OUT + o, OUT, bias ? bias + o : nullptr,
                     k0 == 0);
          }
        }
      }
    }
  }
}

void linear_backward_input(const float* dy, const float* w, float* dx, const LinearDims& d) {
  if (d.N == 0 || d.IN == 0) return;
  if (d.OUT == 0) {
    for (int64_t i = 0; i < static_cast<int64_t>(d.N) * d.IN; i++) dx[i] = 0.0f;
    return;
  }
  // dx[n, :] = sum_o dy[n, o] * w[o, :]: A = dy (row stride OUT), B = w (OUT x IN).
  rank_gemm(dy, d.OUT, 1, d.N, d.OUT, w, d.IN, d.IN, dx, d.IN, NB);
}

void linear_backward_weight(const float* x, const float* dy, float* dw, float* dbias, const LinearDims& d) {
  const int N = d.N, IN = d.IN, OUT = d.OUT;
  if (OUT == 0) return;
  if (N == 0) {
    for (int64_t i = 0; i < static_cast<int64_t>(OUT) * IN; i++) dw[i] = 0.0f;
  } else if (IN > 0) {
    // dw[o, :] = sum_n dy[n, o] * x[n, :]: A = dy^T (A(o, n) = dy[n*OUT + o]), B = x (N x IN).
    rank_gemm(dy, 1, OUT, OUT, N, x, IN, IN, dw, IN, 4 * MR);
  }
  if (dbias) {
    int o = 0;
    for (; o + VL <= OUT; o += VL) {
      vf acc = zero();
      for (int n = 0; n < N; n++) acc = add(acc, load(dy + static_cast<int64_t>(n) * OUT + o));
      store(dbias + o, acc);
    }
    for (; o < OUT; o++) {
      float acc = 0.0f;
      for (int n = 0; n < N; n++) acc += dy[static_cast<int64_t>(n) * OUT + o];
      dbias[o] = acc;
    }
  }
}

}  // namespace LT_NS
}  // namespace lt
