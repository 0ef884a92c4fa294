// Weight initializers and regularizers; the facade wraps them around a layer (EDDL style).
#pragma once
#include <string>

#include "eddl/layer.h"

namespace eddl {

enum class InitKind { GlorotUniform, GlorotNormal, HeUniform, HeNormal, RandomNormal, RandomUniform, Constant, Orthogonal };

struct Initializer {
    InitKind kind = InitKind::GlorotUniform;
    float a = 0, b = 0;   // RandomNormal(mean a, stdev b), RandomUniform(min a, max b), Constant(a), Orthogonal(gain a)
    int64_t seed = -1;    // -1: derived from the network's seed
    /// Fills a weight of shape {fan_in, fan_out} (Dense) or {out, in, k...}; `fans` from the layer.
    void apply(Tensor& w, int fan_in, int fan_out, uint64_t stream_seed) const;
    std::string str() const;
};

enum class RegKind { L1, L2, L1L2 };

struct Regularizer {
    RegKind kind = RegKind::L2;
    float l1 = 0, l2 = 0;
    /// grad += d(penalty)/dw, penalty = l1*|w|_1 + l2*|w|_2^2
    void add_gradient(const Tensor& w, Tensor& g) const;
    std::string str() const;
};

}  // namespace eddl
