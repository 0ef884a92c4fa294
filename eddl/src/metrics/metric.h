// Metrics by name: batch sums of a per-sample score, averaged by the network over samples.
#pragma once
#include <string>

#include "eddl/tensor.h"

namespace eddl {

enum class MetricKind { CategoricalAccuracy, BinaryAccuracy, MSE, MAE };

struct MetricFn {
    std::string name;
    MetricKind kind;
    /// Sum over the batch's samples of the per-sample metric.
    double batch_sum(const Tensor& y, const Tensor& t) const;
};

MetricFn make_metric(const std::string& name);

}  // namespace eddl
