// A tiny vector API: kernels are written once against `vf` (VL floats) and compile to AVX-512,
// AVX2/FMA or plain scalar code. Which one is chosen by the ISA macros of the translation unit:
// the same kernel sources are compiled twice (see binding.gyp): once with -march=native (the
// fast path) and once with LT_FORCE_SCALAR (the portable scalar path, also used for testing).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cmath>

#if !defined(LT_FORCE_SCALAR) && defined(__AVX512F__)
#define LT_SIMD_AVX512 1
#include <immintrin.h>
#elif !defined(LT_FORCE_SCALAR) && defined(__AVX2__) && defined(__FMA__)
#define LT_SIMD_AVX2 1
#include <immintrin.h>
#else
#define LT_SIMD_SCALAR 1
#endif

#ifndef LT_NS
#error "LT_NS must name the ISA variant namespace (set by binding.gyp)"
#endif

namespace lt {
namespace simd {
// Each ISA variant's vector types and inline functions live in their own inline namespace, so
// the copies compiled for AVX-512, AVX2 and scalar never share a linker name (no ODR clash if
// the compiler emits one out of line).
inline namespace LT_NS {

#if defined(LT_SIMD_AVX512)
constexpr int VL = 16;
struct vf { __m512 v; };
inline const char* isa_name() { return "avx512"; }
inline vf zero() { return {_mm512_setzero_ps()}; }
inline vf set1(float x) { return {_mm512_set1_ps(x)}; }
inline vf load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void store(float* p, vf a) { _mm512_storeu_ps(p, a.v); }
inline vf add(vf a, vf b) { return {_mm512_add_ps(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline vf mul(vf a, vf b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline vf max(vf a, vf b) { return {_mm512_max_ps(a.v, b.v)}; }
inline vf min(vf a, vf b) { return {_mm512_min_ps(a.v, b.v)}; }
/** a*b + c */
inline vf fmadd(vf a, vf b, vf c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline float reduce_add(vf a) { return _mm512_reduce_add_ps(a.v); }
/** Keeps a where m > 0, else 0 (relu backward mask). */
inline vf select_pos(vf m, vf a) {
  __mmask16 k = _mm512_cmp_ps_mask(m.v, _mm512_setzero_ps(), _CMP_GT_OQ);
  return {_mm512_maskz_mov_ps(k, a.v)};
}
/** Partial load/store of n < VL lanes (rest zero). */
inline vf load_partial(const float* p, int n) { return {_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p)}; }
inline void store_partial(float* p, vf a, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), a.v); }
/** Lanes p[0], p[2], ..., p[2*VL-2] (reads 2*VL floats): stride-2 gather for strided convs. */
inline vf load_even(const float* p) {
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return {_mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16))};
}
/** out[0..3] = horizontal sums of a, b, c, d (a transposed reduction: ~13 ops for 4 sums). */
inline void reduce_add4(vf a, vf b, vf c, vf d, float* out) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a.v, b.v), _mm512_unpackhi_ps(a.v, b.v));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c.v, d.v), _mm512_unpackhi_ps(c.v, d.v));
  const __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
  // Each 128-bit lane now holds partial sums [a b c d].
  const __m512 abcd = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                                    _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(abcd),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abcd), 1)));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  _mm_storeu_ps(out, q);
}
/** The lanes of a selected by mask (bit l = lane l), packed to the front; the rest zero. */
inline vf compress(vf a, uint32_t mask) { return {_mm512_maskz_compress_ps((__mmask16)mask, a.v)}; }
/** Packs the lanes of a selected by mask (bit l = lane l) to the front of p; returns how many.
 * Writes a whole vector at p: up to VL - 1 floats past the packed ones are clobbered. */
