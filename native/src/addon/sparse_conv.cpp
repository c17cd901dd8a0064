// N-API glue for the sparse backward kernels (native/src/kernels/sparse_conv.cpp and
// sparse_linear.cpp): conv2dBackwardInputSparse, conv2dBackwardWeightSparse,
// linearBackwardInputSparse, linearBackwardWeightSparse. Same arguments as their dense twins
// (dims: Int32Array of the 13 Conv2dDims or the 3 LinearDims fields).
#include <napi.h>

#include <cstdint>

#include "../kernels/table.h"
#include "args.h"

namespace lt {
namespace addon {

static const KernelTable* const* g_sparse_conv_table = nullptr;

static int64_t elems(int64_t a, int64_t b, int64_t c, int64_t d) { return a * b * c * d; }

// conv2dBackwardInputSparse(dy, w, dx, dims)
static Napi::Value Conv2dBackwardInputSparse(const Napi::CallbackInfo& info) {
  const char* k = "conv2dBackwardInputSparse";
  const Conv2dDims d = conv_dims(info, k, 3);
  const float* dy = f32(info, k, 0, elems(d.N, d.K, d.P, d.Q));
  const float* w = f32(info, k, 1, elems(d.K, d.C, d.R, d.S));
  float* dx = f32(info, k, 2, elems(d.N, d.C, d.H, d.W));
  (*g_sparse_conv_table)->conv2d_backward_input_sparse(dy, w, dx, d);
  return info.Env().Undefined();
}

// conv2dBackwardWeightSparse(x, dy, dw, dbias | null, dims)
static Napi::Value Conv2dBackwardWeightSparse(const Napi::CallbackInfo& info) {
  const char* k = "conv2dBackwardWeightSparse";
  const Conv2dDims d = conv_dims(info, k, 4);
  const float* x = f32(info, k, 0, elems(d.N, d.C, d.H, d.W));
  const float* dy = f32(info, k, 1, elems(d.N, d.K, d.P, d.Q));
  float* dw = f32(info, k, 2, elems(d.K, d.C, d.R, d.S));
  float* db = f32(info, k, 3, d.K, true);
  (*g_sparse_conv_table)->conv2d_backward_weight_sparse(x, dy, dw, db, d);
  return info.Env().Undefined();
}

// linearBackwardInputSparse(dy, w, dx, dims)
static Napi::Value LinearBackwardInputSparse(const Napi::CallbackInfo& info) {
  const char* k = "linearBackwardInputSparse";
  const LinearDims d = linear_dims(dims(info, k, 3, 3));
  const float* dy = f32(info, k, 0, static_cast<int64_t>(d.N) * d.OUT);
  const float* w = f32(info, k, 1, static_cast<int64_t>(d.OUT) * d.IN);
  float* dx = f32(info, k, 2, static_cast<int64_t>(d.N) * d.IN);
  (*g_sparse_conv_table)->linear_backward_input_sparse(dy, w, dx, d);
  return info.Env().Undefined();
}

// linearBackwardWeightSparse(x, dy, dw, dbias | null, dims)
static Napi::Value LinearBackwardWeightSparse(const Napi::CallbackInfo& info) {
  const char* k = "linearBackwardWeightSparse";
  const LinearDims d = linear_dims(dims(info, k, 4, 3));
  const float* x = f32(info, k, 0, static_cast<int64_t>(d.N) * d.IN);
  const float* dy = f32(info, k, 1, static_cast<int64_t>(d.N) * d.OUT);
  float* dw = f32(info, k, 2, static_cast<int64_t>(d.OUT) * d.IN);
  float* db = f32(info, k, 3, d.OUT, true);
  (*g_sparse_conv_table)->linear_backward_weight_sparse(x, dy, dw, db, d);
  return info.Env().Undefined();
}

void register_sparse_conv(Napi::Env env, Napi::Object exports, const KernelTable* const* table) {
  exports.Set("linearBackwardInputSparse", Napi::Function::New(env, LinearBackwardInputSparse, "linearBackwardInputSparse"));
  exports.Set("linearBackwardWeightSparse", Napi::Function::New(env, LinearBackwardWeightSparse, "linearBackwardWeightSparse"));
  g_sparse_conv_table = table;
  exports.Set("conv2dBackwardInputSparse", Napi::Function::New(env, Conv2dBackwardInputSparse, "conv2dBackwardInputSparse"));
  exports.Set("conv2dBackwardWeightSparse",
              Napi::Function::New(env, Conv2dBackwardWeightSparse, "conv2dBackwardWeightSparse"));
}

}  // namespace addon
}  // namespace lt
