// N-API glue for the pruning kernels (native/src/kernels/prune.cpp): meanAbs, pruneGradient.
#include <napi.h>

#include <cmath>
#include <cstdint>

#include "../kernels/table.h"
#include "args.h"

namespace lt {
namespace addon {

static const KernelTable* const* g_prune_table = nullptr;

static int64_t count_arg(const Napi::CallbackInfo& info, const char* k, int i) {
  const double v = num(info, k, i);
  if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0) {
    throw arg_error(info.Env(), k, i, "must be a non-negative integer");
  }
  return static_cast<int64_t>(v);
}

// meanAbs(g: Float32Array, n: number): number
static Napi::Value MeanAbs(const Napi::CallbackInfo& info) {
  const char* k = "meanAbs";
  const int64_t n = count_arg(info, k, 1);
  const float* g = f32(info, k, 0, n);
  return Napi::Number::New(info.Env(), (*g_prune_table)->mean_abs(g, n));
}

// pruneGradient(g, out, n, tau, stochastic, key, offset, stats: Float64Array(3) | null): number of
// non-zeros of out
static Napi::Value PruneGradient(const Napi::CallbackInfo& info) {
  const char* k = "pruneGradient";
  const int64_t n = count_arg(info, k, 2);
  const float* g = f32(info, k, 0, n);
  float* out = f32(info, k, 1, n);
  const float tau = static_cast<float>(num(info, k, 3));
  if (!info[4].IsBoolean()) throw arg_error(info.Env(), k, 4, "must be a boolean");
  const bool stochastic = info[4].As<Napi::Boolean>().Value();
  if (g != out && g < out + n && out < g + n) {
    throw arg_error(info.Env(), k, 1, "overlaps g without being g itself (prune in place with out = g, or into separate memory)");
  }
  const int64_t key64 = count_arg(info, k, 5);
  if (key64 > 0xffffffffLL) throw arg_error(info.Env(), k, 5, "must be a 32-bit key (below 2^32)");
  const uint32_t key = static_cast<uint32_t>(key64);
  const uint64_t offset = static_cast<uint64_t>(count_arg(info, k, 6));
  double* stats = nullptr;
  if (!info[7].IsNull() && !info[7].IsUndefined()) {
    if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[7].As<Napi::Float64Array>().ElementLength() < 3) {
      throw arg_error(info.Env(), k, 7, "must be a Float64Array of length >= 3 or null");
    }
    if (g == out) throw arg_error(info.Env(), k, 7, "needs out to be a different array from g");
    stats = info[7].As<Napi::Float64Array>().Data();
  }
  const int64_t nnz = (*g_prune_table)->prune_gradient(g, out, n, tau, stochastic, key, offset, stats);
  return Napi::Number::New(info.Env(), static_cast<double>(nnz));
}

void register_prune(Napi::Env env, Napi::Object exports, const KernelTable* const* table) {
  g_prune_table = table;
  exports.Set("meanAbs", Napi::Function::New(env, MeanAbs, "meanAbs"));
  exports.Set("pruneGradient", Napi::Function::New(env, PruneGradient, "pruneGradient"));
}

}  // namespace addon
}  // namespace lt
