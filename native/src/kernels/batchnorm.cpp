// Batch normalisation over NCHW, per channel c over the N planes of HW elements (m = N*HW).
// Shapes legend: N batch, C channels, HW elements per plane.
//
// Memory order: every pass sweeps the planes in address order (prefetch-friendly, and one plane
// is one parallel task), writing per-plane partial results to a scratch array; a short
// per-channel step then combines the N partials of each channel in a fixed order. Visiting one
// channel's N planes at a time instead would jump by C*HW floats every plane, which costs ~2x
// on ResNet shapes. Results do not depend on the thread count.
//
// Statistics are numerically sound for large m: a plane (or a block of at most kBlock elements
// of it) gets its mean and sum of squared deviations by two float32 passes over data in L1,
// blocks are merged in float64 (Chan et al.), and planes are combined exactly in float64 as
// M2 = sum(M2_plane) + HW * sum((mean_plane - mean)^2). No E[x^2] - E[x]^2 cancellation.
#include <cmath>
#include <vector>

#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {

constexpr int kBlock = 2048;

/** Running (count, mean, M2) in float64. */
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void merge(double nb, double mean_b, double m2_b) {
    if (nb == 0) return;
    const double tot = n + nb;
    const double delta = mean_b - mean;
    mean += delta * (nb / tot);
    m2 += m2_b + delta * delta * (n * nb / tot);
    n = tot;
  }
};

inline float sum_f32(const float* p, int len) {
  vf a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
  int i = 0;
  for (; i + 4 * VL <= len; i += 4 * VL) {
    a0 = add(a0, load(p + i));
    a1 = add(a1, load(p + i + VL));
    a2 = add(a2, load(p + i + 2 * VL));
    a3 = add(a3, load(p + i + 3 * VL));
  }
  for (; i + VL <= len; i += VL) a0 = add(a0, load(p + i));
  if (i < len) a1 = add(a1, load_partial(p + i, len - i));
  return reduce_add(add(add(a0, a1), add(a2, a3)));
}

/** Sum of (p[i] - mu)^2. */
inline float sq_dev_f32(const float* p, int len, float mu) {
  const vf m = set1(mu);
  vf a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
  int i = 0;
  for (; i + 4 * VL <= len; i += 4 * VL) {
    vf t0 = sub(load(p + i), m), t1 = sub(load(p + i + VL), m);
    vf t2 = sub(load(p + i + 2 * VL), m), t3 = sub(load(p + i + 3 * VL), m);
    a0 = fmadd(t0, t0, a0);
    a1 = fmadd(t1, t1, a1);
    a2 = fmadd(t2, t2, a2);
    a3 = fmadd(t3, t3, a3);
  }
  for (; i + VL <= len; i += VL) {
    vf t = sub(load(p + i), m);
    a0 = fmadd(t, t, a0);
  }
  // Scalar tail: a masked load would give (0 - mu)^2 in the dead lanes.
  float tail = 0.0f;
  for (; i < len; i++) tail += (p[i] - mu) * (p[i] - mu);
  return reduce_add(add(add(a0, a1), add(a2, a3))) + tail;
}

/** y[i] = x[i] * g + b over len elements. */
inline void affine(const float* x, float* y, int len, float g, float b) {
  const vf vg = set1(g), vb = set1(b);
  int i = 0;
  for (; i + VL <= len; i += VL) store(y + i, fmadd(load(x + i), vg, vb));
  if (i < len) store_partial(y + i, fmadd(load_partial(x + i, len - i), vg, vb), len - i);
}

/** y[i] = act(x[i] * g + b [+ res[i]]): the fused epilogue (res may be null; relu optional). */
inline void affine_act(const float* x, const float* res, float* y, int len, float g, float b, bool relu) {
  if (res == nullptr && !relu) {
    affine(x, y, len, g, b);
    return;
  }
  const vf vg = set1(g), vb = set1(b), z = zero();
  int i = 0;
  for (; i + VL <= len; i += VL) {
    vf v = fmadd(load(x + i), vg, vb);
    if (res != nullptr) v = add(v, load(res + i));
    store(y + i, relu ? max(v, z) : v);
  }
  if (i < len) {
    const int r = len - i;
    vf v = fmadd(load_partial(x + i, r), vg, vb);
    if (res != nullptr) v = add(v, load_partial(res + i, r));
    store_partial(y + i, relu ? max(v, z) : v, r);
  }
}

