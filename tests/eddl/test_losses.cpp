// Losses and metrics against values computed here by plain formulas, and their gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "losses/loss.h"
#include "metrics/metric.h"

using namespace eddl;

namespace {

// plain references, one sample per row
double ref_loss(const std::string& kind, const Tensor& y, const Tensor& t) {
    const int rows = y.shape[0], cols = int(y.size / rows);
    double s = 0;
    for (int r = 0; r < rows; ++r) {
        double m = -1e30, z = 0;
        for (int c = 0; c < cols; ++c) m = std::max<double>(m, y.ptr[r * cols + c]);
        for (int c = 0; c < cols; ++c) z += std::exp(y.ptr[r * cols + c] - m);
        for (int c = 0; c < cols; ++c) {
            const double a = y.ptr[r * cols + c], b = t.ptr[r * cols + c];
            if (kind == "mse") s += (a - b) * (a - b) / cols;
            if (kind == "mae") s += std::fabs(a - b) / cols;
            if (kind == "cce") s += -b * std::log(a);
            if (kind == "bce") s += -(b * std::log(a) + (1 - b) * std::log(1 - a)) / cols;
            if (kind == "sce") s += -b * (a - m - std::log(z));
            if (kind == "bce_logits") {
                const double p = 1 / (1 + std::exp(-a));
                s += -(b * std::log(p) + (1 - b) * std::log(1 - p)) / cols;
            }
            if (kind == "focal")
                s += (-0.25 * b * (1 - a) * (1 - a) * std::log(a) - 0.75 * (1 - b) * a * a * std::log(1 - a)) / cols;
        }
    }
    return s / rows;
}

}  // namespace

TEST(Loss, ValuesMatchFormulas) {
    auto y = Tensor::randu({4, 5}, 1);
    y->mult_(0.9f).add_(0.05f);  // probabilities away from 0 and 1
    auto t = Tensor::randu({4, 5}, 2);
    Tensor delta({4, 5});
    for (std::string k : {"mse", "mae", "cce", "bce", "sce", "bce_logits", "focal"}) {
        const double got = make_loss(k).compute(*y, *t, delta, false);
        EXPECT_NEAR(got, ref_loss(k, *y, *t), 1e-5) << k;
    }
    // dice by hand: y = (1, 0.5), t = (1, 0): 1 - (2*1 + 1) / (1.5 + 1 + 1)
    Tensor dy({1, 0.5f}, {1, 2}), dt({1, 0}, {1, 2}), dd({1, 2});
    EXPECT_NEAR(make_loss("dice").compute(dy, dt, dd, false), 1.0 - 3.0 / 3.5, 1e-6);
    // by hand: mse of (1, 2) against (0, 0) = (1 + 4) / 2
    Tensor a({1, 2}, {1, 2}), z({0, 0}, {1, 2}), d({1, 2});
    EXPECT_DOUBLE_EQ(make_loss("mean_squared_error").compute(a, z, d, false), 2.5);
    EXPECT_FLOAT_EQ(d.ptr[0], 1.0f);  // d/dy (y^2)/2 = y
    // sce is stable for huge logits
    Tensor big({1000, 0, -1000}, {1, 3}), oh({1, 0, 0}, {1, 3}), d3({1, 3});
    EXPECT_NEAR(make_loss("soft_cross_entropy").compute(big, oh, d3, false), 0.0, 1e-6);
    EXPECT_TRUE(std::isfinite(d3.ptr[1]));
    try {
        make_loss("hinge");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown loss 'hinge'"), std::string::npos);
    }
}

TEST(Loss, GradientsByFiniteDifferences) {
    for (std::string k : {"mse", "mae", "cce", "bce", "sce", "categorical_cross_entropy", "binary_cross_entropy",
                          "binary_cross_entropy_with_logits", "dice", "focal"}) {
        layer in = Input({4});
        const bool prob = k == "cce" || k == "bce" || k == "categorical_cross_entropy" || k == "binary_cross_entropy" ||
                          k == "dice" || k == "focal";
        layer out = prob ? Sigmoid(Dense(in, 3)) : Dense(in, 3);
        model net = Model({in}, {out});
        build(net, sgd(0.1f), {k}, {}, CS_CPU(1));
        auto t = Tensor::randu({3, 3}, 5);
        gradcheck::check(net, {Tensor::randn({3, 4}, 6)}, {t});
    }
}

