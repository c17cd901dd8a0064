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
// stride x stride sub-planes (cs = (c*sh + a)*sw + b holds x[sh*i + a + ro][sw*j + b + co]).
#pragma once
#include <cstring>
#include <vector>

#include "common.h"

namespace lt {
namespace LT_NS {
namespace conv {

using namespace simd;

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

  int cs_count() const { return C * sh * sw; }
  int64_t image_cols() const { return static_cast<int64_t>(Hq) * Wq; }
  int64_t plane() const { return G * image_cols(); }
  /** Columns worth computing for a group of g images (the last image's trailing rows dropped). */
  int64_t cols(int g) const { return (g - 1) * image_cols() + static_cast<int64_t>(Pv - 1) * Wq + Qv; }
};

/** dst[j] = row[s*j + off] for j < count where 0 <= s*j + off < W, else 0. */
inline void gather_row(float* dst, const float* row, int W, int s, int off, int count) {
  if (row == nullptr) {
    std::memset(dst, 0, sizeof(float) * count);
    return;
  }
  // Valid j: 0 <= s*j + off < W.
  int jlo = off >= 0 ? 0 : ceil_div(-off, s);
  int jhi = W - off <= 0 ? 0 : ceil_div(W - off, s);
  jlo = imin(jlo, count);
  jhi = imax(jlo, imin(jhi, count));
  if (jlo > 0) std::memset(dst, 0, sizeof(float) * jlo);
  if (s == 1) {
    std::memcpy(dst + jlo, row + jlo + off, sizeof(float) * (jhi - jlo));
  } else {
    int j = jlo;
    if (s == 2) {
      // load_even reads 2*VL floats: only while they all lie inside the row; then a masked tail.
      for (; j + VL <= jhi && 2 * (j + VL) + off <= W; j += VL) store(dst + j, load_even(row + 2 * j + off));
      for (; j < jhi; j += VL) {
        const int n = imin(VL, jhi - j);
        store_partial(dst + j, load_even_partial(row + 2 * j + off, n), n);
      }
    }
    for (; j < jhi; j++) dst[j] = row[s * j + off];
  }
  if (jhi < count) std::memset(dst + jhi, 0, sizeof(float) * (count - jhi));
}

/** Extra zeroed floats after the planes: garbage columns may read past the last plane. */
inline int64_t source_slack(const Source& s, int max_dr, int max_dc, int nr) {
  return static_cast<int64_t>(max_dr + 2) * s.Wq + max_dc + 2 * nr + 2 * VL;
}

/** Fills `buf` (cs_count()*plane() + slack floats) with images [n0, n0 + g) of `s`. */
inline void build_source(const Source& s, int n0, int g, float* buf, int64_t slack) {
  const int64_t plane = s.plane(), img = s.image_cols();
  const int64_t in_img = static_cast<int64_t>(s.C) * s.H * s.W;
  for (int c = 0; c < s.C; c++) {
    for (int a = 0; a < s.sh; a++) {
      for (int b = 0; b < s.sw; b++) {
        float* pl = buf + ((static_cast<int64_t>(c) * s.sh + a) * s.sw + b) * plane;
        for (int gi = 0; gi < s.G; gi++) {
          float* dimg = pl + gi * img;
          if (gi >= g) {  // a short last group: keep the unused images finite
            std::memset(dimg, 0, sizeof(float) * img);
            continue;
          }
          const float* xin = s.in + (n0 + gi) * in_img + static_cast<int64_t>(c) * s.H * s.W;
          for (int i = 0; i < s.Hq; i++) {
            const int h = s.sh * i + a + s.ro;
            const float* row = (h >= 0 && h < s.H) ? xin + static_cast<int64_t>(h) * s.W : nullptr;
            gather_row(dimg + static_cast<int64_t>(i) * s.Wq, row, s.W, s.sw, b + s.co, s.Wq);
          }
        }
      }
    }
  }
  std::memset(buf + s.cs_count() * plane, 0, sizeof(float) * slack);
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

/** Thread-local scratch: grown on demand, reused across calls (never shrinks, never leaks). */
inline float* scratch(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace conv
}  // namespace LT_NS
}  // namespace lt
