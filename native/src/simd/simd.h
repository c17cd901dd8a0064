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

namespace lt {
namespace simd {

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
#endif

}  // namespace simd
}  // namespace lt
