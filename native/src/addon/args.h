// Argument marshalling for the N-API glue: typed-array views with length checks that name the
// kernel and argument, so a bad call is a JS exception, never a crash inside a kernel.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "../kernels/common.h"

namespace lt {
namespace addon {

inline Napi::Error arg_error(const Napi::Env& env, const char* kernel, int index, const std::string& what) {
  return Napi::TypeError::New(env, std::string(kernel) + ": argument " + std::to_string(index) + " " + what);
}

/** Float32Array argument with at least `min_len` elements (nullptr if `nullable` and null). */
inline float* f32(const Napi::CallbackInfo& info, const char* kernel, int i, int64_t min_len, bool nullable = false) {
  const Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw arg_error(env, kernel, i, "must be a Float32Array (the native backend is float32 only)");
  }
  auto a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_len) {
    throw arg_error(env, kernel, i,
                    "has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(min_len));
  }
  return a.Data();
}

inline int32_t* i32(const Napi::CallbackInfo& info, const char* kernel, int i, int64_t min_len) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw arg_error(info.Env(), kernel, i, "must be an Int32Array");
  }
  auto a = v.As<Napi::Int32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_len) {
    throw arg_error(info.Env(), kernel, i,
                    "has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(min_len));
  }
  return a.Data();
}

inline uint8_t* u8(const Napi::CallbackInfo& info, const char* kernel, int i, int64_t min_len) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw arg_error(info.Env(), kernel, i, "must be a Uint8Array");
  }
  auto a = v.As<Napi::Uint8Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_len) {
    throw arg_error(info.Env(), kernel, i,
                    "has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(min_len));
  }
  return a.Data();
}

inline double num(const Napi::CallbackInfo& info, const char* kernel, int i) {
  if (!info[i].IsNumber()) throw arg_error(info.Env(), kernel, i, "must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

/** A boolean argument (false when absent). */
inline bool flag(const Napi::CallbackInfo& info, const char* kernel, int i) {
  if (info[i].IsUndefined()) return false;
  if (!info[i].IsBoolean()) throw arg_error(info.Env(), kernel, i, "must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

/** Dims passed as an Int32Array of `count` non-negative entries. */
inline const int32_t* dims(const Napi::CallbackInfo& info, const char* kernel, int i, int count) {
  const int32_t* d = i32(info, kernel, i, count);
  for (int k = 0; k < count; k++) {
    if (d[k] < 0) throw arg_error(info.Env(), kernel, i, "has a negative dimension at index " + std::to_string(k));
  }
  return d;
}

inline Conv2dDims conv_dims(const int32_t* v) {
  return Conv2dDims{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
}

/**
 * Conv2dDims (an Int32Array of the 13 fields at argument i) checked for what every conv kernel
 * assumes: kernel size and strides >= 1, and P, Q the output size that H, W, R, S, stride and
 * padding give (floor((H + 2*padH - R) / strideH) + 1, or 0 when the kernel does not fit).
 * Otherwise a JS error naming the field, never a division by zero or a wrong walk in a kernel.
 */
inline Conv2dDims conv_dims(const Napi::CallbackInfo& info, const char* kernel, int i) {
  const Conv2dDims d = conv_dims(dims(info, kernel, i, 13));
  const auto bad = [&](const std::string& what) { return arg_error(info.Env(), kernel, i, what); };
  if (d.R < 1 || d.S < 1) throw bad("has kernel size R x S = " + std::to_string(d.R) + " x " + std::to_string(d.S) + "; both must be >= 1");
  if (d.strideH < 1 || d.strideW < 1)
    throw bad("has stride " + std::to_string(d.strideH) + " x " + std::to_string(d.strideW) + "; both must be >= 1");
  const auto out = [](int64_t in, int64_t k, int64_t s, int64_t p) { return in + 2 * p < k ? 0 : (in + 2 * p - k) / s + 1; };
  const int64_t P = out(d.H, d.R, d.strideH, d.padH), Q = out(d.W, d.S, d.strideW, d.padW);
  if (d.P != P || d.Q != Q)
    throw bad("has output P x Q = " + std::to_string(d.P) + " x " + std::to_string(d.Q) + " but H, W, R, S, stride and padding give " +
              std::to_string(P) + " x " + std::to_string(Q));
  return d;
}
inline Pool2dDims pool_dims(const int32_t* v) {
  return Pool2dDims{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
}
inline ChannelDims channel_dims(const int32_t* v) { return ChannelDims{v[0], v[1], v[2]}; }
inline LinearDims linear_dims(const int32_t* v) { return LinearDims{v[0], v[1], v[2]}; }
inline SoftmaxDims softmax_dims(const int32_t* v) { return SoftmaxDims{v[0], v[1]}; }

}  // namespace addon
}  // namespace lt