/** Mean and M2 of one plane: blocks of <= kBlock elements, two passes each, merged in float64. */
inline Moments plane_moments(const float* plane, int hw) {
  Moments mo;
  if (hw <= kBlock) {  // one block: no merge (small planes are per-plane-overhead bound)
    const float mu = sum_f32(plane, hw) / static_cast<float>(hw);
    mo.n = hw;
    mo.mean = mu;
    mo.m2 = sq_dev_f32(plane, hw, mu);
    return mo;
  }
  for (int b = 0; b < hw; b += kBlock) {
    const int len = hw - b < kBlock ? hw - b : kBlock;
    const float mu = sum_f32(plane + b, len) / static_cast<float>(len);
    mo.merge(len, mu, sq_dev_f32(plane + b, len, mu));
  }
  return mo;
}

/** Per-call scratch for per-plane partials, kept between calls (no allocation per step). */
double* scratch(size_t n) {
  static thread_local std::vector<double> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

constexpr int64_t kParallelMin = 1 << 14;  // elements before a fork pays off

}  // namespace

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, float momentum, float eps,
                             const ChannelDims& d, const float* residual, bool relu) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C, hw = d.HW, m = static_cast<int64_t>(d.N) * hw;
  const bool par = planes * hw >= kParallelMin;
  double* part = scratch(static_cast<size_t>(2 * planes + 2 * d.C));  // (mean, M2) per plane; (g, b) per channel
  double* coef = part + 2 * planes;
#pragma omp parallel if (par)
  {
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const Moments mo = plane_moments(x + pl * hw, d.HW);
      part[2 * pl] = mo.mean;
      part[2 * pl + 1] = mo.m2;
    }
#pragma omp for schedule(static)
    for (int c = 0; c < d.C; c++) {
      double sum_mean = 0;
      for (int n = 0; n < d.N; n++) sum_mean += part[2 * (static_cast<int64_t>(n) * d.C + c)];
      const double mean = m > 0 ? sum_mean / d.N : NAN;
      double m2 = 0, spread = 0;
      for (int n = 0; n < d.N; n++) {
        const double* pp = part + 2 * (static_cast<int64_t>(n) * d.C + c);
        m2 += pp[1];
        spread += (pp[0] - mean) * (pp[0] - mean);
      }
      m2 += static_cast<double>(hw) * spread;
      const double var = m > 0 ? m2 / static_cast<double>(m) : NAN;
      const double unbiased = m > 1 ? m2 / static_cast<double>(m - 1) : var;
      const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps));
      save_mean[c] = static_cast<float>(mean);
      save_invstd[c] = static_cast<float>(inv_std);
      running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * unbiased);
      coef[2 * c] = gamma[c] * inv_std;
      coef[2 * c + 1] = beta[c] - mean * coef[2 * c];
    }
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const int c = static_cast<int>(pl % d.C);
      affine_act(x + pl * hw, residual != nullptr ? residual + pl * hw : nullptr, y + pl * hw, d.HW,
                 static_cast<float>(coef[2 * c]), static_cast<float>(coef[2 * c + 1]), relu);
    }
  }
}

void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float eps, float* y, const ChannelDims& d, const float* residual,
                            bool relu) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
#pragma omp parallel for schedule(static) if (planes * d.HW >= 65536)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int c = static_cast<int>(pl % d.C);
    const double g = gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps);
    affine_act(x + pl * d.HW, residual != nullptr ? residual + pl * d.HW : nullptr, y + pl * d.HW, d.HW,
               static_cast<float>(g), static_cast<float>(beta[c] - running_mean[c] * g), relu);
  }
}

