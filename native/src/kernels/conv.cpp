// Dense 2-D convolution, forward and backward-input (float32, NCHW x, OIHW w, groups = 1).
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// Both are implicit GEMMs over the tall padded source of conv_source.h: out[k][j] =
// sum_kk A[k][kk] * src[off[kk] + j], computed by a register-blocked micro-kernel of MR output
// channels x NV vectors of consecutive columns (one broadcast weight times NV unaligned source
// loads per tap). No im2col matrix is materialised: the source of one group of images (a padded
// copy of the input, ~1x its size) stays in L2 while every tap and output channel sweeps it.
// - forward: taps (c, r, s) of x; A = w (K x CRS), packed MR-interleaved.
// - backward-input: dx = transposed conv of dy. A stride-s conv splits into s*s phases (output
//   rows h = s*i + a, cols w = s*j + b); each phase is a stride-1 correlation of dy with the
//   taps r = a + pad (mod s), so no multiply-by-zero of the dilated dy is ever done.
// Work: groups of whole images are split statically across OpenMP threads; each output element
// is computed by one micro-kernel sequence in a fixed tap order, so results are bitwise
// independent of the thread count.
#include <vector>

#include "conv_source.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;
using namespace conv;

namespace {

#if defined(LT_SIMD_AVX512)
constexpr int MR = 8, NV = 3;  // 24 accumulators + 3 source vectors + 1 broadcast of 32 zmm
#elif defined(LT_SIMD_AVX2)
constexpr int MR = 4, NV = 3;  // 12 + 3 + 1 = 16 ymm
#else
constexpr int MR = 4, NV = 4;
#endif
constexpr int NR = NV * VL;          // columns per micro-tile
constexpr int KC = 128;              // taps per pass over the channel blocks (source window in L1)
#ifndef LT_CONV_TARGET_COLS
#define LT_CONV_TARGET_COLS 1536
#endif
#ifndef LT_CONV_MAX_SOURCE
#define LT_CONV_MAX_SOURCE (1 << 18)
#endif
constexpr int64_t TARGET_COLS = LT_CONV_TARGET_COLS;  // columns per image group
constexpr int64_t MAX_SOURCE = LT_CONV_MAX_SOURCE;    // floats of source per group, all phases (1 MB)

/** C[MR][NR] (+)= sum over kc taps of A[kk][i] * B[off[kk] + v*VL ...] (accumulate: add to C). */
inline void ukr(int kc, const float* A, const float* B, const int64_t* off, float* C, bool accumulate) {
  vf acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = accumulate ? load(C + i * NR + v * VL) : zero();
  for (int kk = 0; kk < kc; kk++) {
    const float* b = B + off[kk];
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = load(b + v * VL);
    const float* a = A + kk * MR;
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const vf ai = set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = fmadd(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) store(C + i * NR + v * VL, acc[i][v]);
}

/** A contiguous piece of a micro-tile's columns that maps to valid outputs. */
struct Run {
  int t, len;       // first column inside the tile, count
  int64_t out;      // output offset of the first column for output channel 0
};

/** One implicit GEMM: a source layout, its taps, packed weights and where outputs go. */
struct Plan {
  Source src;
  std::vector<Tap> taps;
  std::vector<float> A;  // [ceil(Kout/MR)][taps][MR]
  int Kout;
  int64_t out_img, out_ch;  // floats per output image / channel plane
  int oW, osh, osw, oa, ob; // column (i, j) -> out[(i*osh + oa)*oW + j*osw + ob]
  int max_dr = 0, max_dc = 0;
  std::vector<int64_t> off;
};

/** Source pitches from the taps' reach (call before choosing the group size). */
void fit_plan(Plan& p) {
  for (const Tap& t : p.taps) {
    p.max_dr = imax(p.max_dr, t.dr);
    p.max_dc = imax(p.max_dc, t.dc);
  }
  fit_source(p.src, p.max_dr, p.max_dc);
}

/** Valid output runs of tile columns [j0, j0 + NR) of a group starting at image n0. */
int tile_runs(const Plan& p, int n0, int64_t j0, int64_t jend, Run* runs) {
  const Source& s = p.src;
  const int64_t img = s.image_cols();
  int nr = 0;
  int64_t j = j0;
  const int64_t stop = jend < j0 + NR ? jend : j0 + NR;
  while (j < stop) {
    const int64_t g = j / img, rem = j - g * img;
    const int oh = static_cast<int>(rem / s.Wq), ow = static_cast<int>(rem - static_cast<int64_t>(oh) * s.Wq);
    if (oh >= s.Pv) {
      j = (g + 1) * img;
      continue;
    }
    if (ow >= s.Qv) {
      j += s.Wq - ow;
      continue;
    }
    const int len = static_cast<int>(stop - j < s.Qv - ow ? stop - j : s.Qv - ow);
    runs[nr++] = Run{static_cast<int>(j - j0), len,
                     (n0 + g) * p.out_img + static_cast<int64_t>(oh * p.osh + p.oa) * p.oW + ow * p.osw + p.ob};
    j += len;
  }
  return nr;
}

/** Writes a finished micro-tile (+ bias) into the outputs. */
void scatter(const Plan& p, const float* ct, int k0, const Run* runs, int nruns, const float* bias, float* out) {
  const int rows = imin(MR, p.Kout - k0);
  for (int i = 0; i < rows; i++) {
    float* base = out + (k0 + i) * p.out_ch;
    const float* c = ct + i * NR;
    const float b0 = bias ? bias[k0 + i] : 0.0f;
    const vf bv = set1(b0);
    for (int r = 0; r < nruns; r++) {
      float* dst = base + runs[r].out;
      const float* src = c + runs[r].t;
      const int len = runs[r].len;
      if (p.osw == 1) {
        for (int e = 0; e < len; e += VL) {
          const int n = imin(VL, len - e);
          store_partial(dst + e, add(load_partial(src + e, n), bv), n);
        }
      } else if (p.osw == 2) {  // backward-input phases of a stride-2 conv
        for (int e = 0; e < len; e += VL) store_even(dst + 2 * e, add(load_partial(src + e, imin(VL, len - e)), bv), imin(VL, len - e));
      } else {
        for (int e = 0; e < len; e++) dst[static_cast<int64_t>(e) * p.osw] = src[e] + b0;
      }
    }
  }
}

/** Zeroes the outputs of a phase that no tap reaches (e.g. odd rows of a 1x1 stride-2 conv). */
void zero_phase(const Plan& p, int n0, int g, float* out) {
  for (int gi = 0; gi < g; gi++)
    for (int k = 0; k < p.Kout; k++)
      for (int i = 0; i < p.src.Pv; i++)
        for (int j = 0; j < p.src.Qv; j++)
          out[(n0 + gi) * p.out_img + k * p.out_ch + static_cast<int64_t>(i * p.osh + p.oa) * p.oW + j * p.osw + p.ob] =
              0.0f;
}

/** Runs the plans (phases) over all N images; plans with no taps zero their outputs. */
void run_plans(std::vector<Plan>& plans, int N, const float* bias, float* out) {
  if (plans.empty() || N <= 0) return;
  const int threads = max_threads();
  for (Plan& p : plans) fit_plan(p);
  const Source& s0 = plans[0].src;
  int64_t image_floats = 0;  // source floats per image over all phases (their buffers share L2)
  for (const Plan& p : plans) image_floats += p.src.cs_count() * p.src.image_cols();
  const int G = choose_group(N, s0.image_cols(), image_floats, threads, TARGET_COLS, MAX_SOURCE);
  for (Plan& p : plans) {
    p.src.G = G;
    tap_offsets(p.src, p.taps, p.off);
  }
  const int ngroups = ceil_div(N, G);
#pragma omp parallel if (ngroups > 1)
  {
    // One source buffer per plan (phase): each keeps its zero padding from group to group.
    thread_local std::vector<std::vector<float>> sbufs;
    thread_local std::vector<float> cbuf;
    if (sbufs.size() < plans.size()) sbufs.resize(plans.size());
    bool fresh = true;
    Run runs[NR];
#pragma omp for schedule(static)
    for (int grp = 0; grp < ngroups; grp++) {
      const int n0 = grp * G, g = imin(G, N - n0);
      for (size_t pi = 0; pi < plans.size(); pi++) {
        const Plan& p = plans[pi];
        const int ntaps = static_cast<int>(p.taps.size());
        if (ntaps == 0) {
          zero_phase(p, n0, g, out);
          continue;
        }
        const int64_t slack = source_slack(p.src, p.max_dr, p.max_dc, NR);
        float* src = scratch_floats(sbufs[pi], p.src.cs_count() * p.src.plane() + slack);
        build_source(p.src, n0, g, src, slack, fresh);
        const int64_t cols = p.src.cols(g);
        const int nkb = ceil_div(p.Kout, MR);
        // Accumulators of every output channel for one tile, so that a block of taps (its source
        // window and weights, ~KC x 200 B each) stays in L1 while all channel blocks use it.
        float* ct = scratch_floats(cbuf, static_cast<int64_t>(nkb) * MR * NR);
        const int nkc = ceil_div(ntaps, KC), kcs = ceil_div(ntaps, nkc);
        for (int64_t j0 = 0; j0 < cols; j0 += NR) {
          const int nruns = tile_runs(p, n0, j0, cols, runs);
          if (nruns == 0) continue;
          for (int kc0 = 0; kc0 < ntaps; kc0 += kcs) {
            const int kcl = imin(kcs, ntaps - kc0);
            for (int kb = 0; kb < nkb; kb++) {
              ukr(kcl, p.A.data() + (static_cast<int64_t>(kb) * ntaps + kc0) * MR, src + j0, p.off.data() + kc0,
                  ct + kb * MR * NR, kc0 > 0);
            }
          }
          for (int kb = 0; kb < nkb; kb++) scatter(p, ct + kb * MR * NR, kb * MR, runs, nruns, bias, out);
        }
      }
      fresh = false;
    }
  }
}

bool degenerate(const Conv2dDims& d) {
  return d.N <= 0 || d.C <= 0 || d.H <= 0 || d.W <= 0 || d.K <= 0 || d.R <= 0 || d.S <= 0 || d.P <= 0 || d.Q <= 0 ||
         d.strideH <= 0 || d.strideW <= 0 || d.padH < 0 || d.padW < 0;
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dDims& d) {
  if (degenerate(d)) return;
  const int CRS = d.C * d.R * d.S;
  std::vector<Plan> plans(1);
  Plan& p = plans[0];
  p.src = Source{x, d.C, d.H, d.W, d.strideH, d.strideW, -d.padH, -d.padW, 0, 0, d.P, d.Q, 1};  // pitches: fit_plan
  p.taps.reserve(CRS);
  for (int c = 0; c < d.C; c++)
    for (int r = 0; r < d.R; r++)
      for (int s = 0; s < d.S; s++)
        p.taps.push_back(Tap{(c * d.strideH + r % d.strideH) * d.strideW + s % d.strideW, r / d.strideH, s / d.strideW});
  p.Kout = d.K;
  const int kb = ceil_div(d.K, MR);
  p.A.assign(static_cast<size_t>(kb) * CRS * MR, 0.0f);
  for (int k = 0; k < d.K; k++)
    for (int kk = 0; kk < CRS; kk++) p.A[(static_cast<int64_t>(k / MR) * CRS + kk) * MR + k % MR] = w[static_cast<int64_t>(k) * CRS + kk];
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
  std::vector<Plan> plans;
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
      // Smallest dy offset of the phase's taps (r increases -> o decreases): the source origin.
      const int omin_r = tr.empty() ? 0 : or_.back(), omin_s = ts.empty() ? 0 : os.back();
      Plan p;
      p.src = Source{dy, d.K, d.P, d.Q, 1, 1, omin_r, omin_s, 0, 0, Hph, Wph, 1};  // pitches: fit_plan
      p.Kout = d.C;
      p.out_ch = static_cast<int64_t>(d.H) * d.W;
      p.out_img = d.C * p.out_ch;
      p.oW = d.W;
      p.osh = sh;
      p.osw = sw;
      p.oa = a;
      p.ob = b;
      const int ntaps = d.K * static_cast<int>(tr.size() * ts.size());
      const int cb = ceil_div(d.C, MR);
      p.A.assign(static_cast<size_t>(cb) * ntaps * MR, 0.0f);
      p.taps.reserve(ntaps);
      int kk = 0;
      for (int k = 0; k < d.K; k++) {
        for (size_t ir = 0; ir < tr.size(); ir++) {
          for (size_t is = 0; is < ts.size(); is++, kk++) {
            p.taps.push_back(Tap{k, or_[ir] - omin_r, os[is] - omin_s});
            for (int c = 0; c < d.C; c++) {
              p.A[(static_cast<int64_t>(c / MR) * ntaps + kk) * MR + c % MR] =
                  w[((static_cast<int64_t>(k) * d.C + c) * d.R + tr[ir]) * d.S + ts[is]];
            }
          }
        }
      }
      plans.push_back(std::move(p));
    }
  }
  run_plans(plans, d.N, nullptr, dx);
}

}  // namespace LT_NS
}  // namespace lt
