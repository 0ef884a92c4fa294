// Metrics by name: batch sums of a per-sample score, averaged by the network over samples.
#pragma once
#include <string>

#include "eddl/tensor.h"

namespace eddl {

/// Dice and IoU threshold outputs at 0.5 (an empty prediction and target score 1); MeanIoU takes
/// classes along axis 1 ([N, C, ...], one-hot targets), the arg-max class per position, and
/// averages IoU over the classes present in the prediction or the target.
enum class MetricKind { CategoricalAccuracy, BinaryAccuracy, MSE, MAE, Dice, IoU, MeanIoU };

struct MetricFn {
    std::string name;
    MetricKind kind;
    /// Sum over the batch's samples of the per-sample metric.
    double batch_sum(const Tensor& y, const Tensor& t) const;
};

MetricFn make_metric(const std::string& name);

}  // namespace eddl
