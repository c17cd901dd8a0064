// The sparse format of a pruned activation gradient dy[N][K][P][Q] used by the sparse conv
// backward kernels (sparse_conv.cpp), one image at a time:
//
//   plane-major ("CSR over planes"): for output channel k, the non-zeros of plane dy[n][k] are
//   entries start[k] .. start[k+1]-1 of (pos, val), pos = p*Q + q ascending, val = dy[n][k][p][q].
//
// This is the order in which a pass over NCHW memory meets the non-zeros, so a fused
// "prune + build" kernel (walking dy once, deciding each element and appending the survivors)
// can emit it directly, with no second pass. (The dW kernel uses it; the dX kernel instead reads
// dy transposed to positions x K and finds each position's non-zeros from a compare mask, which
// a fused kernel could likewise write directly.)
#pragma once
#include <cstdint>

#include "common.h"

namespace lt {
namespace LT_NS {

/**
 * Builds the plane-major index of one image's dy (K planes of PQ floats). pos/val need room for
 * K*PQ + VL entries (the vector path stores whole vectors past the packed ones); start needs K+1.
 * Returns the number of non-zeros. NaN counts as non-zero (so it propagates like the dense path).
 */
inline int build_plane_index(const float* dy, int K, int PQ, int32_t* start, int32_t* pos, float* val) {
  using namespace simd;
  int nnz = 0;
  for (int k = 0; k < K; k++) {
    start[k] = nnz;
    const float* src = dy + static_cast<int64_t>(k) * PQ;
    int i = 0;
    for (; i + VL <= PQ; i += VL) {
      const vf v = load(src + i);
      const uint32_t m = nonzero_mask(v);
      if (m == 0) continue;
      compress_store(val + nnz, v, m);
      nnz += compress_store_index(pos + nnz, i, m);
    }
    if (i < PQ) {
      const int rem = PQ - i;
      const vf v = load_partial(src + i, rem);
      const uint32_t m = nonzero_mask(v) & ((1u << rem) - 1u);
      if (m != 0) {
        compress_store(val + nnz, v, m);
        nnz += compress_store_index(pos + nnz, i, m);
      }
    }
  }
  start[K] = nnz;
  return nnz;
}

}  // namespace LT_NS
}  // namespace lt
