// Sparse 2-D convolution backward (float32; NCHW x, dy, dx; OIHW w, dw; groups = 1), for a pruned
// activation gradient dy: the work is proportional to the non-zeros of dy.
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
//
// Per image, channels-last: the image's x (or its dx accumulator) lives in a padded tile
// tile[Hp][Wp][Cv] (Hp = (P-1)*strideH + R, Wp = (Q-1)*strideW + S, Cv = C rounded up to the
// vector width, zeros outside the image), so output position (p, q) and tap (r, s) address the
// C-vector at tile + pix[p*Q+q] + ((r*Wp + s)*Cv): whole C-vectors, no bounds checks, any stride
// and padding. Each non-zero g of dy contributes
//   dX:  tile[pix + tap] += g * Wt[k][tap][:]        (Wt = w transposed to K x R x S x Cv)
//   dW:  dW[k][tap][:]   += g * xtile[pix + tap][:]
// for every tap; the R*S*Cv/VL vectors of one contribution are processed in register blocks of
// up to MAXV accumulators:
// - dW walks the non-zeros of one plane (n, k) (the plane-major index of sparse_index.h) with
//   dW[k] in registers, so memory sees one read-add-write of dW[k] per plane, not per non-zero.
// - dX transposes the image's dy to positions x K (dyt, zero-padded to a vector multiple) and,
//   per output position, sums the rows Wt[k] of its non-zeros (found from a vector compare mask)
//   in registers: an im2col row of dX, added into the tile once per position instead of once
//   per non-zero. For 3x3 kernels with stride-1 columns and C <= 2 vectors, a register window
//   over each output row instead keeps S tile columns in registers and adds one column per
//   position (R*CV read-add-writes per position instead of R*S*CV).
// Threads take contiguous ranges of images; dW and dbias are per-thread partials added in thread
// order (deterministic for a given thread count).
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels.h"
#include "sparse_index.h"

