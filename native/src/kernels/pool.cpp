// PLACEHOLDER: replaced by the real kernels of this family.
#include "kernels.h"
namespace lt {
namespace LT_NS {
void maxpool2d_forward(const float*, float*, int32_t*, const Pool2dDims&) {}
void maxpool2d_backward(const float*, const int32_t*, float*, const Pool2dDims&) {}
void avgpool2d_forward(const float*, float*, const Pool2dDims&) {}
void avgpool2d_backward(const float*, float*, const Pool2dDims&) {}
void global_avgpool_forward(const float*, float*, const ChannelDims&) {}
void global_avgpool_backward(const float*, float*, const ChannelDims&) {}
}}
