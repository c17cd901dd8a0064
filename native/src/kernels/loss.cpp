// PLACEHOLDER: replaced by the real kernels of this family.
#include "kernels.h"
namespace lt {
namespace LT_NS {
float softmax_xent_forward(const float*, const int32_t*, float*, const SoftmaxDims&) { return 0; }
void softmax_xent_backward(const float*, const int32_t*, float, float*, const SoftmaxDims&) {}
}}
