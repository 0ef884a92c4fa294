#include "losses/loss.h"

#include <map>

namespace eddl {

LossFn make_loss(const std::string& name) {
    static const std::map<std::string, LossKind> names = {
        {"mse", LossKind::MSE}, {"mean_squared_error", LossKind::MSE},
        {"mae", LossKind::MAE}, {"mean_absolute_error", LossKind::MAE},
        {"cce", LossKind::CCE}, {"categorical_cross_entropy", LossKind::CCE}, {"cross_entropy", LossKind::CCE},
        {"ce", LossKind::CCE},
        {"bce", LossKind::BCE}, {"binary_cross_entropy", LossKind::BCE},
        {"sce", LossKind::SCE}, {"soft_cross_entropy", LossKind::SCE}, {"softmax_cross_entropy", LossKind::SCE},
        {"binary_cross_entropy_with_logits", LossKind::BCELogits}, {"bce_logits", LossKind::BCELogits},
        {"dice", LossKind::Dice}, {"focal", LossKind::Focal}, {"focal_loss", LossKind::Focal},
    };
    auto it = names.find(name);
    if (it == names.end()) {
        std::string known;
        for (const auto& kv : names) known += " " + kv.first;
        EDDL_FAIL("unknown loss '" << name << "'; known:" << known);
    }
    return {name, it->second};
}

double LossFn::compute(const Tensor& y, const Tensor& t, Tensor& delta, bool accumulate) const {
    EDDL_CHECK(y.shape == t.shape, "loss '" << name << "': output shape " << shape_str(y.shape)
                                            << " differs from target shape " << shape_str(t.shape));
    const int64_t rows = y.shape[0], cols = rows ? y.size / rows : 0;
    // Per-element means for regression and BCE (PyTorch's reduction='mean'); per-sample sums
    // averaged over the batch for the cross entropies (Keras and PyTorch CrossEntropyLoss).
    const bool per_element = kind == LossKind::MSE || kind == LossKind::MAE || kind == LossKind::BCE ||
                             kind == LossKind::BCELogits || kind == LossKind::Focal;
    const float scale = float(per_element ? rows * cols : rows);
    const double sum = kernels(y.device).loss(kind, y.ptr, t.ptr, delta.ptr, rows, cols, scale, accumulate);
    return sum / scale;
}

}  // namespace eddl
