// Implicit-GEMM convolution: the "tall padded source" every dense conv kernel reads.
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// Every conv (forward, each stride phase of backward-input, backward-weight) is rewritten as a
// stride-1 correlation over a zero-padded *source* so that the im2col matrix never has to be
// built: for a group of G images, source channel cs holds G planes of Hq x Wq stacked vertically
// ("tall image", [cs][g][Hq][Wq]). An output position (g, oh, ow) gets the column index
// j = (g*Hq + oh)*Wq + ow, and the im2col element of tap kk at column j is simply
// src[off[kk] + j] with off[kk] = cs*plane + dr*Wq + dc. So a run of VL consecutive columns of
// one im2col row is one unaligned vector load. Columns with oh >= Pv or ow >= Qv are padding
// ("garbage" columns): they are computed and never stored (forward) or multiplied by zero
// (backward-weight). Strided convs are reduced to stride 1 by splitting the input into
// stride x stride sub-planes (cs = (c*na + a)*nb + b holds x[sh*i + a + ro][sw*j + b + co]; a
// kernel smaller than the stride, as a 1x1 stride-2 conv, reads only na x nb of them).
#pragma once
#include <cstring>
#include <vector>

#include "common.h"

namespace lt {
namespace LT_NS {
namespace conv {

using namespace simd;

/**
 * Packing only the valid columns of a tile (compressing them out of the padded source) pays when
 * garbage fraction x output channels exceeds this. Measured on AVX-512, where compress is one
 * instruction; AVX2 emulates it, so there it must save more.
 */
#if defined(LT_CONV_PACK_THRESHOLD)
constexpr double PACK_THRESHOLD = LT_CONV_PACK_THRESHOLD;
#elif defined(LT_SIMD_AVX2)
constexpr double PACK_THRESHOLD = 48;
#else
constexpr double PACK_THRESHOLD = 12;
#endif

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
inline int imin(int a, int b) { return a < b ? a : b; }
inline int imax(int a, int b) { return a > b ? a : b; }

/** One tap (row of the implicit im2col matrix): source channel and offset inside the plane. */
struct Tap {
  int cs, dr, dc;
};

/**
 * How a group of images is laid out as a tall padded source. Source element (g, cs = (c, a, b),
 * i, j) = in[n0 + g][c][sh*i + a + ro][sw*j + b + co], zero outside the input plane.
 */
struct Source {
  const float* in;
  int C, H, W;     // input planes (NCHW, image stride C*H*W)
  int sh, sw;      // sub-plane split (the conv stride for forward/backward-weight, 1 otherwise)
  int ro, co;      // offset of source (0, 0) in input coordinates (e.g. -pad)
  int Hq, Wq;      // source plane rows/cols per image
  int Pv, Qv;      // valid output rows/cols per image (columns beyond are garbage)
  int G;           // images per group
  int na = 0, nb = 0;  // sub-planes built per axis, a < na, b < nb (0: all, sh and sw)

  int nA() const { return na > 0 ? na : sh; }
  int nB() const { return nb > 0 ? nb : sw; }