TEST(Loss, SoftCrossEntropyFusedWithSoftmax) {
    layer in = Input({4});
    layer out = Softmax(Dense(in, 5));
    model net = Model({in}, {out});
    build(net, sgd(0.1f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(1));
    auto t = Tensor::onehot(Tensor({1, 4, 0}, {3}), 5);
    gradcheck::check(net, {Tensor::randn({3, 4}, 7)}, {t});
    // the reported loss is the cross entropy of the softmax probabilities
    net->reset_loss();
    net->forward({Tensor::randn({3, 4}, 7)});
    net->compute_loss({t});
    EXPECT_NEAR(get_losses(net)[0], ref_loss("cce", *out->output, *t), 1e-5);
}

TEST(Metric, ValuesMatchFormulas) {
    Tensor y({0.1f, 0.7f, 0.2f, 0.6f, 0.3f, 0.1f}, {2, 3});
    Tensor t({0, 1, 0, 0, 0, 1}, {2, 3});
    EXPECT_DOUBLE_EQ(make_metric("categorical_accuracy").batch_sum(y, t), 1.0);
    EXPECT_DOUBLE_EQ(make_metric("accuracy").batch_sum(y, t), 1.0);
    // binary: row 0 matches 3/3 (0.1,0.7,0.2 -> 0,1,0), row 1 matches 1/3 (1,0,0 vs 0,0,1)
    EXPECT_NEAR(make_metric("binary_accuracy").batch_sum(y, t), 1.0 + 1.0 / 3.0, 1e-12);
    const double mse0 = (0.01 + 0.09 + 0.04) / 3, mse1 = (0.36 + 0.09 + 0.81) / 3;
    EXPECT_NEAR(make_metric("mse").batch_sum(y, t), mse0 + mse1, 1e-6);
    const double mae0 = (0.1 + 0.3 + 0.2) / 3, mae1 = (0.6 + 0.3 + 0.9) / 3;
    EXPECT_NEAR(make_metric("mae").batch_sum(y, t), mae0 + mae1, 1e-6);
    EXPECT_THROW(make_metric("f1"), Error);
}

TEST(Metric, SegmentationScores) {
    // prediction 1 1 0 0 (after thresholding), target 1 0 1 0: intersection 1, sizes 2 and 2
    Tensor y({0.9f, 0.6f, 0.2f, 0.1f}, {1, 4}), t({1, 0, 1, 0}, {1, 4});
    EXPECT_DOUBLE_EQ(make_metric("dice").batch_sum(y, t), 0.5);
    EXPECT_DOUBLE_EQ(make_metric("iou").batch_sum(y, t), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(make_metric("jaccard").batch_sum(y, t), 1.0 / 3.0);
    Tensor empty({0.1f, 0.2f}, {1, 2}), none({0, 0}, {1, 2});
    EXPECT_DOUBLE_EQ(make_metric("dice").batch_sum(empty, none), 1.0);
    // mean IoU: 2 classes x 3 positions; predicted classes 0 1 1, true classes 0 0 1
    Tensor p({0.8f, 0.3f, 0.1f, 0.2f, 0.7f, 0.9f}, {1, 2, 3}), q({1, 1, 0, 0, 0, 1}, {1, 2, 3});
    // class 0: inter 1, union 2; class 1: inter 1, union 2 -> mean 0.5
    EXPECT_DOUBLE_EQ(make_metric("mean_iou").batch_sum(p, q), 0.5);
    Tensor flat({0.5f}, {1, 1});
    EXPECT_THROW(make_metric("mean_iou").batch_sum(flat, flat), Error);
}
