// Losses by name. A loss turns (output, target) into a value and the output's delta.
#pragma once
#include <string>

#include "tensor/dispatch.h"

namespace eddl {

struct LossFn {
    std::string name;  // as the user wrote it: "soft_cross_entropy", "mse", ...
    LossKind kind;
    /// Batch mean of the loss for y, t of shape [rows, cols...]; writes (or adds) d(mean)/dy to delta.
    double compute(const Tensor& y, const Tensor& t, Tensor& delta, bool accumulate) const;
};

/// Parses a loss name; throws listing the known names.
LossFn make_loss(const std::string& name);

}  // namespace eddl