namespace lt {
namespace LT_NS {

using namespace simd;

namespace {

#if defined(LT_SIMD_AVX512)
constexpr int MAXV = 16;  // accumulators of one register block (32 zmm)
#elif defined(LT_SIMD_AVX2)
constexpr int MAXV = 10;  // of 16 ymm
#else
constexpr int MAXV = 8;
#endif

int threads_in_region() {
#if defined(_OPENMP)
  return omp_get_num_threads();
#else
  return 1;
#endif
}

struct Geo {
  int Hp, Wp, Cv, CV, RS, PQ;
  std::vector<int> voff;                    // tap-vector v = tap*CV + cv: tile offset of (r, s, cv)
  std::vector<int> pix;                     // output position p*Q + q: tile offset of tap (0, 0)
  std::vector<std::pair<int, int>> groups;  // register blocks: first tap-vector, count
};

Geo geometry(const Conv2dDims& d) {
  Geo g;
  g.Hp = (d.P - 1) * d.strideH + d.R;
  g.Wp = (d.Q - 1) * d.strideW + d.S;
  g.CV = (d.C + VL - 1) / VL;
  g.Cv = g.CV * VL;
  g.RS = d.R * d.S;
  g.PQ = d.P * d.Q;
  g.voff.resize(static_cast<size_t>(g.RS) * g.CV);
  for (int r = 0; r < d.R; r++)
    for (int s = 0; s < d.S; s++)
      for (int cv = 0; cv < g.CV; cv++) g.voff[(r * d.S + s) * g.CV + cv] = (r * g.Wp + s) * g.Cv + cv * VL;
  g.pix.resize(g.PQ);
  for (int p = 0; p < d.P; p++)
    for (int q = 0; q < d.Q; q++) g.pix[p * d.Q + q] = (p * d.strideH * g.Wp + q * d.strideW) * g.Cv;
  const int V = g.RS * g.CV, ng = (V + MAXV - 1) / MAXV, sz = (V + ng - 1) / ng;
  for (int b = 0; b < V; b += sz) g.groups.push_back({b, std::min(sz, V - b)});
  return g;
}

/** Per-thread scratch, reused across calls (grows only). */
struct Scratch {
  std::vector<float> tile, val;
  std::vector<int32_t> start, pos;
  std::vector<float> part;  // sparse dW: the calling thread's buffer of every thread's partial dW
};
Scratch& scratch() {
  static thread_local Scratch s;
  return s;
}
template <typename T>
T* room(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}
/** Like room, 64-byte aligned (whole vectors never straddle cache lines). */
float* aligned_room(std::vector<float>& v, size_t n) {
  float* p = room(v, n + 16);
  return p + ((64 - reinterpret_cast<uintptr_t>(p) % 64) % 64) / sizeof(float);
}

/** Copies image x[C][H][W] into the data area of tile[Hp][Wp][Cv] (the rest must already be 0). */
void to_tile(const float* x, const Conv2dDims& d, const Geo& g, float* t) {
  const int wn = std::max(0, std::min(d.W, g.Wp - d.padW)), c4 = d.C & ~3, w4 = wn & ~3;
  const ptrdiff_t plane = static_cast<ptrdiff_t>(d.H) * d.W;
  for (int h = 0; h < d.H && h + d.padH < g.Hp; h++) {
    float* row = t + (static_cast<size_t>(h + d.padH) * g.Wp + d.padW) * g.Cv;
    const float* src = x + static_cast<size_t>(h) * d.W;
    for (int c = 0; c < c4; c += 4)
      for (int w = 0; w < w4; w += 4) transpose4x4(src + c * plane + w, plane, row + w * g.Cv + c, g.Cv);
    for (int c = 0; c < d.C; c++)
      for (int w = c < c4 ? w4 : 0; w < wn; w++) row[w * g.Cv + c] = src[c * plane + w];
  }
}

/** dx[C][H][W] = the data area of tile (0 where no tap reaches). */
void from_tile(const float* t, const Conv2dDims& d, const Geo& g, float* dx) {
  const int wn = std::max(0, std::min(d.W, g.Wp - d.padW)), c4 = d.C & ~3, w4 = wn & ~3;
  const ptrdiff_t plane = static_cast<ptrdiff_t>(d.H) * d.W;
  for (int h = 0; h < d.H; h++) {
    float* dst = dx + static_cast<size_t>(h) * d.W;
    if (h + d.padH >= g.Hp) {
      for (int c = 0; c < d.C; c++) std::fill(dst + c * plane, dst + c * plane + d.W, 0.0f);
      continue;
    }
    const float* row = t + (static_cast<size_t>(h + d.padH) * g.Wp + d.padW) * g.Cv;
    for (int c = 0; c < c4; c += 4)
      for (int w = 0; w < w4; w += 4) transpose4x4(row + w * g.Cv + c, g.Cv, dst + c * plane + w, plane);
    for (int c = 0; c < d.C; c++) {
      for (int w = c < c4 ? w4 : 0; w < wn; w++) dst[c * plane + w] = row[w * g.Cv + c];
      std::fill(dst + c * plane + wn, dst + c * plane + d.W, 0.0f);
    }
  }
}

/** The non-zeros of one image's dy plane and that image's x tile (a dW block's input). */
struct DwSeg {
  const int32_t* pos;
  const float* val;
  int cnt;
  const float* xt;
};

/**
 * out[j*VL ..] += sum over the segments, over each one's cnt non-zeros, of val * xt[pix[pos] +
 * voff[j] ..], j < NV: summed in registers over every segment, then added to out once. Small
 * blocks use two accumulator sets (even and odd non-zeros) to halve the FMA latency chain.
 */
template <int NV>
void dw_block(const DwSeg* seg, int nseg, const int* pix, const int* voff, float* out) {
  constexpr bool two = NV * 2 + 2 <= 2 * MAXV;
  vf acc[NV], acc2[two ? NV : 1];
#pragma GCC unroll 16
  for (int j = 0; j < NV; j++) acc[j] = zero();
#pragma GCC unroll 16
  for (int j = 0; j < (two ? NV : 1); j++) acc2[j] = zero();
  for (int sg = 0; sg < nseg; sg++) {
    const int32_t* pos = seg[sg].pos;
    const float* val = seg[sg].val;
    const float* xt = seg[sg].xt;
    const int cnt = seg[sg].cnt;
    int i = 0;
    if (two) {
      for (; i + 2 <= cnt; i += 2) {
        const float* b0 = xt + pix[pos[i]];
        const float* b1 = xt + pix[pos[i + 1]];
        const vf g0 = set1(val[i]), g1 = set1(val[i + 1]);
#pragma GCC unroll 16
        for (int j = 0; j < NV; j++) {
          acc[j] = fmadd(g0, load(b0 + voff[j]), acc[j]);
          acc2[two ? j : 0] = fmadd(g1, load(b1 + voff[j]), acc2[two ? j : 0]);
        }
      }
    }
    for (; i < cnt; i++) {
      const float* b = xt + pix[pos[i]];
      const vf gv = set1(val[i]);
#pragma GCC unroll 16
      for (int j = 0; j < NV; j++) acc[j] = fmadd(gv, load(b + voff[j]), acc[j]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < NV; j++) {
    const vf a = two ? add(acc[j], acc2[two ? j : 0]) : acc[j];
    store(out + j * VL, add(load(out + j * VL), a));
  }
}

/**
 * Calls f(k) for each k < Kv with gp[k] != 0 (NaN counts), found a vector at a time from a compare
 * mask; Kv is a multiple of VL. Returns whether there was any. Up to 64 channels the masks of all
 * vectors are joined first and walked in one loop: the loop's exit, which depends on the data,
 * is then mispredicted once per position instead of once per vector.
 */
template <typename F>
inline bool for_each_nonzero(const float* gp, int Kv, F&& f) {
  if (Kv <= 64) {
    uint64_t m = 0;
    for (int kb = 0; kb < Kv; kb += VL) m |= static_cast<uint64_t>(nonzero_mask(load(gp + kb))) << kb;
    const bool any = m != 0;
    for (; m != 0; m &= m - 1) f(__builtin_ctzll(m));
    return any;
  }
  uint32_t any = 0;
  for (int kb = 0; kb < Kv; kb += VL) {
    uint32_t m = nonzero_mask(load(gp + kb));
    any |= m;
    for (; m != 0; m &= m - 1) f(kb + __builtin_ctz(m));
  }
  return any != 0;
}

/**
 * For every output position p of one image whose gradient row dyt[p][0..Kv) has non-zeros:
 * acc[j] = sum over those k of dyt[p][k] * wt[k*KV + j*VL ..], then tile[pix[p] + voff[j] ..] += acc[j]
 * (j < NV): one im2col row of dX per position, summed in registers and added to the tile once.
 */
template <int NV>
void dx_image(const float* dyt, int PQ, int Kv, int KV, const int* pix, const float* wt, float* tile, const int* voff) {
  for (int p = 0; p < PQ; p++) {
    const float* gp = dyt + static_cast<size_t>(p) * Kv;
    vf acc[NV];
#pragma GCC unroll 16
    for (int j = 0; j < NV; j++) acc[j] = zero();
    const bool any = for_each_nonzero(gp, Kv, [&](int k) {
      const vf gv = set1(gp[k]);
      const float* b = wt + static_cast<size_t>(k) * KV;
#pragma GCC unroll 16
      for (int j = 0; j < NV; j++) acc[j] = fmadd(gv, load(b + j * VL), acc[j]);
    });
    if (!any) continue;
    float* at = tile + pix[p];
#pragma GCC unroll 16
    for (int j = 0; j < NV; j++) store(at + voff[j], add(load(at + voff[j]), acc[j]));
  }
}

/**
 * dx_image for stride-1 columns and an R x S kernel whose R*S*CV vectors fit in registers: walks
 * each output row keeping a window of S tile columns x R rows in registers; after position q, tile
 * column q gets nothing more from this row and is added to the tile (R*CV read-add-writes per
 * position instead of R*S*CV).
 */
template <int R, int S, int CV>
void dx_image_window(const float* dyt, int P, int Q, int strideH, int Kv, int KV, int Wp, int Cv, const float* wt,
                     float* tile) {
  for (int p = 0; p < P; p++) {
    vf win[R][S][CV];
#pragma GCC unroll 64
    for (int v = 0; v < R * S * CV; v++) win[v / (S * CV)][v / CV % S][v % CV] = zero();
    float* row0 = tile + static_cast<size_t>(p) * strideH * Wp * Cv;
    for (int q = 0; q < Q; q++) {
      const float* gp = dyt + (static_cast<size_t>(p) * Q + q) * Kv;
      for_each_nonzero(gp, Kv, [&](int k) {
        const vf gv = set1(gp[k]);
        const float* b = wt + static_cast<size_t>(k) * KV;
#pragma GCC unroll 64
        for (int v = 0; v < R * S * CV; v++) {
          vf& a = win[v / (S * CV)][v / CV % S][v % CV];
          a = fmadd(gv, load(b + v * VL), a);
        }
      });
#pragma GCC unroll 16
      for (int r = 0; r < R; r++) {
#pragma GCC unroll 16
        for (int cv = 0; cv < CV; cv++) {
          float* o = row0 + (static_cast<size_t>(r) * Wp + q) * Cv + cv * VL;
          store(o, add(load(o), win[r][0][cv]));
#pragma GCC unroll 16
          for (int s = 0; s + 1 < S; s++) win[r][s][cv] = win[r][s + 1][cv];
          win[r][S - 1][cv] = zero();
        }
      }
    }
#pragma GCC unroll 16
    for (int s = 0; s + 1 < S; s++)
#pragma GCC unroll 16
      for (int r = 0; r < R; r++)
#pragma GCC unroll 16
        for (int cv = 0; cv < CV; cv++) {
          float* o = row0 + (static_cast<size_t>(r) * Wp + Q + s) * Cv + cv * VL;
          store(o, add(load(o), win[r][s][cv]));
        }
  }
}

/** dyt[p][k] = dy[k][p] for one image (K x PQ -> PQ x Kv); lanes k >= K must already be 0. */
void transpose_dy(const float* dy, int K, int PQ, int Kv, float* dyt) {
  const int k4 = K & ~3, p4 = PQ & ~3;
  // Positions in chunks of 32 outermost: the chunk's dyt rows (32 x Kv floats) stay in L1 while
  // every 4-row band of dy adds its 4 columns (k outermost would re-write each dyt line from L2).
  for (int p0 = 0; p0 < p4; p0 += 32) {
    const int p1 = p0 + 32 < p4 ? p0 + 32 : p4;
    for (int k = 0; k < k4; k += 4)
      for (int p = p0; p < p1; p += 4) transpose4x4(dy + static_cast<size_t>(k) * PQ + p, PQ, dyt + static_cast<size_t>(p) * Kv + k, Kv);
  }
  for (int k = 0; k < K; k++)
    for (int p = k < k4 ? p4 : 0; p < PQ; p++) dyt[static_cast<size_t>(p) * Kv + k] = dy[static_cast<size_t>(k) * PQ + p];
}

using DwFn = void (*)(const DwSeg*, int, const int*, const int*, float*);
using DxFn = void (*)(const float*, int, int, int, const int*, const float*, float*, const int*);
template <int... I>
constexpr std::array<DwFn, sizeof...(I)> dw_table(std::integer_sequence<int, I...>) {
  return {&dw_block<I + 1>...};
}
template <int... I>
constexpr std::array<DxFn, sizeof...(I)> dx_table(std::integer_sequence<int, I...>) {
  return {&dx_image<I + 1>...};
}
constexpr auto kDw = dw_table(std::make_integer_sequence<int, MAXV>{});
constexpr auto kDx = dx_table(std::make_integer_sequence<int, MAXV>{});

bool empty_output(const Conv2dDims& d) { return d.N == 0 || d.K == 0 || d.P <= 0 || d.Q <= 0 || d.C == 0; }

}  // namespace

void conv2d_backward_input_sparse(const float* dy, const float* w, float* dx, const Conv2dDims& d) {
  const size_t dx_img = static_cast<size_t>(d.C) * d.H * d.W;
  if (empty_output(d)) {
    std::memset(dx, 0, sizeof(float) * dx_img * d.N);
    return;
  }
  const Geo g = geometry(d);
  const int K = d.K, PQ = g.PQ, KV = g.RS * g.Cv, Kv = (K + VL - 1) / VL * VL;
  std::vector<float> wt_buf;
  float* wt = aligned_room(wt_buf, static_cast<size_t>(K) * KV);  // w as K x R x S x Cv
  std::fill(wt, wt + static_cast<size_t>(K) * KV, 0.0f);
  for (int k = 0; k < K; k++)
    for (int c = 0; c < d.C; c++)
      for (int t = 0; t < g.RS; t++) wt[static_cast<size_t>(k) * KV + t * g.Cv + c] = w[(static_cast<size_t>(k) * d.C + c) * g.RS + t];
  const size_t tile_n = static_cast<size_t>(g.Hp) * g.Wp * g.Cv;
  // Register-window path: stride-1 columns, 3x3, one or two vectors per pixel (not on scalar).
  const int window = (VL > 1 && d.strideW == 1 && d.R == 3 && d.S == 3 && g.CV <= 2) ? g.CV : 0;

#pragma omp parallel
  {
    const int t = thread_id(), nt = threads_in_region();
    Scratch& s = scratch();
    float* dyt = aligned_room(s.val, static_cast<size_t>(PQ) * Kv);
    std::fill(dyt, dyt + static_cast<size_t>(PQ) * Kv, 0.0f);  // lanes k >= K stay 0
    float* tile = aligned_room(s.tile, tile_n);
    for (int n = static_cast<int>(static_cast<int64_t>(d.N) * t / nt); n < static_cast<int64_t>(d.N) * (t + 1) / nt; n++) {
      transpose_dy(dy + static_cast<size_t>(n) * K * PQ, K, PQ, Kv, dyt);
      std::memset(tile, 0, sizeof(float) * tile_n);
      if (window == 1)
        dx_image_window<3, 3, 1>(dyt, d.P, d.Q, d.strideH, Kv, KV, g.Wp, g.Cv, wt, tile);
      else if (window == 2)
        dx_image_window<3, 3, 2>(dyt, d.P, d.Q, d.strideH, Kv, KV, g.Wp, g.Cv, wt, tile);
      else
        for (const auto& gr : g.groups) kDx[gr.second - 1](dyt, PQ, Kv, KV, g.pix.data(), wt + gr.first * VL, tile, g.voff.data() + gr.first);
      from_tile(tile, d, g, dx + n * dx_img);
    }
  }
}

void conv2d_backward_weight_sparse(const float* x, const float* dy, float* dw, float* dbias, const Conv2dDims& d) {
  const size_t dw_n = static_cast<size_t>(d.K) * d.C * d.R * d.S;
  if (empty_output(d)) {
    std::memset(dw, 0, sizeof(float) * dw_n);
    if (dbias) std::memset(dbias, 0, sizeof(float) * d.K);
    return;
  }
  const Geo g = geometry(d);
  const int K = d.K, PQ = g.PQ, KV = g.RS * g.Cv;
  const size_t x_img = static_cast<size_t>(d.C) * d.H * d.W, tile_n = static_cast<size_t>(g.Hp) * g.Wp * g.Cv;
  const size_t idx_n = static_cast<size_t>(K) * PQ + VL;
  const int T = max_threads();
  // Images per chunk: each thread's partial dW (K x R*S*Cv) is read and written once per chunk
  // of images rather than once per image. Up to a few MB it stays in cache and a chunk is one
  // image (ResNet-20: <= 147 KB; 256 x 256 x 3 x 3: 2.4 MB, where larger chunks measured slower);
  // at 512 x 512 x 3 x 3 (9.4 MB) a sweep per image costs more than the products, so 8 images
  // are indexed first and every register block sums all their non-zeros (2 threads, batch
  // 64-128, density 0.28: 512 channels at 4x4 47 -> 33 ms, 7x7 57 -> 46, 2x2 11.7 -> 9.6).
  constexpr size_t kLargePartial = 6u << 20, kChunkTileBytes = 4u << 20;
  constexpr int kChunkImages = 8;
  const size_t part_bytes = static_cast<size_t>(K) * KV * sizeof(float);
  const int B = part_bytes <= kLargePartial
                    ? 1
                    : static_cast<int>(std::max<size_t>(1, std::min<size_t>(kChunkImages, kChunkTileBytes / (tile_n * sizeof(float)))));
  // The per-thread partials live in the calling thread's scratch (grown once, not allocated and
  // page-faulted per call: 19 MB at 512 channels and 2 threads); each thread zeroes its own.
  std::vector<float> bpart(static_cast<size_t>(T) * K, 0.0f);
  float* part = aligned_room(scratch().part, static_cast<size_t>(T) * K * KV);
  int used = 1;

#pragma omp parallel num_threads(T)
  {
    const int t = thread_id(), nt = threads_in_region();
    if (t == 0) used = nt;
    Scratch& s = scratch();
    int32_t* start = room(s.start, static_cast<size_t>(B) * (K + 1));
    int32_t* pos = room(s.pos, static_cast<size_t>(B) * idx_n);
    float* val = room(s.val, static_cast<size_t>(B) * idx_n);
    // B tiles, each 64-byte aligned (tile_n rounded up to whole cache lines).
    const size_t tile_stride = (tile_n + 15) / 16 * 16;
    float* tiles = aligned_room(s.tile, static_cast<size_t>(B) * tile_stride);
    std::memset(tiles, 0, sizeof(float) * static_cast<size_t>(B) * tile_stride);  // to_tile writes only the data area
    std::vector<DwSeg> seg(static_cast<size_t>(B));
    float* my = part + static_cast<size_t>(t) * K * KV;
    std::fill(my, my + static_cast<size_t>(K) * KV, 0.0f);
    float* myb = bpart.data() + static_cast<size_t>(t) * K;
    const int n_end = static_cast<int>(static_cast<int64_t>(d.N) * (t + 1) / nt);
    for (int n0 = static_cast<int>(static_cast<int64_t>(d.N) * t / nt); n0 < n_end; n0 += B) {
      const int nb = std::min(B, n_end - n0);
      for (int b = 0; b < nb; b++) {
        build_plane_index(dy + static_cast<size_t>(n0 + b) * K * PQ, K, PQ, start + b * (K + 1), pos + b * idx_n, val + b * idx_n);
        to_tile(x + (n0 + b) * x_img, d, g, tiles + b * tile_stride);
      }
      for (int k = 0; k < K; k++) {
        int ns = 0;
        for (int b = 0; b < nb; b++) {
          const int32_t* st = start + b * (K + 1);
          const int bb = st[k], e = st[k + 1];
          if (bb == e) continue;
          const float* v = val + b * idx_n;
          float bs = 0.0f;
          for (int i = bb; i < e; i++) bs += v[i];
          myb[k] += bs;
          seg[ns++] = DwSeg{pos + b * idx_n + bb, v + bb, e - bb, tiles + b * tile_stride};
        }
        if (ns == 0) continue;
        for (const auto& gr : g.groups)
          kDw[gr.second - 1](seg.data(), ns, g.pix.data(), g.voff.data() + gr.first, my + static_cast<size_t>(k) * KV + gr.first * VL);
      }
    }
  }
  // Partials in thread order, then K x (R x S x Cv) -> K x C x R x S.
  for (int t = 1; t < used; t++) {
    const float* src = part + static_cast<size_t>(t) * K * KV;
    for (size_t i = 0; i < static_cast<size_t>(K) * KV; i++) part[i] += src[i];
    for (int k = 0; k < K; k++) bpart[k] += bpart[static_cast<size_t>(t) * K + k];
  }
  for (int k = 0; k < K; k++)
    for (int c = 0; c < d.C; c++)
      for (int tp = 0; tp < g.RS; tp++) dw[(static_cast<size_t>(k) * d.C + c) * g.RS + tp] = part[static_cast<size_t>(k) * KV + tp * g.Cv + c];
  if (dbias) std::copy(bpart.begin(), bpart.begin() + K, dbias);
}

}  // namespace LT_NS
}  // namespace lt