namespace {

/**
 * The fused ReLU backward: g = dy where y > 0, else 0, written to `out` (len elements). The
 * batch-norm backward then reads g instead of dy.
 */
inline void mask_relu(const float* dy, const float* y, float* out, int len) {
  int i = 0;
  for (; i + VL <= len; i += VL) store(out + i, select_pos(load(y + i), load(dy + i)));
  for (; i < len; i++) out[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/** Adds sum(dy) and sum(dy * (x - mu)) over len elements, in float32 within the block. */
inline void dy_sums(const float* dy, const float* x, int len, float mu, float& s_dy, float& s_dyx) {
  const vf m = set1(mu);
  vf a0 = zero(), a1 = zero(), b0 = zero(), b1 = zero();
  int i = 0;
  for (; i + 2 * VL <= len; i += 2 * VL) {
    vf g0 = load(dy + i), g1 = load(dy + i + VL);
    a0 = add(a0, g0);
    a1 = add(a1, g1);
    b0 = fmadd(g0, sub(load(x + i), m), b0);
    b1 = fmadd(g1, sub(load(x + i + VL), m), b1);
  }
  for (; i + VL <= len; i += VL) {
    vf g = load(dy + i);
    a0 = add(a0, g);
    b0 = fmadd(g, sub(load(x + i), m), b0);
  }
  float ts = 0.0f, tx = 0.0f;
  for (; i < len; i++) {
    ts += dy[i];
    tx += dy[i] * (x[i] - mu);
  }
  s_dy = reduce_add(add(a0, a1)) + ts;
  s_dyx = reduce_add(add(b0, b1)) + tx;
}

}  // namespace

void batchnorm_backward(const float* dy, const float* x, const float* gamma, const float* save_mean,
                        const float* save_invstd, float* dx, float* dgamma, float* dbeta, const ChannelDims& d,
                        const float* y_relu, float* dy_masked) {
  // Fused ReLU backward: the first pass masks dy by y > 0 into dy_masked (the gradient of the
  // pre-activation sum, which a residual branch also needs); both passes then read dy_masked.
  // Masking one plane right before summing it keeps it in L1 for the sums.
  const bool fused = y_relu != nullptr;
  const int64_t planes = static_cast<int64_t>(d.N) * d.C, hw = d.HW, m = static_cast<int64_t>(d.N) * hw;
  const bool par = planes * hw >= kParallelMin;
  double* part = scratch(static_cast<size_t>(2 * planes + 3 * d.C));  // sums per plane; (A, B, C0) per channel
  double* coef = part + 2 * planes;
#pragma omp parallel if (par)
  {
    // Per plane: sum(dy) and sum(dy * (x - mean)), float32 within a block, float64 across blocks.
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const float mean = save_mean[pl % d.C];
      double s_dy = 0, s_dyx = 0;
      for (int b = 0; b < d.HW; b += kBlock) {
        const int len = d.HW - b < kBlock ? d.HW - b : kBlock;
        float s, sx;
        const float* g = dy + pl * hw + b;
        if (fused) {
          mask_relu(g, y_relu + pl * hw + b, dy_masked + pl * hw + b, len);
          g = dy_masked + pl * hw + b;
        }
        dy_sums(g, x + pl * hw + b, len, mean, s, sx);
        s_dy += s;
        s_dyx += sx;
      }
      part[2 * pl] = s_dy;
      part[2 * pl + 1] = s_dyx;
    }
#pragma omp for schedule(static)
    for (int c = 0; c < d.C; c++) {
      double sum_dy = 0, sum_dyx = 0;
      for (int n = 0; n < d.N; n++) {
        sum_dy += part[2 * (static_cast<int64_t>(n) * d.C + c)];
        sum_dyx += part[2 * (static_cast<int64_t>(n) * d.C + c) + 1];
      }
      const double inv_std = save_invstd[c];
      const double sum_dy_xhat = sum_dyx * inv_std;
      dbeta[c] = static_cast<float>(sum_dy);
      dgamma[c] = static_cast<float>(sum_dy_xhat);
      // dx = k * (m*dy - sum(dy) - xhat * sum(dy*xhat)), k = gamma*invStd/m, xhat = (x-mean)*invStd,
      // rewritten as dx = dy*A + x*B + C0 for one fused pass.
      const double k = m > 0 ? gamma[c] * inv_std / static_cast<double>(m) : 0.0;
      const double B = -k * inv_std * sum_dy_xhat;
      coef[3 * c] = gamma[c] * inv_std;
      coef[3 * c + 1] = B;
      coef[3 * c + 2] = -k * sum_dy - B * save_mean[c];
    }
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const double* cf = coef + 3 * (pl % d.C);
      const vf va = set1(static_cast<float>(cf[0])), vb = set1(static_cast<float>(cf[1]));
      const vf vc = set1(static_cast<float>(cf[2]));
      const float* g = (fused ? dy_masked : dy) + pl * hw;
      const float* xp = x + pl * hw;
      float* o = dx + pl * hw;
      int i = 0;
      for (; i + VL <= d.HW; i += VL) store(o + i, fmadd(load(g + i), va, fmadd(load(xp + i), vb, vc)));
      if (i < d.HW) {
        const int r = d.HW - i;
        store_partial(o + i, fmadd(load_partial(g + i, r), va, fmadd(load_partial(xp + i, r), vb, vc)), r);
      }
    }
  }
}

}  // namespace LT_NS
}  // namespace lt
