// BatchNormalization: batch statistics in training, running statistics in inference.
#include "layers/layers.h"

namespace eddl {

LBatchNorm::LBatchNorm(layer parent, float m, float e, bool a, const std::string& n) : momentum(m), eps(e), affine(a) {
    name = n.empty() ? auto_name("batchnormalization") : n;
    const std::string who = "BatchNormalization '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    EDDL_CHECK(!parent->out_shape.empty(), who << ": input has no dimensions");
    EDDL_CHECK(momentum >= 0 && momentum < 1, who << ": momentum must be in [0, 1), got " << momentum);
    EDDL_CHECK(eps > 0, who << ": epsilon must be > 0, got " << eps);
    parents = {parent};
    out_shape = parent->out_shape;
    const int c = out_shape[0];
    if (affine) {
        params = {Tensor::ones({c}), Tensor::zeros({c})};
        gradients = {Tensor::zeros({c}), Tensor::zeros({c})};
    }
    states = {Tensor::zeros({c}), Tensor::ones({c})};  // running mean, running variance
    mean = Tensor::zeros({c});
    invstd = Tensor::ones({c});
}

NormGeom LBatchNorm::geom(int batch) const {
    int64_t s = 1;
    for (size_t i = 1; i < out_shape.size(); ++i) s *= out_shape[i];
    return NormGeom{batch, out_shape[0], s, eps};
}

void LBatchNorm::init_params(uint64_t) {
    if (affine) {
        params[0]->fill_(1.0f);
        params[1]->fill_(0.0f);
    }
    states[0]->fill_(0.0f);
    states[1]->fill_(1.0f);
}

void LBatchNorm::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).batchnorm(geom(x.shape[0]), x.ptr, affine ? params[0]->ptr : nullptr,
                                affine ? params[1]->ptr : nullptr, output->ptr, mean->ptr, invstd->ptr, states[0]->ptr,
                                states[1]->ptr, momentum, mode == TRMODE);
}

void LBatchNorm::backward() {
    const bool grads = affine && trainable, data = parents[0]->needs_delta;
    if (!grads && !data) return;
    const bool acc_g = grads && take_grads();
    const bool acc_x = data && take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    kernels(x.device).batchnorm_backward(geom(x.shape[0]), x.ptr, delta->ptr, affine ? params[0]->ptr : nullptr,
                                         mean->ptr, invstd->ptr, data ? parents[0]->delta->ptr : nullptr,
                                         grads ? gradients[0]->ptr : nullptr, grads ? gradients[1]->ptr : nullptr,
                                         mode == TRMODE, acc_x, acc_g);
}

LayerConfig LBatchNorm::config() const {
    return {{"momentum", std::to_string(momentum)}, {"eps", std::to_string(eps)}, {"affine", affine ? "1" : "0"}};
}

}  // namespace eddl
