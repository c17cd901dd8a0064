// Dense 2-D convolution, backward-weight (float32, NCHW x and dy, OIHW dw, groups = 1).
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// dw[k][(c, r, s)] = sum over images and output positions of dy[k][p][q] * x[c][h][w]: a GEMM
// whose contraction runs along output positions. Both operands are contiguous along that axis
// when x is seen through the tall padded source of conv_source.h (the im2col row of tap (c, r, s)
// is src[off + j]) and dy is copied into the same column space with zeros in the padding
// columns. So the micro-kernel is a block of MK x NT dot products (MK dy rows by NT taps), each a
// vector accumulator reduced horizontally once per image group; nothing is transposed or packed
// beyond the padded copies (~1x the input and dy).
// Work: image groups are split statically across threads, each thread sums into its own partial
// dw, and the partials are added in thread order (results depend on the thread count only through
// float summation order). dbias[k] = sum of dy[., k, ., .].
#include <vector>

#include "conv_source.h"
#include "kernels.h"

namespace lt {
namespace LT_NS {

using namespace simd;
using namespace conv;

namespace {

#if defined(LT_CONVW_MK)
constexpr int MK = LT_CONVW_MK, NT = LT_CONVW_NT;
#elif defined(LT_SIMD_AVX512)
constexpr int MK = 4, NT = 6;  // 24 accumulators + 4 dy vectors + 1 source vector
#elif defined(LT_SIMD_AVX2)
constexpr int MK = 3, NT = 4;  // 12 + 3 + 1 = 16 ymm
#else
constexpr int MK = 4, NT = 4;
#endif
#ifndef LT_CONVW_TARGET_COLS
#define LT_CONVW_TARGET_COLS 2048
#endif
#ifndef LT_CONVW_MAX_SOURCE
#define LT_CONVW_MAX_SOURCE (1 << 19)
#endif
constexpr int64_t TARGET_COLS = LT_CONVW_TARGET_COLS;  // contraction length per image group
#ifndef LT_CONVW_PACKED_COLS
#define LT_CONVW_PACKED_COLS 1024
#endif
constexpr int64_t PACKED_COLS = LT_CONVW_PACKED_COLS;  // packed mode: valid columns per image group
#ifndef LT_CONVW_COMP_CHUNK_FLOATS
#define LT_CONVW_COMP_CHUNK_FLOATS (64 << 10)
#endif
constexpr int64_t COMP_CHUNK_FLOATS = LT_CONVW_COMP_CHUNK_FLOATS;  // packed mode: compressed tap rows made at once
constexpr int64_t MAX_SOURCE = LT_CONVW_MAX_SOURCE;    // floats of source + dy per group (2 MB; dy is blocked to L2 size)

/** Stops the compiler from folding a load into every FMA that uses it (GCC does, under pressure). */
inline void keep_in_register(vf& v) {
#if defined(LT_SIMD_AVX512) || defined(LT_SIMD_AVX2)
  __asm__("" : "+v"(v.v));
#else
  (void)v;
#endif
}

/** out[i*ldo + m] += sum_j dy[i*ldy + j] * src[off[m] + j] over len (a multiple of VL). */
inline void ukr_dot(int64_t len, const float* dy, int64_t ldy, const float* src, const int64_t* off, float* out,
                    int64_t ldo) {
  vf acc[MK][NT];
  const float* s[NT];
#pragma GCC unroll 8
  for (int m = 0; m < NT; m++) s[m] = src + off[m];
#pragma GCC unroll 8
  for (int i = 0; i < MK; i++)
#pragma GCC unroll 8
    for (int m = 0; m < NT; m++) acc[i][m] = zero();
  for (int64_t j = 0; j < len; j += VL) {
    vf dv[MK];
#pragma GCC unroll 8
    for (int i = 0; i < MK; i++) dv[i] = load(dy + i * ldy + j);
#pragma GCC unroll 8
    for (int m = 0; m < NT; m++) {
      vf sv = load(s[m] + j);
      keep_in_register(sv);  // one unaligned load reused MK times, not MK folded loads
#pragma GCC unroll 8
      for (int i = 0; i < MK; i++) acc[i][m] = fmadd(dv[i], sv, acc[i][m]);
    }
  }
  alignas(16) float sums[4];
  for (int m = 0; m < NT; m++) {
    for (int i0 = 0; i0 < MK; i0 += 4) {  // horizontal sums, four rows at a time
      reduce_add4(acc[i0][m], i0 + 1 < MK ? acc[(i0 + 1) % MK][m] : zero(), i0 + 2 < MK ? acc[(i0 + 2) % MK][m] : zero(),
                  i0 + 3 < MK ? acc[(i0 + 3) % MK][m] : zero(), sums);
      for (int i = i0; i < MK && i < i0 + 4; i++) out[i * ldo + m] += sums[i - i0];
    }
  }
}

/** Rows of dy (of `row_len` floats) per pass over the taps: ~256 KB, so they stay in L2. */
inline int dy_block(int64_t row_len, int Kpad) {
  const int64_t rows = (64 * 1024) / (row_len > 0 ? row_len : 1);
  return imin(Kpad, imax(MK, static_cast<int>(rows / MK) * MK));
}

/**
 * dyp[k][col(g, oh, ow)] = dy[n0 + g][k][oh][ow]; zero in padding columns and rows k >= K. As for
 * build_source, `fresh` zeroes everything first; later groups only copy data (and clear unused
 * image slots of a short group).
 */
void build_dy(const float* dy, const Conv2dDims& d, const Source& s, int n0, int g, int Kpad, int64_t ld, float* dyp,
              bool fresh) {
  const int64_t img = s.image_cols();
  if (fresh) std::memset(dyp, 0, sizeof(float) * Kpad * ld);
  for (int k = 0; k < d.K; k++) {
    float* row = dyp + k * ld;
    for (int gi = 0; gi < g; gi++) {
      const float* src = dy + ((static_cast<int64_t>(n0 + gi) * d.K + k) * d.P) * d.Q;
      for (int oh = 0; oh < d.P; oh++) copy_strided(row + gi * img + static_cast<int64_t>(oh) * s.Wq, src + oh * d.Q, d.Q, 1);
    }
    if (!fresh && g < s.G) std::memset(row + g * img, 0, sizeof(float) * (s.G - g) * img);
  }
}

void bias_grad(const float* dy, float* dbias, const Conv2dDims& d) {
  const int64_t PQ = static_cast<int64_t>(d.P) * d.Q;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(d.N) * d.K * PQ > (1 << 16))
  for (int k = 0; k < d.K; k++) {
    double total = 0.0;  // per-image float sums, added in double: long batches stay accurate
    for (int n = 0; n < d.N; n++) {
      const float* p = dy + (static_cast<int64_t>(n) * d.K + k) * PQ;
      vf acc = zero();
      float tail = 0.0f;
      int64_t i = 0;
      for (; i + VL <= PQ; i += VL) acc = add(acc, load(p + i));
      for (; i < PQ; i++) tail += p[i];
      alignas(16) float sums[4];
      reduce_add4(acc, zero(), zero(), zero(), sums);
      total += static_cast<double>(sums[0]) + tail;
    }
    dbias[k] = static_cast<float>(total);
  }
}

}  // namespace

void conv2d_backward_weight(const float* x, const float* dy, float* dw, float* dbias, const Conv2dDims& d) {
  const int CRS = d.C * d.R * d.S;
  if (d.K <= 0 || CRS <= 0) return;
  if (d.N <= 0 || d.P <= 0 || d.Q <= 0 || d.H <= 0 || d.W <= 0 || d.strideH <= 0 || d.strideW <= 0) {
    for (int64_t i = 0; i < static_cast<int64_t>(d.K) * CRS; i++) dw[i] = 0.0f;
    if (dbias)
      for (int k = 0; k < d.K; k++) dbias[k] = 0.0f;
    return;
  }
  const int sh = d.strideH, sw = d.strideW;
  Source src{x, d.C, d.H, d.W, sh, sw, -d.padH, -d.padW, 0, 0, d.P, d.Q, 1};
  src.na = imin(sh, d.R);  // sub-planes a kernel smaller than the stride reads
  src.nb = imin(sw, d.S);
  const int CRSpad = ceil_div(CRS, NT) * NT, Kpad = ceil_div(d.K, MK) * MK;
  std::vector<Tap> taps;
  taps.reserve(CRSpad);
  int max_dr = 0, max_dc = 0;
  for (int c = 0; c < d.C; c++)
    for (int r = 0; r < d.R; r++)
      for (int s = 0; s < d.S; s++) {
        taps.push_back(Tap{(c * src.nA() + r % sh) * src.nB() + s % sw, r / sh, s / sw});
        max_dr = imax(max_dr, r / sh);
        max_dc = imax(max_dc, s / sw);
      }
  fit_source(src, max_dr, max_dc);
  const int threads = max_threads();
  const int64_t PQ = static_cast<int64_t>(d.P) * d.Q;
  // Packed mode (small planes, many output channels): the contraction runs over valid columns only;
  // each tile's source rows are compressed out of the padded source (dy is already compact).
  // Its tiles keep NT compact rows and MK dy rows in L1, so its groups are shorter.
  const double garbage = 1.0 - static_cast<double>(PQ) / static_cast<double>(src.image_cols());
  const bool packed = garbage * Kpad > PACK_THRESHOLD;
  src.G = packed ? choose_group(d.N, PQ, (src.cs_count() + Kpad) * src.image_cols(), threads, PACKED_COLS, MAX_SOURCE)
                 : choose_group(d.N, src.image_cols(), (src.cs_count() + Kpad) * src.image_cols(), threads, TARGET_COLS, MAX_SOURCE);
  const int G = src.G, ngroups = ceil_div(d.N, G);
  while (static_cast<int>(taps.size()) < CRSpad) taps.push_back(Tap{0, 0, 0});  // padding taps: results dropped
  std::vector<int64_t> off;
  tap_offsets(src, taps, off);
  const int64_t jlen = (src.plane() + VL - 1) / VL * VL;  // contraction length, whole vectors
  const int64_t slack = source_slack(src, max_dr, max_dc, static_cast<int>(jlen - src.plane()) + VL);
  const int nparts = imin(threads, ngroups);
  const int64_t part_size = static_cast<int64_t>(Kpad) * CRSpad;
  // Per-thread partial dw, kept between calls (a fresh multi-MB vector per call page-faults).
  thread_local std::vector<float> parts_buf;
  float* parts = scratch_floats(parts_buf, nparts * part_size);

  const int64_t Lpad = (G * PQ + VL - 1) / VL * VL, Lrow = Lpad + VL;  // compact row length / pitch
  int64_t coff[NT];
  for (int m = 0; m < NT; m++) coff[m] = m * Lrow;

  int team = 1;  // threads that actually ran (and zeroed their partial)
#pragma omp parallel num_threads(nparts) if (nparts > 1)
  {
#if defined(_OPENMP)
    if (thread_id() == 0) team = omp_get_num_threads();
#endif
    thread_local std::vector<float> sbuf, dbuf, cbuf;
    thread_local std::vector<uint32_t> mbuf;
    bool fresh = true;
    float* part = parts + thread_id() * part_size;
    std::memset(part, 0, sizeof(float) * part_size);
#pragma omp for schedule(static)
    for (int grp = 0; grp < ngroups; grp++) {
      const int n0 = grp * G, g = imin(G, d.N - n0);
      // The next group's x and dy stream in while this one computes (one step per tap tile).
      Prefetcher pfx = next_group(src, n0, G, d.N);
      Prefetcher pfd(n0 + G < d.N ? dy + static_cast<int64_t>(n0 + G) * d.K * PQ : nullptr, imin(G, d.N - n0 - G) * d.K * PQ);
      const int64_t tiles = CRSpad / NT;
      float* sp = scratch_floats(sbuf, src.cs_count() * src.plane() + slack);
      build_source(src, n0, g, sp, slack, fresh);
      if (!packed) {
        float* dyp = scratch_aligned(dbuf, Kpad * jlen);
        build_dy(dy, d, src, n0, g, Kpad, jlen, dyp, fresh);
        fresh = false;
        const int64_t len = (src.cols(g) + VL - 1) / VL * VL;
        const int kbs = dy_block(jlen, Kpad);
        for (int kb0 = 0; kb0 < Kpad; kb0 += kbs)
          for (int m0 = 0; m0 < CRSpad; m0 += NT) {
            if (kb0 == 0) {
              pfx.step(m0 / NT, tiles);
              pfd.step(m0 / NT, tiles);
            }
            for (int k0 = kb0; k0 < imin(Kpad, kb0 + kbs); k0 += MK)
              ukr_dot(len, dyp + k0 * jlen, jlen, sp, off.data() + m0, part + k0 * CRSpad + m0, CRSpad);
          }
        continue;
      }
      // dy of the group: row k = images n0.. back to back (zero past them and for k >= K).
      const int64_t L = g * PQ, len = (L + VL - 1) / VL * VL;
      float* dyc = scratch_aligned(dbuf, Kpad * Lpad);
      if (fresh) std::memset(dyc, 0, sizeof(float) * Kpad * Lpad);
      for (int k = 0; k < d.K; k++) {
        for (int gi = 0; gi < g; gi++) copy_strided(dyc + k * Lpad + gi * PQ, dy + ((static_cast<int64_t>(n0 + gi) * d.K + k) * PQ), static_cast<int>(PQ), 1);
        zero_run(dyc + k * Lpad + L, static_cast<int>(Lpad - L));
      }
      // Which source columns of the group are valid, as one bit mask per vector.
      const int64_t nwin = (src.cols(g) + VL - 1) / VL;
      if (static_cast<int64_t>(mbuf.size()) < nwin) mbuf.resize(nwin);
      uint32_t* mask = mbuf.data();
      for (int64_t w = 0; w < nwin; w++) mask[w] = 0;
      for (int gi = 0; gi < g; gi++)
        for (int oh = 0; oh < d.P; oh++)
          for (int ow = 0; ow < d.Q; ow++) {
            const int64_t j = gi * src.image_cols() + static_cast<int64_t>(oh) * src.Wq + ow;
            mask[j / VL] |= 1u << (j % VL);
          }
      // Compressed tap rows are made for a chunk of tap tiles at a time (~256 KB, in L2 beside the
      // dy block) and used by every dy block before the next chunk: each row is compressed once
      // per group, not once per dy block (12-16% of the kernel's time on 64-256 channels).
      const int kbs = dy_block(Lpad, Kpad);
      const int chunk_tiles = kbs >= Kpad ? 1 : imax(1, static_cast<int>(COMP_CHUNK_FLOATS / (NT * Lrow)));
      float* comp = scratch_aligned(cbuf, chunk_tiles * NT * Lrow);
      fresh = false;
      for (int mc = 0; mc < CRSpad; mc += chunk_tiles * NT) {
        const int mend = imin(CRSpad, mc + chunk_tiles * NT);
        for (int m = mc; m < mend; m++) {
          const float* b = sp + off[m];
          float* row = comp + (m - mc) * Lrow, *dst = row;  // compress_store clobbers up to VL floats past the row: the pitch has room
          for (int64_t w = 0; w < nwin; w++) dst += compress_store(dst, load(b + w * VL), mask[w]);
          zero_run(row + L, static_cast<int>(len - L));
        }
        for (int kb0 = 0; kb0 < Kpad; kb0 += kbs) {
          for (int m0 = mc; m0 < mend; m0 += NT) {
            if (kb0 == 0) {
              pfx.step(m0 / NT, tiles);
              pfd.step(m0 / NT, tiles);
            }
            for (int k0 = kb0; k0 < imin(Kpad, kb0 + kbs); k0 += MK)
              ukr_dot(len, dyc + k0 * Lpad, Lpad, comp + (m0 - mc) * Lrow, coff, part + k0 * CRSpad + m0, CRSpad);
          }
        }
      }
    }
  }
  const int64_t total = static_cast<int64_t>(d.K) * CRS;
#pragma omp parallel for schedule(static) if (total > (1 << 14))
  for (int64_t e = 0; e < total; e++) {
    const int64_t k = e / CRS, m = e - k * CRS;
    float s = 0.0f;
    for (int t = 0; t < team; t++) s += parts[t * part_size + k * CRSpad + m];
    dw[e] = s;
  }
  if (dbias) bias_grad(dy, dbias, d);
}

}  // namespace LT_NS
}  // namespace lt
