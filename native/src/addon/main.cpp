// N-API entry: marshals typed arrays and numbers into the active kernel table. No math here.
// Dims arrive as Int32Arrays in the field order of src/backend/kernels.ts.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../kernels/table.h"
#include "args.h"

#if defined(LT_HAVE_ISA_AVX2)
namespace lt {
namespace isa_avx2 {
const KernelTable& table();  // kernels built with -mavx2 -mfma -mno-avx512f (binding.gyp, x64 only)
}
}  // namespace lt
#endif

namespace lt {
namespace addon {

static const KernelTable* g_table = nullptr;

static int64_t prod(std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs) p *= x;
  return p;
}

// ---- ISA variants: native (-march=native), scalar, and avx2 (x64 builds only) ----
static bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

static std::vector<std::string> available_isas() {
  std::vector<std::string> v{"native"};
#if defined(LT_HAVE_ISA_AVX2)
  if (cpu_has_avx2()) v.push_back("avx2");
#endif
  v.push_back("scalar");
  return v;
}

static std::string join_isas() {
  std::string s;
  for (const std::string& n : available_isas()) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

static Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "setIsa: argument 0 must be an ISA name (one of " + join_isas() + ")");
  }
  std::string want = info[0].As<Napi::String>().Utf8Value();
  if (want == "scalar") {
    g_table = &isa_scalar::table();
  } else if (want == "native") {
    g_table = &isa_native::table();
  } else if (want == "avx2") {
#if defined(LT_HAVE_ISA_AVX2)
    if (!cpu_has_avx2()) {
      throw Napi::Error::New(info.Env(), "setIsa('avx2'): this CPU does not support AVX2 and FMA (available: " +
                                             join_isas() + ")");
    }
    g_table = &isa_avx2::table();
#else
    throw Napi::Error::New(info.Env(), "setIsa('avx2'): this addon has no AVX2 variant (it is built only for x64 "
                                       "targets; available: " + join_isas() + ")");
#endif
  } else {
    throw Napi::TypeError::New(info.Env(), "setIsa: unknown ISA '" + want + "' (available: " + join_isas() + ")");
  }
  return Napi::String::New(info.Env(), g_table->isa);
}

static Napi::Value AvailableIsas(const Napi::CallbackInfo& info) {
  const std::vector<std::string> v = available_isas();
  Napi::Array out = Napi::Array::New(info.Env(), v.size());
  for (size_t i = 0; i < v.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), v[i]));
  return out;
}

static Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), g_table->isa); }

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = static_cast<int>(num(info, "setThreads", 0));
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setThreads: thread count must be >= 1");
#if defined(_OPENMP)
  omp_set_num_threads(n);
#endif
  return info.Env().Undefined();
}

static Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), max_threads()); }

static Napi::Value HasOpenMP(const Napi::CallbackInfo& info) {
#if defined(_OPENMP)
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// ---- convolution ----
static Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  const char* k = "conv2dForward";
  Conv2dDims d = conv_dims(info, k, 4);
  const float* x = f32(info, k, 0, prod({d.N, d.C, d.H, d.W}));
  const float* w = f32(info, k, 1, prod({d.K, d.C, d.R, d.S}));
  const float* b = f32(info, k, 2, d.K, true);
  float* y = f32(info, k, 3, prod({d.N, d.K, d.P, d.Q}));
  g_table->conv2d_forward(x, w, b, y, d);
  return info.Env().Undefined();
}

static Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  const char* k = "conv2dBackwardInput";
  Conv2dDims d = conv_dims(info, k, 3);
  const float* dy = f32(info, k, 0, prod({d.N, d.K, d.P, d.Q}));
  const float* w = f32(info, k, 1, prod({d.K, d.C, d.R, d.S}));
  float* dx = f32(info, k, 2, prod({d.N, d.C, d.H, d.W}));
  g_table->conv2d_backward_input(dy, w, dx, d);
  return info.Env().Undefined();
}

static Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  const char* k = "conv2dBackwardWeight";
  Conv2dDims d = conv_dims(info, k, 4);
  const float* x = f32(info, k, 0, prod({d.N, d.C, d.H, d.W}));
  const float* dy = f32(info, k, 1, prod({d.N, d.K, d.P, d.Q}));
  float* dw = f32(info, k, 2, prod({d.K, d.C, d.R, d.S}));
  float* db = f32(info, k, 3, d.K, true);
  g_table->conv2d_backward_weight(x, dy, dw, db, d);
  return info.Env().Undefined();
}

// ---- batch norm ----
static Napi::Value BatchNormForwardTrain(const Napi::CallbackInfo& info) {
  const char* k = "batchNormForwardTrain";
  ChannelDims d = channel_dims(dims(info, k, 10, 3));
  const int64_t n = prod({d.N, d.C, d.HW});
  g_table->batchnorm_forward_train(f32(info, k, 0, n), f32(info, k, 1, d.C), f32(info, k, 2, d.C), f32(info, k, 3, n),
                                   f32(info, k, 4, d.C), f32(info, k, 5, d.C), f32(info, k, 6, d.C),
                                   f32(info, k, 7, d.C), static_cast<float>(num(info, k, 8)),
                                   static_cast<float>(num(info, k, 9)), d, f32(info, k, 11, n, true), flag(info, k, 12));
  return info.Env().Undefined();
}

static Napi::Value BatchNormForwardEval(const Napi::CallbackInfo& info) {
  const char* k = "batchNormForwardEval";
  ChannelDims d = channel_dims(dims(info, k, 7, 3));
  const int64_t n = prod({d.N, d.C, d.HW});
  g_table->batchnorm_forward_eval(f32(info, k, 0, n), f32(info, k, 1, d.C), f32(info, k, 2, d.C),
                                  f32(info, k, 3, d.C), f32(info, k, 4, d.C), static_cast<float>(num(info, k, 5)),
                                  f32(info, k, 6, n), d, f32(info, k, 8, n, true), flag(info, k, 9));
  return info.Env().Undefined();
}

static Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const char* k = "batchNormBackward";
  ChannelDims d = channel_dims(dims(info, k, 8, 3));
  const int64_t n = prod({d.N, d.C, d.HW});
  const float* y_relu = f32(info, k, 9, n, true);
  float* dy_masked = f32(info, k, 10, n, true);
  if ((y_relu == nullptr) != (dy_masked == nullptr)) {
    throw arg_error(info.Env(), k, 10, "must be given exactly when argument 9 (the fused ReLU output) is");
  }
  g_table->batchnorm_backward(f32(info, k, 0, n), f32(info, k, 1, n), f32(info, k, 2, d.C), f32(info, k, 3, d.C),
                              f32(info, k, 4, d.C), f32(info, k, 5, n), f32(info, k, 6, d.C), f32(info, k, 7, d.C),
                              d, y_relu, dy_masked);
  return info.Env().Undefined();
}

// ---- option-A shortcut ----
static ShortcutDims shortcut_dims(const Napi::CallbackInfo& info, const char* k, int i) {
  const int32_t* v = dims(info, k, i, 6);
  const ShortcutDims d{v[0], v[1], v[2], v[3], v[4], v[5]};
  if (d.stride < 1 || d.K < d.C) throw arg_error(info.Env(), k, i, "needs stride >= 1 and K >= C");
  return d;
}

static Napi::Value ShortcutPadForward(const Napi::CallbackInfo& info) {
  const char* k = "shortcutPadForward";
  const ShortcutDims d = shortcut_dims(info, k, 2);
  const int64_t P = (d.H + d.stride - 1) / d.stride, Q = (d.W + d.stride - 1) / d.stride;
  g_table->shortcut_pad_forward(f32(info, k, 0, prod({d.N, d.C, d.H, d.W})), f32(info, k, 1, prod({d.N, d.K}) * P * Q), d);
  return info.Env().Undefined();
}

