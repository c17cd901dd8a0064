// Assembles this ISA variant's kernel table.
#include "table.h"

#include "kernels.h"

namespace lt {
namespace LT_NS {

const KernelTable& table() {
  static const KernelTable t = {
      simd::isa_name(),
      conv2d_forward,
      conv2d_backward_input,
      conv2d_backward_weight,
      batchnorm_forward_train,
      batchnorm_forward_eval,
      batchnorm_backward,
      relu_forward,
      relu_backward,
      add,
      dropout_forward,
      dropout_backward,
      maxpool2d_forward,
      maxpool2d_backward,
      avgpool2d_forward,
      avgpool2d_backward,
      global_avgpool_forward,
      global_avgpool_backward,
      linear_forward,
      linear_backward_input,
      linear_backward_weight,
      softmax_xent_forward,
      softmax_xent_backward,
      mean_abs,
      prune_gradient,
      conv2d_backward_input_sparse,
      conv2d_backward_weight_sparse,
      linear_backward_input_sparse,
      linear_backward_weight_sparse,
      shortcut_pad_forward,
      shortcut_pad_backward,
      sgd_update,
      fma_peak_gflops,
  };
  return t;
}

}  // namespace LT_NS
}  // namespace lt
