// The implicit-GEMM engine of the dense conv kernels (see conv_gemm.h, conv.cpp): micro-kernel,
// tiling, optional panel packing for small planes, output scatter, threading.
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// A tile is NR consecutive columns of the source's column space (several output rows, possibly
// several images); the micro-kernel computes MR output channels x NR columns, one broadcast
// weight times NV unaligned source loads per tap. Taps are taken in blocks of KC so that their
// source window and weights stay in L1 while every channel block uses them; partial sums of all
// channel blocks of the tile live in a small buffer. Columns that are padding ("garbage") are
// computed and dropped; when they are many and the channels are many, tiles instead hold only
// valid columns, compressed out of the source into a contiguous panel.
// Work: groups of whole images are split statically across OpenMP threads; each output element
// is computed by one micro-kernel sequence in a fixed tap order, so results are bitwise
// independent of the thread count.
#include <cstring>
#include <vector>

#include "conv_gemm.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {
namespace conv {

namespace {

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

/** Packed mode: output runs of valid columns [t0, t0 + NR) (t counts valid outputs of the group). */
int tile_runs_packed(const Plan& p, int n0, int64_t t0, int64_t tend, Run* runs) {
  const Source& s = p.src;
  const int64_t per_img = static_cast<int64_t>(s.Pv) * s.Qv;
  int nr = 0;
  const int64_t stop = tend < t0 + NR ? tend : t0 + NR;
  for (int64_t t = t0; t < stop;) {
    const int64_t g = t / per_img, rem = t - g * per_img;
    const int oh = static_cast<int>(rem / s.Qv), ow = static_cast<int>(rem - static_cast<int64_t>(oh) * s.Qv);
    const int len = static_cast<int>(stop - t < s.Qv - ow ? stop - t : s.Qv - ow);
    runs[nr++] = Run{static_cast<int>(t - t0), len,
                     (n0 + g) * p.out_img + static_cast<int64_t>(oh * p.osh + p.oa) * p.oW + ow * p.osw + p.ob};
    t += len;
  }
  return nr;
}

/**
 * Packed mode: the valid columns of a tile lie in the source window [js, js + nw*VL); mask[w] marks
 * them in vector w of the window. panel[kk][0..NR) = those columns of tap kk, compressed.
 */
void pack_panel(const float* src, const int64_t* off, int kcl, int64_t js, const uint32_t* mask, int nw, float* panel) {
  for (int kk = 0; kk < kcl; kk++) {
    const float* b = src + off[kk] + js;
    float* dst = panel + kk * NR;  // compress_store may clobber the next row's start: written next
    for (int w = 0; w < nw; w++) dst += compress_store(dst, load(b + w * VL), mask[w]);
  }
}

/** Dense outputs: a piece of a tile's vector whose selected lanes go to consecutive outputs. */
struct Seg {
  int v, cnt;      // vector of the tile, lanes selected
  uint32_t mask;   // which lanes
  int64_t out;     // output offset of the first selected lane, for output channel 0
};

/** The runs of a tile cut at vector boundaries, merging pieces of one vector with adjacent outputs. */
int tile_segs(const Run* runs, int nruns, Seg* segs) {
  int ns = 0;
  for (int r = 0; r < nruns; r++) {
    int t = runs[r].t, len = runs[r].len;
    int64_t o = runs[r].out;
    while (len > 0) {
      const int v = t / VL, lane = t % VL, n = imin(len, VL - lane);
      const uint32_t m = static_cast<uint32_t>(((1ull << n) - 1ull) << lane);
      if (ns > 0 && segs[ns - 1].v == v && segs[ns - 1].out + segs[ns - 1].cnt == o) {
        segs[ns - 1].mask |= m;
        segs[ns - 1].cnt += n;
      } else {
        segs[ns++] = Seg{v, n, m, o};
      }
      t += n;
      len -= n;
      o += n;
    }
  }
  return ns;
}

/** Dense outputs (osw == 1): each piece is one compress and one masked store per channel. */
void scatter_segs(const Plan& p, const float* ct, int k0, const Seg* segs, int nsegs, const float* bias, float* out) {
  const int rows = imin(MR, p.Kout - k0);
  for (int i = 0; i < rows; i++) {
    float* base = out + (k0 + i) * p.out_ch;
    const float* c = ct + i * NR;
    const vf bv = set1(bias ? bias[k0 + i] : 0.0f);
    for (int q = 0; q < nsegs; q++) {
      const Seg& sg = segs[q];
      store_partial(base + sg.out, compress(add(load(c + sg.v * VL), bv), sg.mask), sg.cnt);
    }
  }
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

/** Writes every channel block of a finished tile. Dense outputs with a one-instruction compress
 * go through pieces (fewer, unmasked-length operations); the rest run by run. */
void finish_tile(const Plan& p, const float* ct, int nkb, const Run* runs, int nruns, Seg* segs, const float* bias,
                 float* out) {
#if defined(LT_SIMD_AVX512)
  constexpr bool fast_compress = true;
#else
  constexpr bool fast_compress = false;  // emulated: the run-by-run path is cheaper
#endif
  if (fast_compress && p.osw == 1) {
    const int nsegs = tile_segs(runs, nruns, segs);
    for (int kb = 0; kb < nkb; kb++) scatter_segs(p, ct + kb * MR * NR, kb * MR, segs, nsegs, bias, out);
    return;
  }
  for (int kb = 0; kb < nkb; kb++) scatter(p, ct + kb * MR * NR, kb * MR, runs, nruns, bias, out);
}


}  // namespace

void run_plans(std::vector<Plan>& plans, int N, const float* bias, float* out) {
  if (plans.empty() || N <= 0) return;
  const int threads = max_threads();
  for (Plan& p : plans) fit_plan(p);
  // Phases that read the same input through the same origin share one source (built once per
  // group) laid out with the largest pitches any of them needs; more padding is always valid.
  bool shared = plans.size() > 1;
  int max_dr = 0, max_dc = 0, Hq = 0, Wq = 0;
  for (const Plan& p : plans) {
    const Source &a = p.src, &b = plans[0].src;
    shared = shared && a.in == b.in && a.C == b.C && a.H == b.H && a.W == b.W && a.sh == b.sh && a.sw == b.sw &&
             a.ro == b.ro && a.co == b.co;
    max_dr = imax(max_dr, p.max_dr);
    max_dc = imax(max_dc, p.max_dc);
    Hq = imax(Hq, a.Hq);
    Wq = imax(Wq, a.Wq);
  }
  if (shared) {
    for (Plan& p : plans) {
      p.src.Hq = Hq;
      p.src.Wq = Wq;
      p.max_dr = max_dr;
      p.max_dc = max_dc;
    }
  }
  const Source& s0 = plans[0].src;
  int64_t image_floats = 0;  // source floats per image over all phases (their buffers share L2)
  for (const Plan& p : plans) image_floats += shared && &p != &plans[0] ? 0 : p.src.cs_count() * p.src.image_cols();
  const int G = choose_group(N, s0.image_cols(), image_floats, threads, TARGET_COLS, MAX_SOURCE);
  for (Plan& p : plans) {
    p.src.G = G;
    tap_offsets(p.src, p.taps, p.off);
    // Packing a panel costs a few instructions per tap and source vector; it pays when the
    // garbage columns it skips would cost more: garbage fraction x output channels.
    const Source& s = p.src;
    const double garbage = 1.0 - static_cast<double>(s.Pv) * s.Qv / static_cast<double>(s.image_cols());
    p.packed = garbage * ceil_div(p.Kout, MR) * MR > PACK_THRESHOLD;
    if (p.packed) {
      p.jpos.resize(static_cast<size_t>(G) * s.Pv * s.Qv + 1);
      size_t t = 0;
      for (int gi = 0; gi < G; gi++)
        for (int oh = 0; oh < s.Pv; oh++)
          for (int ow = 0; ow < s.Qv; ow++) p.jpos[t++] = static_cast<int32_t>(gi * s.image_cols() + oh * s.Wq + ow);
    }
  }
  std::vector<int64_t> panel_off(static_cast<size_t>(KC) + 1);  // packed panels: tap kk at kk*NR
  for (int kk = 0; kk <= KC; kk++) panel_off[kk] = static_cast<int64_t>(kk) * NR;
  const int ngroups = ceil_div(N, G);
  bool any_empty = false;
  for (const Plan& p : plans) any_empty = any_empty || p.taps.empty();
#pragma omp parallel if (ngroups > 1)
  {
    // One source buffer per plan (phase): each keeps its zero padding from group to group.
    thread_local std::vector<std::vector<float>> sbufs;
    thread_local std::vector<float> cbuf, pbuf;
    if (sbufs.size() < plans.size()) sbufs.resize(plans.size());
    bool fresh = true;
    Run runs[NR];
    Seg segs[NR];
    thread_local std::vector<uint32_t> mbuf;  // packed mode: one bit mask per vector of a tile's source window
#pragma omp for schedule(static)
    for (int grp = 0; grp < ngroups; grp++) {
      const int n0 = grp * G, g = imin(G, N - n0);
      bool built = false;  // shared: the group's source is built by the first phase with taps
      // A phase no tap reaches (odd rows and columns of a 1x1 stride-2 conv's dx) is zero: clear
      // the group's outputs first, the other phases overwrite their positions.
      if (any_empty) std::memset(out + n0 * plans[0].out_img, 0, sizeof(float) * g * plans[0].out_img);
      Prefetcher pf = next_group(plans[0].src, n0, G, N);
      for (size_t pi = 0; pi < plans.size(); pi++) {
        const Plan& p = plans[pi];
        const int ntaps = static_cast<int>(p.taps.size());
        if (ntaps == 0) continue;  // zeroed above
        const int64_t slack = source_slack(p.src, p.max_dr, p.max_dc, NR);
        float* src = scratch_floats(sbufs[shared ? 0 : pi], p.src.cs_count() * p.src.plane() + slack);
        if (!shared || !built) build_source(p.src, n0, g, src, slack, fresh);
        built = true;
        const int64_t cols = p.src.cols(g);
        const int nkb = ceil_div(p.Kout, MR);
        // Accumulators of every output channel for one tile, so that a block of taps (its source
        // window and weights, ~KC x 200 B each) stays in L1 while all channel blocks use it.
        float* ct = scratch_floats(cbuf, static_cast<int64_t>(nkb) * MR * NR);
        const int nkc = ceil_div(ntaps, KC), kcs = ceil_div(ntaps, nkc);
        if (p.packed) {
          float* panel = scratch_aligned(pbuf, static_cast<int64_t>(kcs + 1) * NR + VL);
          if (fresh) std::memset(panel, 0, sizeof(float) * ((kcs + 1) * NR + VL));  // a short last tile reads the rest
          const int64_t vcols = static_cast<int64_t>(g) * p.src.Pv * p.src.Qv;
          for (int64_t t0 = 0; t0 < vcols; t0 += NR) {
            if (pi == 0) pf.step(t0 / NR, (vcols + NR - 1) / NR);
            const int nruns = tile_runs_packed(p, n0, t0, vcols, runs);
            const int64_t t1 = imin(NR, static_cast<int>(vcols - t0)) + t0;  // valid columns [t0, t1)
            const int64_t js = p.jpos[t0], span = p.jpos[t1 - 1] + 1 - js;
            const int nw = static_cast<int>((span + VL - 1) / VL);
            if (static_cast<int>(mbuf.size()) < nw) mbuf.resize(nw);
            uint32_t* mask = mbuf.data();
            for (int w = 0; w < nw; w++) mask[w] = 0;
            for (int64_t t = t0; t < t1; t++) mask[(p.jpos[t] - js) / VL] |= 1u << ((p.jpos[t] - js) % VL);
            for (int kc0 = 0; kc0 < ntaps; kc0 += kcs) {
              const int kcl = imin(kcs, ntaps - kc0);
              pack_panel(src, p.off.data() + kc0, kcl, js, mask, nw, panel);
              for (int kb = 0; kb < nkb; kb++) {
                ukr(kcl, p.A + (static_cast<int64_t>(kb) * ntaps + kc0) * MR, panel, panel_off.data(),
                    ct + kb * MR * NR, kc0 > 0);
              }
            }
            finish_tile(p, ct, nkb, runs, nruns, segs, bias, out);
          }
          continue;
        }
        // Tiles run through the group's columns in one sweep (straddling images), or image by image
        // over the rows holding valid outputs (skipping the padding rows between images: a third of
        // the columns of a 5x5 valid conv), whichever takes fewer tiles.
        const int64_t img = p.src.image_cols(), span = static_cast<int64_t>(p.src.Pv - 1) * p.src.Wq + p.src.Qv;
        const bool per_image = (span + NR - 1) / NR * g < (cols + NR - 1) / NR;
        const int64_t tiles = per_image ? (span + NR - 1) / NR * g : (cols + NR - 1) / NR;
        int64_t tile = 0;
        for (int gi = 0; gi < (per_image ? g : 1); gi++) {
          const int64_t jb = per_image ? gi * img : 0, je = per_image ? jb + span : cols;
          for (int64_t j0 = jb; j0 < je; j0 += NR, tile++) {
            if (pi == 0) pf.step(tile, tiles);
            const int nruns = tile_runs(p, n0, j0, je, runs);
            if (nruns == 0) continue;
            for (int kc0 = 0; kc0 < ntaps; kc0 += kcs) {
              const int kcl = imin(kcs, ntaps - kc0);
              for (int kb = 0; kb < nkb; kb++) {
                ukr(kcl, p.A + (static_cast<int64_t>(kb) * ntaps + kc0) * MR, src + j0, p.off.data() + kc0,
                    ct + kb * MR * NR, kc0 > 0);
              }
            }
            finish_tile(p, ct, nkb, runs, nruns, segs, bias, out);
          }
        }
      }
      fresh = false;
    }
  }
}

}  // namespace conv
}  // namespace LT_NS
}  // namespace lt
