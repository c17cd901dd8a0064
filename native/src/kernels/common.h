// Shared by all kernel files. Kernels are plain C++17 on raw pointers plus dims structs; no N-API.
// Each kernel source is compiled twice, once per ISA variant, into namespace lt::LT_NS
// (isa_native with -march=native, isa_scalar with LT_FORCE_SCALAR); see binding.gyp.
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
// Contract: kernels overwrite their outputs (never accumulate into them), except BN running stats.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../simd/simd.h"

#ifndef LT_NS
#error "LT_NS must name the ISA variant namespace (set by binding.gyp)"
#endif

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lt {

/** 2-D convolution, groups = 1, dilation = 1. Matches src/backend/kernels.ts Conv2dDims. */
struct Conv2dDims {
  int N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW;
};

/** Pooling window. Matches Pool2dDims. */
struct Pool2dDims {
  int N, C, H, W, R, S, P, Q, strideH, strideW, padH, padW;
};

/** N images x C channels x HW elements per plane. */
struct ChannelDims {
  int N, C, HW;
};

/** x: N x IN, w: OUT x IN, y: N x OUT. */
struct LinearDims {
  int N, IN, OUT;
};

/** Option-A shortcut: x N x C x H x W -> y N x K x ceil(H/stride) x ceil(W/stride), K >= C. */
struct ShortcutDims {
  int N, C, H, W, K, stride;
};

/** Scalars of one SGD step (src/backend/sgd_update.ts); mode 0 plain, 1 momentum, 2 Nesterov. */
struct SgdScalars {
  double lr, wd, bm, bd, m;
  int mode;
};

struct SoftmaxDims {
  int N, classes;
};

/** Threads available to a kernel's parallel region. */
inline int max_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline int thread_id() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace lt
