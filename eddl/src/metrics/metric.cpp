#include "metrics/metric.h"

#include <cmath>
#include <map>

namespace eddl {

MetricFn make_metric(const std::string& name) {
    static const std::map<std::string, MetricKind> names = {
        {"categorical_accuracy", MetricKind::CategoricalAccuracy}, {"accuracy", MetricKind::CategoricalAccuracy},
        {"binary_accuracy", MetricKind::BinaryAccuracy},
        {"mse", MetricKind::MSE}, {"mean_squared_error", MetricKind::MSE},
        {"mae", MetricKind::MAE}, {"mean_absolute_error", MetricKind::MAE},
    };
    auto it = names.find(name);
    if (it == names.end()) {
        std::string known;
        for (const auto& kv : names) known += " " + kv.first;
        EDDL_FAIL("unknown metric '" << name << "'; known:" << known);
    }
    return {name, it->second};
}

// Host loops: metrics read every output once per batch, a negligible cost next to the layers.
double MetricFn::batch_sum(const Tensor& y, const Tensor& t) const {
    EDDL_CHECK(y.shape == t.shape, "metric '" << name << "': output shape " << shape_str(y.shape)
                                              << " differs from target shape " << shape_str(t.shape));
    const int64_t rows = y.shape[0], cols = rows ? y.size / rows : 0;
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const float* a = y.ptr + r * cols;
        const float* b = t.ptr + r * cols;
        double s = 0;
        switch (kind) {
            case MetricKind::CategoricalAccuracy: {
                int64_t ia = 0, ib = 0;
                for (int64_t c = 1; c < cols; ++c) {
                    if (a[c] > a[ia]) ia = c;
                    if (b[c] > b[ib]) ib = c;
                }
                s = ia == ib ? 1.0 : 0.0;
                break;
            }
            case MetricKind::BinaryAccuracy:
                for (int64_t c = 0; c < cols; ++c) s += ((a[c] >= 0.5f) == (b[c] >= 0.5f)) ? 1.0 : 0.0;
                s /= double(cols);
                break;
            case MetricKind::MSE:
                for (int64_t c = 0; c < cols; ++c) s += double(a[c] - b[c]) * (a[c] - b[c]);
                s /= double(cols);
                break;
            case MetricKind::MAE:
                for (int64_t c = 0; c < cols; ++c) s += std::fabs(double(a[c]) - b[c]);
                s /= double(cols);
                break;
        }
        total += s;
    }
    return total;
}

}  // namespace eddl
