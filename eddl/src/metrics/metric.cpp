#include "metrics/metric.h"

#include <cmath>
#include <map>
#include <vector>

namespace eddl {

MetricFn make_metric(const std::string& name) {
    static const std::map<std::string, MetricKind> names = {
        {"categorical_accuracy", MetricKind::CategoricalAccuracy}, {"accuracy", MetricKind::CategoricalAccuracy},
        {"binary_accuracy", MetricKind::BinaryAccuracy},
        {"mse", MetricKind::MSE}, {"mean_squared_error", MetricKind::MSE},
        {"mae", MetricKind::MAE}, {"mean_absolute_error", MetricKind::MAE},
        {"dice", MetricKind::Dice}, {"iou", MetricKind::IoU}, {"jaccard", MetricKind::IoU},
        {"mean_iou", MetricKind::MeanIoU}, {"miou", MetricKind::MeanIoU},
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
    EDDL_CHECK(kind != MetricKind::MeanIoU || (y.ndim >= 2 && y.shape[1] >= 2),
               "metric '" << name << "': needs classes along axis 1, output shape is " << shape_str(y.shape));
    const int64_t classes = kind == MetricKind::MeanIoU ? y.shape[1] : 1, positions = cols / classes;
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
            case MetricKind::Dice: case MetricKind::IoU: {
                int64_t inter = 0, py = 0, pt = 0;
                for (int64_t c = 0; c < cols; ++c) {
                    const bool p = a[c] >= 0.5f, q = b[c] >= 0.5f;
                    inter += p && q;
                    py += p;
                    pt += q;
                }
                if (py + pt == 0) s = 1.0;
                else if (kind == MetricKind::Dice) s = 2.0 * double(inter) / double(py + pt);
                else s = double(inter) / double(py + pt - inter);
                break;
            }
            case MetricKind::MeanIoU: {
                std::vector<int64_t> inter(classes, 0), uni(classes, 0);
                for (int64_t p = 0; p < positions; ++p) {
                    int64_t ca = 0, cb = 0;
                    for (int64_t k = 1; k < classes; ++k) {
                        if (a[k * positions + p] > a[ca * positions + p]) ca = k;
                        if (b[k * positions + p] > b[cb * positions + p]) cb = k;
                    }
                    if (ca == cb) {
                        ++inter[ca];
                        ++uni[ca];
                    } else {
                        ++uni[ca];
                        ++uni[cb];
                    }
                }
                int present = 0;
                for (int64_t k = 0; k < classes; ++k)
                    if (uni[k]) {
                        s += double(inter[k]) / double(uni[k]);
                        ++present;
                    }
                s = present ? s / present : 1.0;
                break;
            }
        }
        total += s;
    }
    return total;
}

}  // namespace eddl