static Napi::Value ShortcutPadBackward(const Napi::CallbackInfo& info) {
  const char* k = "shortcutPadBackward";
  const ShortcutDims d = shortcut_dims(info, k, 2);
  const int64_t P = (d.H + d.stride - 1) / d.stride, Q = (d.W + d.stride - 1) / d.stride;
  g_table->shortcut_pad_backward(f32(info, k, 0, prod({d.N, d.K}) * P * Q), f32(info, k, 1, prod({d.N, d.C, d.H, d.W})), d);
  return info.Env().Undefined();
}

// ---- elementwise ----
static Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  const char* k = "reluForward";
  const int64_t n = static_cast<int64_t>(num(info, k, 2));
  g_table->relu_forward(f32(info, k, 0, n), f32(info, k, 1, n), n);
  return info.Env().Undefined();
}

static Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  const char* k = "reluBackward";
  const int64_t n = static_cast<int64_t>(num(info, k, 3));
  g_table->relu_backward(f32(info, k, 0, n), f32(info, k, 1, n), f32(info, k, 2, n), n);
  return info.Env().Undefined();
}

static Napi::Value Add(const Napi::CallbackInfo& info) {
  const char* k = "add";
  const int64_t n = static_cast<int64_t>(num(info, k, 3));
  g_table->add(f32(info, k, 0, n), f32(info, k, 1, n), f32(info, k, 2, n), n);
  return info.Env().Undefined();
}

static Napi::Value DropoutForward(const Napi::CallbackInfo& info) {
  const char* k = "dropoutForward";
  const int64_t n = static_cast<int64_t>(num(info, k, 6));
  const float p = static_cast<float>(num(info, k, 3));
  const uint32_t key = static_cast<uint32_t>(num(info, k, 4));
  const uint64_t offset = static_cast<uint64_t>(num(info, k, 5));
  g_table->dropout_forward(f32(info, k, 0, n), f32(info, k, 1, n), u8(info, k, 2, n), p, key, offset, n);
  return info.Env().Undefined();
}

static Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  const char* k = "dropoutBackward";
  const int64_t n = static_cast<int64_t>(num(info, k, 4));
  g_table->dropout_backward(f32(info, k, 0, n), u8(info, k, 1, n), static_cast<float>(num(info, k, 2)),
                            f32(info, k, 3, n), n);
  return info.Env().Undefined();
}

// ---- pooling ----
static Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  const char* k = "maxPool2dForward";
  Pool2dDims d = pool_dims(dims(info, k, 3, 12));
  const int64_t out = prod({d.N, d.C, d.P, d.Q});
  g_table->maxpool2d_forward(f32(info, k, 0, prod({d.N, d.C, d.H, d.W})), f32(info, k, 1, out), i32(info, k, 2, out),
                             d);
  return info.Env().Undefined();
}

static Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  const char* k = "maxPool2dBackward";
  Pool2dDims d = pool_dims(dims(info, k, 3, 12));
  const int64_t out = prod({d.N, d.C, d.P, d.Q});
  g_table->maxpool2d_backward(f32(info, k, 0, out), i32(info, k, 1, out), f32(info, k, 2, prod({d.N, d.C, d.H, d.W})),
                              d);
  return info.Env().Undefined();
}

static Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  const char* k = "avgPool2dForward";
  Pool2dDims d = pool_dims(dims(info, k, 2, 12));
  g_table->avgpool2d_forward(f32(info, k, 0, prod({d.N, d.C, d.H, d.W})), f32(info, k, 1, prod({d.N, d.C, d.P, d.Q})),
                             d);
  return info.Env().Undefined();
}

static Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  const char* k = "avgPool2dBackward";
  Pool2dDims d = pool_dims(dims(info, k, 2, 12));
  g_table->avgpool2d_backward(f32(info, k, 0, prod({d.N, d.C, d.P, d.Q})), f32(info, k, 1, prod({d.N, d.C, d.H, d.W})),
                              d);
  return info.Env().Undefined();
}

static Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info) {
  const char* k = "globalAvgPoolForward";
  ChannelDims d = channel_dims(dims(info, k, 2, 3));
  g_table->global_avgpool_forward(f32(info, k, 0, prod({d.N, d.C, d.HW})), f32(info, k, 1, prod({d.N, d.C})), d);
  return info.Env().Undefined();
}

static Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  const char* k = "globalAvgPoolBackward";
  ChannelDims d = channel_dims(dims(info, k, 2, 3));
  g_table->global_avgpool_backward(f32(info, k, 0, prod({d.N, d.C})), f32(info, k, 1, prod({d.N, d.C, d.HW})), d);
  return info.Env().Undefined();
}

// ---- linear ----
static Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  const char* k = "linearForward";
  LinearDims d = linear_dims(dims(info, k, 4, 3));
  g_table->linear_forward(f32(info, k, 0, prod({d.N, d.IN})), f32(info, k, 1, prod({d.OUT, d.IN})),
                          f32(info, k, 2, d.OUT, true), f32(info, k, 3, prod({d.N, d.OUT})), d);
  return info.Env().Undefined();
}

static Napi::Value LinearBackwardInput(const Napi::CallbackInfo& info) {
  const char* k = "linearBackwardInput";
  LinearDims d = linear_dims(dims(info, k, 3, 3));
  g_table->linear_backward_input(f32(info, k, 0, prod({d.N, d.OUT})), f32(info, k, 1, prod({d.OUT, d.IN})),
                                 f32(info, k, 2, prod({d.N, d.IN})), d);
  return info.Env().Undefined();
}

static Napi::Value LinearBackwardWeight(const Napi::CallbackInfo& info) {
  const char* k = "linearBackwardWeight";
  LinearDims d = linear_dims(dims(info, k, 4, 3));
  g_table->linear_backward_weight(f32(info, k, 0, prod({d.N, d.IN})), f32(info, k, 1, prod({d.N, d.OUT})),
                                  f32(info, k, 2, prod({d.OUT, d.IN})), f32(info, k, 3, d.OUT, true), d);
  return info.Env().Undefined();
}

// ---- loss ----
static Napi::Value SoftmaxXentForward(const Napi::CallbackInfo& info) {
  const char* k = "softmaxCrossEntropyForward";
  SoftmaxDims d = softmax_dims(dims(info, k, 3, 2));
  const int64_t n = prod({d.N, d.classes});
  float loss = g_table->softmax_xent_forward(f32(info, k, 0, n), i32(info, k, 1, d.N), f32(info, k, 2, n), d);
  return Napi::Number::New(info.Env(), loss);
}

static Napi::Value SoftmaxXentBackward(const Napi::CallbackInfo& info) {
  const char* k = "softmaxCrossEntropyBackward";
  SoftmaxDims d = softmax_dims(dims(info, k, 4, 2));
  const int64_t n = prod({d.N, d.classes});
  g_table->softmax_xent_backward(f32(info, k, 0, n), i32(info, k, 1, d.N), static_cast<float>(num(info, k, 2)),
                                 f32(info, k, 3, n), d);
  return info.Env().Undefined();
}

// sgdUpdate(p, g, buf | null, n, lr, wd, bm, bd, m, mode): mode 0 plain, 1 momentum, 2 Nesterov.
static Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  const char* k = "sgdUpdate";
  const double nd = num(info, k, 3);
  if (!(nd >= 0) || nd != std::floor(nd) || nd > 9007199254740991.0) throw arg_error(info.Env(), k, 3, "must be a non-negative integer");
  const int64_t n = static_cast<int64_t>(nd);
  const double mode = num(info, k, 9);
  if (mode != 0 && mode != 1 && mode != 2) throw arg_error(info.Env(), k, 9, "must be 0 (plain), 1 (momentum) or 2 (nesterov)");
  float* buf = f32(info, k, 2, n, true);
  if (mode != 0 && buf == nullptr) throw arg_error(info.Env(), k, 2, "must be a Float32Array in momentum and nesterov modes");
  const SgdScalars s{num(info, k, 4), num(info, k, 5), num(info, k, 6), num(info, k, 7), num(info, k, 8), static_cast<int>(mode)};
  g_table->sgd_update(f32(info, k, 0, n), f32(info, k, 1, n), buf, n, s);
  return info.Env().Undefined();
}

