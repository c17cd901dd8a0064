// Prototypes of every kernel, inside the ISA variant namespace lt::LT_NS. One family per file.
#pragma once
#include "common.h"
#include "table.h"

namespace lt {
namespace LT_NS {

// conv.cpp (+ gemm helpers)
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const Conv2dDims& d);
void conv2d_backward_input(const float* dy, const float* w, float* dx, const Conv2dDims& d);
void conv2d_backward_weight(const float* x, const float* dy, float* dw, float* dbias, const Conv2dDims& d);

// batchnorm.cpp. Fused epilogue (forward): y = relu?(bn(x) + residual?), residual nullable.
// Fused prologue (backward): with y_relu (the fused output), dy is first masked by y_relu > 0 into
// dy_masked (the gradient the residual branch receives), and batch norm runs on that.
void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, float momentum, float eps,
                             const ChannelDims& d, const float* residual, bool relu);
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float eps, float* y, const ChannelDims& d, const float* residual,
                            bool relu);
void batchnorm_backward(const float* dy, const float* x, const float* gamma, const float* save_mean,
                        const float* save_invstd, float* dx, float* dgamma, float* dbeta, const ChannelDims& d,
                        const float* y_relu, float* dy_masked);

// eltwise.cpp
void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* dy, const float* y, float* dx, int64_t n);
void add(const float* a, const float* b, float* out, int64_t n);
void dropout_forward(const float* x, float* y, uint8_t* mask, float p, uint32_t key, uint64_t offset, int64_t n);
void dropout_backward(const float* dy, const uint8_t* mask, float p, float* dx, int64_t n);

// pool.cpp
void maxpool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2dDims& d);
void maxpool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2dDims& d);
void avgpool2d_forward(const float* x, float* y, const Pool2dDims& d);
void avgpool2d_backward(const float* dy, float* dx, const Pool2dDims& d);
void global_avgpool_forward(const float* x, float* y, const ChannelDims& d);
void global_avgpool_backward(const float* dy, float* dx, const ChannelDims& d);

// linear.cpp
void linear_forward(const float* x, const float* w, const float* bias, float* y, const LinearDims& d);
void linear_backward_input(const float* dy, const float* w, float* dx, const LinearDims& d);
void linear_backward_weight(const float* x, const float* dy, float* dw, float* dbias, const LinearDims& d);

// loss.cpp
float softmax_xent_forward(const float* logits, const int32_t* labels, float* probs, const SoftmaxDims& d);
void softmax_xent_backward(const float* probs, const int32_t* labels, float scale, float* dlogits,
                           const SoftmaxDims& d);

// prune.cpp
double mean_abs(const float* g, int64_t n);
// stats (nullable): [zeros of g, sum g^2, sum (out - g)^2], fixed-block float64 sums.
int64_t prune_gradient(const float* g, float* out, int64_t n, float tau, bool stochastic, uint32_t key,
                       uint64_t offset, double* stats);

// shortcut.cpp
void shortcut_pad_forward(const float* x, float* y, const ShortcutDims& d);
void shortcut_pad_backward(const float* dy, float* dx, const ShortcutDims& d);

// optim.cpp: one SGD step in place (buf null in plain mode), bit for bit src/backend/sgd_update.ts.
void sgd_update(float* p, const float* g, float* buf, int64_t n, const SgdScalars& s);

// peak.cpp: measured FMA peak (GFLOP/s over all threads) of iters x 16 register-only FMA chains.
double fma_peak_gflops(int64_t iters, float* sink);

// sparse_conv.cpp
void conv2d_backward_input_sparse(const float* dy, const float* w, float* dx, const Conv2dDims& d);
void conv2d_backward_weight_sparse(const float* x, const float* dy, float* dw, float* dbias, const Conv2dDims& d);

// sparse_linear.cpp
void linear_backward_input_sparse(const float* dy, const float* w, float* dx, const LinearDims& d);
void linear_backward_weight_sparse(const float* x, const float* dy, float* dw, float* dbias, const LinearDims& d);

const KernelTable& table();

}  // namespace LT_NS
}  // namespace lt
