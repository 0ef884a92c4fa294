// Optimizer bookkeeping: clipping, step counts, per-parameter state; the math is in kernels.
#include <cmath>

#include "eddl/net.h"
#include "layers/layers.h"
#include "tensor/dispatch.h"

namespace eddl {

std::string Optimizer::name() const {
    static const char* n[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"};
    return n[hp.rule];
}

int Optimizer::num_slots() const {
    switch (OptimRule(hp.rule)) {
        case OptimRule::SGD: return hp.momentum != 0 ? 1 : 0;
        case OptimRule::Adam: case OptimRule::AdamW: return hp.amsgrad ? 3 : 2;
        case OptimRule::RMSProp: case OptimRule::Adagrad: return 1;
        default: return 2;
    }
}

void Optimizer::step(const vtensor& params, const vtensor& grads) {
    EDDL_CHECK(params.size() == grads.size(), "optimizer: " << params.size() << " params but " << grads.size() << " grads");
    if (params.empty()) return;
    weights_changed();
    const auto& k = kernels(params[0]->device);
    if (clip_value > 0)
        for (const auto& g : grads) k.unary(UnaryOp::Clamp, g->ptr, g->ptr, g->size, -clip_value, clip_value);
    if (clip_norm > 0) {
        double sq = 0;
        for (const auto& g : grads) {
            Tensor tmp(g->shape, g->device);
            k.unary(UnaryOp::Sqr, g->ptr, tmp.ptr, g->size, 0, 0);
            float s;
            k.reduce(ReduceOp::Sum, tmp.ptr, &s, 1, g->size, 1);
            sq += s;
        }
        const double norm = std::sqrt(sq);
        if (norm > clip_norm) {
            const float f = float(clip_norm / (norm + 1e-6));
            for (const auto& g : grads) k.unary(UnaryOp::MulScalar, g->ptr, g->ptr, g->size, f, 0);
        }
    }
    ++t;
    OptimStep st{};
    st.rule = OptimRule(hp.rule);
    st.lr = hp.lr; st.momentum = hp.momentum; st.beta1 = hp.beta1; st.beta2 = hp.beta2; st.eps = hp.eps;
    st.rho = hp.rho; st.weight_decay = hp.weight_decay; st.nesterov = hp.nesterov; st.amsgrad = hp.amsgrad;
    st.t = t;
    if (st.rule == OptimRule::Nadam) {
        st.mu_t = hp.beta1 * (1.0 - 0.5 * std::pow(0.96, double(t) * hp.schedule_decay));
        st.mu_t1 = hp.beta1 * (1.0 - 0.5 * std::pow(0.96, double(t + 1) * hp.schedule_decay));
        mu_prod *= st.mu_t;
        st.mu_prod = mu_prod;
        st.mu_prod1 = mu_prod * st.mu_t1;
    }
    for (size_t i = 0; i < params.size(); ++i) {
        EDDL_CHECK(params[i]->shape == grads[i]->shape, "optimizer: parameter " << shape_str(params[i]->shape)
                                                                                << " vs gradient " << shape_str(grads[i]->shape));
        auto& s = slots[params[i].get()];
        for (int j = 0; j < num_slots(); ++j)
            if (!s[j]) s[j] = Tensor::zeros(params[i]->shape, params[i]->device);
        auto p = [&](int j) { return s[j] ? s[j]->ptr : nullptr; };
        k.optim_update(st, params[i]->ptr, grads[i]->ptr, p(0), p(1), p(2), params[i]->size);
    }
}

}  // namespace eddl
