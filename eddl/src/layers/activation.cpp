// Element-wise activation layers and Softmax.
#include <map>

#include "layers/layers.h"

namespace eddl {
namespace {

struct ActInfo {
    UnaryOp op;
    const char* type_name;
};

const std::map<std::string, ActInfo>& act_table() {
    static const std::map<std::string, ActInfo> t = {
        {"relu", {UnaryOp::Relu, "ReLu"}},
        {"leaky_relu", {UnaryOp::LeakyRelu, "LeakyReLu"}},
        {"sigmoid", {UnaryOp::Sigmoid, "Sigmoid"}},
        {"hard_sigmoid", {UnaryOp::HardSigmoid, "HardSigmoid"}},
        {"tanh", {UnaryOp::Tanh, "Tanh"}},
        {"elu", {UnaryOp::Elu, "Elu"}},
        {"selu", {UnaryOp::Selu, "Selu"}},
        {"softplus", {UnaryOp::Softplus, "Softplus"}},
        {"softsign", {UnaryOp::Softsign, "Softsign"}},
        {"thresholded_relu", {UnaryOp::ThresholdedRelu, "ThresholdedReLu"}},
        {"exp", {UnaryOp::Exponential, "Exponential"}},
        {"exponential", {UnaryOp::Exponential, "Exponential"}},
        {"linear", {UnaryOp::Linear, "Linear"}},
        {"gelu", {UnaryOp::Gelu, "GELU"}},
        {"swish", {UnaryOp::Swish, "Swish"}},
    };
    return t;
}

}  // namespace

LActivation::LActivation(layer parent, const std::string& a, float al, const std::string& n) : act(a), alpha(al) {
    auto it = act_table().find(act);
    if (it == act_table().end()) {
        std::string known;
        for (const auto& kv : act_table()) known += " " + kv.first;
        EDDL_FAIL("Activation: unknown activation '" << act << "'; known:" << known << " softmax");
    }
    op = it->second.op;
    type_name = it->second.type_name;
    name = n.empty() ? auto_name(type_name) : n;
    EDDL_CHECK(parent, type_name << " '" << name << "': parent layer is null");
    parents = {parent};
    out_shape = parent->out_shape;
}

void LActivation::forward() {
    const Tensor& x = *parents[0]->output;
    kernels(x.device).unary(op, x.ptr, output->ptr, x.size, alpha, 0);
}

void LActivation::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    kernels(x.device).unary_backward(op, x.ptr, output->ptr, delta->ptr, parents[0]->delta->ptr, x.size, alpha, 0, acc);
}

LayerConfig LActivation::config() const { return {{"act", act}, {"alpha", std::to_string(alpha)}}; }

LSoftmax::LSoftmax(layer parent, int ax, const std::string& n) : axis(ax) {
    name = n.empty() ? auto_name("softmax") : n;
    EDDL_CHECK(parent, "Softmax '" << name << "': parent layer is null");
    parents = {parent};
    out_shape = parent->out_shape;
    const int nd = int(out_shape.size());
    EDDL_CHECK(axis == -1 || axis == nd - 1, "Softmax '" << name << "': axis " << axis << " on input shape "
                                                         << shape_str(out_shape)
                                                         << "; only the last axis (-1) is supported");
}

void LSoftmax::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t cols = out_shape.back();
    kernels(x.device).softmax(x.ptr, output->ptr, x.size / cols, cols);
}

void LSoftmax::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const int64_t cols = out_shape.back();
    kernels(delta->device).softmax_backward(output->ptr, delta->ptr, parents[0]->delta->ptr, delta->size / cols, cols,
                                            acc);
}

LayerConfig LSoftmax::config() const { return {{"axis", std::to_string(axis)}}; }

}  // namespace eddl