  int cs_count() const { return C * nA() * nB(); }
  int64_t image_cols() const { return static_cast<int64_t>(Hq) * Wq; }
  int64_t plane() const { return G * image_cols(); }
  /** Columns worth computing for a group of g images (the last image's trailing rows dropped). */
  int64_t cols(int g) const { return (g - 1) * image_cols() + static_cast<int64_t>(Pv - 1) * Wq + Qv; }
};

/** Thread-local scratch: grown on demand, reused across calls (never shrinks, never leaks). */
inline float* scratch_floats(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

/** scratch_floats aligned to 64 bytes (a cache line): whole-vector loads then never split lines. */
inline float* scratch_aligned(std::vector<float>& v, int64_t n) {
  float* p = scratch_floats(v, n + 16);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return p + ((64 - a % 64) % 64) / sizeof(float);
}

/** ceil(a / b) for any sign of a, b > 0. */
inline int ceil_div_signed(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/**
 * Smallest source pitch (columns per row, or rows per image) along one axis. Source index j of
 * sub-plane b holds input index s*j + b + off; outputs 0..nvalid-1 read j + d for d <= max_d.
 * A pitch below nvalid + max_d is fine as long as reads past the end of a row (image) land in the
 * leading zeros of the next one and only where the true value is zero (past the input's edge):
 * so neighbouring rows share their padding, as in a single zero column between rows.
 */
inline int fit_pitch(int n_in, int s, int nsub, int off, int nvalid, int max_d) {
  int need = nvalid;
  for (int b = 0; b < nsub; b++) {
    const int lead = imax(0, ceil_div_signed(-(b + off), s));        // leading zero positions
    const int data_end = imax(0, ceil_div_signed(n_in - b - off, s));  // first position past the data
    need = imax(need, imax(data_end, nvalid + max_d - lead));
  }
  return need;
}

/** Sets s.Hq, s.Wq to the smallest pitches for taps reaching max_dr rows / max_dc columns down/right. */
inline void fit_source(Source& s, int max_dr, int max_dc) {
  s.Hq = fit_pitch(s.H, s.sh, s.nA(), s.ro, s.Pv, max_dr);
  s.Wq = fit_pitch(s.W, s.sw, s.nB(), s.co, s.Qv, max_dc);
}

/** Zeroes n floats with vector stores (rows here are short: no libc call per row). */
inline void zero_run(float* dst, int n) {
  int e = 0;
  for (; e + VL <= n; e += VL) store(dst + e, zero());
  if (e < n) store_partial(dst + e, zero(), n - e);
}

/** dst[j] = src[s*j] for j < n (reads only src[0 .. s*(n-1)]). */
inline void copy_strided(float* dst, const float* src, int n, int s) {
  int j = 0;
  if (s == 1) {
    for (; j + VL <= n; j += VL) store(dst + j, load(src + j));
    if (j < n) store_partial(dst + j, load_partial(src + j, n - j), n - j);
  } else if (s == 2) {
    for (; j + VL < n; j += VL) store(dst + j, load_even(src + 2 * j));  // reads src[2j .. 2j + 2VL - 1]
    for (; j < n; j += VL) {
      const int m = imin(VL, n - j);
      store_partial(dst + j, load_even_partial(src + 2 * j, m), m);
    }
  } else {
    for (; j < n; j++) dst[j] = src[static_cast<int64_t>(s) * j];
  }
}

/** Positions [lo, hi) of 0..count-1 whose input index s*j + off lies inside [0, n). */
inline void valid_range(int n, int s, int off, int count, int& lo, int& hi) {
  lo = imin(count, imax(0, ceil_div_signed(-off, s)));
  hi = imax(lo, imin(count, ceil_div_signed(n - off, s)));
}

/** Extra zeroed floats after the planes: garbage columns may read past the last plane. */
inline int64_t source_slack(const Source& s, int max_dr, int max_dc, int nr) {
  return static_cast<int64_t>(max_dr + 2) * s.Wq + max_dc + 2 * nr + 2 * VL;
}

/**
 * Splits a row of W floats by column parity: dst_e[t] = row[2t] for t < ne, dst_o[t] = row[2t+1]
 * for t < no (ne <= ceil(W/2), no <= floor(W/2)). Full-vector loads straight from the row and
 * stores straight to the destinations: no staging buffer (store-to-load forwarding stalls) and
 * masked loads only for the last, partial vectors.
 */
inline void split_row2(const float* row, int W, float* dst_e, int ne, float* dst_o, int no) {
  const int n = imax(ne, no);
  for (int t = 0; t < n; t += VL) {
    const int rem = W - 2 * t;  // floats left in the row
    const vf a = rem >= VL ? load(row + 2 * t) : load_partial(row + 2 * t, rem);
    const vf b = rem >= 2 * VL ? load(row + 2 * t + VL) : rem > VL ? load_partial(row + 2 * t + VL, rem - VL) : zero();
    vf ev, od;
    deinterleave(a, b, ev, od);
    if (t + VL <= ne) store(dst_e + t, ev);
    else if (t < ne) store_partial(dst_e + t, ev, ne - t);
    if (t + VL <= no) store(dst_o + t, od);
    else if (t < no) store_partial(dst_o + t, od, no - t);
  }
}

/**
 * Fills `buf` (cs_count()*plane() + slack floats) with images [n0, n0 + g) of `s`. With `fresh`
 * the whole buffer is zeroed first; otherwise it must hold an earlier group of the same layout:
 * padding positions are the same in every group and still zero, so only the data is copied
 * (small planes have more padding than data; zeroing it per row costs more than the copy).
 */
inline void build_source(const Source& s, int n0, int g, float* buf, int64_t slack, bool fresh) {
  const int64_t plane = s.plane(), img = s.image_cols();
  const int64_t in_img = static_cast<int64_t>(s.C) * s.H * s.W;
  if (fresh) std::memset(buf, 0, sizeof(float) * (s.cs_count() * plane + slack));
  // Per sub-plane column b: data positions [jlo, jhi) and the input column of jlo. By the choice
  // of jlo that column is b + co + s*jlo in [0, s): for s == 2 its parity picks the half-row.
  constexpr int MAXB = 4;
  int cb[3 * MAXB];
  const int na = s.nA(), nb = s.nB();
  for (int b = 0; b < nb && b < MAXB; b++) {
    valid_range(s.W, s.sw, b + s.co, s.Wq, cb[3 * b], cb[3 * b + 1]);
    cb[3 * b + 2] = s.sw * cb[3 * b] + b + s.co;
  }
  const int e = ((s.co % 2) + 2) % 2;  // stride 2: the sub-plane b taking even input columns
  // Images outer, channels inner: the input is read once, in order (it usually comes from DRAM).
  for (int gi = 0; gi < g; gi++) {
    for (int c = 0; c < s.C; c++) {
      const float* xin = s.in + (n0 + gi) * in_img + static_cast<int64_t>(c) * s.H * s.W;
      for (int a = 0; a < na; a++) {
        int ilo, ihi;
        valid_range(s.H, s.sh, a + s.ro, s.Hq, ilo, ihi);
        float* dimg0 = buf + (static_cast<int64_t>(c) * na + a) * nb * plane + gi * img;
        if (s.sw == 2 && nb == 2) {  // both column phases from one pass over each input row
          float* de = dimg0 + e * plane + cb[3 * e];
          float* dodd = dimg0 + (1 - e) * plane + cb[3 * (1 - e)];
          const int ne = cb[3 * e + 1] - cb[3 * e], no = cb[3 * (1 - e) + 1] - cb[3 * (1 - e)];
          for (int i = ilo; i < ihi; i++) {
            split_row2(xin + static_cast<int64_t>(s.sh * i + a + s.ro) * s.W, s.W, de + static_cast<int64_t>(i) * s.Wq,
                       ne, dodd + static_cast<int64_t>(i) * s.Wq, no);
          }
          continue;
        }
        for (int b = 0; b < nb; b++) {
          int jlo, jhi, xoff;
          if (b < MAXB) {
            jlo = cb[3 * b], jhi = cb[3 * b + 1], xoff = cb[3 * b + 2];
          } else {
            valid_range(s.W, s.sw, b + s.co, s.Wq, jlo, jhi);
            xoff = s.sw * jlo + b + s.co;
          }
          float* dimg = dimg0 + b * plane + jlo;
          for (int i = ilo; i < ihi; i++) {
            copy_strided(dimg + static_cast<int64_t>(i) * s.Wq, xin + static_cast<int64_t>(s.sh * i + a + s.ro) * s.W + xoff,
                         jhi - jlo, s.sw);
          }
        }
      }
    }
  }
  // A short last group: zero the unused image slots (they may hold an earlier group's data).
  if (!fresh && g < s.G) {
    for (int cs = 0; cs < s.cs_count(); cs++) std::memset(buf + cs * plane + g * img, 0, sizeof(float) * (s.G - g) * img);
  }
}

/**
 * Prefetches the next image group's input while the current one computes: building a source is
 * a streaming read of the input, usually from DRAM; spread over the tiles, the lines arrive early.
 * Call step(i) for tile i of n.
 */
struct Prefetcher {
  const char* base = nullptr;
  int64_t bytes = 0, done = 0;
  Prefetcher(const float* p, int64_t floats) : base(reinterpret_cast<const char*>(p)), bytes(p ? floats * 4 : 0) {}
  void step(int64_t i, int64_t n) {
    const int64_t until = n > 0 ? bytes * (i + 1) / n : bytes;
    for (; done < until; done += 64) __builtin_prefetch(base + done, 0, 2);
  }
};

/** The input of the images after [n0, n0 + g) in the next group (null past the batch). */
inline Prefetcher next_group(const Source& s, int n0, int G, int N) {
  const int n1 = n0 + G;
  if (n1 >= N) return Prefetcher(nullptr, 0);
  const int64_t in_img = static_cast<int64_t>(s.C) * s.H * s.W;
  return Prefetcher(s.in + n1 * in_img, imin(G, N - n1) * in_img);
}

/** Offsets of each tap inside a group's source buffer. */
inline void tap_offsets(const Source& s, const std::vector<Tap>& taps, std::vector<int64_t>& off) {
  off.resize(taps.size());
  for (size_t t = 0; t < taps.size(); t++) {
    off[t] = taps[t].cs * s.plane() + static_cast<int64_t>(taps[t].dr) * s.Wq + taps[t].dc;
  }
}

/**
 * Images per group: enough columns to amortise per-group overhead (about `target_cols`), at most
 * `max_floats` of source, and enough groups to keep `threads` busy (whole rounds where possible).
 */
inline int choose_group(int N, int64_t image_cols, int64_t image_floats, int threads, int64_t target_cols,
                        int64_t max_floats) {
  int g = static_cast<int>((target_cols + image_cols - 1) / image_cols);
  g = imax(1, imin(g, static_cast<int>(max_floats / imax(1, static_cast<int>(image_floats)))));
  g = imax(1, imin(g, N));
  if (threads > 1 && N > 1) {
    // Round the group count up to a multiple of the threads so the static split is even.
    int groups = ceil_div(N, g);
    const int rounds = imax(1, groups / threads);
    groups = rounds * threads;
    g = imax(1, ceil_div(N, groups));
  }
  return g;
}


}  // namespace conv
}  // namespace LT_NS
}  // namespace lt