// fmaPeakGflops(iters): the measured FMA peak of the active variant on the current threads.
static Napi::Value FmaPeakGflops(const Napi::CallbackInfo& info) {
  const char* k = "fmaPeakGflops";
  const double iters = num(info, k, 0);
  if (!(iters >= 1) || iters != std::floor(iters) || iters > 1e12) throw arg_error(info.Env(), k, 0, "must be an integer in [1, 1e12]");
  float sink = 0.0f;
  return Napi::Number::New(info.Env(), g_table->fma_peak_gflops(static_cast<int64_t>(iters), &sink));
}

// Tensors are JS-owned ArrayBuffers that V8 allocates with calloc. glibc serves large blocks
// with fresh mmap()s and returns them to the OS on free, so every activation buffer of every
// step page-faults on first touch (about 5 ms for an 8 MB tensor: more than the op itself).
// Keeping large blocks in the heap lets freed buffers be reused warm, as PyTorch's caching
// allocator does. Returns whether the setting was applied.
static bool keep_large_blocks_in_heap() {
#if defined(__GLIBC__)
  return mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#else
  return false;
#endif
}

// prune.cpp; reads the active table through the pointer (setIsa changes it).
void register_prune(Napi::Env env, Napi::Object exports, const KernelTable* const* table);
// sparse_conv.cpp; same convention.
void register_sparse_conv(Napi::Env env, Napi::Object exports, const KernelTable* const* table);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  keep_large_blocks_in_heap();
  g_table = &isa_native::table();
  auto reg = [&](const char* name, Napi::Function::Callback fn) {
    exports.Set(name, Napi::Function::New(env, fn, name));
  };
  reg("setIsa", SetIsa);
  reg("isa", Isa);
  reg("availableIsas", AvailableIsas);
  reg("setThreads", SetThreads);
  reg("threads", Threads);
  reg("hasOpenMP", HasOpenMP);
  reg("conv2dForward", Conv2dForward);
  reg("conv2dBackwardInput", Conv2dBackwardInput);
  reg("conv2dBackwardWeight", Conv2dBackwardWeight);
  reg("batchNormForwardTrain", BatchNormForwardTrain);
  reg("batchNormForwardEval", BatchNormForwardEval);
  reg("batchNormBackward", BatchNormBackward);
  reg("reluForward", ReluForward);
  reg("reluBackward", ReluBackward);
  reg("add", Add);
  reg("dropoutForward", DropoutForward);
  reg("dropoutBackward", DropoutBackward);
  reg("maxPool2dForward", MaxPool2dForward);
  reg("maxPool2dBackward", MaxPool2dBackward);
  reg("avgPool2dForward", AvgPool2dForward);
  reg("avgPool2dBackward", AvgPool2dBackward);
  reg("globalAvgPoolForward", GlobalAvgPoolForward);
  reg("globalAvgPoolBackward", GlobalAvgPoolBackward);
  reg("shortcutPadForward", ShortcutPadForward);
  reg("shortcutPadBackward", ShortcutPadBackward);
  reg("linearForward", LinearForward);
  reg("linearBackwardInput", LinearBackwardInput);
  reg("linearBackwardWeight", LinearBackwardWeight);
  reg("softmaxCrossEntropyForward", SoftmaxXentForward);
  reg("softmaxCrossEntropyBackward", SoftmaxXentBackward);
  reg("fmaPeakGflops", FmaPeakGflops);
  reg("sgdUpdate", SgdUpdate);
  register_prune(env, exports, &g_table);
  register_sparse_conv(env, exports, &g_table);
  return exports;
}

NODE_API_MODULE(leantrain, Init)

}  // namespace addon
}  // namespace lt
