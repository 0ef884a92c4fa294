#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {

void register_kernels(KernelTable& t) {
    t.block = block_channels();
    t.unary = unary;
    t.unary_backward = unary_backward;
    t.binary = binary;
    t.reduce = reduce;
    t.gemm = gemm;
    t.permute = permute;
    t.gather_rows = gather_rows;
    t.slice = slice;
    t.slice_backward = slice_backward;
    t.scatter_add_rows = scatter_add_rows;
    t.resample = resample;
    t.warp = warp;
    t.warp_backward = warp_backward;
    t.resample_backward = resample_backward;
    t.upsample_nearest = upsample_nearest;
    t.upsample_nearest_backward = upsample_nearest_backward;
    t.add_rowwise = add_rowwise;
    t.sum_rows = sum_rows;
    t.fill = fill;
    t.axpby = axpby;
    t.copy = copy;
    t.softmax = softmax;
    t.softmax_backward = softmax_backward;
    t.conv = conv;
    t.conv_inference = conv_inference;
    t.conv_backward = conv_backward;
    t.conv_transpose = conv_transpose;
    t.conv_transpose_backward = conv_transpose_backward;
    t.pool_workspace = pool_workspace;
    t.pool = pool;
    t.pool_backward = pool_backward;
    t.batchnorm = batchnorm;
    t.batchnorm_backward = batchnorm_backward;
    t.groupnorm = groupnorm;
    t.groupnorm_backward = groupnorm_backward;
    t.optim_update = optim_update;
    t.loss = loss;
}

}  // namespace eddl::cpu