inline int compress_store(float* p, vf a, uint32_t mask) {
  _mm512_storeu_ps(p, _mm512_maskz_compress_ps((__mmask16)mask, a.v));
  return __builtin_popcount(mask);
}
/** p[2k] = a[k] for k < n <= VL (the odd positions in between are not touched). */
inline void store_even(float* p, vf a, int n) {
  const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  const unsigned even = 0x5555u;
  const unsigned m_lo = n >= 8 ? even : even & ((1u << (2 * n)) - 1u);
  _mm512_mask_storeu_ps(p, (__mmask16)m_lo, _mm512_permutexvar_ps(lo, a.v));
  if (n > 8) _mm512_mask_storeu_ps(p + 16, (__mmask16)(even & ((1u << (2 * (n - 8))) - 1u)), _mm512_permutexvar_ps(hi, a.v));
}
/** ev = lanes 0, 2, 4, ... and od = lanes 1, 3, 5, ... of the 2*VL floats a:b. */
inline void deinterleave(vf a, vf b, vf& ev, vf& od) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  ev = {_mm512_permutex2var_ps(a.v, ie, b.v)};
  od = {_mm512_permutex2var_ps(a.v, io, b.v)};
}
/** load_even of n <= VL lanes (rest zero); reads only p[0 .. 2n-2]. */
inline vf load_even_partial(const float* p, int n) {
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const int m = 2 * n - 1;  // source floats needed
  const __mmask16 lo = (__mmask16)(m >= 16 ? 0xFFFFu : (1u << m) - 1u);
  const __mmask16 hi = (__mmask16)(m <= 16 ? 0u : (1u << (m - 16)) - 1u);
  return {_mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, p), idx, _mm512_maskz_loadu_ps(hi, p + 16))};
}

/** Bit l set where lane l of a is non-zero (sparse index building). */
inline uint32_t nonzero_mask(vf a) { return _mm512_cmp_ps_mask(a.v, _mm512_setzero_ps(), _CMP_NEQ_UQ); }
/** Packs base + l for the lanes l selected by mask to the front of p; returns how many.
 * Writes a whole vector at p: up to VL - 1 ints past the packed ones are clobbered. */
inline int compress_store_index(int32_t* p, int32_t base, uint32_t mask) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i v = _mm512_add_epi32(iota, _mm512_set1_epi32(base));
  _mm512_storeu_si512(p, _mm512_maskz_compress_epi32((__mmask16)mask, v));
  return __builtin_popcount(mask);
}

#elif defined(LT_SIMD_AVX2)
constexpr int VL = 8;
struct vf { __m256 v; };
inline const char* isa_name() { return "avx2"; }
inline vf zero() { return {_mm256_setzero_ps()}; }
inline vf set1(float x) { return {_mm256_set1_ps(x)}; }
inline vf load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void store(float* p, vf a) { _mm256_storeu_ps(p, a.v); }
inline vf add(vf a, vf b) { return {_mm256_add_ps(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline vf mul(vf a, vf b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline vf max(vf a, vf b) { return {_mm256_max_ps(a.v, b.v)}; }
inline vf min(vf a, vf b) { return {_mm256_min_ps(a.v, b.v)}; }
inline vf fmadd(vf a, vf b, vf c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline float reduce_add(vf a) {
  __m128 lo = _mm256_castps256_ps128(a.v), hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}
inline vf select_pos(vf m, vf a) {
  __m256 k = _mm256_cmp_ps(m.v, _mm256_setzero_ps(), _CMP_GT_OQ);
  return {_mm256_and_ps(k, a.v)};
}
inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline vf load_partial(const float* p, int n) { return {_mm256_maskload_ps(p, lane_mask(n))}; }
inline void store_partial(float* p, vf a, int n) { _mm256_maskstore_ps(p, lane_mask(n), a.v); }
inline vf load_even(const float* p) {
  // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
  const __m256 t = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
  return {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xD8))};
}
inline void reduce_add4(vf a, vf b, vf c, vf d, float* out) {
  const __m256 ab = _mm256_add_ps(_mm256_unpacklo_ps(a.v, b.v), _mm256_unpackhi_ps(a.v, b.v));
  const __m256 cd = _mm256_add_ps(_mm256_unpacklo_ps(c.v, d.v), _mm256_unpackhi_ps(c.v, d.v));
  const __m256d abd = _mm256_castps_pd(ab), cdd = _mm256_castps_pd(cd);
  const __m256 abcd = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(abd, cdd)),
                                    _mm256_castpd_ps(_mm256_unpackhi_pd(abd, cdd)));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
  _mm_storeu_ps(out, q);
}
inline vf compress(vf a, uint32_t mask) {
  alignas(32) float t[8], u[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  _mm256_store_ps(t, a.v);
  int n = 0;
  for (int l = 0; l < 8; l++)
    if (mask >> l & 1u) u[n++] = t[l];
  return {_mm256_load_ps(u)};
}
inline int compress_store(float* p, vf a, uint32_t mask) {
  alignas(32) float t[8];
  _mm256_store_ps(t, a.v);
  int n = 0;
  for (int l = 0; l < 8; l++)
    if (mask >> l & 1u) p[n++] = t[l];
  return n;
}
inline void store_even(float* p, vf a, int n) {
  alignas(32) float t[8];  // AVX2 masked stores are slow on some CPUs: scalar stores
  _mm256_store_ps(t, a.v);
  for (int k = 0; k < n; k++) p[2 * k] = t[k];
}
inline void deinterleave(vf a, vf b, vf& ev, vf& od) {
  // shuffle_ps works per 128-bit lane: [a0 a2 b0 b2 | a4 a6 b4 b6], then fix the 64-bit order.
  const __m256 e = _mm256_shuffle_ps(a.v, b.v, 0x88), o = _mm256_shuffle_ps(a.v, b.v, 0xDD);
  ev = {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8))};
  od = {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8))};
}
inline vf load_even_partial(const float* p, int n) {
  const int m = 2 * n - 1;
  const __m256 a = _mm256_maskload_ps(p, lane_mask(m < 8 ? m : 8));
  const __m256 b = _mm256_maskload_ps(p + 8, lane_mask(m > 8 ? m - 8 : 0));
  const __m256 t = _mm256_shuffle_ps(a, b, 0x88);
  return {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xD8))};
}

