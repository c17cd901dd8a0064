// Dense 2-D convolution, forward and backward-input (float32, NCHW x, OIHW w, groups = 1).
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// Both are implicit GEMMs (conv_gemm.h) over the tall padded source of conv_source.h:
// out[k][j] = sum_kk A[k][kk] * src[off[kk] + j]; no im2col matrix is materialised.
// - forward: taps (c, r, s) of x; A = w (K x CRS), packed MR-interleaved.
// - backward-input: dx = transposed conv of dy. A stride-s conv splits into s*s phases (output
//   rows h = s*i + a, cols w = s*j + b); each phase is a stride-1 correlation of dy with the
//   taps r = a + pad (mod s), so no multiply-by-zero of the dilated dy is ever done.
#include <cstring>
#include <utility>
#include <vector>

#include "conv_gemm.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;
using namespace conv;

namespace {

bool degenerate(const Conv2dDims& d) {
  return d.N <= 0 || d.C <= 0 || d.H <= 0 || d.W <= 0 || d.K <= 0 || d.R <= 0 || d.S <= 0 || d.P <= 0 || d.Q <= 0 ||
         d.strideH <= 0 || d.strideW <= 0 || d.padH < 0 || d.padW < 0;
}

/** Packed weights of every plan, kept between calls (a fresh multi-MB vector per call page-faults). */
float* weight_scratch(int64_t n) {
  thread_local std::vector<float> buf;
  float* p = scratch_floats(buf, n);
  std::memset(p, 0, sizeof(float) * n);
  return p;
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dDims& d) {
  if (degenerate(d)) return;
  const int CRS = d.C * d.R * d.S;
  std::vector<Plan> plans(1);
  Plan& p = plans[0];
  p.src = Source{x, d.C, d.H, d.W, d.strideH, d.strideW, -d.padH, -d.padW, 0, 0, d.P, d.Q, 1};  // pitches: fit_plan
  p.src.na = imin(d.strideH, d.R);  // sub-planes a kernel smaller than the stride reads
  p.src.nb = imin(d.strideW, d.S);
  p.taps.reserve(CRS);
  for (int c = 0; c < d.C; c++)
    for (int r = 0; r < d.R; r++)
      for (int s = 0; s < d.S; s++)
        p.taps.push_back(Tap{(c * p.src.nA() + r % d.strideH) * p.src.nB() + s % d.strideW, r / d.strideH, s / d.strideW});
  p.Kout = d.K;
  float* A = weight_scratch(packed_weight_floats(d.K, CRS));
  for (int k = 0; k < d.K; k++)
    for (int kk = 0; kk < CRS; kk++) A[(static_cast<int64_t>(k / MR) * CRS + kk) * MR + k % MR] = w[static_cast<int64_t>(k) * CRS + kk];
  p.A = A;
  p.out_ch = static_cast<int64_t>(d.P) * d.Q;
  p.out_img = d.K * p.out_ch;
  p.oW = d.Q;
  p.osh = p.osw = 1;
  p.oa = p.ob = 0;
  run_plans(plans, d.N, bias, y);
}

void conv2d_backward_input(const float* dy, const float* w, float* dx, const Conv2dDims& d) {
  if (degenerate(d)) return;
  const int sh = d.strideH, sw = d.strideW;
  // One source origin for all phases, the smallest dy offset o = (a + pad - r) / s of any tap,
  // so that the phases share one padded copy of dy (run_plans builds it once per image group).
  int ro = d.P, co = d.Q;
  for (int a = 0; a < sh; a++)
    for (int r = 0; r < d.R; r++)
      if (((a + d.padH - r) % sh + sh) % sh == 0) ro = imin(ro, (a + d.padH - r) / sh);
  for (int b = 0; b < sw; b++)
    for (int s = 0; s < d.S; s++)
      if (((b + d.padW - s) % sw + sw) % sw == 0) co = imin(co, (b + d.padW - s) / sw);
  std::vector<Plan> plans;
  std::vector<std::pair<std::vector<int>, std::vector<int>>> rs;  // taps (r, s) of each phase
  for (int a = 0; a < sh && a < d.H; a++) {
    for (int b = 0; b < sw && b < d.W; b++) {
      // Taps of this phase and their dy offsets o = (a + pad - r) / s.
      std::vector<int> tr, or_, ts, os;
      for (int r = 0; r < d.R; r++)
        if (((a + d.padH - r) % sh + sh) % sh == 0) {
          tr.push_back(r);
          or_.push_back((a + d.padH - r) / sh);
        }
      for (int s = 0; s < d.S; s++)
        if (((b + d.padW - s) % sw + sw) % sw == 0) {
          ts.push_back(s);
          os.push_back((b + d.padW - s) / sw);
        }
      const int Hph = ceil_div(d.H - a, sh), Wph = ceil_div(d.W - b, sw);
      Plan p;
      p.src = Source{dy, d.K, d.P, d.Q, 1, 1, ro, co, 0, 0, Hph, Wph, 1};  // pitches: fit_plan
      p.Kout = d.C;
      p.out_ch = static_cast<int64_t>(d.H) * d.W;
      p.out_img = d.C * p.out_ch;
      p.oW = d.W;
      p.osh = sh;
      p.osw = sw;
      p.oa = a;
      p.ob = b;
      p.taps.reserve(d.K * tr.size() * ts.size());
      for (int k = 0; k < d.K; k++)
        for (size_t ir = 0; ir < tr.size(); ir++)
          for (size_t is = 0; is < ts.size(); is++) p.taps.push_back(Tap{k, or_[ir] - ro, os[is] - co});
      plans.push_back(std::move(p));
      rs.push_back({std::move(tr), std::move(ts)});
    }
  }
  // Weights of each phase: A[c][(k, r, s)] = w[k][c][r][s] over the phase's taps.
  int64_t total = 0;
  for (const Plan& p : plans) total += packed_weight_floats(d.C, static_cast<int>(p.taps.size()));
  float* A = weight_scratch(total);
  for (size_t pi = 0; pi < plans.size(); pi++) {
    const std::vector<int>& tr = rs[pi].first;
    const std::vector<int>& ts = rs[pi].second;
    const int ntaps = static_cast<int>(plans[pi].taps.size());
    plans[pi].A = A;
    int kk = 0;
    for (int k = 0; k < d.K; k++)
      for (int r : tr)
        for (int s : ts) {
          for (int c = 0; c < d.C; c++)
            A[(static_cast<int64_t>(c / MR) * ntaps + kk) * MR + c % MR] = w[((static_cast<int64_t>(k) * d.C + c) * d.R + r) * d.S + s];
          kk++;
        }
    A += packed_weight_floats(d.C, ntaps);
  }
  run_plans(plans, d.N, nullptr, dx);
}

}  // namespace LT_NS
}  // namespace lt
