// Implicit-GEMM engine shared by the dense conv kernels (forward and backward-input): a Plan says
// how one GEMM reads its tall padded source (conv_source.h), which weights it multiplies and where
// its outputs go; run_plans executes a list of plans (the stride phases of one conv) over a batch.
//
// Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
#pragma once
#include <vector>

#include "conv_source.h"

namespace lt {
namespace LT_NS {
namespace conv {

#if defined(LT_SIMD_AVX512)
constexpr int MR = 8, NV = 3;  // 24 accumulators + 3 source vectors + 1 broadcast of 32 zmm
#elif defined(LT_SIMD_AVX2)
constexpr int MR = 4, NV = 3;  // 12 + 3 + 1 = 16 ymm
#else
constexpr int MR = 4, NV = 4;
#endif
constexpr int NR = NV * VL;  // columns per micro-tile

/** A contiguous piece of a micro-tile's columns that maps to valid outputs. */
struct Run {
  int t, len;       // first column inside the tile, count
  int64_t out;      // output offset of the first column for output channel 0
};

/** One implicit GEMM: a source layout, its taps, packed weights and where outputs go. */
struct Plan {
  Source src;
  std::vector<Tap> taps;
  const float* A = nullptr;  // packed weights [ceil(Kout/MR)][taps][MR] (packed_weight_floats)
  int Kout;
  int64_t out_img, out_ch;  // floats per output image / channel plane
  int oW, osh, osw, oa, ob; // column (i, j) -> out[(i*osh + oa)*oW + j*osw + ob]
  int max_dr = 0, max_dc = 0;
  std::vector<int64_t> off;
  // Packed mode (small planes, many output channels): tiles hold only valid columns, compressed
  // out of the source into a contiguous panel; jpos lists the source column of each valid one.
  bool packed = false;
  std::vector<int32_t> jpos;
};

/** Packed weights of a plan: A[kb][kk][i] = weight(kb*MR + i, kk), zero past Kout. */
inline int64_t packed_weight_floats(int Kout, int ntaps) { return static_cast<int64_t>(ceil_div(Kout, MR)) * ntaps * MR; }

/** Runs the plans (phases) over all N images; plans with no taps zero their outputs. bias may be null. */
void run_plans(std::vector<Plan>& plans, int N, const float* bias, float* out);

}  // namespace conv
}  // namespace LT_NS
}  // namespace lt
