// Pooling over NCHW planes: max pool (with argmax), average pool (count_include_pad=True) and
// global average pool, forward and backward.
// Shapes legend: N batch, C channels, H x W input, R x S window, P x Q output.
//
// Every plane is independent, so the work is split across the N*C planes. Backward kernels
// scatter within one plane only, so no two threads ever write the same element.
// Windows are clamped to the plane, so malformed dims (P, Q too large) never read outside x.
#include <cmath>

#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {

constexpr int64_t kParallelMin = 1 << 14;  // elements touched before a fork pays off

inline int imax(int a, int b) { return a > b ? a : b; }
inline int imin(int a, int b) { return a < b ? a : b; }

inline void zero_fill(float* p, int64_t n) {
  const vf z = zero();
  int64_t i = 0;
  for (; i + VL <= n; i += VL) store(p + i, z);
  for (; i < n; i++) p[i] = 0.0f;
}

}  // namespace

void maxpool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2dDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int64_t hw = static_cast<int64_t>(d.H) * d.W, pq = static_cast<int64_t>(d.P) * d.Q;
#pragma omp parallel for schedule(static) if (planes * (hw + pq) >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * hw;
    float* yp = y + pl * pq;
    int32_t* ap = argmax + pl * pq;
    for (int p = 0; p < d.P; p++) {
      const int h0 = p * d.strideH - d.padH;
      const int hb = imax(h0, 0), he = imin(h0 + d.R, d.H);
      for (int q = 0; q < d.Q; q++) {
        const int w0 = q * d.strideW - d.padW;
        const int wb = imax(w0, 0), we = imin(w0 + d.S, d.W);
        // Same rule as the reference: the first maximum in row-major order wins; a NaN wins and
        // ends its row (a NaN in a later row replaces it). Padding is skipped, never compared.
        float best = -INFINITY;
        int32_t idx = -1;
        for (int h = hb; h < he; h++) {
          const float* row = xp + static_cast<int64_t>(h) * d.W;
          for (int w = wb; w < we; w++) {
            const float v = row[w];
            if (v > best || idx < 0 || std::isnan(v)) {
              best = v;
              idx = h * d.W + w;
              if (std::isnan(v)) break;
            }
          }
        }
        yp[p * d.Q + q] = best;
        ap[p * d.Q + q] = idx;
      }
    }
  }
}

void maxpool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2dDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int64_t hw = static_cast<int64_t>(d.H) * d.W, pq = static_cast<int64_t>(d.P) * d.Q;
#pragma omp parallel for schedule(static) if (planes * (hw + pq) >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* xp = dx + pl * hw;
    zero_fill(xp, hw);
    const float* gp = dy + pl * pq;
    const int32_t* ap = argmax + pl * pq;
    for (int64_t i = 0; i < pq; i++) {
      const int32_t a = ap[i];
      if (a >= 0 && a < hw) xp[a] += gp[i];  // out-of-plane indices are ignored, never written
    }
  }
}

void avgpool2d_forward(const float* x, float* y, const Pool2dDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int64_t hw = static_cast<int64_t>(d.H) * d.W, pq = static_cast<int64_t>(d.P) * d.Q;
#pragma omp parallel for schedule(static) if (planes * (hw + pq) >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * hw;
    float* yp = y + pl * pq;
    for (int p = 0; p < d.P; p++) {
      const int h0 = p * d.strideH - d.padH;
      const int hend = imin(h0 + d.R, d.H + d.padH);
      const int hb = imax(h0, 0), he = imin(hend, d.H);
      for (int q = 0; q < d.Q; q++) {
        const int w0 = q * d.strideW - d.padW;
        const int wend = imin(w0 + d.S, d.W + d.padW);
        const int wb = imax(w0, 0), we = imin(wend, d.W);
        float acc = 0.0f;
        for (int h = hb; h < he; h++) {
          const float* row = xp + static_cast<int64_t>(h) * d.W;
          for (int w = wb; w < we; w++) acc += row[w];
        }
        // The divisor counts padded positions inside the window (count_include_pad=True).
        yp[p * d.Q + q] = acc / static_cast<float>((hend - h0) * (wend - w0));
      }
    }
  }
}

void avgpool2d_backward(const float* dy, float* dx, const Pool2dDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int64_t hw = static_cast<int64_t>(d.H) * d.W, pq = static_cast<int64_t>(d.P) * d.Q;
#pragma omp parallel for schedule(static) if (planes * (hw + pq) >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* xp = dx + pl * hw;
    zero_fill(xp, hw);
    const float* gp = dy + pl * pq;
    for (int p = 0; p < d.P; p++) {
      const int h0 = p * d.strideH - d.padH;
      const int hend = imin(h0 + d.R, d.H + d.padH);
      const int hb = imax(h0, 0), he = imin(hend, d.H);
      for (int q = 0; q < d.Q; q++) {
        const int w0 = q * d.strideW - d.padW;
        const int wend = imin(w0 + d.S, d.W + d.padW);
        const int wb = imax(w0, 0), we = imin(wend, d.W);
        const float g = gp[p * d.Q + q] / static_cast<float>((hend - h0) * (wend - w0));
        for (int h = hb; h < he; h++) {
          float* row = xp + static_cast<int64_t>(h) * d.W;
          for (int w = wb; w < we; w++) row[w] += g;
        }
      }
    }
  }
}

void global_avgpool_forward(const float* x, float* y, const ChannelDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int hw = d.HW;
#pragma omp parallel for schedule(static) if (planes * hw >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * hw;
    vf a0 = zero(), a1 = zero();
    int i = 0;
    for (; i + 2 * VL <= hw; i += 2 * VL) {
      a0 = add(a0, load(xp + i));
      a1 = add(a1, load(xp + i + VL));
    }
    for (; i + VL <= hw; i += VL) a0 = add(a0, load(xp + i));
    if (i < hw) a1 = add(a1, load_partial(xp + i, hw - i));
    y[pl] = reduce_add(add(a0, a1)) / static_cast<float>(hw);
  }
}

void global_avgpool_backward(const float* dy, float* dx, const ChannelDims& d) {
  const int64_t planes = static_cast<int64_t>(d.N) * d.C;
  const int hw = d.HW;
#pragma omp parallel for schedule(static) if (planes * hw >= kParallelMin)
  for (int64_t pl = 0; pl < planes; pl++) {
    const vf g = set1(dy[pl] / static_cast<float>(hw));
    float* xp = dx + pl * hw;
    int i = 0;
    for (; i + VL <= hw; i += VL) store(xp + i, g);
    if (i < hw) store_partial(xp + i, g, hw - i);
  }
}

}  // namespace LT_NS
}  // namespace lt
