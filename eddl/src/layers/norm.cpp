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
    return NormGeom{batch, out_shape[0], s, eps, parents[0]->blocked};
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

LGroupNorm::LGroupNorm(layer parent, int g, float e, bool a, const std::string& n, int ax)
    : groups(g), eps(e), affine(a), axis(ax) {
    const std::string kind = g == 0 ? "LayerNormalization" : "GroupNormalization";
    name = n.empty() ? auto_name(kind) : n;
    const std::string who = kind + " '" + name + "'";
    EDDL_CHECK(parent && !parent->out_shape.empty(), who << ": needs an input with at least one dimension");
    EDDL_CHECK(eps > 0, who << ": epsilon must be > 0, got " << eps);
    const int c = parent->out_shape[0];
    EDDL_CHECK(groups >= 0 && (groups == 0 || c % groups == 0),
               who << ": groups " << groups << " must divide the " << c << " channels of " << shape_str(parent->out_shape));
    EDDL_CHECK(axis >= 0 && axis < int(parent->out_shape.size()) && (axis == 0 || groups == 0),
               who << ": axis " << axis << " out of range for " << shape_str(parent->out_shape));
    parents = {parent};
    out_shape = parent->out_shape;
    if (affine) {
        const Shape ps = groups == 0 ? Shape(out_shape.begin() + axis, out_shape.end()) : Shape{c};
        params = {Tensor::ones(ps), Tensor::zeros(ps)};
        gradients = {Tensor::zeros(ps), Tensor::zeros(ps)};
    }
}

GroupNormGeom LGroupNorm::geom(int batch) const {
    int64_t s = 1;
    for (size_t i = 1; i < out_shape.size(); ++i) s *= out_shape[i];
    if (groups == 0) {  // rows of the normalized size, one "group" each
        int64_t rows = 1;
        for (int i = 0; i < axis; ++i) rows *= out_shape[size_t(i)];
        return GroupNormGeom{batch * rows, 1, out_shape[0] * s / rows, 1, eps};
    }
    return GroupNormGeom{batch, groups, out_shape[0], s, eps};
}

void LGroupNorm::init_params(uint64_t) {
    if (affine) {
        params[0]->fill_(1.0f);
        params[1]->fill_(0.0f);
    }
}

void LGroupNorm::forward() {
    const Tensor& x = *parents[0]->output;
    const GroupNormGeom g = geom(x.shape[0]);
    if (!mean || mean->size != g.n * g.groups) {
        mean = Tensor::empty({int(g.n * g.groups)});
        invstd = Tensor::empty({int(g.n * g.groups)});
    }
    kernels(x.device).groupnorm(g, x.ptr, affine ? params[0]->ptr : nullptr, affine ? params[1]->ptr : nullptr,
                                output->ptr, mean->ptr, invstd->ptr);
}

void LGroupNorm::backward() {
    const bool grads = affine && trainable, data = parents[0]->needs_delta;
    if (!grads && !data) return;
    const bool acc_g = grads && take_grads();
    const bool acc_x = data && take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    kernels(x.device).groupnorm_backward(geom(x.shape[0]), x.ptr, delta->ptr, affine ? params[0]->ptr : nullptr,
                                         mean->ptr, invstd->ptr, data ? parents[0]->delta->ptr : nullptr,
                                         grads ? gradients[0]->ptr : nullptr, grads ? gradients[1]->ptr : nullptr,
                                         acc_x, acc_g);
}

LayerConfig LGroupNorm::config() const {
    LayerConfig c{{"groups", std::to_string(groups)}, {"eps", std::to_string(eps)}, {"affine", affine ? "1" : "0"}};
    if (axis) c["axis"] = std::to_string(axis);
    return c;
}

}  // namespace eddl
