// Finite-difference gradient checks for whole models: d(loss)/d(input) and d(loss)/d(params).
#pragma once
#include <gtest/gtest.h>

#include <cmath>

#include "eddl/eddl.h"

namespace gradcheck {

using namespace eddl;

inline double loss_of(model net, const vtensor& x, const vtensor& y) {
    net->reset_loss();
    net->forward(x);
    net->compute_loss(y);
    double s = 0;
    for (float v : get_losses(net)) s += v;
    return s;
}

/// Compares analytic gradients with central differences of the loss. Inputs get gradients too:
/// every layer is told to propagate deltas, including the Input layers.
inline void check(model net, const vtensor& x, const vtensor& y, double eps = 1e-2, double atol = 2e-3,
                  double rtol = 2e-2) {
    for (const auto& l : net->layers) l->needs_delta = true;
    net->zero_grads();
    net->reset_loss();
    net->forward(x);
    net->backward(y);
    std::vector<std::pair<std::string, std::pair<tensor, tensor>>> targets;  // (name, (value, analytic grad))
    for (size_t i = 0; i < x.size(); ++i) {
        // Input layers copy x into their output: perturb x, read the Input's delta
        targets.push_back({"input " + std::to_string(i), {x[i], net->inputs[i]->delta->clone()}});
    }
    for (const auto& l : net->layers)
        for (size_t j = 0; j < l->params.size(); ++j)
            targets.push_back({l->name + " param " + std::to_string(j), {l->params[j], l->gradients[j]->clone()}});
    for (auto& [name, vg] : targets) {
        auto& [v, g] = vg;
        for (int64_t i = 0; i < v->size; ++i) {
            const float orig = v->ptr[i];
            v->ptr[i] = float(orig + eps);
            const double lp = loss_of(net, x, y);
            v->ptr[i] = float(orig - eps);
            const double lm = loss_of(net, x, y);
            v->ptr[i] = orig;
            const double num = (lp - lm) / (2 * eps), ana = g->ptr[i];
            ASSERT_NEAR(ana, num, atol + rtol * std::max(std::fabs(num), std::fabs(ana)))
                << name << " element " << i << " of " << v->size;
        }
    }
}

/// Values in [lo, hi] kept at least `gap` away from each of the kinks.
inline tensor away_from(const Shape& s, uint64_t seed, std::vector<float> kinks, float gap = 0.05f, float lo = -2,
                        float hi = 2) {
    auto t = Tensor::randu(s, seed);
    for (int64_t i = 0; i < t->size; ++i) {
        float v = lo + (hi - lo) * t->ptr[i];
        for (float k : kinks)
            if (std::fabs(v - k) < gap) v = k + (v >= k ? gap : -gap);
        t->ptr[i] = v;
    }
    return t;
}

}  // namespace gradcheck