inline uint32_t nonzero_mask(vf a) {
  return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a.v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
}
inline int compress_store_index(int32_t* p, int32_t base, uint32_t mask) {
  int n = 0;
  for (uint32_t m = mask; m != 0; m &= m - 1) p[n++] = base + __builtin_ctz(m);
  return n;
}

#else
constexpr int VL = 1;
struct vf { float v; };
inline const char* isa_name() { return "scalar"; }
inline vf zero() { return {0.0f}; }
inline vf set1(float x) { return {x}; }
inline vf load(const float* p) { return {*p}; }
inline void store(float* p, vf a) { *p = a.v; }
inline vf add(vf a, vf b) { return {a.v + b.v}; }
inline vf sub(vf a, vf b) { return {a.v - b.v}; }
inline vf mul(vf a, vf b) { return {a.v * b.v}; }
inline vf max(vf a, vf b) { return {a.v > b.v ? a.v : b.v}; }
inline vf min(vf a, vf b) { return {a.v < b.v ? a.v : b.v}; }
// a*b+c (contracted to an FMA only where the target has one; std::fma would be a libm call).
inline vf fmadd(vf a, vf b, vf c) { return {a.v * b.v + c.v}; }
inline float reduce_add(vf a) { return a.v; }
inline vf select_pos(vf m, vf a) { return {m.v > 0.0f ? a.v : 0.0f}; }
inline vf load_partial(const float* p, int n) { return {n > 0 ? *p : 0.0f}; }
inline void store_partial(float* p, vf a, int n) { if (n > 0) *p = a.v; }
inline vf load_even(const float* p) { return {*p}; }
inline vf load_even_partial(const float* p, int n) { return {n > 0 ? *p : 0.0f}; }
inline void deinterleave(vf a, vf b, vf& ev, vf& od) {
  ev = a;
  od = b;
}
inline void store_even(float* p, vf a, int n) {
  if (n > 0) *p = a.v;
}
inline vf compress(vf a, uint32_t mask) { return {mask & 1u ? a.v : 0.0f}; }
inline int compress_store(float* p, vf a, uint32_t mask) {
  if (!(mask & 1u)) return 0;
  *p = a.v;
  return 1;
}
inline void reduce_add4(vf a, vf b, vf c, vf d, float* out) {
  out[0] = a.v;
  out[1] = b.v;
  out[2] = c.v;
  out[3] = d.v;
}
inline uint32_t nonzero_mask(vf a) { return a.v != 0.0f ? 1u : 0u; }
inline int compress_store_index(int32_t* p, int32_t base, uint32_t mask) {
  *p = base;
  return (int)(mask & 1u);
}
#endif

/** dst[j*ds + i] = src[i*ss + j] for i, j < 4 (a 4x4 block transpose; SSE on both vector ISAs). */
inline void transpose4x4(const float* src, ptrdiff_t ss, float* dst, ptrdiff_t ds) {
#if defined(LT_SIMD_AVX512) || defined(LT_SIMD_AVX2)
  __m128 a = _mm_loadu_ps(src), b = _mm_loadu_ps(src + ss), c = _mm_loadu_ps(src + 2 * ss), d = _mm_loadu_ps(src + 3 * ss);
  _MM_TRANSPOSE4_PS(a, b, c, d);
  _mm_storeu_ps(dst, a);
  _mm_storeu_ps(dst + ds, b);
  _mm_storeu_ps(dst + 2 * ds, c);
  _mm_storeu_ps(dst + 3 * ds, d);
#else
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) dst[j * ds + i] = src[i * ss + j];
#endif
}

}  // namespace LT_NS
}  // namespace simd
}  // namespace lt
